"""The ``neurosim`` command.

    neurosim demo [--out DIR] [--epochs N]      the seed-003 experiment
    neurosim train TASK [--quick] [--out DIR]   fit a network to a task
        [--data DIR] [--epochs N] [--lr X] [--hidden N ...] [--set KEY=VALUE]
    neurosim tasks [--all]                      list the tasks and their defaults

Misuse gets a usage message and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer >= 0, got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive number, got {text!r}"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _setting(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw  # a bare word: a string setting such as encoder=poisson
    return key.strip().replace("-", "_"), value


def build_parser() -> argparse.ArgumentParser:
    from .tasks import TASKS

    parser = argparse.ArgumentParser(
        prog="neurosim",
        description="Biophysical compartment simulator with a differentiable spiking layer.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo = sub.add_parser(
        "demo", help="train the seed-003 circuit (100-4-2 LIF, 500 epochs)"
    )
    demo.add_argument(
        "--out", default="neurosim-demo", help="output folder (default ./neurosim-demo)"
    )
    demo.add_argument(
        "--epochs", type=_positive_int, default=500, help="epochs (default 500)"
    )
    demo.add_argument(
        "--no-progress", action="store_true", help="hide the progress bar"
    )

    train = sub.add_parser("train", help="fit a network to a task")
    train.add_argument("task", choices=sorted(TASKS), help="the task")
    train.add_argument(
        "--out", default=None, help="output folder (default ./runs/TASK)"
    )
    train.add_argument(
        "--quick", action="store_true", help="a few batches: a smoke run"
    )
    train.add_argument(
        "--data", default=None, help="folder with the data files (shd, mnist IDX)"
    )
    train.add_argument("--epochs", type=_positive_int, default=None)
    train.add_argument("--batch-size", type=_positive_int, default=None)
    train.add_argument("--lr", type=_positive_float, default=None, help="learning rate")
    train.add_argument(
        "--hidden", type=_positive_int, nargs="+", default=None, help="hidden sizes"
    )
    train.add_argument("--seed", type=_seed, default=None)
    train.add_argument(
        "--set",
        type=_setting,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other setting of the task (JSON value), e.g. --set n_steps=30; "
        "`neurosim tasks --all` lists them",
    )
    train.add_argument(
        "--no-progress", action="store_true", help="hide the progress bar"
    )

    tasks = sub.add_parser("tasks", help="list the tasks and their defaults")
    tasks.add_argument(
        "--all", action="store_true", help="also print every default setting"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        metrics = run_demo(args.out, epochs=args.epochs, progress=not args.no_progress)
        print(json.dumps(metrics, indent=2))
        print(
            f"wrote {args.out}/metrics.json, training_curve.png, output_voltages.png, params.npz"
        )
        return 0
    if args.command == "tasks":
        from .tasks import TASKS

        for name, task in sorted(TASKS.items()):
            print(f"{name:8s} {task.describe()}")
            if args.all:
                print(f"{'':8s} {json.dumps(task.defaults.to_dict())}")
        return 0
    from .tasks import TASKS, TaskDataError, TaskDependencyError, run_task

    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "hidden": args.hidden,
        "seed": args.seed,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    overrides.update(args.set)
    try:  # the settings' own checks, before anything is loaded or trained
        TASKS[args.task].configure(overrides)
    except (TypeError, ValueError) as err:
        parser.error(f"train {args.task}: {err}")
    try:
        metrics = run_task(
            args.task,
            out=args.out or f"runs/{args.task}",
            quick=args.quick,
            data=args.data,
            overrides=overrides,
            progress=not args.no_progress,
        )
    except (TaskDataError, TaskDependencyError) as err:
        parser.print_usage(sys.stderr)
        print(f"neurosim train {args.task}: {err}", file=sys.stderr)
        return 2
    shown = {k: v for k, v in metrics.items() if k not in ("config", "history")}
    print(json.dumps(shown, indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

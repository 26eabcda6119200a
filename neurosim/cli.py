"""The `neurosim` command.

    neurosim demo [--out DIR] [--epochs N] [--resume]   the seed-003 experiment
    neurosim train TASK [--quick] [--out DIR] [--resume]  fit a network to a task
        [--data DIR] [--epochs N] [--lr X] [--hidden N ...] [--set KEY=VALUE]
        [--rule RULE]
    neurosim tasks [--all]                      list the tasks and their defaults
    neurosim bench [--quick] [--only SUITE[,SUITE]] [--json PATH]
                                                speed, scale and memory, side by side

`train` and `demo` check `--out` before any work (a file, a folder that
cannot be created or written: refused), lock it against a second run
(`fcntl.flock` on `.neurosim.lock`, released when the process dies, even by
SIGKILL), and write `checkpoint.npz` there after every epoch, atomically.
`--resume` continues that checkpoint after a crash or a kill, to the same
parameters, bit for bit, as a run that was never interrupted; a checkpoint made
with other settings is refused, naming what differs. Without `--resume` an
`--out` holding a checkpoint is refused: pass `--resume` or another folder.

Misuse gets one line on stderr (argparse's own errors: with the usage) and exit
code 2; never a traceback. A run stopped by non-finite values exits 1.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
from pathlib import Path

__all__ = ["main"]

LOCK_NAME = ".neurosim.lock"  # flock'ed by the run writing into --out
CHECKPOINT_NAME = "checkpoint.npz"  # what neurosim.fit writes into checkpoint_dir


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


def _integer(text: str) -> int:
    """An integer; its range is the task setting's check (one path with --set)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _number(text: str) -> float:
    """A number; its range is the task setting's check (one path with --set)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _setting(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        value = raw  # a bare word: a string setting such as encoder=poisson
    return key.strip().replace("-", "_"), value


class UsageError(Exception):
    """A misuse answered with one line on stderr and exit code 2."""


def _one_line(err: BaseException | str) -> str:
    return " ".join(str(err).split())


class OutputFolder:
    """`--out`: checked, created and locked before any work starts.

    - a path that exists and is not a folder, or that cannot be created or
      written (`/dev/null/x`, a read-only folder) is refused;
    - `LOCK_NAME` in the folder is locked with `fcntl.flock` and holds the
      owner's pid; a second run into the same folder is refused, naming that
      pid. The kernel drops the lock when its process dies, even by SIGKILL, so
      a killed run never leaves the folder locked;
    - a checkpoint already there is continued only with `--resume`; without
      it the run is refused (rather than silently continuing or overwriting
      another run's work).

    A folder this run created and left empty (a refused or failed run) is
    removed again by `release`.
    """

    def __init__(self, path: str, resume: bool) -> None:
        self.path = Path(path)
        self.fd: int | None = None
        self.created: list[Path] = []
        out = self.path
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out}: exists and is not a folder.")
        missing = [p for p in (out, *out.parents) if not p.exists()]
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(
                f"--out {out}: cannot create it ({err.strerror or err})."
            ) from None
        self.created = missing
        if not os.access(out, os.W_OK | os.X_OK):
            self.release()
            raise UsageError(f"--out {out}: the folder is not writable.")
        try:
            self.fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            self.release()
            raise UsageError(
                f"--out {out}: cannot write in it ({err.strerror or err})."
            ) from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = os.pread(self.fd, 32, 0).decode(errors="replace").strip()
            os.close(self.fd)
            self.fd = None
            raise UsageError(
                f"--out {out}: in use by another neurosim run (pid "
                f"{owner or 'unknown'}); wait for it to end or choose another --out."
            ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)
        if (out / CHECKPOINT_NAME).exists() and not resume:
            self.release()
            raise UsageError(
                f"--out {out}: holds {CHECKPOINT_NAME} from an earlier run; pass "
                "--resume to continue it, or choose another --out."
            )

    def release(self, keep: bool = False) -> None:
        """Unlock; unless `keep`, remove the folders this run created if
        nothing but the lock file is in them."""
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None
        if keep or not self.created:
            return
        lock = self.path / LOCK_NAME
        if lock.exists() and [p.name for p in self.path.iterdir()] == [LOCK_NAME]:
            lock.unlink()
        for folder in self.created:  # deepest first
            try:
                folder.rmdir()
            except OSError:
                break


RESUME_HELP = (
    "continue the checkpoint in --out (after a crash or kill); without it an "
    "--out holding a checkpoint is refused"
)


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
        "--out",
        default="neurosim-demo",
        help="output folder, checkpointed every epoch (default ./neurosim-demo)",
    )
    demo.add_argument(
        "--epochs", type=_positive_int, default=500, help="epochs (default 500)"
    )
    demo.add_argument("--resume", action="store_true", help=RESUME_HELP)
    demo.add_argument(
        "--no-progress", action="store_true", help="hide the progress bar"
    )

    train = sub.add_parser("train", help="fit a network to a task")
    train.add_argument("task", choices=sorted(TASKS), help="the task")
    train.add_argument(
        "--out",
        default=None,
        help="output folder, checkpointed every epoch (default ./runs/TASK)",
    )
    train.add_argument("--resume", action="store_true", help=RESUME_HELP)
    train.add_argument(
        "--quick", action="store_true", help="a few batches: a smoke run"
    )
    train.add_argument(
        "--data", default=None, help="folder with the data files (shd, mnist IDX)"
    )
    # The flags only parse; the task's typed settings check the values, as
    # they check --set (one validation path).
    train.add_argument("--epochs", type=_integer, default=None)
    train.add_argument("--batch-size", type=_integer, default=None)
    train.add_argument("--lr", type=_number, default=None, help="learning rate")
    train.add_argument(
        "--hidden", type=_integer, nargs="+", default=None, help="hidden sizes"
    )
    train.add_argument("--seed", type=_integer, default=None)
    train.add_argument(
        "--rule",
        default=None,
        help="train seed 001's feed-forward network with a learning rule: "
        "random-feedback, last-window, eprop or bptt (mnist)",
    )
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

    bench = sub.add_parser(
        "bench", help="speed, scale and memory vs jaxley and spyx, in one table"
    )
    bench.add_argument(
        "--quick", action="store_true", help="a smoke run: small shapes, few repeats"
    )
    bench.add_argument(
        "--only",
        default=None,
        metavar="SUITE[,SUITE]",
        help="run only these suites (seed003, shd, scaling, build, memory, ...)",
    )
    bench.add_argument(
        "--json",
        default="neurosim-bench.json",
        metavar="PATH",
        help="write the results there, atomically (default ./neurosim-bench.json)",
    )
    return parser


def _fail(command: str, err: BaseException | str, code: int = 2) -> int:
    print(f"neurosim {command}: {_one_line(err)}", file=sys.stderr)
    return code


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    from .io import CheckpointError

    try:
        out = OutputFolder(args.out, args.resume)
    except UsageError as err:
        return _fail("demo", err)
    try:
        metrics = run_demo(
            args.out,
            epochs=args.epochs,
            progress=not args.no_progress,
            checkpoint=True,
        )
    except CheckpointError as err:
        out.release()
        return _fail("demo", err)
    out.release(keep=True)
    print(json.dumps(metrics, indent=2))
    print(
        f"wrote {args.out}/metrics.json, training_curve.png, output_voltages.png, "
        f"params.npz, {CHECKPOINT_NAME}"
    )
    return 0


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .io import CheckpointError
    from .tasks import TASKS, TaskDataError, TaskDependencyError, run_task
    from .train import NonFiniteError

    command = f"train {args.task}"
    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "hidden": args.hidden,
        "seed": args.seed,
        "rule": args.rule,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    overrides.update(args.set)
    try:  # the settings' own checks, before anything is loaded or trained
        TASKS[args.task].configure(overrides)
    except (TypeError, ValueError) as err:
        return _fail(command, err)
    try:
        out = OutputFolder(args.out or f"runs/{args.task}", args.resume)
    except UsageError as err:
        return _fail(command, err)
    try:
        metrics = run_task(
            args.task,
            out=out.path,
            quick=args.quick,
            data=args.data,
            overrides=overrides,
            progress=not args.no_progress,
            checkpoint=True,
        )
    except (TaskDataError, TaskDependencyError) as err:
        out.release()
        parser.print_usage(sys.stderr)
        return _fail(command, err)
    except CheckpointError as err:
        out.release()
        text = _one_line(err).rstrip(".")
        return _fail(command, f"{text}. Pass another --out to start afresh.")
    except NonFiniteError as err:
        out.release(keep=True)
        return _fail(command, err, code=1)
    out.release(keep=True)
    shown = {k: v for k, v in metrics.items() if k not in ("config", "history")}
    print(json.dumps(shown, indent=2))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from . import bench

    try:
        names = bench.check_only(args.only)
    except ValueError as err:
        return _fail("bench", f"--{err}")
    path = Path(args.json)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
        return _fail(
            "bench", f"--json {path}: not a writable file path (its folder must exist)."
        )
    result = bench.run(
        quick=args.quick,
        only=names,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(bench.format_table(result))
    bench.write_json(path, result)
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    if args.command == "bench":
        return _bench(args)
    if args.command == "tasks":
        from .tasks import TASKS

        for name, task in sorted(TASKS.items()):
            print(f"{name:8s} {task.describe()}")
            if args.all:
                print(f"{'':8s} {json.dumps(task.defaults.to_dict())}")
        return 0
    return _train(args, parser)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

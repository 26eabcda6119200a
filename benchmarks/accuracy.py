"""Test accuracy of every ``neurosim train`` task at its defaults: the README table.

Runs each task through ``neurosim.tasks.run_task`` (exactly what
``neurosim train TASK`` does), writes each run's outputs under ``--out``, and
prints a markdown table (task, network, epochs, test accuracy, wall time on
this machine) that it also writes to ``benchmarks/results.md``. Every number in
that table comes from this script.

    python benchmarks/accuracy.py                      # every task but shd
    python benchmarks/accuracy.py --data ~/shd         # shd too (its .h5 files)
    python benchmarks/accuracy.py --tasks yinyang digits  # other rows kept
    python benchmarks/accuracy.py --quick              # smoke run (not the table)
    python benchmarks/accuracy.py --tasks mnist --rules random-feedback last-window
        # seed 001's network on mnist trained by each rule (`--rule`), rows beside
        # the task's own; `bptt` (and `bptt-leaky`: e-prop's leaky readout) is
        # BPTT on the same network
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # ann.py beside this script


RULES = ["random-feedback", "last-window", "bptt", "eprop", "bptt-leaky"]


def _rule_overrides(rule: str) -> dict:
    """`run_task` overrides for a `--rules` entry."""
    if rule == "bptt-leaky":
        return {
            "rule": "bptt",
            "readout": "leaky",
            "loss": "sum_voltage",
            "augment": None,
            "epochs": 2,  # e-prop's budget
        }
    return {"rule": rule}


def _network(metrics: dict) -> str:
    cfg = metrics["config"]
    if metrics["task"] == "toy" or cfg.get("rule"):
        return metrics["network"]
    trained = ["τ"] * cfg.get("train_tau", True) + [
        name
        for key, name in (("train_vth", "v_th"), ("train_rest", "e_leak"))
        if cfg[key]
    ]
    return f"{metrics['network']}; trained {', '.join(['weights', *trained])}"


def _row(metrics: dict) -> str:
    acc = f"{100 * metrics['test_accuracy']:.2f} %"
    notes = []
    if "ann_test_accuracy" in metrics:
        notes.append(
            f"ANN {metrics['ann_network']}: {100 * metrics['ann_test_accuracy']:.2f} %"
        )
    if metrics["task"] == "toy":
        notes.append(
            f"train {100 * metrics['train_accuracy']:.2f} % (random labels: test is chance)"
        )
    if metrics["config"].get("latency"):
        lat = metrics["config"]["latency"]
        notes.append(
            f"scored {lat} steps ({lat * metrics['config']['dt']:g} ms) after each cue "
            "step: each LIF layer passes its spikes on one step later"
        )
    if metrics["config"].get("lags"):
        lags = metrics["config"]["lags"]
        notes.append(f"lags {lags} steps; chance {100 / len(lags):.0f} %")
        if not metrics["config"]["train_tau"]:
            notes.append(f"hidden τ {metrics['config']['tau_mem']:g} ms, fixed")
    if metrics["config"].get("mask_loss"):
        notes.append("loss on the scored steps only")
    if metrics.get("tau_mean_ms"):
        taus = ", ".join(f"{k} {v:.0f}" for k, v in metrics["tau_mean_ms"].items())
        notes.append(f"mean τ (ms): {taus}")
    rule = metrics["config"].get("rule")
    if rule:
        notes.append(
            f"rule {rule}; {metrics['config']['n_steps']} steps, hidden "
            f"{metrics['config']['hidden']}, lr {metrics['config']['lr']:g}, "
            f"{'shifted copies, ' if metrics['config']['augment'] else ''}"
            f"train {100 * metrics['train_accuracy']:.2f} %"
        )
    cells = [
        metrics.get("row", metrics["task"]),
        _network(metrics),
        str(metrics["epochs"]),
        acc,
        f"{metrics['wall_seconds']:.0f} s",
        "; ".join(notes),
    ]
    return "| " + " | ".join(cells) + " |"


def _merge(results: Path, new: dict[str, str], order: list[str]) -> list[str]:
    """The rows of ``results`` with those of ``new`` (task -> row) replaced."""
    rows = {}
    if results.exists():
        for line in results.read_text().splitlines():
            cells = [c.strip() for c in line.split("|")]
            if len(cells) > 2 and cells[1] in order:
                rows[cells[1]] = line
    rows.update(new)
    return [rows[n] for n in order if n in rows]


def main(argv: list[str] | None = None) -> int:
    from ann import mnist_baseline

    from neurosim.tasks import TASKS, run_task
    from neurosim.tasks.config import quick as quick_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=sorted(TASKS), default=None)
    parser.add_argument(
        "--data", default=None, help="folder with shd_train.h5 / shd_test.h5"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: a few batches per task"
    )
    parser.add_argument(
        "--rules",
        nargs="+",
        choices=RULES,
        default=[],
        help="also train seed 001's network on mnist with these rules",
    )
    parser.add_argument(
        "--out", default="runs/accuracy", help="run outputs (default runs/accuracy)"
    )
    parser.add_argument(
        "--results", default=str(HERE / "results.md"), help="markdown table file"
    )
    args = parser.parse_args(argv)

    names = args.tasks or [
        n for n in TASKS if (n != "shd" or args.data) and not args.rules
    ]
    if "shd" in names and not args.data:
        parser.error("shd needs --data DIR with shd_train.h5 and shd_test.h5")
    rows = []
    for name in names:
        metrics = run_task(
            name,
            out=Path(args.out) / name,
            quick=args.quick,
            data=args.data if name == "shd" else None,
            progress=False,
        )
        if name == "mnist":  # the ANN baseline on the same split
            task = TASKS[name]
            cfg = quick_config(task.defaults) if args.quick else task.defaults
            metrics.update(mnist_baseline(cfg, task.load(cfg, None), quick=args.quick))
        rows.append(_row(metrics))
        print(rows[-1], file=sys.stderr, flush=True)
    for rule in args.rules:
        row = f"mnist --rule {rule}"
        metrics = run_task(
            "mnist",
            out=Path(args.out) / f"mnist-{rule}",
            quick=args.quick,
            overrides=_rule_overrides(rule),
            progress=False,
        )
        rows.append(_row({**metrics, "row": row}))
        names.append(row)
        print(rows[-1], file=sys.stderr, flush=True)
    import jax

    header = [
        f"Test accuracy of `neurosim train TASK` at its defaults"
        f"{' (--quick smoke run: not a result)' if args.quick else ''}; "
        f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"jax {jax.__version__}, float32 (toy: float64). "
        "Written by `python benchmarks/accuracy.py`.",
        "",
        "| task | network | epochs | test accuracy | wall time | notes |",
        "|---|---|---|---|---|---|",
    ]
    if (args.tasks or args.rules) and not args.quick:  # keep the other rows
        order = list(TASKS) + [f"mnist --rule {r}" for r in RULES]
        rows = _merge(Path(args.results), dict(zip(names, rows, strict=True)), order)
    table = "\n".join(header + rows) + "\n"
    print(table)
    Path(args.results).write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

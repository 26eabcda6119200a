"""`run_task`: configure, load, train, score and write a task's outputs."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import numpy as np

from ..io import save_params
from .config import quick as quick_config
from .registry import TASKS

__all__ = ["run_task"]


def _json(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _json(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json(v) for v in x]
    if isinstance(x, np.generic | jax.Array):
        return np.asarray(x).item()
    return x


def run_task(
    name: str,
    *,
    out: str | Path,
    quick: bool = False,
    data: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: bool = True,
    checkpoint: bool = False,
) -> dict:
    """Train task `name` and write its metrics, curve and parameters to `out`.

    Writes `metrics.json` (`train_accuracy`, `test_accuracy`, `epochs`,
    `wall_seconds`, the `config`, the `history` and task-specific numbers
    such as each layer's mean trained membrane time constant `tau_mean_ms`),
    `training_curve.png` and `params.npz` (`neurosim.io.load_params`).

    Args:
        name: a key of `TASKS`.
        out: output folder (created).
        quick: a smoke run: `neurosim.tasks.config.quick` of the settings.
        data: folder with the data files (SHD's `.h5`; MNIST's npz or IDX).
        overrides: settings replacing the task's defaults (`epochs`, `lr`,
            `hidden`, ...; `TASKS[name].defaults` lists them), checked as
            the defaults are.
        progress: show a progress bar.
        checkpoint: write `out/checkpoint.npz` after every epoch (atomically)
            and continue a checkpoint found there that was made with the same
            settings (`neurosim train --resume`); a different one raises
            `CheckpointError`.

    Returns:
        The metrics written to `out/metrics.json`.

    Raises:
        TaskDataError: the task's data files are missing.
        TaskDependencyError: the task needs an optional package.
        ValueError: an unknown task or setting, or a bad value.
        TypeError: a value of the wrong type.
    """
    from .. import plot  # matplotlib only when figures are written

    if name not in TASKS:
        raise ValueError(
            f"name: unknown task {name!r}; expected one of {sorted(TASKS)}."
        )
    task = TASKS[name]
    cfg = task.configure(overrides)
    if quick:
        cfg = quick_config(cfg)
    t0 = time.perf_counter()
    # One dtype whatever the caller's jax config: float32, except the seed-003
    # circuit, which runs in float64 as the seed did.
    with jax.enable_x64(False):
        loaded = task.load(cfg, data)
        if checkpoint:
            Path(out).mkdir(parents=True, exist_ok=True)
            result = task.train(cfg, loaded, progress, checkpoint_dir=out)
        else:
            result = task.train(cfg, loaded, progress)
    wall = time.perf_counter() - t0
    params, history = result.pop("params"), result.pop("history")
    metrics = {
        "task": name,
        "train_accuracy": result.pop("train_accuracy"),
        "test_accuracy": result.pop("test_accuracy"),
        "epochs": len(history["loss"]),
        "wall_seconds": round(wall, 2),
        **result,
        "quick": quick,
        "split": loaded.split,
        "history": {k: v for k, v in history.items() if k != "seconds"},
        "config": cfg.to_dict(),
    }
    metrics = _json(metrics)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    plot.save(plot.training_curves(history), out / "training_curve.png")
    save_params(out / "params.npz", params)
    return metrics

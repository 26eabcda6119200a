"""What `fit` saves in its checkpoint and what it checks before resuming one:
the saved state, the per-epoch history and its types, and the metadata that
must match (seed, data fingerprint, training settings, `config`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..io import CheckpointError, checkpoint_meta, load_checkpoint
from .objective import Objective

CHECKPOINT_NAME = "checkpoint.npz"
LEGACY_CHECKPOINT_NAME = "checkpoint.pkl"  # pickles from before format 2: refused
# Per-epoch history entries and their types (`val_*` only with validation).
HISTORY = {
    "loss": float,
    "accuracy": float,
    "seconds": float,
    "skipped": int,
    "diverged": bool,
    "val_loss": float,
    "val_accuracy": float,
}


def _objective_json(objective: Objective) -> dict:
    steps = objective.eval_steps
    return {
        "loss": objective.loss,
        "trace": objective.record,
        "label_smoothing": float(objective.label_smoothing),
        "eval_steps": None if steps is None else np.asarray(steps).tolist(),
        "mask_loss": bool(objective.mask_loss),
    }


def _history_arrays(history: dict[str, list]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=HISTORY[k]) for k, v in history.items()}


def _resume(ckpt: Path, template: dict, expect: dict, rng) -> tuple[dict, int]:
    """The saved state (checked against this run) and the next epoch."""
    meta = checkpoint_meta(ckpt)
    epoch = meta.get("epoch")
    if not isinstance(epoch, int) or epoch < 0:
        raise CheckpointError(f"{ckpt}: epoch {epoch!r} in its metadata is invalid.")
    n = epoch + 1
    template = dict(
        template,
        history={k: np.zeros(n, dtype=HISTORY[k]) for k in template["history"]},
    )
    saved = load_checkpoint(ckpt, like=template, expect=expect)
    try:
        rng.bit_generator.state = meta["rng"]
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(
            f"{ckpt}: the saved RNG state is invalid ({err})."
        ) from err
    saved["history"] = {k: v.tolist() for k, v in saved["history"].items()}
    return saved, n


def expected_meta(
    *,
    seed: int,
    fingerprint: str,
    objective: Objective,
    batch_size: int,
    validation_split: float,
    max_batches: int | None,
    input: str,
    t_max: float | None,
    regularizer: bool,
    config: dict | None,
) -> dict:
    """The metadata a checkpoint of this run carries and a resume must match."""
    return {
        "seed": seed,
        "data_fingerprint": fingerprint,
        "training": {
            "objective": _objective_json(objective),
            "batch_size": batch_size,
            "validation_split": validation_split,
            "max_batches": max_batches,
            "input": input,
            "t_max": t_max,
            "regularizer": regularizer,
        },
        "config": config,
    }


def saved_state(theta: Any, opt_state: Any, history: dict, best: tuple) -> dict:
    """What `fit` saves after every epoch; `best` is `(loss, epoch, theta)`."""
    return {
        "theta": theta,
        "opt_state": opt_state,
        "history": _history_arrays(history),
        "best_loss": float(best[0]),
        "best_epoch": int(best[1]),
        "best_theta": best[2],
    }


def resume_from(
    ckpt: Path, theta: Any, opt_state: Any, history: dict, expect: dict, rng
) -> tuple | None:
    """`(theta, opt_state, history, best, next epoch)` saved in `ckpt`, checked
    against this run's fresh state (the template) and `expect`, with `rng`
    restored; None when there is no checkpoint. A legacy pickle is refused."""
    legacy = ckpt.with_name(LEGACY_CHECKPOINT_NAME)
    if not ckpt.exists() and legacy.exists():
        load_checkpoint(legacy)  # raises: a pickle is refused, never opened
    if not ckpt.exists():
        return None
    template = {
        "theta": theta,
        "opt_state": opt_state,
        "history": history,
        "best_loss": 0.0,
        "best_epoch": 0,
        "best_theta": theta,
    }
    saved, start_epoch = _resume(ckpt, template, expect, rng)
    best = (saved["best_loss"], saved["best_epoch"], saved["best_theta"])
    return saved["theta"], saved["opt_state"], saved["history"], best, start_epoch

"""Save and load parameters and training checkpoints.

Parameters go to ``.npz`` files (one array per ``"target/key"``), readable
without neurosim. Checkpoints (parameters, optimiser state, epoch, RNG state,
history) are pickled pytrees of numpy arrays. Every write is atomic: the file
is written beside its destination, flushed to disk, then renamed over it, so an
interrupted save never leaves a truncated file or loses the previous one.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import jax
import numpy as np

__all__ = ["load_checkpoint", "load_params", "save_checkpoint", "save_params"]

CHECKPOINT_VERSION = 1


def _atomic_write(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def save_params(path: str | os.PathLike, params: dict) -> Path:
    """Write ``{target: {key: array}}`` to an ``.npz`` file (atomically)."""
    flat = {}
    for target, leaves in params.items():
        for key, value in leaves.items():
            if "/" in target or "/" in key:
                raise ValueError(
                    f"params: names may not contain '/', got {target}/{key}."
                )
            flat[f"{target}/{key}"] = np.asarray(value)
    return _atomic_write(Path(path), lambda f: np.savez(f, **flat))


def load_params(path: str | os.PathLike) -> dict:
    """Read parameters written by :func:`save_params`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no parameter file at {str(path)!r}.")
    out: dict = {}
    with np.load(path) as data:
        for name in data.files:
            target, key = name.split("/", 1)
            value = data[name]
            out.setdefault(target, {})[key] = value if value.ndim else value[()]
    return out


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Atomically pickle a checkpoint (any pytree; arrays are fetched to numpy)."""
    payload = {"version": CHECKPOINT_VERSION, "state": jax.device_get(state)}
    return _atomic_write(Path(path), lambda f: pickle.dump(payload, f, protocol=4))


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no checkpoint at {str(path)!r}.")
    with open(path, "rb") as f:
        payload = pickle.load(f)
    if not isinstance(payload, dict) or payload.get("version") != CHECKPOINT_VERSION:
        raise ValueError(
            f"path: {str(path)!r} is not a neurosim checkpoint (version "
            f"{CHECKPOINT_VERSION})."
        )
    return payload["state"]

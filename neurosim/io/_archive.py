"""The file format's constants and error, atomic writes, pickle-free `.npz` archives."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

CHECKPOINT_FORMAT = "neurosim-checkpoint"
CHECKPOINT_VERSION = 2
META_NAME = "meta.json"
_ZIP_MAGIC = b"PK\x03\x04"

MSG_PICKLE = (
    "{path}: is a pickle (a checkpoint from neurosim before format "
    f"{CHECKPOINT_VERSION}, or a foreign file). neurosim does not read pickles: "
    "unpickling a crafted file runs its code. Delete it (or move it away) and "
    "train again, or re-save trusted parameters with neurosim.save_params."
)


class CheckpointError(ValueError):
    """A checkpoint or parameter file that cannot be used: empty, truncated,
    foreign, a pickle, or of another structure or run than expected."""


def _atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> Path:
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


def _plain_array(value: Any, where: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.hasobject or array.dtype.kind not in "biufc":
        raise TypeError(
            f"{where}: expected a numeric or boolean array, got {type(value).__name__} "
            f"of dtype {array.dtype}; only arrays are saved (never pickled objects)."
        )
    return array


def _write_npz(
    f: BinaryIO, arrays: Mapping[str, np.ndarray], meta: dict | None = None
) -> None:
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        if meta is not None:
            zf.writestr(META_NAME, json.dumps(meta, allow_nan=False, indent=1))
        for name, array in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _open_npz(path: str | os.PathLike, what: str) -> tuple[Path, zipfile.ZipFile]:
    """Opens a pickle-free archive, or raises naming the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no {what} at {str(path)!r}.")
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise CheckpointError(f"{path}: the file is empty; expected a {what}.")
    if head[:1] == b"\x80":  # the PROTO opcode that starts pickles since protocol 2
        raise CheckpointError(MSG_PICKLE.format(path=path))
    if head != _ZIP_MAGIC:
        raise CheckpointError(
            f"{path}: not a {what} (it starts with {head!r}, not a zip archive's "
            f"{_ZIP_MAGIC!r})."
        )
    try:
        return path, zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise CheckpointError(
            f"{path}: truncated or damaged {what} ({err}); expected a complete "
            "zip archive."
        ) from err


def _read_array(zf: zipfile.ZipFile, path: Path, name: str) -> np.ndarray:
    try:
        with zf.open(f"{name}.npy") as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except KeyError as err:
        raise CheckpointError(f"{path}: array {name!r} is missing.") from err
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise CheckpointError(
            f"{path}: array {name!r} is truncated or damaged ({err})."
        ) from err

"""Parameter files: `{target: {key: array}}` as an `.npz` of `target/key` arrays."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ._archive import (
    CheckpointError,
    _atomic_write,
    _open_npz,
    _plain_array,
    _read_array,
    _write_npz,
)


def save_params(path: str | os.PathLike, params: Mapping) -> Path:
    """Writes `{target: {key: array}}` to an `.npz` file, atomically.

    Args:
        path: destination file; its folder is created if missing.
        params: a two-level mapping of numeric arrays (`sim.init_params`).

    Returns:
        The path written.

    Raises:
        TypeError: `params` is not a two-level mapping of numeric arrays.
        ValueError: a name contains `/`.
    """
    if not isinstance(params, Mapping):
        raise TypeError(
            f"params: expected a mapping {{target: {{key: array}}}}, got "
            f"{type(params).__name__}."
        )
    flat = {}
    for target, leaves in params.items():
        if not isinstance(leaves, Mapping):
            raise TypeError(
                f"params[{target!r}]: expected a mapping {{key: array}}, got "
                f"{type(leaves).__name__}."
            )
        for key, value in leaves.items():
            if "/" in str(target) or "/" in str(key):
                raise ValueError(
                    f"params: names may not contain '/', got {target}/{key}."
                )
            flat[f"{target}/{key}"] = _plain_array(
                value, f"params[{target!r}][{key!r}]"
            )
    return _atomic_write(Path(path), lambda f: _write_npz(f, flat))


def load_params(path: str | os.PathLike) -> dict:
    """Reads parameters written by `save_params` (never unpickling).

    Args:
        path: an `.npz` parameter file.

    Returns:
        `{target: {key: array}}`; 0-d arrays come back as numpy scalars.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: an empty, truncated, pickled or foreign file, or one
            whose entries are not named `target/key`.
    """
    path, zf = _open_npz(path, "parameter file")
    out: dict = {}
    with zf:
        for member in zf.namelist():
            name = member.removesuffix(".npy")
            if not member.endswith(".npy") or "/" not in name:
                raise CheckpointError(
                    f"{path}: entry {member!r} is not a 'target/key' array; not a "
                    "neurosim parameter file."
                )
            target, key = name.split("/", 1)
            value = _read_array(zf, path, name)
            out.setdefault(target, {})[key] = value if value.ndim else value[()]
    return out

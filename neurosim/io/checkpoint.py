"""Checkpoints: a pytree's leaves and a `meta.json` (format, structure, metadata).

`load_checkpoint` checks the structure against a template and the metadata
against what the caller expects before it reads an array.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._archive import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    META_NAME,
    CheckpointError,
    _atomic_write,
    _open_npz,
    _read_array,
    _write_npz,
)
from ._tree import _MAX_SHOWN, _decode, _describe, _diff, _encode, _to_host


def data_fingerprint(*arrays: Any) -> str:
    """A short hash of arrays' dtypes, shapes and bytes (to tell data sets apart).

    Args:
        *arrays: array-likes (`None` entries count as absent).

    Returns:
        A hex string (BLAKE2b, 16 bytes).
    """
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        if a is None:
            h.update(b"none;")
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape};".encode())
        h.update(a.view(np.uint8).reshape(-1) if a.size else b"")
    return h.hexdigest()


def save_checkpoint(
    path: str | os.PathLike, state: Any, *, meta: Mapping[str, Any] | None = None
) -> Path:
    """Writes a checkpoint atomically: the leaves of `state` and JSON metadata.

    Args:
        path: destination file (by convention `*.npz`).
        state: a pytree of dicts (string keys), lists, tuples, namedtuples (such
            as optax states), `None` and numeric arrays or Python numbers.
        meta: JSON-serialisable metadata (epoch, seed, RNG state, data
            fingerprint, config); NaN and infinities are not allowed in it.

    Returns:
        The path written.

    Raises:
        TypeError: a leaf is not numeric, a dict key is not a string, or `meta`
            is not JSON-serialisable.
    """
    leaves: list[np.ndarray] = []
    structure = _encode(_to_host(state), leaves, "state")
    header = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "structure": structure,
        "meta": dict(meta or {}),
    }
    try:
        json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"meta: not JSON-serialisable without NaN/inf ({err})."
        ) from err
    arrays = {str(i): a for i, a in enumerate(leaves)}
    return _atomic_write(Path(path), lambda f: _write_npz(f, arrays, header))


def _read_header(path: str | os.PathLike) -> tuple[Path, zipfile.ZipFile, dict]:
    path, zf = _open_npz(path, "neurosim checkpoint")
    try:
        raw = zf.read(META_NAME)
    except KeyError:
        zf.close()
        raise CheckpointError(
            f"{path}: no {META_NAME} inside; not a neurosim checkpoint (a parameter "
            "file is read with neurosim.load_params)."
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        zf.close()
        raise CheckpointError(f"{path}: {META_NAME} is damaged ({err}).") from err
    try:
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        zf.close()
        raise CheckpointError(
            f"{path}: {META_NAME} is not valid JSON ({err})."
        ) from err
    if not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
        zf.close()
        raise CheckpointError(
            f"{path}: not a neurosim checkpoint (foreign {META_NAME})."
        )
    if header.get("version") != CHECKPOINT_VERSION:
        zf.close()
        raise CheckpointError(
            f"{path}: checkpoint format version {header.get('version')!r}; this "
            f"neurosim reads version {CHECKPOINT_VERSION}."
        )
    return path, zf, header


def checkpoint_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata of a checkpoint, read without reading any array.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: an empty, truncated, pickled or foreign file.
    """
    _, zf, header = _read_header(path)
    zf.close()
    return header["meta"]


def load_checkpoint(
    path: str | os.PathLike,
    *,
    like: Any = None,
    expect: Mapping[str, Any] | None = None,
) -> Any:
    """Reads a checkpoint written by `save_checkpoint`, checking it first.

    Nothing is unpickled. The structure and metadata are checked before any
    array is read.

    Args:
        path: the checkpoint file.
        like: a template pytree (for instance this run's parameters and
            `optimizer.init(params)`): the saved tree must have the same
            containers, keys, shapes and dtypes, and is returned with the
            template's container types (optax's namedtuples included). Without
            it, namedtuples come back as dicts of their fields.
        expect: metadata entries that must equal the saved ones (data
            fingerprint, seed, config, ...).

    Returns:
        The saved pytree of numpy arrays (Python numbers where numbers were saved).

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: an empty, truncated, pickled or foreign file, or one whose
            structure or metadata differ from `like`/`expect` (the message
            names the file and each difference).
    """
    path, zf, header = _read_header(path)
    with zf:
        structure = header.get("structure")
        if not isinstance(structure, dict):
            raise CheckpointError(f"{path}: {META_NAME} has no tree structure.")
        problems: list[str] = []
        for key, value in (expect or {}).items():
            saved = header["meta"].get(key, "<absent>")
            if saved != _json_round_trip(value):
                problems.append(f"{key}: saved {saved!r}, this run {value!r}")
        if like is not None:
            expected = _encode(_to_host(like), [], "like")
            _diff(structure, expected, "state", problems)
        if problems:
            raise CheckpointError(
                f"{path}: the checkpoint does not match this run:\n  "
                + "\n  ".join(problems[:_MAX_SHOWN])
            )

        def read(node: dict) -> np.ndarray:
            array = _read_array(zf, path, str(node["leaf"]))
            if array.shape != tuple(node["shape"]) or array.dtype != np.dtype(
                node["dtype"]
            ):
                raise CheckpointError(
                    f"{path}: array {node['leaf']} has shape {array.shape} and dtype "
                    f"{array.dtype}; {META_NAME} says {_describe(node)}."
                )
            return array

        return _decode(structure, like, read)


def _json_round_trip(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return value

"""Save and load parameters and training checkpoints, without pickle.

Both kinds of file are `.npz` archives (zip files of `.npy` arrays) written
and read with `allow_pickle=False`, so reading one can never run code:

- a **parameter file** (`save_params`) holds one array per
  `"target/key"` and is readable with `numpy.load` alone;
- a **checkpoint** (`save_checkpoint`) holds the leaves of a pytree as
  `0.npy`, `1.npy`, ... and a `meta.json` member: the format and its
  version, the tree's structure (containers, keys, each leaf's shape and
  dtype) and free metadata (epoch, RNG state, seed, data fingerprint, training
  config). `load_checkpoint` checks the structure against a template and
  the metadata against what the caller expects *before* it reads an array, and
  names the file and what differs.

Every write is atomic: the file is written beside its destination, flushed to
disk (`fsync`), then renamed over it, so an interrupted save never leaves a
truncated file or loses the previous one. Pickled checkpoints (neurosim before
format 2) are refused, not read: unpickling a crafted file runs its code.

Optimiser state is saved as data; the optimiser itself is not (optax
transforms are closures). Two learning rates therefore give checkpoints of the
same structure: record what made a run (learning rate, optimiser name) in the
metadata, as `fit(config=...)` does, so that a resume with other settings is
refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = [
    "CheckpointError",
    "checkpoint_meta",
    "data_fingerprint",
    "load_checkpoint",
    "load_params",
    "save_checkpoint",
    "save_params",
]

CHECKPOINT_FORMAT = "neurosim-checkpoint"
CHECKPOINT_VERSION = 2
META_NAME = "meta.json"
_ZIP_MAGIC = b"PK\x03\x04"
_MAX_SHOWN = 5  # differences named in one error message

MSG_PICKLE = (
    "{path}: is a pickle (a checkpoint from neurosim before format "
    f"{CHECKPOINT_VERSION}, or a foreign file). neurosim does not read pickles: "
    "unpickling a crafted file runs its code. Delete it (or move it away) and "
    "train again, or re-save trusted parameters with neurosim.save_params."
)


class CheckpointError(ValueError):
    """A checkpoint or parameter file that cannot be used: empty, truncated,
    foreign, a pickle, or of another structure or run than expected."""


# ---------------------------------------------------------------------------
# Atomic writes and pickle-free .npz archives
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Pytree structure as JSON
# ---------------------------------------------------------------------------


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _encode(tree: Any, leaves: list[np.ndarray], where: str) -> Any:
    """A JSON description of `tree`; appends its leaves to `leaves`."""
    if tree is None:
        return {"none": None}
    if isinstance(tree, Mapping):
        for key in tree:
            if not isinstance(key, str):
                raise TypeError(
                    f"{where}: dict keys must be strings to be saved, got {key!r}."
                )
        return {
            "dict": {k: _encode(v, leaves, f"{where}[{k!r}]") for k, v in tree.items()}
        }
    if _is_namedtuple(tree):
        return {
            "namedtuple": type(tree).__name__,
            "fields": {
                k: _encode(v, leaves, f"{where}.{k}")
                for k, v in zip(tree._fields, tree, strict=True)
            },
        }
    if isinstance(tree, (list, tuple)):
        kind = "list" if isinstance(tree, list) else "tuple"
        return {kind: [_encode(v, leaves, f"{where}[{i}]") for i, v in enumerate(tree)]}
    array = _plain_array(tree, where)
    leaves.append(array)
    node = {
        "leaf": len(leaves) - 1,
        "shape": list(array.shape),
        "dtype": array.dtype.str,
    }
    if isinstance(tree, (bool, int, float)):  # Python scalars come back as such
        node["python"] = type(tree).__name__
    return node


def _describe(node: Any) -> str:
    if "leaf" in node:
        return f"an array of shape {tuple(node['shape'])} and dtype {np.dtype(node['dtype'])}"
    kind = next(iter(node))
    if kind == "namedtuple":
        return f"{node['namedtuple']}({', '.join(node['fields'])})"
    if kind == "dict":
        return f"a dict with keys {sorted(node['dict'])}"
    if kind in ("list", "tuple"):
        return f"a {kind} of {len(node[kind])}"
    return "None"


def _diff(saved: Any, expected: Any, where: str, out: list[str]) -> None:
    """Appends to `out` where two JSON descriptions differ."""
    if len(out) >= _MAX_SHOWN:
        return
    s_leaf, e_leaf = "leaf" in saved, "leaf" in expected
    if s_leaf and e_leaf:
        if saved["shape"] != expected["shape"] or np.dtype(saved["dtype"]) != np.dtype(
            expected["dtype"]
        ):
            out.append(
                f"{where}: saved {_describe(saved)}, expected {_describe(expected)}"
            )
        return
    kind = next(iter(saved))
    if (
        s_leaf
        or e_leaf
        or kind != next(iter(expected))
        or (kind == "namedtuple" and saved["namedtuple"] != expected["namedtuple"])
    ):
        out.append(f"{where}: saved {_describe(saved)}, expected {_describe(expected)}")
        return
    if kind == "none":
        return
    if kind in ("dict", "namedtuple"):
        s, e = (
            (saved["dict"], expected["dict"])
            if kind == "dict"
            else (
                saved["fields"],
                expected["fields"],
            )
        )
        if (set(s) != set(e)) if kind == "dict" else (list(s) != list(e)):
            missing, extra = sorted(set(e) - set(s)), sorted(set(s) - set(e))
            out.append(
                f"{where}: saved keys {sorted(s)}, expected {sorted(e)}"
                + (f" (missing {missing})" if missing else "")
                + (f" (not expected {extra})" if extra else "")
            )
            return
        sep = "." if kind == "namedtuple" else ""
        for k in s:
            sub = f"{where}{sep}{k}" if sep else f"{where}[{k!r}]"
            _diff(s[k], e[k], sub, out)
        return
    if len(saved[kind]) != len(expected[kind]):
        out.append(f"{where}: saved {_describe(saved)}, expected {_describe(expected)}")
        return
    for i, (s, e) in enumerate(zip(saved[kind], expected[kind], strict=True)):
        _diff(s, e, f"{where}[{i}]", out)


def _decode(node: Any, like: Any, read: Callable[[dict], np.ndarray]) -> Any:
    """Rebuilds a tree from its description; containers follow `like` if given."""
    if "leaf" in node:
        value = read(node)
        kind = node.get("python")
        return (
            {"bool": bool, "int": int, "float": float}[kind](value[()])
            if kind
            else value
        )
    if "none" in node:
        return None
    if "dict" in node:
        items = node["dict"]
        return {
            k: _decode(v, None if like is None else like[k], read)
            for k, v in items.items()
        }
    if "namedtuple" in node:
        values = [
            _decode(v, None if like is None else getattr(like, k), read)
            for k, v in node["fields"].items()
        ]
        # Without a template a namedtuple comes back as a dict of its fields:
        # a class is never looked up from a name stored in the file.
        if like is None:
            return dict(zip(node["fields"], values, strict=True))
        return type(like)(*values)
    kind = "list" if "list" in node else "tuple"
    values = [
        _decode(v, None if like is None else like[i], read)
        for i, v in enumerate(node[kind])
    ]
    return values if kind == "list" else tuple(values)


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------


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


def _to_host(tree: Any) -> Any:
    """Device arrays (anything with `__array__`) become numpy arrays."""
    if tree is None or isinstance(tree, (bool, int, float, np.ndarray)):
        return tree
    if isinstance(tree, Mapping):
        return {k: _to_host(v) for k, v in tree.items()}
    if _is_namedtuple(tree):
        return type(tree)(*(_to_host(v) for v in tree))
    if isinstance(tree, (list, tuple)):
        return type(tree)(_to_host(v) for v in tree)
    return np.asarray(tree) if hasattr(tree, "__array__") else tree


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

"""A pytree's structure as JSON: encode, describe, compare and rebuild."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._archive import _plain_array

_MAX_SHOWN = 5  # differences named in one error message


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

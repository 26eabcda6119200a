"""Connectivity rules: which presynaptic cell projects onto which postsynaptic
one. `Network.connect` takes a rule or its name (`"all_to_all"`,
`"one_to_one"`).

Examples:
    >>> import neurosim as ns
    >>> pre, post = ns.OneToOne().edges(3, 3)
    >>> pre.tolist(), post.tolist()
    ([0, 1, 2], [0, 1, 2])
    >>> ns.AllToAll().edges(2, 2)[1].tolist()
    [0, 1, 0, 1]
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .values import unknown

__all__ = ["AllToAll", "EdgeList", "OneToOne", "Random", "as_connectivity"]


@dataclass(frozen=True)
class AllToAll:
    """Every presynaptic neuron onto every postsynaptic one; edges pre-major."""

    dense = True

    def edges(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        pre, post = np.divmod(np.arange(n_pre * n_post), n_post)
        return pre.astype(np.int32), post.astype(np.int32)


@dataclass(frozen=True)
class OneToOne:
    """Neuron `i` onto neuron `i`; both populations must have the same size."""

    dense = False

    def edges(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        if n_pre != n_post:
            raise ValueError(
                f"connectivity: one_to_one needs equal sizes, got {n_pre} -> {n_post}."
            )
        idx = np.arange(n_pre, dtype=np.int32)
        return idx, idx.copy()


@dataclass(frozen=True)
class Random:
    """Each pair connected independently with probability `p` (seeded numpy draw)."""

    p: float
    seed: int = 0
    dense = False

    def __post_init__(self):
        p = self.p
        if isinstance(p, bool) or not (isinstance(p, numbers.Real) and 0.0 <= p <= 1.0):
            raise ValueError(f"p: expected a probability in [0, 1], got {self.p!r}.")

    def edges(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        mask = np.random.default_rng(self.seed).random((n_pre, n_post)) < self.p
        pre, post = np.nonzero(mask)
        return pre.astype(np.int32), post.astype(np.int32)


@dataclass(frozen=True, eq=False)
class EdgeList:
    """An explicit list of edges `pre[k] -> post[k]` (indices within populations)."""

    pre: Any
    post: Any
    dense = False

    def edges(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        pre, post = np.asarray(self.pre), np.asarray(self.post)
        if pre.ndim != 1 or pre.shape != post.shape:
            raise ValueError(
                f"edges: pre and post must be 1-D of equal length, got shapes "
                f"{pre.shape} and {post.shape}."
            )
        if not (np.issubdtype(pre.dtype, np.integer) or pre.size == 0):
            raise TypeError(f"edges: indices must be integers, got {pre.dtype}.")
        for arr, n, side in ((pre, n_pre, "pre"), (post, n_post, "post")):
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise ValueError(
                    f"edges: {side} indices must lie in [0, {n}), got "
                    f"[{arr.min()}, {arr.max()}]."
                )
        return pre.astype(np.int32), post.astype(np.int32)


_CONNECTIVITY = {"all_to_all": AllToAll, "one_to_one": OneToOne}


def as_connectivity(conn: Any) -> Any:
    """A connectivity rule from `conn`: a rule instance, or its name."""
    if isinstance(conn, type):
        raise TypeError(
            f"connectivity: got the class {conn.__name__}; pass an instance, such "
            "as 'all_to_all', 'one_to_one', Random(p, seed) or EdgeList(pre, post)."
        )
    if isinstance(conn, str):
        if conn not in _CONNECTIVITY:
            raise unknown("connectivity", conn, list(_CONNECTIVITY), "connectivity: ")
        return _CONNECTIVITY[conn]()
    if not hasattr(conn, "edges"):
        raise TypeError(
            "connectivity: expected 'all_to_all', 'one_to_one', Random(p, seed) or "
            f"EdgeList(pre, post), got {conn!r}."
        )
    return conn

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
    """Each pair connected independently with probability `p` (seeded numpy draw).

    Drawn without an `n_pre x n_post` array: each presynaptic cell's number
    of targets is Binomial(`n_post`, `p`), and that many distinct targets are
    drawn uniformly (which makes every pair an independent Bernoulli(`p`)
    draw). For `p > 1/2` the missing pairs are drawn the same way and the rest
    kept. Edges come sorted by presynaptic, then postsynaptic cell; the same
    `seed` gives the same edges.
    """

    p: float
    seed: int = 0
    dense = False

    def __post_init__(self):
        p = self.p
        if isinstance(p, bool) or not (isinstance(p, numbers.Real) and 0.0 <= p <= 1.0):
            raise ValueError(f"p: expected a probability in [0, 1], got {self.p!r}.")

    def edges(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        flip = self.p > 0.5  # draw the missing pairs (fewer) and keep the rest
        counts = rng.binomial(n_post, 1.0 - self.p if flip else self.p, n_pre)
        keys = _distinct_targets(rng, counts, n_post)  # pre * n_post + post
        if flip:  # the output has >= n_pre * n_post / 2 edges: a mask is smaller
            mask = np.ones(n_pre * n_post, bool)
            mask[keys] = False
            pre, post = np.divmod(np.flatnonzero(mask), n_post)
            return pre.astype(np.int32), post.astype(np.int32)
        pre = np.repeat(np.arange(n_pre, dtype=np.int32), counts)
        keys %= n_post
        return pre, keys.astype(np.int32)


def _distinct_targets(
    rng: np.random.Generator, counts: np.ndarray, n_post: int
) -> np.ndarray:
    """Sorted keys `pre * n_post + post`: `counts[pre]` distinct targets per
    presynaptic cell, uniform (targets drawn with replacement; repeats are
    drawn again until each cell has its count)."""
    rows = np.arange(counts.size, dtype=np.int64)
    keys = np.empty(0, np.int64)
    need = counts
    while need.sum() > 0:
        new = np.repeat(rows, need) * n_post
        new += rng.integers(0, n_post, new.size)
        new.sort()
        new = new[np.concatenate(([True], new[1:] != new[:-1]))]
        if keys.size:
            at = np.searchsorted(keys, new)
            fresh = keys[np.minimum(at, keys.size - 1)] != new
            keys = np.insert(keys, at[fresh], new[fresh])
        else:
            keys = new
        need = counts - np.bincount(keys // n_post, minlength=counts.size)
    return keys


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

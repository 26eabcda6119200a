"""Small array helpers of the engine: values at some cells, initialiser calls."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array


def _at(x: Array, cells: np.ndarray | None) -> Array:
    return x if cells is None else x[..., cells]


def _add_at(x: Array, cells: np.ndarray | None, y: Array) -> Array:
    return x + y if cells is None else x.at[..., cells].add(y)


def _set_at(x: Array, cells: np.ndarray | None, y: Array) -> Array:
    if cells is None:
        return jnp.broadcast_to(y, x.shape).astype(x.dtype)
    return x.at[..., cells].set(y)


def _draw(init: Callable, key: jax.Array, shape: tuple, name: str) -> Array:
    """Call an initialiser `(key, shape, dtype) -> array` and check its result."""
    try:
        arr = jnp.asarray(init(key, shape, jnp.result_type(float)))
    except Exception as err:  # a callable of another signature
        raise TypeError(
            f"{name}: the initialiser {init!r} failed when called as "
            f"init(key, {shape}, dtype): {err}"
        ) from err
    if arr.shape != shape:
        raise ValueError(
            f"{name}: the initialiser returned shape {arr.shape}, expected {shape}."
        )
    return arr.astype(jnp.result_type(float))

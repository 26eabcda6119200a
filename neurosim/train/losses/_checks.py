"""Argument checks of the losses, run in Python at call or trace time."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def _numeric(x: Any, name: str, fn: str) -> jax.Array:
    """`x` as a JAX array of real numbers or booleans, or a TypeError naming it."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(
            f"{fn}: `{name}` must be an array of numbers, got {type(x).__name__} {x!r}."
        )
    try:
        x = jnp.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{fn}: `{name}` must be an array of numbers, got {type(x).__name__} "
            f"({err})."
        ) from err
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: `{name}` must hold real numbers, got dtype {x.dtype}.")
    return x


def _float_array(x: Any, name: str, fn: str, dims: tuple[str, ...]) -> jax.Array:
    """`x` as a floating array of ndim `len(dims)`; casts ints/bools to float."""
    x = _numeric(x, name, fn)
    if x.ndim != len(dims):
        raise ValueError(
            f"{fn}: `{name}` must have shape ({', '.join(dims)}) (batch-major), got "
            f"shape {x.shape}."
        )
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(float)  # the default float dtype (float32, or float64 with x64)
    return x


def _labels(
    labels: Any, name: str, fn: str, shape: tuple[int, ...], dims: str
) -> jax.Array:
    """Integer labels of exactly `shape`, with their values checked if concrete."""
    labels = _numeric(labels, name, fn)
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(
            f"{fn}: `{name}` must hold integer class indices, got dtype "
            f"{labels.dtype}. Use e.g. `{name}.astype(int)`, not one-hot vectors."
        )
    if labels.shape != shape:
        raise ValueError(
            f"{fn}: `{name}` must have shape {dims} = {shape}, got shape "
            f"{labels.shape}."
        )
    return labels


def _check_label_values(labels: jax.Array, num_classes: int, name: str, fn: str):
    # Only outside jit: under tracing the values are unknown, and an out-of-range
    # label then gives a NaN loss (jnp.take_along_axis fills with NaN).
    if isinstance(labels, jax.core.Tracer) or labels.size == 0:
        return
    values = np.asarray(labels)  # concrete: no tracing, even inside a jit'd caller
    lo, hi = int(values.min()), int(values.max())
    if lo < 0 or hi >= num_classes:
        raise ValueError(
            f"{fn}: `{name}` must lie in [0, {num_classes}) for {num_classes} "
            f"classes, got values in [{lo}, {hi}]."
        )


def _mask(mask: Any, shape: tuple[int, int], dtype: Any, fn: str) -> jax.Array:
    """Mask of shape (batch, time) or (time,), broadcast to `shape`, as `dtype`."""
    mask = _numeric(mask, "mask", fn)
    if mask.shape not in (shape, shape[1:]):
        raise ValueError(
            f"{fn}: `mask` must have shape (batch, time) = {shape} or (time,) = "
            f"{shape[1:]}, got shape {mask.shape}."
        )
    return jnp.broadcast_to(mask.astype(dtype), shape)


def _masked_mean(values: jax.Array, mask: Any, fn: str) -> jax.Array:
    if mask is None:
        return jnp.mean(values)
    weights = _mask(mask, values.shape, values.dtype, fn)
    total = jnp.sum(weights)
    # An all-zero mask gives 0 (and a zero gradient), not 0/0.
    return jnp.sum(values * weights) / jnp.where(total > 0, total, 1.0)


def _nonnegative(value: Any, name: str, fn: str) -> None:
    if isinstance(value, (int, float)) and not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{fn}: `{name}` must be a finite number >= 0, got {value!r}.")


def _step_targets(targets: Any, v: jax.Array, fn: str) -> jax.Array:
    """Per-step targets `(batch, time)`; `(batch,)` is held over time."""
    batch, time = v.shape[:2]
    targets = _numeric(targets, "targets", fn)
    if targets.ndim == 1:
        targets = _labels(targets, "targets", fn, (batch,), "(batch,) from `v`")
        targets = jnp.broadcast_to(targets[:, None], (batch, time))
    else:
        targets = _labels(
            targets, "targets", fn, (batch, time), "(batch, time) from `v`"
        )
    _check_label_values(targets, v.shape[-1], "targets", fn)
    return targets

"""Softmax cross-entropy of decoded logits, and per time step."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, Int, Real

from ._checks import (
    _check_label_values,
    _float_array,
    _labels,
    _masked_mean,
    _step_targets,
)
from .decoding import decode


def _cross_entropy(
    logits: jax.Array, labels: jax.Array, label_smoothing: Any = 0.0
) -> jax.Array:
    """Per-row softmax cross-entropy with integer labels (and smoothing)."""
    log_p = jax.nn.log_softmax(logits, axis=-1)
    if isinstance(label_smoothing, (int, float)) and label_smoothing == 0:
        picked = jnp.take_along_axis(log_p, labels[..., None], axis=-1)
        return -picked[..., 0]
    one_hot = jax.nn.one_hot(labels, logits.shape[-1], dtype=log_p.dtype)
    targets = optax.smooth_labels(one_hot, label_smoothing)
    return -jnp.sum(targets * log_p, axis=-1)


def _decoded_ce(
    x: Any, labels: Any, kind: str, fn: str, name: str, label_smoothing: Any = 0.0
) -> jax.Array:
    x = _float_array(x, name, fn, ("batch", "time", "classes"))
    labels = _labels(labels, "labels", fn, x.shape[:1], f"(batch,) from `{name}`")
    _check_label_values(labels, x.shape[-1], "labels", fn)
    return jnp.mean(_cross_entropy(decode(x, kind), labels, label_smoothing))


def max_voltage_ce(
    v: Float[Array, "batch time classes"], labels: Int[Array, " batch"]
) -> Float[Array, ""]:
    """Cross-entropy of the peak readout voltage (seed 003's loss).

    `L = -(1/B) Σ_b log softmax(max_t v[b, t, :])[y_b]`.

    Args:
        v: readout voltages `(batch, time, classes)`, mV.
        labels: integer class indices `(batch,)`.

    Returns:
        Scalar mean loss.
    """
    return _decoded_ce(v, labels, "max", "max_voltage_ce", "v")


def spike_count_ce(
    spikes: Real[Array, "batch time classes"], labels: Int[Array, " batch"]
) -> Float[Array, ""]:
    """Cross-entropy of the output spike counts.

    `L = -(1/B) Σ_b log softmax(Σ_t spikes[b, t, :])[y_b]`.

    Args:
        spikes: output spikes `(batch, time, classes)`, 0/1 per step
            (bool and integer spikes are cast to float).
        labels: integer class indices `(batch,)`.

    Returns:
        Scalar mean loss.
    """
    return _decoded_ce(spikes, labels, "count", "spike_count_ce", "spikes")


def sum_voltage_ce(
    v: Float[Array, "batch time classes"],
    labels: Int[Array, " batch"],
    label_smoothing: float = 0.0,
) -> Float[Array, ""]:
    """Cross-entropy of the time-summed readout voltage ("integral" decoding).

    With `z_b = Σ_t v[b, t, :]`, `C` classes and smoothing `ε`, the target is
    `q = (1 - ε)·onehot(y_b) + ε/C` (`optax.smooth_labels`) and
    `L = -(1/B) Σ_b Σ_c q_c log softmax(z_b)_c`. Seed 004 (spyx's
    `integral_crossentropy`) uses `ε = 0.3`.

    Args:
        v: readout voltages `(batch, time, classes)`, mV.
        labels: integer class indices `(batch,)`.
        label_smoothing: `ε` in [0, 1]; default 0.0 (plain cross-entropy).

    Returns:
        Scalar mean loss.
    """
    fn = "sum_voltage_ce"
    if isinstance(label_smoothing, (int, float)) and not 0 <= label_smoothing <= 1:
        raise ValueError(
            f"{fn}: `label_smoothing` must lie in [0, 1], got {label_smoothing!r}."
        )
    return _decoded_ce(v, labels, "sum", fn, "v", label_smoothing)


def last_voltage_ce(
    v: Float[Array, "batch time classes"], labels: Int[Array, " batch"]
) -> Float[Array, ""]:
    """Cross-entropy of the readout voltage at the last time step.

    `L = -(1/B) Σ_b log softmax(v[b, T-1, :])[y_b]`.

    Args:
        v: readout voltages `(batch, time, classes)`, mV.
        labels: integer class indices `(batch,)`.

    Returns:
        Scalar mean loss.
    """
    return _decoded_ce(v, labels, "last", "last_voltage_ce", "v")


def per_step_ce(
    v: Float[Array, "batch time classes"],
    targets: Int[Array, "batch time"] | Int[Array, " batch"],
    mask: Real[Array, "batch time"] | Real[Array, " time"] | None = None,
) -> Float[Array, ""]:
    """Cross-entropy at every time step (seed 000's `vmem_time` decoder).

    With `ℓ[b, t] = -log softmax(v[b, t, :])[y[b, t]]` and weights `m`
    (all 1 when `mask` is None),
    `L = Σ_{b,t} m[b,t] ℓ[b,t] / Σ_{b,t} m[b,t]`: the mean over the batch and
    the selected steps. An all-zero mask gives 0.

    Args:
        v: readout voltages `(batch, time, classes)`, mV.
        targets: integer targets per step `(batch, time)`, or `(batch,)` for
            one target held over all steps.
        mask: optional weights (bool, or non-negative floats) of shape
            `(batch, time)` or `(time,)`.

    Returns:
        Scalar mean loss.
    """
    fn = "per_step_ce"
    v = _float_array(v, "v", fn, ("batch", "time", "classes"))
    targets = _step_targets(targets, v, fn)
    return _masked_mean(_cross_entropy(v, targets), mask, fn)

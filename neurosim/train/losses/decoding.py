"""Decoders (readout trace to logits) and accuracies."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float, Int, Real

from ._checks import _float_array, _labels, _masked_mean, _step_targets

DECODE_KINDS = ("max", "count", "sum", "last")
"""Kinds accepted by `decode`."""


def decode(
    v_or_spikes: Real[Array, "batch time classes"], kind: str
) -> Float[Array, "batch classes"]:
    """Logits from a readout trace.

    Args:
        v_or_spikes: readout voltages (mV) or spikes, `(batch, time, classes)`.
        kind: `"max"` (max over time), `"count"` (spike count, the sum over
            time of spikes), `"sum"` (sum over time of voltages) or `"last"`
            (the last time step).

    Returns:
        Logits `(batch, classes)`, floating.

    Raises:
        ValueError: unknown `kind` or wrong ndim.
    """
    fn = f"decode(kind={kind!r})"
    if kind not in DECODE_KINDS:
        raise ValueError(
            f"decode: unknown kind {kind!r}; valid kinds are {DECODE_KINDS}."
        )
    x = _float_array(v_or_spikes, "v_or_spikes", fn, ("batch", "time", "classes"))
    if x.shape[1] == 0:
        raise ValueError(f"{fn}: `v_or_spikes` has no time steps (shape {x.shape}).")
    if kind == "max":
        return jnp.max(x, axis=1)
    if kind == "last":
        return x[:, -1, :]
    return jnp.sum(x, axis=1)  # "count" and "sum"


def accuracy(
    logits: Real[Array, "batch classes"], labels: Int[Array, " batch"]
) -> Float[Array, ""]:
    """Fraction of rows whose arg-max logit is the label.

    `acc = (1/B) Σ_b 1[argmax_c logits[b, c] = y_b]`; ties go to the lowest
    class index (`jnp.argmax`). Use `decode` to get `logits` from a trace.

    Args:
        logits: `(batch, classes)`.
        labels: integer class indices `(batch,)`.

    Returns:
        Scalar in [0, 1], floating.
    """
    logits = _float_array(logits, "logits", "accuracy", ("batch", "classes"))
    labels = _labels(labels, "labels", "accuracy", logits.shape[:1], "(batch,)")
    pred = jnp.argmax(logits, axis=-1).astype(labels.dtype)
    return jnp.mean((pred == labels).astype(logits.dtype))


def per_step_accuracy(
    v: Float[Array, "batch time classes"],
    targets: Int[Array, "batch time"] | Int[Array, " batch"],
    mask: Real[Array, "batch time"] | Real[Array, " time"] | None = None,
) -> Float[Array, ""]:
    """Fraction of (sample, step) pairs whose arg-max voltage is the target.

    `acc = Σ_{b,t} m[b,t] 1[argmax_c v[b,t,c] = y[b,t]] / Σ_{b,t} m[b,t]`, with
    `m = 1` when `mask` is None (and 0 when the mask is all zero).

    Args:
        v: readout voltages `(batch, time, classes)`, mV.
        targets: integer targets per step `(batch, time)`, or `(batch,)` for
            one target held over all steps.
        mask: optional weights (bool or 0/1) of shape `(batch, time)` or
            `(time,)`, selecting the scored steps (e.g. MTS-XOR's answer
            windows).

    Returns:
        Scalar in [0, 1], floating.
    """
    fn = "per_step_accuracy"
    v = _float_array(v, "v", fn, ("batch", "time", "classes"))
    targets = _step_targets(targets, v, fn)
    pred = jnp.argmax(v, axis=-1).astype(targets.dtype)
    return _masked_mean((pred == targets).astype(v.dtype), mask, fn)

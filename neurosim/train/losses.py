"""Classification losses, decoders, accuracies and regularisers.

All arrays are batch-major, as everywhere in neurosim:

- readout voltages `v`: `(batch, time, classes)`, in mV;
- spikes: `(batch, time, neurons)`, 0/1 per step;
- labels: integer class indices `(batch,)`, or per-step targets `(batch, time)`.

A *decoder* turns a readout trace into logits `(batch, classes)`:

| kind | logits | used by |
|---|---|---|
| `"max"` | `max_t v[b, t, c]` | `max_voltage_ce` (seed 003) |
| `"count"` | `Σ_t spikes[b, t, c]` | `spike_count_ce` |
| `"sum"` | `Σ_t v[b, t, c]` | `sum_voltage_ce` (spyx's "integral", seed 004) |
| `"last"` | `v[b, T-1, c]` | `last_voltage_ce` |

and each `*_ce` loss is the mean softmax cross-entropy of those logits,
`L = -(1/B) Σ_b log softmax(logits_b)[y_b]`. Shapes and dtypes are checked in
Python, so a mistake raises a `ValueError` naming the argument when the
function is called or traced, not a silent broadcast. Every function returns a
scalar and can be used under `jax.jit`, `jax.grad` and `jax.vmap`.

Examples:
    >>> import jax.numpy as jnp
    >>> from neurosim.train.losses import accuracy, decode, max_voltage_ce
    >>> v = jnp.zeros((2, 5, 3)).at[0, 2, 1].set(4.0).at[1, 4, 2].set(4.0)
    >>> labels = jnp.array([1, 2])
    >>> round(float(max_voltage_ce(v, labels)), 3)  # log(1 + 2 e^-4)
    0.036
    >>> float(accuracy(decode(v, "max"), labels))
    1.0
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int, Real

__all__ = [
    "DECODE_KINDS",
    "accuracy",
    "decode",
    "firing_rate_reg",
    "last_voltage_ce",
    "max_voltage_ce",
    "per_step_accuracy",
    "per_step_ce",
    "spike_count_ce",
    "spread_penalty",
    "sum_voltage_ce",
]

DECODE_KINDS = ("max", "count", "sum", "last")
"""Kinds accepted by `decode`."""

_RATE_KINDS = ("l2", "upper", "lower")


# ---------------------------------------------------------------------------
# Checks (run in Python, at call or trace time)
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Decoding and accuracy
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Cross-entropy losses
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Regularisers
# ---------------------------------------------------------------------------


def firing_rate_reg(
    spikes: Real[Array, "batch time neurons"],
    target_rate: float | Float[Array, ""] | Float[Array, " neurons"] = 0.0,
    kind: str = "l2",
) -> Float[Array, ""]:
    """Penalty on per-neuron firing rates.

    With `r_n = (1/(B·T)) Σ_{b,t} spikes[b, t, n]` (spikes per time step) and
    target `ν` (scalar or per neuron), over the `N` neurons:

    - `"l2"`: `(1/N) Σ_n (r_n − ν)²`; with `ν = 0` a plain activity penalty;
    - `"upper"`: `(1/N) Σ_n relu(r_n − ν)²`, only rates above `ν` cost;
    - `"lower"`: `(1/N) Σ_n relu(ν − r_n)²`, only rates below `ν` cost.

    The one-sided forms follow the homeostatic bounds of Zenke & Vogels
    (2021, Neural Computation 33:899), applied here to rates averaged over
    batch and time; combine an `"upper"` and a `"lower"` term with their own
    weights for a band.

    Args:
        spikes: `(batch, time, neurons)`, 0/1 per step.
        target_rate: `ν` in spikes per time step (a rate in Hz times `dt` in
            ms times 1e-3); scalar or `(neurons,)`. Default 0.0.
        kind: `"l2"` (default), `"upper"` or `"lower"`.

    Returns:
        Scalar penalty (unweighted; multiply by your coefficient).
    """
    fn = "firing_rate_reg"
    if kind not in _RATE_KINDS:
        raise ValueError(f"{fn}: unknown kind {kind!r}; valid kinds are {_RATE_KINDS}.")
    _nonnegative(target_rate, "target_rate", fn)
    spikes = _float_array(spikes, "spikes", fn, ("batch", "time", "neurons"))
    rates = jnp.mean(spikes, axis=(0, 1))
    target = jnp.asarray(target_rate)
    if target.shape not in ((), rates.shape):
        raise ValueError(
            f"{fn}: `target_rate` must be a scalar or have shape (neurons,) = "
            f"{rates.shape}, got shape {target.shape}."
        )
    diff = rates - target.astype(rates.dtype)
    if kind == "upper":
        diff = jax.nn.relu(diff)
    elif kind == "lower":
        diff = jax.nn.relu(-diff)
    return jnp.mean(diff**2)


def _safe_norm(x: jax.Array) -> jax.Array:
    """Euclidean norm whose gradient at x = 0 is 0, not NaN (double where)."""
    sq = jnp.sum(x**2)
    nonzero = sq > 0
    return jnp.where(nonzero, jnp.sqrt(jnp.where(nonzero, sq, 1.0)), 0.0)


def spread_penalty(
    alpha: Float[Array, " n"],
    l2_alpha_sd: float = 0.1,
    upper: float = 0.95,
    upper_weight: float = 0.1,
) -> Float[Array, ""]:
    """Seed 000's penalty on one layer's decay factors `α` (hSNN).

    `P(α) = l2_alpha_sd·‖α − mean(α)‖₂ + upper_weight·‖relu(α − upper)‖₂`,
    Euclidean norms, not squared. The first term keeps the layer's factors
    close together, the second keeps them below `upper` (decay factors near
    1 mean very long time constants). It is defined per layer: for a network,
    sum it over the layers, `sum(spread_penalty(a) for a in alphas)`.

    The norms use a double `where`, so the gradient stays finite (the
    subgradient 0) where a norm is 0: when all `α` are equal, or all lie
    below `upper`.

    Args:
        alpha: one layer's decay factors `(n,)`.
        l2_alpha_sd: weight of the spread term; default 0.1 (seed 000, SHD;
            its MTS-XOR runs use 1e-3).
        upper: the bound `α` should stay below; default 0.95.
        upper_weight: weight of the bound term; default 0.1.

    Returns:
        Scalar penalty.
    """
    fn = "spread_penalty"
    alpha = _numeric(alpha, "alpha", fn)
    if alpha.ndim != 1:
        raise ValueError(
            f"{fn}: `alpha` must be one layer's vector, shape (n,), got shape "
            f"{alpha.shape}. For several layers, sum the penalty over them: "
            "`sum(spread_penalty(a) for a in alphas)`."
        )
    if not jnp.issubdtype(alpha.dtype, jnp.floating):
        alpha = alpha.astype(float)
    _nonnegative(l2_alpha_sd, "l2_alpha_sd", fn)
    _nonnegative(upper_weight, "upper_weight", fn)
    spread = _safe_norm(alpha - jnp.mean(alpha))
    excess = _safe_norm(jax.nn.relu(alpha - upper))
    return l2_alpha_sd * spread + upper_weight * excess

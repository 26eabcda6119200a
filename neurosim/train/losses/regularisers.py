"""Regularisers: penalties on firing rates and on decay factors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Real

from ._checks import _float_array, _nonnegative, _numeric

_RATE_KINDS = ("l2", "upper", "lower")


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

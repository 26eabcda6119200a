"""Trainable parameters: select, transform, count.

``net.make_trainable(target, key, per_element=..., transform=...)`` marks a
parameter. The optimiser then sees ``theta = get_trainable(sim, params)``: a
pytree ``{target: {key: array}}`` of *unconstrained* values, mapped back by
``set_trainable(sim, params, theta)``:

| transform    | theta -> parameter                                  | keeps          |
|--------------|-----------------------------------------------------|----------------|
| ``None``     | identity                                            | —              |
| ``softplus`` | ``softplus(theta)``                                 | > 0            |
| ``log``      | ``exp(theta)``                                      | > 0            |
| ``decay``    | ``theta`` is ``alpha = exp(-dt / tau_m)``, and      | tau_m > 0      |
|              | ``gLeak = -1e-3 * C * log(alpha) / dt``             | (alpha in (0,1))|

Example:
    >>> import neurosim as ns
    >>> net = ns.Network()
    >>> net.add_population("hid", 3, [ns.Leak(gLeak=0.01)])
    'hid'
    >>> net.make_trainable("hid", "Leak_gLeak", per_element=True, transform="log")
    >>> sim = ns.compile(net, dt=0.1)
    >>> params = sim.init_params()
    >>> theta = ns.get_trainable(sim, params)
    >>> ns.count_trainable(theta)
    3
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["count_trainable", "get_trainable", "set_trainable", "trainable_mask"]

# alpha is kept inside (0, 1) so that tau stays finite and positive.
ALPHA_EPS = 1e-6


def _capacitance(params: dict, target: str) -> jax.Array:
    return jnp.asarray(params[target]["capacitance"])


def get_trainable(sim: Any, params: dict) -> dict:
    """The trainable leaves of ``params`` in unconstrained form."""
    theta: dict = {}
    for (target, key), (per_element, transform) in sim.net.trainable.items():
        value = jnp.asarray(params[target][key])
        if per_element and value.ndim == 0:
            value = jnp.full((sim.net.size(target, key),), value)
        if transform == "softplus":
            value = value + jnp.log(-jnp.expm1(-value))  # inverse softplus, stable
        elif transform == "log":
            value = jnp.log(value)
        elif transform == "decay":
            tau = 1e-3 * _capacitance(params, target) / value
            value = jnp.exp(-sim.dt / tau)
        theta.setdefault(target, {})[key] = value
    return theta


def set_trainable(sim: Any, params: dict, theta: dict) -> dict:
    """``params`` with the trainable leaves replaced by ``theta`` mapped back."""
    out = {t: dict(p) for t, p in params.items()}
    for (target, key), (_, transform) in sim.net.trainable.items():
        value = theta[target][key]
        if transform == "softplus":
            value = jax.nn.softplus(value)
        elif transform == "log":
            value = jnp.exp(value)
        elif transform == "decay":
            alpha = jnp.clip(value, ALPHA_EPS, 1.0 - ALPHA_EPS)
            value = -1e-3 * _capacitance(out, target) * jnp.log(alpha) / sim.dt
        out[target][key] = value
    return out


def count_trainable(theta: dict) -> int:
    """Number of scalar values in a trainable pytree."""
    return int(sum(jnp.size(x) for x in jax.tree_util.tree_leaves(theta)))


def trainable_mask(sim: Any, params: dict) -> dict:
    """A boolean pytree shaped like ``params``: True where a leaf is trainable
    (for ``optax.masked`` and friends)."""
    return {t: {k: (t, k) in sim.net.trainable for k in p} for t, p in params.items()}

"""Trainable parameters: select, transform, count.

`net.make_trainable(target, key, per_element=..., transform=...)` marks a
parameter. The optimiser then sees `theta = get_trainable(sim, params)`: a
pytree `{target: {key: array}}` of *unconstrained* values, mapped back by
`set_trainable(sim, params, theta)`. The transforms
(`neurosim.transforms`: `Softplus`, `Log`, `DecayFactor` or your own)
are applied here and nowhere else.

Examples:
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

import jax
import jax.numpy as jnp

from ..engine import Simulator
from ..transforms import Context

__all__ = ["count_trainable", "get_trainable", "set_trainable", "trainable_mask"]


def _context(sim: Simulator, params: dict, target: str) -> Context:
    return Context(dt=sim.dt, params=params[target])


def get_trainable(sim: Simulator, params: dict) -> dict:
    """The trainable leaves of `params` in unconstrained form.

    A parameter trainable per element whose value is shared (a scalar) comes
    back expanded to its full shape (`Network.shape`: `(n,)` per cell,
    `(n_pre, n_post)` for an all-to-all projection's weights).
    """
    theta: dict = {}
    for (target, key), (per_element, transform) in sim.net.trainable.items():
        value = jnp.asarray(params[target][key])
        if per_element and value.ndim == 0:
            value = jnp.full(sim.net.shape(target, key), value)
        if transform is not None:
            value = transform.inverse(value, _context(sim, params, target))
        theta.setdefault(target, {})[key] = value
    return theta


def set_trainable(sim: Simulator, params: dict, theta: dict) -> dict:
    """`params` with the trainable leaves replaced by `theta` mapped back."""
    out = {t: dict(p) for t, p in params.items()}
    for (target, key), (_, transform) in sim.net.trainable.items():
        value = theta[target][key]
        if transform is not None:
            value = transform.forward(value, _context(sim, out, target))
        out[target][key] = value
    return out


def count_trainable(theta: dict) -> int:
    """Number of scalar values in a trainable pytree."""
    return int(sum(jnp.size(x) for x in jax.tree_util.tree_leaves(theta)))


def trainable_mask(sim: Simulator, params: dict) -> dict:
    """A boolean pytree shaped like `params`: True where a leaf is trainable
    (for `optax.masked` and friends)."""
    return {t: {k: (t, k) in sim.net.trainable for k in p} for t, p in params.items()}

"""Gradient transformations for optax chains over neurosim's parameter pytrees.

Each function returns a stateless `optax.GradientTransformation` that works on
`{target: {key: array}}` pytrees (`target` a population or a projection,
`key` a parameter name such as `"SpikeSynapse_gS"`), so it composes with
any optax optimiser in `optax.chain`:

- `centralize_gradients`: remove each weight gradient's mean over its
  presynaptic axis (put it before the optimiser);
- `scale_by_key`: a learning-rate factor per kind of parameter;
- `cap_decay`: keep trained decay factors `exp(-dt / tau)` at or below
  a cap (put it last).

These act on gradients and updates; parameter transforms (softplus, log, decay
factor) that keep a quantity positive are a different thing.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax.numpy as jnp
import optax

__all__ = ["cap_decay", "centralize_gradients", "scale_by_key"]


def _stateless(update) -> optax.GradientTransformation:
    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def centralize_gradients(
    shapes: Mapping[str, Mapping[str, tuple[int, ...]]] | None = None,
) -> optax.GradientTransformation:
    """Gradient centralisation (Yong et al. 2020, arXiv:2004.01461).

    Every gradient with two or more axes loses its mean over all axes but the
    last: `g <- g - mean(g, axes[:-1])`, so for a weight matrix
    `(n_pre, n_post)` the gradient of each postsynaptic neuron's incoming
    weights sums to zero. One-axis gradients pass unchanged.

    Args:
        shapes: `{target: {key: shape}}`: view these leaves in this shape
            first (e.g. `{"in->h1": {"SpikeSynapse_gS": (n_pre, n_post)}}`),
            whatever their stored layout; the result keeps the stored layout.

    Returns:
        A stateless `optax.GradientTransformation`.

    Examples:
        >>> import jax.numpy as jnp
        >>> g = {"p": {"w": jnp.array([[1.0, 2.0], [3.0, 2.0]])}}
        >>> tx = centralize_gradients()
        >>> tx.update(g, tx.init(g))[0]["p"]["w"].tolist()
        [[-1.0, 0.0], [1.0, 0.0]]
    """
    shapes = {t: dict(v) for t, v in (shapes or {}).items()}

    def one(g, shape):
        m = jnp.reshape(g, shape) if shape is not None else g
        if m.ndim < 2:
            return g
        m = m - jnp.mean(m, axis=tuple(range(m.ndim - 1)), keepdims=True)
        return jnp.reshape(m, jnp.shape(g))

    def update(updates, state, params=None):
        del params
        out = {
            t: {k: one(g, shapes.get(t, {}).get(k)) for k, g in leaves.items()}
            for t, leaves in updates.items()
        }
        return out, state

    return _stateless(update)


def cap_decay(
    alpha_max: float, keys: set[tuple[str, str]]
) -> optax.GradientTransformation:
    """Keep trained decay factors `alpha = exp(-dt / tau)` at or below `alpha_max`.

    Place it last in a chain: it shrinks the update `u` of each leaf in
    `keys` to `min(u, alpha_max - alpha)`, so that
    `alpha + u <= alpha_max` (seed 000 clips at 0.98). Other leaves pass.

    Args:
        alpha_max: the cap, dimensionless, in (0, 1).
        keys: `(target, key)` pairs of the leaves that hold decay factors
            (parameters trained with `DecayFactor()`).

    Returns:
        A stateless `optax.GradientTransformation`; its `update` needs
        `params`.

    Raises:
        ValueError: `alpha_max` is not in (0, 1), or `update` is called
            without `params`.
    """
    if not 0.0 < alpha_max < 1.0:
        raise ValueError(f"alpha_max: expected a number in (0, 1), got {alpha_max!r}.")

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("cap_decay: needs params; call update(g, state, params).")
        out = {
            t: {
                k: jnp.minimum(u, alpha_max - params[t][k]) if (t, k) in keys else u
                for k, u in leaves.items()
            }
            for t, leaves in updates.items()
        }
        return out, state

    return _stateless(update)


def scale_by_key(factors: Mapping[str, float]) -> optax.GradientTransformation:
    """Multiply the updates of every parameter named in `factors` by its factor.

    A learning rate per kind of parameter, for parameters in different units:
    `scale_by_key({"Leak_eLeak": 20.0})` moves every resting potential 20
    times as far as the optimiser says; other parameters pass unchanged.

    Args:
        factors: `{parameter name: factor}`, any target.

    Returns:
        A stateless `optax.GradientTransformation`.

    Raises:
        TypeError: `factors` is not a mapping of names to numbers.
    """
    if not isinstance(factors, Mapping) or not all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
        for k, v in factors.items()
    ):
        raise TypeError(
            f"factors: expected a mapping of parameter names to numbers, got {factors!r}."
        )
    factors = dict(factors)

    def update(updates, state, params=None):
        del params
        out = {
            t: {k: u * factors[k] if k in factors else u for k, u in leaves.items()}
            for t, leaves in updates.items()
        }
        return out, state

    return _stateless(update)

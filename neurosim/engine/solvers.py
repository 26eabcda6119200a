"""One-step voltage update rules for point compartments.

Contract: after the channel and synapse phases of a step, each compartment's
membrane equation is linear in its own voltage over the step,

    dv/dt = -a * v + b,

with `a` (1/ms) the summed slope of all membrane currents divided by the
capacitance and `b` (mV/ms) the remaining constant terms plus the external
current, both frozen over the step (jaxley's linearisation). A solver maps
`(v, a, b, dt)` to the voltage at the end of the step.

Each solver is affine in `v` and `b` for a given `a`. When `a` is the same
at every step (a population whose currents are all linear with per-run
constant slopes), `COEFFICIENTS[solver](a, dt)` computes the per-neuron
coefficients once per run and `AFFINE[solver](v, b, coef, dt)` takes the
step with them (`v' = alpha v + gamma b`), equal to the solver itself up to
rounding. `bwd_euler`, jaxley's scheme, keeps its per-step linearisation and
formula, so its runs and gradients stay bit-for-bit those of jaxley's
arithmetic order (the seed-003 reproduction depends on it).
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["AFFINE", "COEFFICIENTS", "SOLVERS", "bwd_euler", "exp_euler", "fwd_euler"]


def bwd_euler(v, a, b, dt):
    """Implicit Euler: `v' = (v + dt * b) / (1 + dt * a)` (jaxley's default)."""
    return (v + dt * b) / (1.0 + dt * a)


def fwd_euler(v, a, b, dt):
    """Explicit Euler: `v' = v + dt * (b - a * v)`."""
    return v + dt * (b - a * v)


def _phi(z):
    """`(1 - exp(-z)) / z`, and its series near `z = 0`."""
    small = jnp.abs(z) < 1e-6
    z_safe = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 - 0.5 * z, -jnp.expm1(-z_safe) / z_safe)


def exp_euler(v, a, b, dt):
    """Exponential Euler: exact for the frozen linear equation,
    `v' = v + (b - a v) * (1 - exp(-a dt)) / a` (`dt` in the limit `a -> 0`)."""
    return v + dt * (b - a * v) * _phi(a * dt)


SOLVERS = {"bwd_euler": bwd_euler, "fwd_euler": fwd_euler, "exp_euler": exp_euler}


def _fwd_coefficients(a, dt):
    return {"alpha": 1.0 - dt * a}


def _fwd_affine(v, b, coef, dt):
    return coef["alpha"] * v + dt * b


def _exp_coefficients(a, dt):
    z = a * dt
    return {"alpha": jnp.exp(-z), "gamma": dt * _phi(z)}


def _exp_affine(v, b, coef, dt):
    del dt
    return coef["alpha"] * v + coef["gamma"] * b


# per-run coefficients of each solver for a constant `a`, and the step with them
COEFFICIENTS = {"fwd_euler": _fwd_coefficients, "exp_euler": _exp_coefficients}
AFFINE = {"fwd_euler": _fwd_affine, "exp_euler": _exp_affine}

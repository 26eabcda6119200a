"""One-step voltage update rules for point compartments.

Contract: after the channel and synapse phases of a step, each compartment's
membrane equation is linear in its own voltage over the step,

    dv/dt = -a * v + b,

with `a` (1/ms) the summed slope of all membrane currents divided by the
capacitance and `b` (mV/ms) the remaining constant terms plus the external
current, both frozen over the step (jaxley's linearisation). A solver maps
`(v, a, b, dt)` to the voltage at the end of the step.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["SOLVERS", "bwd_euler", "exp_euler", "fwd_euler"]


def bwd_euler(v, a, b, dt):
    """Implicit Euler: `v' = (v + dt * b) / (1 + dt * a)` (jaxley's default)."""
    return (v + dt * b) / (1.0 + dt * a)


def fwd_euler(v, a, b, dt):
    """Explicit Euler: `v' = v + dt * (b - a * v)`."""
    return v + dt * (b - a * v)


def exp_euler(v, a, b, dt):
    """Exponential Euler: exact for the frozen linear equation,
    `v' = v + (b - a v) * (1 - exp(-a dt)) / a` (`dt` in the limit `a -> 0`)."""
    z = a * dt
    small = jnp.abs(z) < 1e-6
    z_safe = jnp.where(small, 1.0, z)
    phi = jnp.where(small, 1.0 - 0.5 * z, -jnp.expm1(-z_safe) / z_safe)
    return v + dt * (b - a * v) * phi


SOLVERS = {"bwd_euler": bwd_euler, "fwd_euler": fwd_euler, "exp_euler": exp_euler}

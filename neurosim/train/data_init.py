"""Data-dependent initialisation of a feed-forward LIF stack (`data_init`)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from ..engine import Simulator, StepHook
from ..mechanisms.channels import gleak_to_tau

__all__ = ["data_init"]


def data_init(sim: Simulator, params: dict, x: Any, std: float) -> dict:
    """Rescale the weights and rests of an LIF stack, layer after layer, on a batch.

    For a feed-forward `neurosim.lif_stack` with trained resting potentials
    (`Leak_eLeak` per neuron) and current-based projections
    `in -> h1 -> ... -> out` (any synapse and any synaptic time constant). A
    neuron with decay `alpha = exp(-dt / tau)` integrates per step
    `u = -(1 - alpha) tau I` (mV) of its incoming synaptic current `I` (nA,
    outward-positive), read from the engine's own observations of each step
    (`Observations.current`, summed over the run by a `StepHook`). Its incoming
    weights are scaled so that over `x` (samples and steps) `u` has standard
    deviation `std` mV (`(1 - alpha) std` for the readout), and its resting
    potential is set so that the mean is cancelled: `(1 - alpha) eLeak =
    -mean(u)`. This stands in for seed 000's normalisation of every layer's
    input current per batch, which a causal, one-scan simulator cannot do
    during training.

    Args:
        sim: the compiled stack (`neurosim.compile`).
        params: its parameters; not modified.
        x: input batch, shape `(batch, time, n_in)`.
        std: target standard deviation of `u`, in mV.

    Returns:
        New parameters: every feed-forward projection's weight
        (`<synapse>_gS`, in its stored layout) and every layer's `Leak_eLeak`
        (mV) replaced.
    """
    params = {t: dict(p) for t, p in params.items()}
    pops = [p for p in sim.net.populations if p != "in"]
    x = jnp.asarray(x, jnp.result_type(float))
    pre = "in"
    for post in pops:
        proj = f"{pre}->{post}"
        mean_i, std_i = _current_moments(sim, params, x, proj)
        weight = f"{sim.net.projections[proj].synapse.name}_gS"
        stored = params[proj][weight]
        g = jnp.reshape(stored, sim.net.shape(proj, weight))
        p = params[post]
        tau = gleak_to_tau(p["Leak_gLeak"], p["capacitance"])
        decay = -jnp.expm1(-sim.dt / tau)  # 1 - alpha, per neuron (n_post,)
        mean_u, std_u = -decay * tau * mean_i, decay * tau * std_i
        target = std * (decay if post == "out" else 1.0)
        k = target / jnp.maximum(std_u, 1e-6)
        params[proj][weight] = jnp.reshape(g * k[None, :], jnp.shape(stored))
        p["Leak_eLeak"] = -mean_u * k / decay
        pre = post
    return params


def _current_moments(sim: Simulator, params: dict, x: Any, proj: str):
    """Mean and standard deviation over samples and steps of the synaptic current
    of `proj` per postsynaptic cell (nA), from the engine's observations (a
    `StepHook` keeps each step's current)."""
    n_steps = x.shape[1]

    def init(prepared, state):
        del prepared
        post_v = state[sim.net.projections[proj].post]["v"]  # (batch, n_post)
        return jnp.zeros((n_steps, *post_v.shape), post_v.dtype)

    def update(carry, ctx):
        return carry.at[ctx.t].set(ctx.obs.current[proj])

    post_v = f"{sim.net.projections[proj].post}.v"  # a small recording; the hook
    rec = sim.run(params, {"in": x}, record=[post_v], hook=StepHook(init, update))
    return jnp.mean(rec.hook_state, axis=(0, 1)), jnp.std(rec.hook_state, axis=(0, 1))

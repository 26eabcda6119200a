"""Data-dependent initialisation of a feed-forward LIF stack (`data_init`)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from ..mechanisms.channels import gleak_to_tau

__all__ = ["data_init"]


def data_init(sim: Any, params: dict, x: Any, std: float) -> dict:
    """Rescale the weights and rests of an LIF stack, layer after layer, on a batch.

    For a feed-forward `neurosim.lif_stack` with trained resting
    potentials (`Leak_eLeak` per neuron) and current-based `SpikeSynapse`
    projections `in -> h1 -> ... -> out`. A neuron with decay
    `alpha = exp(-dt / tau)` integrates per step `u = (1 - alpha) tau I`
    (mV) of its synaptic current `I`; its incoming weights are scaled so that
    over `x` (samples and steps) `u` has standard deviation `std` mV
    (`(1 - alpha) std` for the readout), and its resting potential is set so
    that the mean is cancelled: `(1 - alpha) eLeak = -mean(u)`. This stands in
    for seed 000's normalisation of every layer's input current per batch,
    which a causal, one-scan simulator cannot do during training.

    Args:
        sim: the compiled stack (`neurosim.compile`).
        params: its parameters; not modified.
        x: input batch, shape `(batch, time, n_in)`.
        std: target standard deviation of `u`, in mV.

    Returns:
        New parameters: every projection's `SpikeSynapse_gS` (in its stored
        layout) and every layer's `Leak_eLeak` (mV) replaced.
    """
    params = {t: dict(p) for t, p in params.items()}
    pops = [p for p in sim.net.populations if p != "in"]
    record = [f"{p}.Fire_spikes" for p in pops if p != "out"]
    x = jnp.asarray(x, jnp.float32)
    pre = "in"
    for post in pops:
        if pre == "in":
            s = x
        else:
            s = sim.run(params, {"in": x}, record=record)[f"{pre}.Fire_spikes"][:, 1:]
        proj = f"{pre}->{post}"
        n_pre, n_post = sim.net.size(pre), sim.net.size(post)
        stored = params[proj]["SpikeSynapse_gS"]
        g = jnp.reshape(stored, (n_pre, n_post))
        p = params[post]
        tau = gleak_to_tau(p["Leak_gLeak"], p["capacitance"])
        decay = -jnp.expm1(-sim.dt / tau)  # 1 - alpha, per neuron (n_post,)
        drive = -(s @ g)  # (batch, time, n_post); current-based: I = -gS s
        u = jnp.broadcast_to(decay * tau, drive.shape) * drive
        target = std * (decay if post == "out" else 1.0)
        k = target / jnp.maximum(jnp.std(u, axis=(0, 1)), 1e-6)
        params[proj]["SpikeSynapse_gS"] = jnp.reshape(g * k[None, :], jnp.shape(stored))
        p["Leak_eLeak"] = -jnp.mean(u, axis=(0, 1)) * k / decay
        pre = post
    return params

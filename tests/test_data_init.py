"""`data_init` reads the synaptic drive from the engine, so it is right for any
synaptic time constant (float64)."""

import jax
import jax.numpy as jnp
import numpy as np

import neurosim as ns
from neurosim.train.data_init import _current_moments, data_init


def _stack(tau_syn):
    net = ns.lif_stack([12, 8, 3], dt=1.0, tau_syn=tau_syn, train_tau=False)
    for pop in ("h1", "out"):
        net.make_trainable(pop, "Leak_eLeak", per_element=True)
    return ns.compile(net, dt=1.0, solver="exp_euler")


def _u_moments(sim, params, x, proj):
    """Mean and std of u = -(1 - alpha) tau I of the postsynaptic layer."""
    post = sim.net.projections[proj].post
    p = params[post]
    tau = ns.gleak_to_tau(p["Leak_gLeak"], p["capacitance"])
    decay = -jnp.expm1(-sim.dt / tau)
    mean_i, std_i = _current_moments(sim, params, x, proj)
    return -decay * tau * mean_i, decay * tau * std_i, decay


def test_data_init_hits_its_target_with_a_slow_synapse():
    """tau_syn = 4 dt: after data_init, h1's drive u has the target spread and
    its mean is cancelled by the rest, as the engine itself integrates it."""
    sim = _stack(tau_syn=4.0)
    params = sim.init_params(jax.random.key(0))
    x = (np.random.default_rng(0).random((16, 30, 12)) < 0.3).astype(float)
    new = data_init(sim, params, x, std=2.0)
    mean_u, std_u, decay = _u_moments(sim, new, x, "in->h1")
    np.testing.assert_allclose(std_u, 2.0, rtol=1e-6)
    np.testing.assert_allclose(mean_u + decay * new["h1"]["Leak_eLeak"], 0.0, atol=1e-9)
    out_mean, out_std, out_decay = _u_moments(sim, new, x, "h1->out")
    np.testing.assert_allclose(out_std, 2.0 * out_decay, rtol=1e-6)


def test_spikes_are_not_the_drive_of_a_slow_synapse():
    """The shortcut data_init no longer takes (the presynaptic spikes as the
    synaptic trace) is right only when tau_syn = dt: with tau_syn = 4 dt its
    estimate of the spread is far off, so the test above can tell them apart."""
    x = (np.random.default_rng(0).random((16, 30, 12)) < 0.3).astype(float)
    for tau_syn, close in ((1.0, True), (4.0, False)):
        sim = _stack(tau_syn)
        params = sim.init_params(jax.random.key(0))
        g = params["in->h1"]["SpikeSynapse_gS"]
        shortcut = jnp.std(x @ g, axis=(0, 1))  # current = gS * spikes
        _, std_i = _current_moments(sim, params, x, "in->h1")
        assert np.allclose(shortcut, std_i, rtol=1e-9) == close

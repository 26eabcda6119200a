"""Gradients: autodiff vs central finite differences (float64), surrogate gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.layers import LENGTH_UNIT_AREA


def _smooth_net(conductance: bool) -> ns.Simulator:
    """Given presynaptic spikes -> a Leak-only population: no threshold anywhere."""
    net = ns.Network()
    net.add_population("inp", 4, [ns.SpikeSource()], length=LENGTH_UNIT_AREA, v=0.0)
    net.add_population(
        "out", 3, [ns.Leak(gLeak=0.02, eLeak=-1.0)], length=LENGTH_UNIT_AREA, v=0.0
    )
    syn = ns.SpikeSynapse(s_decay=0.5, conductance=conductance, e_syn=5.0)
    net.connect("inp", "out", syn)
    # a conductance is positive; a current-based weight is signed
    weights = ns.uniform(0.5, 3.0) if conductance else ns.normal(0.0, 3.0)
    net.set("inp->out", "SpikeSynapse_gS", weights)
    net.make_trainable("inp->out", "SpikeSynapse_gS", per_element=True)
    net.make_trainable("inp->out", "SpikeSynapse_s_decay")
    net.make_trainable("out", "Leak_gLeak", per_element=True)
    net.make_trainable("out", "capacitance")
    net.record("out", "v")
    return ns.compile(net, dt=0.1)


@pytest.mark.parametrize("conductance", [False, True])
def test_gradients_match_central_differences(conductance):
    assert jnp.result_type(float) == jnp.float64
    sim = _smooth_net(conductance)
    params = sim.init_params(jax.random.key(0))
    spikes = (jax.random.uniform(jax.random.key(1), (2, 40, 4)) < 0.2).astype(float)
    target = jnp.linspace(-1.0, 1.0, 3)[None, None]  # over (batch, time, neuron)

    def loss(theta):
        p = ns.set_trainable(sim, params, theta)
        v = sim.run(p, {"inp": spikes})["out.v"]
        return jnp.mean((v - target) ** 2) + jnp.mean(jnp.sin(v))

    theta = ns.get_trainable(sim, params)
    grads = jax.grad(loss)(theta)
    flat, unravel = jax.flatten_util.ravel_pytree(theta)
    g_auto = jax.flatten_util.ravel_pytree(grads)[0]
    eps = 1e-6
    g_fd = np.array(
        [
            (loss(unravel(flat.at[i].add(eps))) - loss(unravel(flat.at[i].add(-eps))))
            / (2 * eps)
            for i in range(flat.size)
        ]
    )
    assert ns.count_trainable(theta) == flat.size == 12 + 1 + 3 + 1
    assert np.all(np.abs(g_auto) > 0)
    rel = np.max(np.abs(g_auto - g_fd)) / np.max(np.abs(g_fd))
    assert rel < 1e-5, rel


def test_surrogate_gradient_reaches_every_trainable_leaf():
    net = ns.lif_stack([10, 8, 6, 3], recurrent=True, train_tau=True, train_vth=True)
    sim = ns.compile(net, dt=1.0, solver="exp_euler")
    params = sim.init_params(jax.random.key(0))
    x = (jax.random.uniform(jax.random.key(1), (16, 30, 10)) < 0.3).astype(float)
    y = jnp.arange(16) % 3
    theta = ns.get_trainable(sim, params)

    def loss(theta):
        rec = sim.run(ns.set_trainable(sim, params, theta), {"in": x})
        return ns.Objective("sum_voltage")(rec, y)[0]

    grads = jax.grad(loss)(theta)
    spikes = sim.run(params, {"in": x}, record=["h1.spikes", "h2.spikes"])
    assert float(spikes["h1.spikes"].sum()) > 0 and float(spikes["h2.spikes"].sum()) > 0
    for target, leaves in grads.items():
        for key, g in leaves.items():
            assert np.all(np.isfinite(g)), (target, key)
            assert float(jnp.max(jnp.abs(g))) > 0, (target, key)


def test_gradient_flows_through_the_reset():
    """d v_after_spike / d vth is non-zero only through the surrogate of the reset."""
    net = ns.Network()
    net.add_population(
        "n",
        1,
        [ns.Leak(gLeak=0.01, eLeak=0.0), ns.Fire(vth=1.0, vreset=0.0)],
        length=LENGTH_UNIT_AREA,
        v=0.0,
    )
    net.record("n", "v")
    sim = ns.compile(net, dt=0.01)
    params = sim.init_params()
    drive = jnp.full((50, 1), 30.0)

    def v_end(vth):
        p = {**params, "n": {**params["n"], "Fire_vth": vth}}
        return sim.run(p, {"n": drive})["n.v"][-1, 0]

    g = jax.grad(v_end)(1.0)
    assert np.isfinite(g) and abs(float(g)) > 1e-3

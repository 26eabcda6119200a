"""What makes the engine fast must not change its numbers: per-run membrane
coefficients, input projections computed outside the scan, all-to-all
projections as matrix products at any size, and `Random` wiring drawn without
an `n_pre x n_post` array."""

import dataclasses
import tracemalloc

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.engine.scan import input_currents
from neurosim.layers import LENGTH_UNIT_AREA
from neurosim.mechanisms import base as mechanisms_base
from neurosim.mechanisms.synapses import SpikeSynapse


@dataclasses.dataclass(frozen=True)
class _StepwiseLeak(ns.Leak):
    """The same leak, linearised by the engine at every step (no `linear`)."""

    def linear(self, params):
        del params
        return None


@dataclasses.dataclass(frozen=True)
class _NoCurrentLeak(ns.Leak):
    """A leak whose `current` must not be called: its `linear` form is used."""

    def current(self, states, v, params):
        raise AssertionError("current() called for a linear channel")


def _stack(leak_cls, conductance=False):
    """in (6 spike sources) -> h1 (5 LIF, recurrent) -> out (3 leaky), a
    2-ms synaptic trace, rest at -0.3 mV; weights and leaks trainable."""
    geometry = {"length": LENGTH_UNIT_AREA, "radius": 1.0, "v": 0.0}
    net = ns.Network()
    net.add_population("in", 6, [ns.SpikeSource()], **geometry)
    fire = ns.Fire(vth=1.0, vreset=0.0)
    net.add_population("h1", 5, [leak_cls(gLeak=2e-4, eLeak=-0.3), fire], **geometry)
    net.add_population("out", 3, [leak_cls(gLeak=1e-4, eLeak=-0.3)], **geometry)
    for pre, post in (("in", "h1"), ("h1", "h1"), ("h1", "out")):
        proj = net.connect(pre, post, SpikeSynapse(s_decay=0.5))
        net.set(proj, "SpikeSynapse_gS", ns.normal(-0.3, 0.4))
        net.make_trainable(proj, "SpikeSynapse_gS", per_element=True)
    for pop in ("h1", "out"):
        net.make_trainable(pop, "Leak_gLeak", per_element=True, transform="log")
    if conductance:
        net.connect(
            "in", "out", SpikeSynapse(gS=0.01, s_decay=0.5, conductance=True, e_syn=2.0)
        )
    net.record("out", "v")
    return net


def _spikes(batch=2, steps=30, n=6, seed=0):
    return (np.random.default_rng(seed).random((batch, steps, n)) < 0.3).astype(float)


@pytest.mark.parametrize("solver", ["bwd_euler", "fwd_euler", "exp_euler"])
@pytest.mark.parametrize("conductance", [False, True])
def test_per_run_coefficients_equal_the_per_step_linearisation(solver, conductance):
    """Linear channels: coefficients computed once per run give the voltages and
    gradients (tau, weights) of the per-step linearisation, to 1e-12."""
    x = {"in": _spikes()}
    out = []
    for cls in (ns.Leak, _StepwiseLeak):
        sim = ns.compile(_stack(cls, conductance), dt=0.5, solver=solver)
        params = sim.init_params(jax.random.key(0))
        prep = sim.prepare(params)
        # bwd_euler keeps its per-step arithmetic (bit-for-bit as before)
        assert ("linear" in prep["h1"]) == (cls is ns.Leak and solver != "bwd_euler")

        def loss(theta, sim=sim, params=params):
            p = ns.set_trainable(sim, params, theta)
            return jnp.sum(sim.run(p, x)["out.v"] ** 2)

        theta = ns.get_trainable(sim, params)
        out.append((sim.run(params, x)["out.v"], jax.grad(loss)(theta)))
    (v_fast, g_fast), (v_ref, g_ref) = out
    np.testing.assert_allclose(v_fast, v_ref, rtol=1e-12, atol=1e-12)
    assert bool(jnp.all(jnp.isfinite(v_ref))) and float(jnp.ptp(v_ref)) > 0.1
    for a, b in zip(jax.tree.leaves(g_fast), jax.tree.leaves(g_ref), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_a_linear_channel_is_not_linearised_per_step():
    sim = ns.compile(_stack(_NoCurrentLeak), dt=0.5, solver="exp_euler")
    rec = sim.run(sim.init_params(jax.random.key(0)), {"in": _spikes()})
    assert int(rec.status) == 0


def test_input_projection_outside_the_scan_equals_inside(monkeypatch):
    """`in -> h1` (spikes given as input, no trace) is one product over the
    whole run; the voltages and gradients equal the per-step product."""
    net = ns.lif_stack([6, 5, 3], recurrent=True, dt=1.0)
    x = {"in": _spikes(steps=25)}

    def run_and_grad():
        sim = ns.compile(net, dt=1.0, solver="exp_euler")
        params = sim.init_params(jax.random.key(1))

        def loss(theta):
            p = ns.set_trainable(sim, params, theta)
            return jnp.sum(sim.run(p, x)["out.v"] ** 2)

        theta = ns.get_trainable(sim, params)
        given = input_currents(sim, sim.prepare(params), x, 26)
        return sim.run(params, x)["out.v"], jax.grad(loss)(theta), set(given)

    v, g, hoisted = run_and_grad()
    assert hoisted == {"in->h1"}
    monkeypatch.setattr(SpikeSynapse, "spike_current", lambda *a: None)
    v_ref, g_ref, none = run_and_grad()
    assert none == set()
    np.testing.assert_allclose(v, v_ref, rtol=1e-12, atol=1e-12)
    for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(g_ref), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_remat_keeps_the_input_projection_inside_the_scan(monkeypatch):
    """With `remat` no (time, batch, n) current is made outside the scan
    (it is the memory remat saves): `spike_current` is never called, and the
    voltages and gradients equal the plain run's."""
    net = ns.lif_stack([6, 5, 3], recurrent=True, dt=1.0)
    x = {"in": _spikes(steps=25)}

    def run_and_grad(remat):
        sim = ns.compile(net, dt=1.0, solver="exp_euler", remat=remat)
        params = sim.init_params(jax.random.key(1))

        def loss(theta):
            p = ns.set_trainable(sim, params, theta)
            return jnp.sum(sim.run(p, x)["out.v"] ** 2)

        theta = ns.get_trainable(sim, params)
        return sim.run(params, x)["out.v"], jax.grad(loss)(theta)

    v_ref, g_ref = run_and_grad(False)

    def refuse(*args):
        raise AssertionError("spike_current called under remat")

    monkeypatch.setattr(SpikeSynapse, "spike_current", refuse)
    v, g = run_and_grad(True)
    np.testing.assert_allclose(v, v_ref, rtol=1e-12, atol=1e-12)
    for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(g_ref), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_all_to_all_is_a_matrix_product_at_any_size(monkeypatch):
    """Past the dense limit an all-to-all projection is still `s @ G` (G a
    reshape of the weights); with per-edge decays its edges are summed
    without a scatter. Both equal the small-limit results."""
    net = ns.lif_stack([6, 5, 3], recurrent=True, dt=0.5, tau_syn=2.0)
    net.set("h1->h1", "SpikeSynapse_s_decay", np.full((5, 5), 0.4))
    x = {"in": _spikes()}

    def run():
        sim = ns.compile(net, dt=0.5)
        params = sim.init_params(jax.random.key(2))
        prep = sim.prepare(params)
        step = jax.make_jaxpr(sim.step)(
            prep, sim.init_state(params), {"in": x["in"][0, 0]}
        )
        return sim.run(params, x)["out.v"], prep, str(step)

    v_ref, _, _ = run()
    monkeypatch.setattr(mechanisms_base, "DENSE_LIMIT", 0)
    v, prep, jaxpr = run()
    assert prep["in->h1"]["G"].shape == (6, 5)
    assert prep["h1->out"]["G"].shape == (5, 3)
    assert "scatter" not in jaxpr and "gather" not in jaxpr
    np.testing.assert_allclose(v, v_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("p", [0.02, 0.8])
def test_random_wiring_is_bernoulli_per_pair(p):
    """Out-degrees are Binomial(n_post, p), in-degrees Binomial(n_pre, p),
    no pair twice, sorted; the same seed gives the same edges."""
    n_pre, n_post = 400, 300
    pre, post = ns.Random(p, seed=7).edges(n_pre, n_post)
    again = ns.Random(p, seed=7).edges(n_pre, n_post)
    np.testing.assert_array_equal(pre, again[0])
    np.testing.assert_array_equal(post, again[1])
    keys = pre.astype(np.int64) * n_post + post
    assert np.all(np.diff(keys) > 0)  # sorted, no duplicate
    for deg, n in (
        (np.bincount(pre, minlength=n_pre), n_post),
        (np.bincount(post, minlength=n_post), n_pre),
    ):
        mean, var = n * p, n * p * (1 - p)
        assert abs(deg.mean() - mean) < 5 * np.sqrt(var / deg.size)
        assert 0.7 < deg.var() / var < 1.3
    # pairs (i, i + 1 mod n) are as likely as any
    assert abs(np.mean(post == (pre + 1) % n_post) - 1 / n_post) < 0.02


def test_random_wiring_allocates_no_pair_matrix():
    """20 000 x 20 000 pairs at 50 targets each: peak allocation is a small
    multiple of the edge arrays, far below one byte per pair."""
    n, k = 20_000, 50
    tracemalloc.start()
    pre, post = ns.Random(k / n, seed=0).edges(n, n)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    edge_bytes = pre.nbytes + post.nbytes
    assert abs(pre.size / (n * k) - 1) < 0.01
    assert peak < 4 * edge_bytes < n * n / 10


def test_presynaptic_traces_are_stored_once_per_population_and_decay(monkeypatch):
    """h1 -> h1 and h1 -> out keep one trace of h1 (same fixed decay); the
    voltages, recorded traces and gradients equal separate traces."""
    x = {"in": _spikes()}

    def run():
        sim = ns.compile(_stack(ns.Leak), dt=0.5)
        params = sim.init_params(jax.random.key(3))

        def loss(theta):
            p = ns.set_trainable(sim, params, theta)
            return jnp.sum(sim.run(p, x)["out.v"] ** 2)

        rec = sim.run(params, x, record=["out.v", "h1->out.SpikeSynapse_s"])
        theta = ns.get_trainable(sim, params)
        return sim, rec, jax.grad(loss)(theta)

    sim, rec, grads = run()
    assert sim.shared == {("h1->out", "SpikeSynapse_s"): ("h1->h1", "SpikeSynapse_s")}
    assert (
        "SpikeSynapse_s"
        not in sim.init_state(sim.init_params(jax.random.key(3)))["h1->out"]
    )
    monkeypatch.setattr(SpikeSynapse, "shared_states", lambda *a: {})
    sim_ref, ref, grads_ref = run()
    assert sim_ref.shared == {}
    for k in ("out.v", "h1->out.SpikeSynapse_s"):
        np.testing.assert_allclose(rec[k], ref[k], rtol=1e-12, atol=1e-12)
    assert float(np.max(ref["h1->out.SpikeSynapse_s"])) > 0.5
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(grads_ref), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)

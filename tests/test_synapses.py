"""Synapses under the contract: each docstring's equation, taken by hand, is what
the engine integrates (closed-form postsynaptic current kernels, float64)."""

import math

import jax
import numpy as np
import pytest

import neurosim as ns
import neurosim.mechanisms.base as mechanisms_base

DT, K0, N_STEPS = 0.1, 3, 60


def _pair(synapse, n_pre=1, n_post=1, connectivity="all_to_all"):
    """A spike source onto passive cells at rest (-70 mV)."""
    net = ns.Network()
    net.add_population("pre", n_pre, [ns.SpikeSource()])
    net.add_population("post", n_post, [ns.Leak()], v=-70.0)
    net.connect("pre", "post", synapse, connectivity)
    net.record("post", "v")
    return net


def _one_spike(n_pre=1):
    x = np.zeros((N_STEPS, n_pre))
    x[K0, 0] = 1.0
    return x


def test_exp_synapse_kernel_is_the_closed_form():
    w, tau = 0.3, 2.0
    net = _pair(ns.ExpSynapse(gS=w, tau=tau))
    net.record("pre->post", "ExpSynapse_I")
    sim = ns.compile(net, dt=DT)
    rec = sim.run(sim.init_params(), {"pre": _one_spike()})
    current = np.asarray(rec["pre->post.ExpSynapse_I"])[1:, 0]  # after step k
    k = np.arange(N_STEPS)
    want = np.where(k >= K0, w * np.exp(-(k - K0) * DT / tau), 0.0)
    np.testing.assert_allclose(current, want, rtol=1e-12, atol=1e-15)
    v = np.asarray(rec["post.v"])[:, 0]
    assert v.max() <= -70.0 + 1e-12 and v.min() < -70.5  # positive weight inhibits


def test_alpha_synapse_kernel_is_the_closed_form():
    w, tau = 0.4, 1.5
    net = _pair(ns.AlphaSynapse(gS=w, tau=tau))
    net.record("pre->post", "AlphaSynapse_q")
    sim = ns.compile(net, dt=DT)
    rec = sim.run(sim.init_params(), {"pre": _one_spike()})
    current = np.asarray(rec["pre->post.AlphaSynapse_q"])[1:, 0]
    t = (np.arange(N_STEPS) - K0) * DT
    want = np.where(t >= 0, w * (t / tau) * np.exp(1 - t / tau), 0.0)
    np.testing.assert_allclose(current, want, rtol=1e-12, atol=1e-15)
    peak = int(round(tau / DT)) + K0
    assert int(np.argmax(current)) == peak and current[peak] == pytest.approx(w)


@pytest.mark.parametrize("cls", [ns.ExpSynapse, ns.AlphaSynapse])
def test_negative_current_weight_excites_and_conductance_form_reverses(cls):
    sim = ns.compile(_pair(cls(gS=-0.5)), dt=DT)
    v = np.asarray(sim.run(sim.init_params(), {"pre": _one_spike()})["post.v"])
    assert v.min() >= -70.0 - 1e-12 and v.max() > -69.5
    # conductance form: e_syn = 0 mV above rest excites; at e_syn = rest, nothing
    for e_syn, moves in ((0.0, True), (-70.0, False)):
        syn = cls(gS=0.005, conductance=True, e_syn=e_syn)
        sim = ns.compile(_pair(syn), dt=DT)
        v = np.asarray(sim.run(sim.init_params(), {"pre": _one_spike()})["post.v"])
        assert (v.max() > -69.5) == moves, (e_syn, v.max())


@pytest.mark.parametrize("cls", [ns.ExpSynapse, ns.AlphaSynapse])
def test_dense_and_edge_list_paths_agree(cls, monkeypatch):
    """Three inputs onto two cells: the dense matrix product equals the sum over
    edges (forced by a zero dense limit) and the per-cell superposition."""
    rng = np.random.default_rng(0)
    x = (rng.random((2, N_STEPS, 3)) < 0.2).astype(float)
    w = rng.normal(0.0, 0.005, (3, 2))  # nA: a few mV on these small cells

    def run(connectivity="all_to_all"):
        net = _pair(cls(tau=1.0), n_pre=3, n_post=2, connectivity=connectivity)
        weights = w if connectivity == "all_to_all" else w.reshape(-1)
        net.set("pre->post", f"{cls.__name__}_gS", weights)
        sim = ns.compile(net, dt=DT)
        return np.asarray(sim.run(sim.init_params(), {"pre": x})["post.v"])

    dense = run()
    monkeypatch.setattr(mechanisms_base, "DENSE_LIMIT", 0)  # all-to-all stays dense
    np.testing.assert_array_equal(run(), dense)
    pre, post = np.divmod(np.arange(6), 2)  # the same pairs as an edge list
    sparse = run(ns.EdgeList(pre, post))
    np.testing.assert_allclose(dense, sparse, rtol=1e-12, atol=1e-12)
    assert np.ptp(dense) > 0.1


@pytest.mark.parametrize("cls", [ns.ExpSynapse, ns.AlphaSynapse])
def test_gradient_of_tau_matches_finite_differences(cls):
    net = _pair(cls(gS=-0.5, tau=1.0))
    net.make_trainable("pre->post", f"{cls.__name__}_tau")
    sim = ns.compile(net, dt=DT)
    params = sim.init_params()
    x = _one_spike()
    key = f"{cls.__name__}_tau"

    def loss(tau):
        p = {t: dict(v) for t, v in params.items()}
        p["pre->post"][key] = tau
        return sim.run(p, {"pre": x})["post.v"].sum()

    tau0, h = 1.0, 1e-6
    fd = (loss(tau0 + h) - loss(tau0 - h)) / (2 * h)
    g = jax.grad(loss)(tau0)
    assert abs(float(fd)) > 1e-3
    assert float(g) == pytest.approx(float(fd), rel=1e-6)


def test_kernel_synapse_needs_presynaptic_spikes():
    net = ns.Network()
    net.add_population("a", 2, [ns.Leak()])
    net.add_population("b", 2, [ns.Leak()])
    with pytest.raises(ValueError, match="needs presynaptic spikes"):
        net.connect("a", "b", ns.ExpSynapse())
    assert math.isclose(ns.AlphaSynapse().tau, 5.0)

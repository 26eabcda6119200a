"""The engine contract: a public pure step, steady-state initialisation, channels
on a subset of cells, hooks riding along the scan, and an engine that names no
mechanism."""

import dataclasses
import pathlib
import re
import warnings

import jax
import jax.numpy as jnp
import jaxley as jx
import numpy as np
import pytest
from jaxley.channels import HH
from jaxley.channels import Leak as JxLeak
from jaxley.synapses import IonotropicSynapse

import neurosim as ns

ENGINE = pathlib.Path(ns.__file__).parent / "engine"


def test_engine_names_no_mechanism():
    """The engine reads no mechanism's parameter or state name and detects no role
    with hasattr (grep over every engine file)."""
    pattern = re.compile(
        r"SpikeSynapse|Leak|Fire|HH|_gS\b|_s_decay|_e_syn|_spikes\b|update_trace|"
        r"hasattr\("
    )
    hits = [
        f"{path.name}:{i}: {line.strip()}"
        for path in sorted(ENGINE.glob("*.py"))
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not hits, hits


def _inputs(sim, batch, n_steps, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 60.0, (batch, n_steps, n))  # nA: drives LIF (vth 1 mV)


def test_run_equals_a_python_loop_over_step(tiny_net):
    """``run`` is ``prepare`` + a scan over ``step``: a Python loop over the public
    step gives the same traces to rounding (float64)."""
    tiny_net.stimulate("hid", np.full(7, 0.5))  # a stimulus shorter than the run
    tiny_net.record("hid", "spikes")
    sim = ns.compile(tiny_net, dt=0.01)
    params = sim.init_params()
    n_steps = sim.n_steps(0.2)
    x = _inputs(sim, 4, n_steps, 3)
    rec = sim.run(params, {"inp": x}, t_max=0.2)
    prep = sim.prepare(params)
    state = sim.init_state(params, batch=4)
    vs, spikes = [], []
    for t in range(n_steps):
        x_t = {"inp": jnp.asarray(x[:, t])}
        stim = sim.stimulus(t)
        x_t["hid"] = jnp.broadcast_to(stim["hid"], (4, 2))
        state, obs = sim.step(prep, state, x_t)
        vs.append(state["out"]["v"])
        spikes.append(obs.spikes["hid"])
    np.testing.assert_allclose(np.stack(vs, 1), rec["out.v"][:, 1:], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.stack(spikes, 1), rec["hid.spikes"][:, 1:])
    assert float(np.abs(rec["out.v"]).max()) > 0.1  # the network did something


def test_step_observations(tiny_net):
    sim = ns.compile(tiny_net, dt=0.01)
    params = sim.init_params()
    state = sim.init_state(params, batch=2)
    state, obs = sim.step(sim.prepare(params), state, {"inp": jnp.full((2, 3), 5.0)})
    assert set(obs.v) == {"inp", "hid", "out"}
    assert set(obs.spikes) == set(obs.surrogate_grad) == {"inp", "hid"}
    assert set(obs.pre) == {"inp->hid", "hid->out"}
    assert obs.surrogate_grad["hid"].shape == (2, 2)
    # FastSigmoid at v - vth = 0 - 1 = -1: 1 / (10 + 1)^2
    np.testing.assert_allclose(obs.surrogate_grad["hid"], 1 / 121)


def test_hook_carries_its_own_state_through_the_scan(tiny_net):
    """A hook counts spikes from the observations; the count equals the recording."""
    tiny_net.record("hid", "spikes")
    sim = ns.compile(tiny_net, dt=0.01)
    params = sim.init_params()
    x = _inputs(sim, 3, 21, 3, seed=1)

    def init(prepared, state):
        del prepared
        return {"count": jnp.zeros_like(state["hid"]["v"]), "steps": 0}

    def update(carry, ctx):
        return {
            "count": carry["count"] + ctx.obs.spikes["hid"],
            "steps": carry["steps"] + 1,
        }

    rec = sim.run(params, {"inp": x}, t_max=0.2, hook=ns.StepHook(init, update))
    np.testing.assert_array_equal(
        rec.hook_state["count"], np.asarray(rec["hid.spikes"]).sum(1)
    )
    assert int(rec.hook_state["steps"]) == 21
    assert float(rec.hook_state["count"].sum()) > 0
    with pytest.raises(TypeError, match="hook: expected a StepHook"):
        sim.run(params, {"inp": x}, t_max=0.2, hook=(init, update))


@pytest.mark.standard_promotion  # jaxley builds the reference
def test_init_state_is_the_steady_state_as_jaxley_computes_it():
    """HH gates start at their steady state at v0, the numbers jaxley's
    ``init_states`` gives (and not at the channel's defaults)."""
    v0 = [-70.0, -65.0, -60.0]
    net = ns.Network()
    net.add_population("cells", 3, [HH()])
    net.set("cells", "v", np.asarray(v0))
    sim = ns.compile(net, dt=0.025)
    state = sim.init_state(sim.init_params())["cells"]
    jnet = jx.Network([jx.Cell() for _ in range(3)])
    jnet.insert(HH())
    for i, v in enumerate(v0):
        jnet.cell(i).set("v", v)
    jnet.init_states(delta_t=0.025)
    for gate in ("HH_m", "HH_h", "HH_n"):
        np.testing.assert_allclose(state[gate], jnet.nodes[gate].to_numpy(), rtol=1e-12)
    defaults = HH().channel_states
    assert abs(float(state["HH_m"][0]) - defaults["HH_m"]) > 1e-3
    # the steady state is stationary: one step without input keeps the gates
    new, _ = sim.step(
        sim.prepare(sim.init_params()), sim.init_state(sim.init_params()), {}
    )
    np.testing.assert_allclose(new["cells"]["HH_m"], state["HH_m"], atol=1e-4)


PRE6, POST6 = [0, 3, 1, 4, 2, 5], [3, 1, 4, 0, 5, 2]


def _six_cells_jaxley(amps, dt, t_max):
    net = jx.Network([jx.Cell() for _ in range(6)])
    net.insert(JxLeak())
    for i in range(3):
        net.cell(i).insert(HH())
    for pre, post in zip(PRE6, POST6, strict=True):
        jx.connect(
            net.cell(pre).branch(0).comp(0),
            net.cell(post).branch(0).comp(0),
            IonotropicSynapse(),
        )
    net.set("v", -70.0)
    net.set("IonotropicSynapse_gS", 2e-3)
    net.cell(1).set("HH_gNa", 0.1)
    net.cell(4).set("Leak_gLeak", 3e-4)
    net.init_states(delta_t=dt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, amp in enumerate(amps):
            net.cell(i).stimulate(jx.step_current(2.0, 20.0, amp, dt, t_max))
        net.cell("all").record("v")
    return np.asarray(jx.integrate(net, delta_t=dt, t_max=t_max))


@pytest.mark.standard_promotion  # jaxley builds the reference
def test_six_cells_hh_on_three_leak_on_all_in_one_population():
    """3 HH + 3 Leak cells in one population (HH inserted on cells 0-2), with
    IonotropicSynapse edges between any of them given as cell indices, agree
    with jaxley on the same network to 1e-4 mV over 30 ms (float64)."""
    dt, t_max = 0.025, 30.0
    amps = [0.02, 0.0, 0.0, 0.05, 0.0, 0.0]
    a = _six_cells_jaxley(amps, dt, t_max)
    net = ns.Network()
    net.add_population("cells", 6, [ns.Leak()], v=-70.0)
    net.insert("cells", HH(), cells=[0, 1, 2])
    net.connect("cells", "cells", IonotropicSynapse(), ns.EdgeList(PRE6, POST6))
    net.set("cells->cells", "IonotropicSynapse_gS", 2e-3)
    net.set("cells", "HH_gNa", np.array([0.12, 0.1, 0.12]))  # one per HH cell
    net.set("cells", "Leak_gLeak", np.array([1e-4] * 4 + [3e-4, 1e-4]))
    steps = [ns.step_current(2.0, 20.0, amp, dt, t_max) for amp in amps]
    net.stimulate("cells", np.stack(steps, axis=1))
    net.record("cells", "v")
    sim = ns.compile(net, dt=dt)
    params = sim.init_params()
    assert params["cells"]["HH_gNa"].shape == (3,)
    b = np.asarray(sim.run(params, t_max=t_max)["cells.v"]).T
    assert a.shape == b.shape
    assert np.ptp(a[0]) > 80.0, "cell 0 (HH) must spike"
    assert np.ptp(a[3]) > 5.0, "cell 3 (Leak) must be driven"
    err = float(np.max(np.abs(a - b)))
    assert err <= 1e-4, err


def test_subset_channel_layout_and_errors():
    net = ns.Network()
    net.add_population("cells", 6, [ns.Leak()])
    net.insert("cells", HH(), cells=[4, 1])
    assert net.size("cells", "HH_gNa") == 2 and net.size("cells", "Leak_gLeak") == 6
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        net.set("cells", "HH_gNa", np.ones(6))
    with pytest.raises(ValueError, match="cells: expected distinct indices"):
        net.insert("cells", ns.Fire(), cells=[0, 6])
    with pytest.raises(ValueError, match="already in 'cells'"):
        net.insert("cells", HH(), cells=[0])
    with pytest.raises(TypeError, match="pass an instance, Leak()"):
        net.add_population("x", 2, [ns.Leak])


def test_fire_on_some_cells_spikes_only_there():
    net = ns.Network()
    net.add_population("p", 4, [ns.Leak(gLeak=0.01, eLeak=0.0)], v=0.0)
    net.insert("p", ns.Fire(vth=1.0, vreset=0.0), cells=[1, 3])
    net.record("p", "spikes")
    sim = ns.compile(net, dt=0.01)
    rec = sim.run(sim.init_params(), {"p": np.full((50, 4), 5.0)})
    counts = np.asarray(rec["p.spikes"]).sum(0)
    assert counts[0] == counts[2] == 0 and counts[1] > 0 and counts[3] > 0


def test_stimulate_adds_to_what_is_there():
    net = ns.Network()
    net.add_population("p", 2, [ns.Leak()])
    net.stimulate("p", np.ones(5))
    net.stimulate("p", np.full((3, 2), 2.0))
    np.testing.assert_array_equal(net.stimuli["p"][:, 0], [3, 3, 3, 1, 1])


def test_simulator_is_an_immutable_value(tiny_net):
    sim = ns.compile(tiny_net, dt=0.01)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sim.dt = 0.1  # type: ignore[misc]
    tiny_net.set("inp->hid", "SpikeSynapse_gS", 5.0)  # the network is copied
    assert sim.net.get("inp->hid", "SpikeSynapse_gS") == -20.0


def test_trace_equal_to_spikes_is_not_stored_and_gives_the_same_run():
    """With a fixed s_decay = 1/dt the SpikeSynapse trace is the spike train: it is
    not stored, and the run equals the stored-trace (per-edge s_decay) one."""
    dt = 0.5
    x = np.random.default_rng(0).random((2, 40, 6)) < 0.3

    def build(per_edge):
        net = ns.lif_stack(
            [6, 5, 3], dt=dt, recurrent=True, train_tau=False, init_gain=8.0
        )
        if per_edge:
            for proj in net.projections:
                net.set(proj, "SpikeSynapse_s_decay", np.full(net.size(proj), 1 / dt))
        return ns.compile(net, dt=dt, solver="exp_euler")

    fast, slow = build(False), build(True)
    assert fast.layouts["in->h1"] == {} and slow.layouts["in->h1"] != {}
    params = fast.init_params(jax.random.key(0))
    p_slow = slow.init_params(jax.random.key(0))
    for proj in slow.net.projections:
        p_slow[proj]["SpikeSynapse_gS"] = params[proj]["SpikeSynapse_gS"]
    a = fast.run(params, {"in": x.astype(float)})["out.v"]
    b = slow.run(p_slow, {"in": x.astype(float)})["out.v"]
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert float(jnp.abs(a).max()) > 0.01
    params["in->h1"]["SpikeSynapse_s_decay"] = 0.5
    with pytest.raises(ValueError, match="compiled for the fixed value"):
        fast.run(params, {"in": x.astype(float)})
    with pytest.raises(ValueError, match="stores no 'SpikeSynapse_s'"):
        fast.run(params, {"in": x.astype(float)}, record=["in->h1.SpikeSynapse_s"])

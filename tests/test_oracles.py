"""Oracles in closed form: the leak charging curve and the LIF inter-spike interval."""

import math

import numpy as np
import pytest

import neurosim as ns

G, E, C, I_NA = 2e-4, -70.0, 1.5, 0.05  # S/cm², mV, µF/cm², nA
AREA = 2 * math.pi * 1.0 * 10.0  # µm², jaxley's default compartment
A = 1000.0 * G / C  # 1/ms
V_INF = E + I_NA * 1e5 / AREA / (1000.0 * G)  # mV


def _leak_run(solver, dt, t_max=20.0, v0=-70.0):
    net = ns.Network()
    net.add_population("cell", 1, [ns.Leak(gLeak=G, eLeak=E)], capacitance=C, v=v0)
    net.record("cell", "v")
    sim = ns.compile(net, dt=dt, solver=solver)
    n = sim.n_steps(t_max)
    rec = sim.run(sim.init_params(), {"cell": np.full((n, 1), I_NA)}, t_max=t_max)
    v = np.asarray(rec["cell.v"])[:, 0]
    return sim.times(v.size), v


def _charging(t, v0=-70.0):
    return V_INF + (v0 - V_INF) * np.exp(-A * t)


def test_exp_euler_is_exact_for_the_leak():
    t, v = _leak_run("exp_euler", 0.1)
    assert V_INF - (-70.0) > 10.0  # a real charging curve, not a flat line
    np.testing.assert_allclose(v, _charging(t), rtol=1e-6)


@pytest.mark.parametrize("solver", ["bwd_euler", "fwd_euler"])
def test_euler_steppers_converge_at_first_order(solver):
    dts = [0.2, 0.1, 0.05, 0.025]
    errors = []
    for dt in dts:
        t, v = _leak_run(solver, dt)
        errors.append(np.max(np.abs(v - _charging(t))))
    order = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert 0.9 < order < 1.1, (order, errors)


def _lif(solver, dt, t_max=200.0, vth=-55.0, vreset=-70.0):
    net = ns.Network()
    net.add_population(
        "cell",
        1,
        [ns.Leak(gLeak=G, eLeak=E), ns.Fire(vth=vth, vreset=vreset)],
        capacitance=C,
        v=vreset,
    )
    net.record("cell", "spikes")
    sim = ns.compile(net, dt=dt, solver=solver)
    n = sim.n_steps(t_max)
    rec = sim.run(sim.init_params(), {"cell": np.full((n, 1), I_NA)}, t_max=t_max)
    return np.flatnonzero(np.asarray(rec["cell.spikes"])[:, 0]) * dt


def test_lif_interspike_interval_closed_form():
    vth, vreset, dt = -55.0, -70.0, 0.01
    tau = 1.0 / A
    isi = tau * math.log((V_INF - vreset) / (V_INF - vth))
    # A spike is seen at the first step start with v >= vth: ceil(isi / dt) steps.
    spikes = _lif("exp_euler", dt, vth=vth, vreset=vreset)
    assert len(spikes) >= 5
    np.testing.assert_allclose(np.diff(spikes), math.ceil(isi / dt) * dt, atol=1e-9)
    assert abs(np.diff(spikes)[0] - isi) <= dt
    spikes_bwd = _lif("bwd_euler", dt, vth=vth, vreset=vreset)
    assert len(spikes_bwd) == len(spikes) == int(200.0 // (math.ceil(isi / dt) * dt))
    assert np.max(np.abs(np.diff(spikes_bwd) - isi)) < 0.02 * isi


def test_lif_below_rheobase_never_fires():
    assert _lif("bwd_euler", 0.05, vth=V_INF + 0.5).size == 0

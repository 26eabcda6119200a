"""Oracle: jaxley 0.14 and neurosim give the same traces on the same network.

Each test builds the network twice, with jaxley's own API and with neurosim's,
and compares voltage traces in float64 over 50 ms: max |dv| <= 1e-4 mV.
"""

import warnings

import jax.numpy as jnp
import jaxley as jx
import numpy as np
import pytest
from jaxley.channels import HH
from jaxley.channels import Leak as JxLeak
from jaxley.synapses import IonotropicSynapse

import neurosim as ns

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from jaxley.channels import Fire as JxFire

# jaxley's own network code (built here) needs standard dtype/rank promotion.
pytestmark = pytest.mark.standard_promotion

DT, T_MAX, TOL = 0.025, 50.0, 1e-4
PRE, POST = [0, 0, 1], [1, 2, 2]  # a small chain with convergence onto cell 2


def _jaxley_traces(channels, cell_params, syn_params, amps, v0):
    """Three single-compartment cells, synapses PRE -> POST, a step into each."""
    net = jx.Network([jx.Cell() for _ in range(3)])
    for ch in channels:
        net.insert(ch)
    for pre, post in zip(PRE, POST, strict=True):
        jx.connect(
            net.cell(pre).branch(0).comp(0),
            net.cell(post).branch(0).comp(0),
            IonotropicSynapse(),
        )
    for i in range(3):
        net.cell(i).set("v", v0)
        for key, values in cell_params.items():
            net.cell(i).set(key, values[i])
    for key, values in syn_params.items():
        for k, value in enumerate(values):
            net.select(edges=k).set(key, value)
    net.init_states(delta_t=DT)  # steady state, as neurosim starts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, amp in enumerate(amps):
            net.cell(i).stimulate(jx.step_current(5.0, 30.0, amp, DT, T_MAX))
        net.cell("all").record("v")
    return np.asarray(jx.integrate(net, delta_t=DT, t_max=T_MAX))


def _neurosim_traces(channels, cell_params, syn_params, amps, v0):
    net = ns.Network()
    net.add_population("cells", 3, channels, v=v0)
    net.connect("cells", "cells", IonotropicSynapse(), ns.EdgeList(PRE, POST))
    for key, values in cell_params.items():
        net.set("cells", key, np.asarray(values, float))
    for key, values in syn_params.items():
        net.set("cells->cells", key, np.asarray(values, float))
    steps = [ns.step_current(5.0, 30.0, amp, DT, T_MAX) for amp in amps]
    net.stimulate("cells", np.stack(steps, axis=1))
    net.record("cells", "v")
    sim = ns.compile(net, dt=DT)
    rec = sim.run(sim.init_params(), t_max=T_MAX)
    assert int(rec.status) == 0
    return np.asarray(rec["cells.v"]).T  # (cells, time) as jaxley


def _compare(channels_jx, channels_ns, cell_params, syn_params, amps, v0):
    assert jnp.result_type(float) == jnp.float64
    a = _jaxley_traces(channels_jx, cell_params, syn_params, amps, v0)
    b = _neurosim_traces(channels_ns, cell_params, syn_params, amps, v0)
    assert a.shape == b.shape == (3, int(T_MAX // DT + 1) + 1)
    return a, b, float(np.max(np.abs(a - b)))


SYN = {"IonotropicSynapse_gS": [2e-3, 1e-3, 3e-3]}


def test_leak_cells_with_ionotropic_synapses():
    params = {"Leak_gLeak": [1e-4, 2e-4, 3e-4], "Leak_eLeak": [-70.0, -65.0, -60.0]}
    a, b, err = _compare(
        [JxLeak()], [ns.Leak()], params, SYN, [0.02, 0.0, 0.005], -70.0
    )
    assert np.ptp(a[1]) > 1.0, "the synapse must move the postsynaptic voltage"
    assert err <= TOL, err


def test_hh_cells_with_ionotropic_synapses():
    params = {"HH_gNa": [0.12, 0.1, 0.12], "HH_gK": [0.036, 0.036, 0.03]}
    a, b, err = _compare([HH()], [HH()], params, SYN, [0.02, 0.0, 0.0], -70.0)
    spikes = [int(np.sum((x[1:] > 0) & (x[:-1] <= 0))) for x in a]
    assert spikes[0] >= 3 and spikes[1] >= 1, spikes  # the synapses relay spikes
    assert err <= TOL, err


def test_lif_cells_neurosim_fire_vs_jaxley_fire():
    params = {
        "Leak_gLeak": [1e-4, 1e-4, 2e-4],
        "Leak_eLeak": [-70.0] * 3,
        "Fire_vth": [-55.0, -55.0, -50.0],
        "Fire_vreset": [-70.0, -72.0, -70.0],
    }
    amps = [0.03, 0.025, 0.04]
    a, b, err = _compare(
        [JxLeak(), JxFire()], [ns.Leak(), ns.Fire()], params, SYN, amps, -70.0
    )
    resets_a = [np.flatnonzero(np.diff(x) < -5.0) for x in a]
    resets_b = [np.flatnonzero(np.diff(x) < -5.0) for x in b]
    assert all(len(r) >= 3 for r in resets_a), [len(r) for r in resets_a]
    for ra, rb in zip(resets_a, resets_b, strict=True):
        np.testing.assert_array_equal(ra, rb)  # same spike steps
    assert err <= TOL, err


@pytest.mark.parametrize("solver", ["fwd_euler"])
def test_fwd_euler_matches_jaxley(solver):
    params = {"Leak_gLeak": [1e-4, 2e-4, 3e-4], "Leak_eLeak": [-70.0, -65.0, -60.0]}
    net = jx.Network([jx.Cell() for _ in range(3)])
    net.insert(JxLeak())
    for i in range(3):
        for key, values in params.items():
            net.cell(i).set(key, values[i])
    net.cell(0).stimulate(jx.step_current(5.0, 30.0, 0.02, DT, T_MAX))
    net.cell("all").record("v")
    a = np.asarray(jx.integrate(net, delta_t=DT, t_max=T_MAX, solver=solver))
    nnet = ns.Network()
    nnet.add_population("cells", 3, [ns.Leak()], v=-70.0)
    for key, values in params.items():
        nnet.set("cells", key, np.asarray(values, float))
    cur = np.zeros((int(T_MAX // DT + 1), 3))
    cur[:, 0] = ns.step_current(5.0, 30.0, 0.02, DT, T_MAX)
    nnet.stimulate("cells", cur)
    nnet.record("cells", "v")
    sim = ns.compile(nnet, dt=DT, solver=solver)
    b = np.asarray(sim.run(sim.init_params(), t_max=T_MAX)["cells.v"]).T
    assert np.max(np.abs(a - b)) <= TOL


def test_parity_check_can_fail():
    """The comparison is sharp: a threshold 0.5 mV off moves spikes and fails it."""
    params = {
        "Leak_gLeak": [1e-4] * 3,
        "Fire_vth": [-55.0] * 3,
        "Leak_eLeak": [-70.0] * 3,
    }
    a = _jaxley_traces([JxLeak(), JxFire()], params, SYN, [0.03, 0.0, 0.0], -70.0)
    shifted = dict(params, Fire_vth=[-54.5] * 3)
    b = _neurosim_traces([ns.Leak(), ns.Fire()], shifted, SYN, [0.03, 0.0, 0.0], -70.0)
    assert np.max(np.abs(a - b)) > 1.0

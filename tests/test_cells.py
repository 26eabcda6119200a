"""Populations of multi-compartment cells in the engine.

(a) a passive branched cell built with ``add_population(..., morphology=...)``
    against ``neurosim.morphology``'s own scan of ``solve`` and against jaxley;
(b) an HH soma with a passive dendritic tree against jaxley 0.14;
(c) two such cells joined by an IonotropicSynapse onto a dendritic compartment
    against jaxley 0.14; synapses onto per-edge compartments addressed as
    (branch, j) and (branch, loc);
(d) a cell read from an SWC file, HH soma and Leak dendrites, against jaxley.
All in float64 (``conftest.py`` enables x64).
"""

import warnings

import jax
import jax.numpy as jnp
import jaxley as jx
import numpy as np
import pytest
from jaxley.channels import HH
from jaxley.channels import Leak as JxLeak
from jaxley.synapses import IonotropicSynapse

# the branched cell of test_morphology's jaxley oracle, and its scan of `solve`
from test_morphology import LENGTH, NCOMP, PARENTS, R_A, RADIUS, V0, _jaxley_traces
from test_morphology import _jaxley_tree as _jaxley_cell
from test_morphology import _simulate as _oracle

import neurosim as ns
from neurosim.morphology import Morphology

DT = 0.025  # ms
G_LEAK, E_LEAK = 1e-4, -70.0  # as `_oracle`


def _morph():
    return Morphology.tree(PARENTS, NCOMP, length=LENGTH, radius=RADIUS, r_a=R_A)


def _step(amp, t_max, delay=2.0, dur=15.0):
    """A step current (nA) as jaxley builds it."""
    return np.asarray(jx.step_current(delay, dur, amp, DT, t_max))


# -- layout and API ------------------------------------------------------------------


def test_layout_params_and_recording_shapes():
    m = _morph()
    net = ns.Network()
    net.add_population("c", 2, [ns.Leak()], morphology=m, spike_comp=1)
    net.insert("c", ns.Leak(name="Extra"), cells=[1], comps=[0, m.comp(3, -1)])
    assert net.shape("c", "radius") == (2 * m.n_comp,)
    assert net.shape("c", "v") == (2 * m.n_comp,)
    assert net.shape("c", "Extra_gLeak") == (2,)  # one per carrying compartment
    assert net.shape("c", "Leak_gLeak") == (2 * m.n_comp,)
    np.testing.assert_array_equal(net.get("c", "radius"), np.tile(m.radius, 2))
    net.record("c", "v")
    sim = ns.compile(net, dt=DT)
    params = sim.init_params()
    assert params["c"]["r_a"].shape == (2 * m.n_comp,)
    rec = sim.run(params, {"c": np.zeros((3, 8, 2))})
    assert rec["c.v"].shape == (3, 9, 2, m.n_comp)
    with pytest.raises(ValueError, match="bwd_euler"):
        ns.compile(net, dt=DT, solver="fwd_euler")
    with pytest.raises(ValueError, match="comps"):
        net.insert("c", ns.Leak(name="Bad"), comps=[m.n_comp])
    with pytest.raises(ValueError, match="spike_comp"):
        net.add_population("d", 1, [], morphology=m, spike_comp=m.n_comp)


def test_input_enters_the_spike_compartment():
    """``run``'s input (n,) goes to each cell's spike compartment: the same
    as a stimulus into that compartment."""
    m = _morph()
    t_max, spike = 5.0, m.comp(1, 1)
    cur = _step(0.05, t_max, 1.0, 3.0)
    traces = []
    for how in ("input", "stimulus"):
        net = ns.Network()
        net.add_population("c", 2, [ns.Leak()], morphology=m, spike_comp=spike)
        net.record("c", "v")
        inputs = None
        if how == "input":
            inputs = {"c": np.stack([cur, 2 * cur], axis=1)}
        else:
            net.stimulate("c", np.stack([cur, 2 * cur], axis=1))
        sim = ns.compile(net, dt=DT)
        traces.append(np.asarray(sim.run(sim.init_params(), inputs)["c.v"]))
    np.testing.assert_array_equal(traces[0], traces[1])
    assert np.ptp(traces[0][:, 1, spike]) > 2 * np.ptp(traces[0][:, 0, spike]) - 1e-9


# -- (a) a passive branched cell -----------------------------------------------------


@pytest.mark.standard_promotion  # jaxley builds the reference
def test_passive_cell_matches_the_cable_oracle_and_jaxley():
    m = _morph()
    t_max, v0, amp = 20.0, V0, 0.2
    stim, soma, tip = m.comp(4, 1), m.comp(0, 0), m.comp(3, -1)
    cur = _step(amp, t_max, 2.0, 10.0)  # as `_jaxley_traces`
    net = ns.Network()
    net.add_population("c", 1, [ns.Leak(gLeak=G_LEAK, eLeak=E_LEAK)], morphology=m)
    net.set("c", "v", v0)
    net.stimulate("c", cur, comp=stim)
    net.record("c", "v")
    sim = ns.compile(net, dt=DT)
    got = np.asarray(sim.run(sim.init_params(), t_max=t_max)["c.v"])[:, 0]
    i_na = np.zeros((got.shape[0] - 1, m.n_comp))
    i_na[:, stim] = cur[: got.shape[0] - 1]
    want = np.asarray(_oracle(m, i_na, v0=v0))
    err_oracle = np.max(np.abs(got - want))

    jxv = _jaxley_traces(_jaxley_cell(), stim, amp, t_max, [soma, tip])
    err_jaxley = np.max(np.abs(got[:, [soma, tip]].T - jxv))
    print(f"oracle {err_oracle:.2e} mV, jaxley {err_jaxley:.2e} mV")
    assert np.ptp(got[:, tip]) > 1.0  # the stimulus reached the far tip
    assert err_oracle < 1e-6, err_oracle
    assert err_jaxley < 1e-6, err_jaxley


# -- (b) an HH soma with a passive dendritic tree; (c) two of them joined ----------

T_HH = 25.0
SOMA_COMPS = [0, 1, 2]  # branch 0


def _jaxley_hh_cell():
    cell = _jaxley_cell()
    cell.insert(JxLeak())
    cell.branch(0).insert(HH())
    return cell


def _neurosim_hh(n):
    m = _morph()
    net = ns.Network()
    net.add_population("c", n, [JxLeak()], morphology=m)
    net.insert("c", HH(), comps=SOMA_COMPS)
    return m, net


@pytest.mark.standard_promotion  # jaxley builds the reference
def test_hh_soma_with_passive_tree_matches_jaxley():
    m, net = _neurosim_hh(1)
    soma, tip = m.comp(0, 0), m.comp(3, -1)
    amp = 0.5  # nA into the soma: a spike train
    net.stimulate("c", _step(amp, T_HH), comp=soma)
    net.record("c", "v")
    sim = ns.compile(net, dt=DT)
    got = np.asarray(sim.run(sim.init_params(), t_max=T_HH)["c.v"])[:, 0]

    _check_against_jaxley(_jaxley_hh_cell(), got, soma, tip, amp)


def _check_against_jaxley(cell, got, soma, tip, amp):
    """Stimulate jaxley's `cell` at `soma` as neurosim's was, record `soma`
    and `tip`, and hold neurosim's traces `got` `(time, n_comp)` to 1e-4 mV."""
    cell.init_states(delta_t=DT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cell.select(nodes=soma).stimulate(_step(amp, T_HH))
        for c in (soma, tip):
            cell.select(nodes=c).record("v")
        want = np.asarray(jx.integrate(cell, delta_t=DT, t_max=T_HH))
    assert want.shape[1] == got.shape[0]
    err = np.abs(got[:, [soma, tip]].T - want).max(axis=1)
    print(f"max |v - v_jaxley|: soma {err[0]:.2e} mV, tip {err[1]:.2e} mV")
    assert np.max(want[0]) > 0.0  # the soma spiked
    assert np.ptp(want[1]) > 5.0  # and the tip saw it
    assert np.all(err < 1e-4), err


@pytest.mark.standard_promotion  # jaxley builds the reference
def test_two_hh_cells_joined_onto_a_dendrite_match_jaxley():
    m, net = _neurosim_hh(2)
    soma, post = m.comp(0, 0), m.comp(2, 1)
    tip = m.comp(3, -1)
    amp, gs = 0.5, 0.02
    net.connect("c", "c", IonotropicSynapse(), ns.EdgeList([0], [1]), post_comp=post)
    net.set("c->c", "IonotropicSynapse_gS", gs)
    cur = _step(amp, T_HH)
    net.stimulate("c", np.stack([cur, np.zeros_like(cur)], axis=1), comp=soma)
    net.record("c", "v")
    sim = ns.compile(net, dt=DT)
    got = np.asarray(sim.run(sim.init_params(), t_max=T_HH)["c.v"])

    jnet = jx.Network([_jaxley_hh_cell(), _jaxley_hh_cell()])
    jx.connect(
        jnet.cell(0).branch(0).comp(0),
        jnet.cell(1).branch(2).comp(1),
        IonotropicSynapse(),
    )
    jnet.set("IonotropicSynapse_gS", gs)
    jnet.init_states(delta_t=DT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jnet.cell(0).branch(0).comp(0).stimulate(_step(amp, T_HH))
        for i in (0, 1):
            for b, j in ((0, 0), (2, 1), (3, -1)):  # soma, post, tip
                jnet.cell(i).branch(b).comp(j % NCOMP).record("v")
        want = np.asarray(jx.integrate(jnet, delta_t=DT, t_max=T_HH))
    mine = np.stack([got[:, i, c] for i in (0, 1) for c in (soma, post, tip)])
    err = np.abs(mine - want).max(axis=1)
    print("max |v - v_jaxley| per trace:", " ".join(f"{e:.2e}" for e in err))
    assert np.ptp(want[4]) > 1.0  # the synapse moved the postsynaptic dendrite
    assert np.all(err < 1e-4), err


def test_gradients_wrt_geometry_and_conductance_match_finite_differences():
    """d(soma and tip voltage)/d(radius, r_a, a per-compartment HH gNa) through
    the engine equals central finite differences (float64)."""
    m, net = _neurosim_hh(1)
    net.stimulate("c", _step(0.3, 6.0, 1.0, 4.0))
    net.make_trainable("c", "HH_gNa", per_element=True)
    sim = ns.compile(net, dt=DT)
    params = sim.init_params()
    soma, tip = m.comp(0, 0), m.comp(3, -1)

    def loss(scale):
        p = {**params, "c": dict(params["c"])}
        for k, s in zip(("radius", "r_a", "HH_gNa"), scale, strict=True):
            p["c"][k] = params["c"][k] * s
        v = sim.run(p, t_max=6.0, record=["c.v"])["c.v"]
        return v[-1, 0, soma] + v[-1, 0, tip]

    x = np.ones(3)
    grad = np.asarray(jax.grad(loss)(jnp.asarray(x)))
    eps = 1e-5
    fd = [
        (loss(jnp.asarray(x + eps * e)) - loss(jnp.asarray(x - eps * e))) / (2 * eps)
        for e in np.eye(3)
    ]
    assert np.all(np.abs(grad) > 1e-6), grad
    np.testing.assert_allclose(grad, np.asarray(fd), rtol=1e-5, atol=1e-8)


# -- addressing: (branch, j), (branch, loc), per-edge compartments, cells ------------


@pytest.mark.standard_promotion  # jaxley builds the reference
def test_per_edge_post_compartments_match_jaxley():
    """Two synapses from cell 0 onto two compartments of cell 1, one addressed
    as (branch, j), one as (branch, loc); and one back onto cell 0's soma by
    index: the same traces as jaxley's three `connect` calls."""
    m, net = _neurosim_hh(2)
    soma = m.comp(0, 0)
    amp, gs = 0.5, [0.02, 0.03, 0.01]
    post = [(2, 1), (3, 0.7), 0]  # loc 0.7 of a 3-compartment branch: its last
    net.connect(
        "c", "c", IonotropicSynapse(), ns.EdgeList([0, 0, 1], [1, 1, 0]), post_comp=post
    )
    net.set("c->c", "IonotropicSynapse_gS", np.asarray(gs))
    proj = net.projections["c->c"]
    np.testing.assert_array_equal(
        proj.sites, [m.comp(0, 0), m.n_comp + m.comp(2, 1), m.n_comp + m.comp(3, 2)]
    )
    assert proj.conn.n_post == 3 and not proj.conn.all_to_all
    cur = _step(amp, T_HH)
    net.stimulate("c", cur, comp=soma, cells=[0])
    net.record("c", "v")
    sim = ns.compile(net, dt=DT)
    got = np.asarray(sim.run(sim.init_params(), t_max=T_HH)["c.v"])

    jnet = jx.Network([_jaxley_hh_cell(), _jaxley_hh_cell()])
    pre0, pre1 = jnet.cell(0).branch(0).comp(0), jnet.cell(1).branch(0).comp(0)
    jx.connect(pre0, jnet.cell(1).branch(2).comp(1), IonotropicSynapse())
    jx.connect(pre0, jnet.cell(1).branch(3).loc(0.7), IonotropicSynapse())
    jx.connect(pre1, jnet.cell(0).branch(0).comp(0), IonotropicSynapse())
    jnet.set("IonotropicSynapse_gS", np.asarray(gs))
    jnet.init_states(delta_t=DT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jnet.cell(0).branch(0).comp(0).stimulate(cur)
        sites = [(1, 2, 1), (1, 3, 2), (0, 0, 0), (1, 0, 0)]
        for i, b, j in sites:
            jnet.cell(i).branch(b).comp(j).record("v")
        want = np.asarray(jx.integrate(jnet, delta_t=DT, t_max=T_HH))
    mine = np.stack([got[:, i, m.comp(b, j)] for i, b, j in sites])
    err = np.abs(mine - want).max(axis=1)
    print("max |v - v_jaxley| per trace:", " ".join(f"{e:.2e}" for e in err))
    assert np.ptp(want[1]) > 1.0  # the synapses moved the postsynaptic dendrite
    assert np.all(err < 1e-4), err


def test_addresses_resolve_and_refuse_out_of_range():
    m = _morph()  # 5 branches of 3 compartments
    assert m.resolve(4) == 4
    assert m.resolve((3, -1)) == m.comp(3, 2)
    assert m.resolve((1, 0.0)) == m.comp(1, 0)
    assert m.resolve((1, 0.5)) == m.comp(1, 1)
    assert m.resolve((1, 1.0)) == m.comp(1, 2)
    for bad, match in [
        ((5, 0), "branch 5"),
        ((1, 3), "compartment 3"),
        ((1, 1.5), "location 1.5"),
        (m.n_comp, "out of range"),
    ]:
        with pytest.raises(ValueError, match=match):
            m.resolve(bad, "post_comp")
    with pytest.raises(TypeError, match="post_comp"):
        m.resolve((1, "tip"), "post_comp")

    net = ns.Network()
    net.add_population("c", 2, [ns.Leak()], morphology=m, spike_comp=(0, 0))
    net.add_population("p", 2, [ns.Leak(), ns.Fire()])
    net.insert("c", ns.Leak(name="Tip"), comps=[(3, 1.0), (4, -1)])
    assert net.shape("c", "Tip_gLeak") == (4,)
    with pytest.raises(ValueError, match="branch 9"):
        net.connect("p", "c", ns.SpikeSynapse(), post_comp=(9, 0.5))
    with pytest.raises(ValueError, match="3 compartments for 4 edges"):
        net.connect("p", "c", ns.SpikeSynapse(), post_comp=[0, 1, 2])
    with pytest.raises(ValueError, match="point cells"):
        net.connect("p", "p", ns.SpikeSynapse(), post_comp=[0, 0, 0, 0])
    with pytest.raises(ValueError, match="location"):
        net.stimulate("c", np.ones(3), comp=(2, -0.1))
    with pytest.raises(ValueError, match="cells"):
        net.stimulate("c", np.ones(3), cells=[2])
    # the same compartment on every edge: an ordinary projection
    name = net.connect("p", "c", ns.SpikeSynapse(), post_comp=[(2, 1)] * 4)
    assert net.projections[name].sites is None
    assert net.projections[name].post_comp == m.comp(2, 1)
    assert net.shape(name, "SpikeSynapse_gS") == (2, 2)


def test_stimulus_on_some_cells_and_per_compartment_input():
    """`stimulate(cells=...)` drives only those cells; a `(batch, time,
    n * n_comp)` input enters each compartment as given."""
    m = _morph()
    tip = m.resolve((3, 1.0))
    cur = _step(0.05, 5.0, 1.0, 3.0)
    net = ns.Network()
    net.add_population("c", 3, [ns.Leak()], morphology=m)
    net.stimulate("c", cur, comp=(3, 1.0), cells=[1])
    net.record("c", "v")
    sim = ns.compile(net, dt=DT)
    a = np.asarray(sim.run(sim.init_params(), t_max=5.0)["c.v"])
    x = np.zeros((1, a.shape[0] - 1, 3 * m.n_comp))
    x[0, :, 1 * m.n_comp + tip] = cur[: a.shape[0] - 1]
    net2 = net.copy()
    net2.stimuli.clear()
    sim2 = ns.compile(net2, dt=DT)
    b = np.asarray(sim2.run(sim2.init_params(), {"c": x})["c.v"])[0]
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert np.ptp(a[:, 1, tip]) > 1.0
    assert np.ptp(a[:, 0]) < 1e-9 and np.ptp(a[:, 2]) < 1e-9


@pytest.mark.standard_promotion  # jaxley builds the reference
def test_swc_cell_with_hh_soma_matches_jaxley(tmp_path):
    """A cell read from an SWC file (jaxley's reader, frustum areas and
    integrated loads), HH on the soma branch and Leak everywhere, in the
    engine: the same traces as jaxley 0.14 at the soma and a dendritic tip."""
    from test_morphology import SWC

    path = tmp_path / "cell.swc"
    path.write_text(SWC)
    ncomp, amp = 2, 0.3
    m = Morphology.from_swc(str(path), ncomp)
    soma, tip = m.comp(0, 0), m.resolve((m.n_branches - 1, 1.0))
    net = ns.Network()
    net.add_population("c", 1, [JxLeak()], morphology=m)
    net.insert("c", HH(), comps=[m.comp(0, j) for j in range(m.ncomp[0])])
    net.stimulate("c", _step(amp, T_HH), comp=(0, 0))
    net.record("c", "v")
    sim = ns.compile(net, dt=DT)
    got = np.asarray(sim.run(sim.init_params(), t_max=T_HH)["c.v"])[:, 0]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cell = jx.read_swc(str(path), ncomp=ncomp)
    cell.insert(JxLeak())
    cell.branch(0).insert(HH())
    _check_against_jaxley(cell, got, soma, tip, amp)

"""`from_jaxley`: a jaxley 0.14 model converted to a neurosim Network gives the
traces jaxley gives (float64, within 1e-6 mV), and what cannot be converted is
refused by name.

The trace comparisons run `jx.integrate` (its compilation takes tens of
seconds), so they are marked slow; the quick tests check the conversion
itself."""

import warnings

import jaxley as jx
import numpy as np
import pytest
from jaxley.channels import HH, Leak
from jaxley.synapses import IonotropicSynapse, TanhRateSynapse

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # jaxley's note on Fire's gradients
    from jaxley.channels import Fire

import neurosim as ns
from neurosim.interop import jaxley_traces

pytestmark = pytest.mark.standard_promotion  # jaxley builds the reference

DT, T_MAX, TOL = 0.025, 20.0, 1e-6


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _compare(module, t_max=T_MAX):
    """Traces of `jx.integrate(module)` and of `from_jaxley(module)`."""
    want = np.asarray(_quiet(jx.integrate, module, delta_t=DT, t_max=t_max))
    net = ns.from_jaxley(module, dt=DT)
    sim = ns.compile(net, dt=DT)
    rec = sim.run(sim.init_params(), t_max=t_max)
    assert int(rec.status) == 0
    got = jaxley_traces(module, rec)
    assert got.shape == want.shape
    return net, want, got, float(np.max(np.abs(want - got)))


def _point_network():
    """Six point cells, HH on four and Leak on two, joined by ionotropic and
    tanh-rate synapses, parameters changed with .set per cell and per edge."""
    net = jx.Network([jx.Cell() for _ in range(6)])
    net.cell([0, 1, 2, 3]).insert(HH())
    net.cell([4, 5]).insert(Leak())
    pre, post = [0, 0, 1, 2, 3, 4], [1, 2, 3, 4, 5, 5]
    for a, b in zip(pre, post, strict=True):
        jx.connect(
            net.cell(a).branch(0).comp(0),
            net.cell(b).branch(0).comp(0),
            IonotropicSynapse(),
        )
    jx.connect(
        net.cell(1).branch(0).comp(0), net.cell(4).branch(0).comp(0), TanhRateSynapse()
    )
    net.cell(1).set("HH_gNa", 0.1)
    net.cell(2).set("radius", 2.0)
    net.cell(5).set("Leak_eLeak", -60.0)
    net.select(edges=[0, 3]).set("IonotropicSynapse_gS", 0.01)
    net.select(edges=[1, 2, 4, 5]).set("IonotropicSynapse_gS", 0.004)
    _quiet(net.init_states, delta_t=DT)
    _quiet(
        net.cell(0).branch(0).comp(0).stimulate,
        jx.step_current(1.0, 15.0, 0.05, DT, T_MAX),
    )
    _quiet(net.cell("all").record, "v")
    _quiet(net.cell(1).record, "HH_m")
    _quiet(net.select(edges=[1, 4]).record, "IonotropicSynapse_s")
    return net


@pytest.mark.slow
def test_point_network_matches_jaxley():
    module = _point_network()
    net, want, got, err = _compare(module)
    assert set(net.populations) == {"cells0", "cells1"}  # HH (any radius), Leak
    spikes = [int(np.sum((x[1:] > 0) & (x[:-1] <= 0))) for x in want[:6]]
    assert spikes[0] >= 2 and spikes[1] >= 1, spikes  # the synapses relay spikes
    assert np.ptp(want[5]) > 1.0
    print(f"point network: max |dv| = {err:.2e} mV")
    assert err <= TOL, err


def _lif_network():
    """Four LIF point cells (jaxley's Leak and Fire) in a chain of synapses."""
    net = jx.Network([jx.Cell() for _ in range(4)])
    net.insert(Leak())
    net.insert(Fire())
    for a in range(3):
        jx.connect(
            net.cell(a).branch(0).comp(0),
            net.cell(a + 1).branch(0).comp(0),
            IonotropicSynapse(),
        )
    net.set("Fire_vth", -55.0)
    net.cell(2).set("Fire_vreset", -72.0)
    net.set("IonotropicSynapse_gS", 0.02)
    _quiet(net.init_states, delta_t=DT)
    _quiet(net.cell(0).stimulate, jx.step_current(1.0, 18.0, 0.03, DT, T_MAX))
    _quiet(net.cell("all").record, "v")
    return net


@pytest.mark.slow
def test_lif_network_matches_jaxley():
    module = _lif_network()
    net, want, got, err = _compare(module)
    resets = [np.flatnonzero(np.diff(x) < -5.0) for x in want]
    assert len(resets[0]) >= 3 and len(resets[1]) >= 1, resets
    print(f"LIF network: max |dv| = {err:.2e} mV")
    assert err <= TOL, err


def test_jaxley_fire_becomes_neurosim_fire():
    net = ns.from_jaxley(_lif_network(), dt=DT)
    pop = net.populations["cells"]
    assert isinstance(pop.spiking.channel, ns.Fire)  # spikes, with a surrogate
    assert net.get("cells", "Fire_vth") == -55.0
    np.testing.assert_array_equal(net.get("cells", "Fire_vreset"), [-70, -70, -72, -70])
    net.record("cells", "spikes")
    net.connect("cells", "cells", ns.SpikeSynapse(), ns.EdgeList([3], [0]), name="loop")


def _branched_cell(hh_radius=10.0):
    comp = jx.Compartment()
    cell = jx.Cell(
        [jx.Branch(comp, 1), jx.Branch(comp, 3), jx.Branch(comp, 2)], parents=[-1, 0, 0]
    )
    cell.set("axial_resistivity", 200.0)
    cell.branch(0).set("radius", hh_radius)
    cell.branch(0).set("length", 20.0)
    cell.insert(Leak())
    cell.branch(0).insert(HH())
    return cell


def _dendritic_network():
    cells = [_branched_cell(), _branched_cell(), _branched_cell(8.0)]
    net = jx.Network(cells)
    jx.connect(
        net.cell(0).branch(0).comp(0),
        net.cell(1).branch(1).comp(2),
        IonotropicSynapse(),
    )
    jx.connect(
        net.cell(0).branch(0).comp(0),
        net.cell(2).branch(2).comp(1),
        IonotropicSynapse(),
    )
    jx.connect(
        net.cell(1).branch(0).comp(0),
        net.cell(2).branch(2).comp(1),
        IonotropicSynapse(),
    )
    net.set("IonotropicSynapse_gS", 0.05)
    net.cell(1).branch(1).set("Leak_gLeak", 2e-4)
    _quiet(net.init_states, delta_t=DT)
    _quiet(
        net.cell(0).branch(0).comp(0).stimulate,
        jx.step_current(1.0, 15.0, 0.5, DT, T_MAX),
    )
    _quiet(net.cell("all").branch(0).comp(0).record, "v")
    _quiet(net.cell(1).branch(1).comp(2).record, "v")
    _quiet(net.cell(2).branch(2).comp(1).record, "v")
    return net


@pytest.mark.slow
def test_multicompartment_network_matches_jaxley():
    module = _dendritic_network()
    net, want, got, err = _compare(module)
    pops = net.populations
    assert list(pops) == ["cells"] and pops["cells"].n_comp == 6  # any radius
    spikes = [int(np.sum((x[1:] > 0) & (x[:-1] <= 0))) for x in want[:3]]
    assert spikes[0] >= 2 and spikes[1] >= 1, spikes  # relayed through dendrites
    print(f"dendritic network: max |dv| = {err:.2e} mV")
    assert err <= TOL, err


@pytest.mark.slow
def test_a_cell_converts_and_the_comparison_can_fail():
    cell = _branched_cell()
    _quiet(cell.init_states, delta_t=DT)
    _quiet(cell.branch(2).comp(1).stimulate, jx.step_current(1.0, 10.0, 0.3, DT, 10.0))
    _quiet(cell.branch(0).comp(0).record, "v")
    _quiet(cell.branch(0).comp(0).record, "HH_n")
    _, want, got, err = _compare(cell, 10.0)
    assert err <= TOL, err
    cell.branch(2).set("Leak_gLeak", 5e-4)  # one parameter off: the check fails
    _quiet(cell.init_states, delta_t=DT)
    net = ns.from_jaxley(cell, dt=DT)
    sim = ns.compile(net, dt=DT)
    off = jaxley_traces(cell, sim.run(sim.init_params(), t_max=10.0))
    assert np.max(np.abs(off - got)) > 1e-3


def test_unconvertible_models_are_refused_by_name():
    with pytest.raises(TypeError, match="Compartment"):
        ns.from_jaxley(jx.Compartment())
    cell = _branched_cell()  # states not initialised: HH_m = 0.2 is not steady
    with pytest.raises(ValueError, match="HH_m.*init_states"):
        ns.from_jaxley(cell)
    _quiet(cell.init_states, delta_t=DT)
    _quiet(cell.branch(0).comp(0).clamp, "v", np.zeros(10))
    with pytest.raises(ValueError, match=r"clamps.*\['v'\]"):
        ns.from_jaxley(cell)
    net = jx.Network([_branched_cell(), _branched_cell()])
    for comp in (0, 1):
        jx.connect(
            net.cell(0).branch(1).comp(comp),
            net.cell(1).branch(0).comp(0),
            IonotropicSynapse(),
        )
    with pytest.raises(ValueError, match=r"cell 0 from compartments \[1, 2\]"):
        ns.from_jaxley(net)


def test_conversion_places_every_value():
    """Populations, per-compartment values set with .set, edges, stimuli and
    recordings land where jaxley has them (no simulation)."""
    module = _dendritic_network()
    module.cell(2).branch(2).comp(1).set("Leak_gLeak", 3e-4)
    net = ns.from_jaxley(module, dt=DT)
    pop = net.populations["cells"]
    assert (pop.n, pop.n_comp, pop.spike_comp) == (3, 6, 0)
    g = net.get("cells", "Leak_gLeak")  # one per compartment, cell-major
    assert g.shape == (18,) and g[2 * 6 + 5] == 3e-4 and g[0] == 1e-4
    np.testing.assert_array_equal(g[6 + 1 : 6 + 4], 2e-4)  # cell 1, branch 1
    assert net.get("cells", "radius")[2 * 6] == 8.0  # cell 2's soma
    (hh,) = [i for i in pop.insertions if i.channel.name == "HH"]
    assert hh.comps.tolist() == [0]  # HH on the soma only
    names = sorted(net.projections)
    assert names == [
        "cells->cells:IonotropicSynapse@3",
        "cells->cells:IonotropicSynapse@5",
    ]
    p3, p5 = (net.projections[k] for k in names)
    assert (p3.pre_idx.tolist(), p3.post_idx.tolist(), p3.post_comp) == ([0], [1], 3)
    assert (p5.pre_idx.tolist(), p5.post_idx.tolist(), p5.post_comp) == (
        [0, 1],
        [2, 2],
        5,
    )
    stim = net.stimuli["cells"]  # (time, n * n_comp): cell 0's soma only
    assert np.flatnonzero(stim.any(axis=0)).tolist() == [0]
    assert net.recordings == ["cells.v"]

"""NIR export and import: the round trip keeps parameters and spike trains,
the mapping's units and signs hold, and what NIR cannot express is refused."""

import math

import jax
import numpy as np
import pytest

import neurosim as ns

nir = pytest.importorskip(
    "nir",
    reason="NIR export/import needs the `nir` package: pip install 'neurosim[nir]'",
)

DT = 1.0  # ms
AREA_LENGTH = 1.0 / (2 * math.pi * 1e-5)  # area 1e5 µm² at radius 1 µm


def _net():
    """in (6) -Delayed SpikeSynapse-> h1 (LIF, recurrent) -ExpSynapse-> h2
    (CubaLIF) -SpikeSynapse-> out (LI readout)."""
    net = ns.Network()
    geo = {"length": AREA_LENGTH, "v": 0.0}
    net.add_population("in", 6, [ns.SpikeSource()], **geo)
    for name, n, fire in (("h1", 10, True), ("h2", 8, True), ("out", 3, False)):
        chans = [ns.Leak(gLeak=ns.tau_to_gleak(10.0), eLeak=0.0)]
        if fire:
            chans.append(ns.Fire(vth=1.0, vreset=0.0))
        net.add_population(name, n, chans, **geo)
    ident = ns.SpikeSynapse(s_decay=1.0 / DT)
    net.connect("in", "h1", ns.Delayed(ident, max_steps=4))
    net.connect("h1", "h1", ns.SpikeSynapse(s_decay=1.0 / DT))
    net.connect("h1", "h2", ns.ExpSynapse(tau=5.0))
    net.connect("h2", "out", ns.SpikeSynapse(s_decay=1.0 / DT))
    rng = np.random.default_rng(1)
    net.set("in->h1", "SpikeSynapse_gS", rng.normal(-1.2, 0.8, (6, 10)))
    net.set(
        "in->h1",
        "SpikeSynapse_delay",
        np.repeat([[0.0], [1.0], [2.0], [3.0], [1.0], [4.0]], 10, axis=1),
    )
    net.set("h1->h1", "SpikeSynapse_gS", rng.normal(0.0, 0.3, (10, 10)))
    net.set("h1->h2", "ExpSynapse_gS", rng.normal(-0.5, 0.4, (10, 8)))
    net.set("h2->out", "SpikeSynapse_gS", rng.normal(-0.5, 0.5, (8, 3)))
    net.set("h1", "Leak_gLeak", ns.tau_to_gleak(rng.uniform(5.0, 20.0, 10)))
    net.set("h2", "Fire_vth", rng.uniform(0.8, 1.2, 8))
    net.record("out", "v")
    return net


def _run(net, inputs):
    for pop in ("h1", "h2"):
        net.record(pop, "spikes")
    sim = ns.compile(net, dt=DT)
    rec = sim.run(sim.init_params(), {"in": inputs})
    return {k: np.asarray(rec[k]) for k in ("h1.spikes", "h2.spikes", "out.v")}


def _inputs(batch=4, steps=60, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((batch, steps, 6)) < 0.15).astype(float)


def test_round_trip_parameters_and_spike_trains():
    net = _net()
    graph = ns.to_nir(net, dt=DT)
    kinds = {k: type(v).__name__ for k, v in graph.nodes.items()}
    assert kinds == {
        "input": "Input",
        "h1": "LIF",
        "h2": "CubaLIF",
        "out": "LI",
        "in->h1": "Linear",
        "in->h1:delay": "Delay",
        "h1->h1": "Linear",
        "h1->h2": "Linear",
        "h2->out": "Linear",
        "output": "Output",
    }
    back = ns.from_nir(graph, dt=DT)
    assert list(back.populations) == ["in", "h1", "h2", "out"]
    for target in ("h1", "h2", "out", *net.projections):  # an input has no membrane
        for key, value in net.element(target).params.items():
            got, want = np.broadcast_arrays(back.get(target, key), value)
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{target}.{key}")
    graph2 = ns.to_nir(back, dt=DT)  # and the NIR parameters come back the same
    for key, node in graph.nodes.items():
        for field, value in vars(node).items():
            if isinstance(value, np.ndarray) and field not in (
                "input_type",
                "output_type",
            ):
                np.testing.assert_allclose(
                    vars(graph2.nodes[key])[field], value, rtol=1e-12
                )
    x = _inputs()
    a, b = _run(net, x), _run(back, x)
    for pop in ("h1", "h2"):
        assert a[f"{pop}.spikes"].sum() > 20, pop  # the network is active
        np.testing.assert_array_equal(a[f"{pop}.spikes"], b[f"{pop}.spikes"])
    np.testing.assert_allclose(a["out.v"], b["out.v"], atol=1e-9)
    assert np.ptp(a["out.v"]) > 0.5


def test_units_signs_and_delays_in_the_graph():
    net = _net()
    graph = ns.to_nir(net, dt=DT)
    h1 = graph.nodes["h1"]
    # tau = 1e-3 C / gLeak ms, in seconds; r = 100 / (A gLeak) MΩ = tau/dt here
    g = net.get("h1", "Leak_gLeak")
    np.testing.assert_allclose(h1.tau, 1e-3 / g * 1e-3)
    np.testing.assert_allclose(h1.r, 100.0 / (1e5 * g))
    np.testing.assert_allclose(h1.r, h1.tau / (DT * 1e-3))
    np.testing.assert_allclose(graph.nodes["h2"].tau_syn, 5e-3)
    # outward-positive gS (inhibiting when > 0) is an excitatory-positive -gS^T
    np.testing.assert_array_equal(
        graph.nodes["in->h1"].weight, -net.get("in->h1", "SpikeSynapse_gS").T
    )
    np.testing.assert_allclose(
        graph.nodes["in->h1:delay"].delay, [0, 1e-3, 2e-3, 3e-3, 1e-3, 4e-3]
    )
    assert ("in->h1:delay", "in->h1") in graph.edges and (
        "input",
        "in->h1:delay",
    ) in graph.edges


def test_trained_params_export_and_file_round_trip(tmp_path):
    net = ns.lif_stack([5, 7, 2], dt=DT, readout="spiking")
    sim = ns.compile(net, dt=DT)
    params = sim.init_params(jax.random.key(0))
    with pytest.raises(ValueError, match="initialiser"):
        ns.to_nir(net, dt=DT)
    graph = ns.to_nir(net, dt=DT, params=params)
    path = tmp_path / "net.nir"
    nir.write(path, graph)
    back = ns.from_nir(nir.read(path), dt=DT)
    np.testing.assert_allclose(
        back.get("in->h1", "SpikeSynapse_gS"),
        np.asarray(params["in->h1"]["SpikeSynapse_gS"]),
        rtol=1e-12,
    )
    x = (np.random.default_rng(3).random((2, 40, 5)) < 0.3).astype(float)
    rec_a = sim.run(params, {"in": x})
    sim_b = ns.compile(back, dt=DT)
    rec_b = sim_b.run(sim_b.init_params(), {"in": x})
    np.testing.assert_array_equal(
        np.asarray(rec_a["out.spikes"]), np.asarray(rec_b["out.spikes"])
    )


def test_what_nir_cannot_express_is_refused_by_name():
    net = _net()
    net.connect("in", "h2", ns.SpikeSynapse(s_decay=0.2), name="slow")
    with pytest.raises(ValueError, match=r"'slow'.*saturates"):
        ns.to_nir(net, dt=DT)
    net = _net()
    net.connect(
        "in", "out", ns.SpikeSynapse(s_decay=1.0, conductance=True, gS=0.1), name="cond"
    )
    with pytest.raises(ValueError, match=r"'cond'.*conductance-based"):
        ns.to_nir(net, dt=DT)
    from jaxley.channels import HH

    net = _net()
    net.add_population("hh", 2, [HH()])
    with pytest.raises(ValueError, match=r"'hh'.*HH|'hh'.*JaxleyChannel"):
        ns.to_nir(net, dt=DT)
    net = _net()
    net.connect("in", "h2", ns.SpikeSynapse(s_decay=1.0), name="mixed")
    with pytest.raises(ValueError, match="'h2'.*one tau_syn"):
        ns.to_nir(net, dt=DT)
    graph = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([2])}),
            "if": nir.IF(r=np.ones(2), v_threshold=np.ones(2)),
            "lin": nir.Linear(weight=np.ones((2, 2))),
        },
        edges=[("input", "lin"), ("lin", "if")],
    )
    with pytest.raises(ValueError, match="'if' is a IF"):
        ns.from_nir(graph, dt=DT)


def test_cuba_readout_round_trip():
    """A leaky readout behind an ExpSynapse is a CubaLI node, and comes back."""
    net = ns.Network()
    net.add_population("in", 4, [ns.SpikeSource()], length=AREA_LENGTH, v=0.0)
    net.add_population(
        "out", 2, [ns.Leak(gLeak=ns.tau_to_gleak(8.0), eLeak=-1.0)],
        length=AREA_LENGTH, v=-1.0,
    )  # fmt: skip
    net.connect("in", "out", ns.ExpSynapse(tau=3.0))
    net.set("in->out", "ExpSynapse_gS", np.array([[-1.0, 0.5]] * 4))
    net.record("out", "v")
    graph = ns.to_nir(net, dt=DT)
    assert type(graph.nodes["out"]).__name__ == "CubaLI"
    back = ns.from_nir(graph, dt=DT)
    assert back.recordings == ["out.v"]
    x = _inputs(2, 30)[..., :4]
    runs = []
    for n in (net, back):
        sim = ns.compile(n, dt=DT)
        runs.append(np.asarray(sim.run(sim.init_params(), {"in": x})["out.v"]))
    assert np.ptp(runs[0]) > 0.5
    np.testing.assert_allclose(runs[1], runs[0], atol=1e-12)

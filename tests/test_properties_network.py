"""Property tests of network building, compile and run.

Random valid networks compile and run without NaN for bounded inputs; random
invalid arguments to the public building functions raise only ``ValueError``
or ``TypeError``, with a message naming what was wrong.

Valid networks: 1-3 populations of 1-6 cells, each with a channel mix among
``Leak``, ``Leak + Fire`` and jaxley's ``HH``; projections ``all_to_all``,
``one_to_one`` (equal sizes), ``Random`` or ``EdgeList`` through
``SpikeSynapse``, ``ExpSynapse`` (from spiking populations) or jaxley's
``IonotropicSynapse``; every solver with ``dt`` inside its stable range:

| solver | dt (ms) | why |
|---|---|---|
| ``bwd_euler``, ``exp_euler`` | 0.005 to 0.05 | stable at any dt for the linearised membrane; HH's gates step in exponential Euler; 0.05 keeps HH's spike shape |
| ``fwd_euler`` | 0.001 to 0.01 | explicit: needs ``dt * g / C < 2``; HH's peak conductance (~ 40 mS/cm²) over 1 µF/cm² gives about 0.05 ms, kept well below |

Inputs are currents of at most 0.01 nA per cell (about 16 µA/cm² on the
default 62.8 µm² compartment: enough to make HH fire) and synaptic weights are
at most 1e-3 µS or nA.

The quick profile runs few networks (compiling dominates); ``HYPOTHESIS_PROFILE=ci``
runs many more.
"""

import jaxley.channels
import jaxley.synapses
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurosim as ns

NETWORKS = settings(
    max_examples=max(3, settings.default.max_examples // 3),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    deadline=None,
)
STABLE_DT = {"bwd_euler": (0.005, 0.05), "exp_euler": (0.005, 0.05)}
STABLE_DT["fwd_euler"] = (0.001, 0.01)
MIXES = ["leak", "lif", "hh"]
I_MAX = 0.01  # nA
W_MAX = 1e-3  # µS or nA


def channels(mix):
    if mix == "leak":
        return [ns.Leak()]
    if mix == "lif":
        return [ns.Leak(), ns.Fire()]
    return [jaxley.channels.HH()]


@st.composite
def networks(draw):
    net = ns.Network()
    pops = []
    for i in range(draw(st.integers(1, 3))):
        n, mix = draw(st.integers(1, 6)), draw(st.sampled_from(MIXES))
        pops.append((net.add_population(f"p{i}", n, channels(mix)), n, mix))
    for _ in range(draw(st.integers(0, 3))):
        (pre, n_pre, mix_pre), (post, n_post, _) = (
            draw(st.sampled_from(pops)),
            draw(st.sampled_from(pops)),
        )
        kinds = ["ionotropic"] + (["spike", "exp"] if mix_pre == "lif" else [])
        kind = draw(st.sampled_from(kinds))
        syn = {
            "spike": ns.SpikeSynapse(),
            "exp": ns.ExpSynapse(),
            "ionotropic": jaxley.synapses.IonotropicSynapse(),
        }[kind]
        conns = ["all_to_all", "random", "edges"]
        conns += ["one_to_one"] if n_pre == n_post else []
        conn = draw(st.sampled_from(conns))
        if conn == "random":
            conn = ns.Random(draw(st.floats(0.2, 1.0)), draw(st.integers(0, 9)))
        elif conn == "edges":
            k = draw(st.integers(1, 6))
            pre_idx = draw(st.lists(st.integers(0, n_pre - 1), min_size=k, max_size=k))
            post_idx = draw(
                st.lists(st.integers(0, n_post - 1), min_size=k, max_size=k)
            )
            conn = ns.EdgeList(pre_idx, post_idx)
        name = f"proj{len(net.projections)}"
        try:
            net.connect(pre, post, syn, conn, name=name)
        except ValueError as err:  # a Random draw with no edge, say
            assert "edge" in str(err).lower() or "empty" in str(err).lower(), err
            continue
        gs = f"{syn.name}_gS"
        low = 0.0 if kind == "ionotropic" else -W_MAX
        net.set(name, gs, draw(st.floats(low, W_MAX)) or W_MAX)
    solver = draw(st.sampled_from(sorted(STABLE_DT)))
    dt = draw(st.floats(*STABLE_DT[solver]))
    return net, pops, solver, dt


@NETWORKS
@given(networks(), st.integers(0, 2**31 - 1))
def test_random_valid_networks_run_without_nan(case, seed):
    net, pops, solver, dt = case
    for name, _, _ in pops:
        net.record(name, "v")
    sim = ns.compile(net, dt=dt, solver=solver)
    rng = np.random.default_rng(seed)
    n_steps = 40
    inputs = {name: rng.uniform(-I_MAX, I_MAX, (2, n_steps, n)) for name, n, _ in pops}
    rec = sim.run(sim.init_params(), inputs)
    for name, _, _ in pops:
        v = np.asarray(rec[f"{name}.v"])
        assert v.shape[:2] == (2, n_steps + 1)
        assert np.isfinite(v).all(), (name, solver, dt)
        assert np.abs(v).max() < 1e3, (name, solver, dt)


# ----------------------------------------------------------------- bad arguments
def base_net():
    net = ns.Network()
    net.add_population("a", 3, [ns.Leak(), ns.Fire()])
    net.add_population("b", 2, [ns.Leak()])
    return net


ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.integers(-3, 8), max_size=4),
    st.sampled_from(
        [
            ns.Leak,
            ns.SpikeSynapse,
            ns.AllToAll,
            ns.Random,
            object(),
            {"a": 1},
            np.zeros((2, 2)),
            lambda: 1,
        ]
    ),
)
CALLS = {
    "add_population.n": lambda net, x: net.add_population("c", x, [ns.Leak()]),
    "add_population.channels": lambda net, x: net.add_population("c", 2, x),
    "add_population.channel": lambda net, x: net.add_population("c", 2, [x]),
    "add_population.capacitance": lambda net, x: net.add_population(
        "c", 2, [], capacitance=x
    ),
    "add_population.name": lambda net, x: net.add_population(x, 2, []),
    "insert.cells": lambda net, x: net.insert("b", jaxley.channels.HH(), cells=x),
    "insert.channel": lambda net, x: net.insert("b", x),
    "connect.synapse": lambda net, x: net.connect("a", "b", x),
    "connect.connectivity": lambda net, x: net.connect("a", "b", ns.SpikeSynapse(), x),
    "connect.pre": lambda net, x: net.connect(x, "b", ns.SpikeSynapse()),
    "Random.p": lambda net, x: net.connect("a", "b", ns.SpikeSynapse(), ns.Random(x)),
    "EdgeList": lambda net, x: net.connect(
        "a", "b", ns.SpikeSynapse(), ns.EdgeList(x, x)
    ),
    "set.Leak_gLeak": lambda net, x: net.set("a", "Leak_gLeak", x),
    "set.radius": lambda net, x: net.set("a", "radius", x),
    "set.key": lambda net, x: net.set("a", x, 1.0),
    "make_trainable.key": lambda net, x: net.make_trainable("a", x),
    "record.state": lambda net, x: net.record("a", x),
    "compile.dt": lambda net, x: ns.compile(net, dt=x),
    "compile.solver": lambda net, x: ns.compile(net, dt=0.025, solver=x),
    "lif_stack.sizes": lambda net, x: ns.lif_stack(x),
    "lif_stack.tau_out": lambda net, x: ns.lif_stack([2, 2], tau_out=x),
    "lif_stack.dt": lambda net, x: ns.lif_stack([2, 2], dt=x),
}


@settings(max_examples=max(40, settings.default.max_examples * 4), deadline=None)
@given(st.sampled_from(sorted(CALLS)), ANYTHING)
def test_random_bad_arguments_raise_only_value_or_type_errors(call, value):
    try:
        CALLS[call](base_net(), value)
    except (ValueError, TypeError) as err:
        assert str(err) and "Traceback" not in str(err)


# Named cases: each must be refused with a message containing the fragments.
def _proj(syn, key, value):
    net = base_net()
    net.connect("a", "b", syn, name="p")
    net.set("p", key, value)


def _run_positive(key, value):
    net = base_net()
    net.connect("a", "b", ns.SpikeSynapse(), name="p")
    net.record("b", "v")
    sim = ns.compile(net, dt=0.025)
    params = sim.init_params()
    target = "p" if key.startswith("SpikeSynapse") else "a"
    params[target][key] = value
    sim.run(params, {}, t_max=1.0)


def _hh(key, value):
    net = base_net()
    net.insert("b", jaxley.channels.HH())
    net.set("b", key, value)


REFUSED = [
    # a class where an instance is needed
    (lambda: base_net().add_population("c", 2, [ns.Leak]), TypeError, ["class Leak"]),
    (lambda: base_net().connect("a", "b", ns.SpikeSynapse), TypeError, ["class"]),
    (
        lambda: base_net().connect("a", "b", ns.SpikeSynapse(), ns.AllToAll),
        TypeError,
        ["connectivity", "class AllToAll", "instance"],
    ),
    (
        lambda: base_net().connect("a", "b", ns.ExpSynapse, "one_to_one"),
        TypeError,
        ["class ExpSynapse"],
    ),
    # quantities that must be positive, wherever they are set
    (lambda: base_net().set("a", "Leak_gLeak", -1e-4), ValueError, ["Leak_gLeak"]),
    (lambda: base_net().set("a", "Leak_gLeak", 0.0), ValueError, ["positive"]),
    (lambda: base_net().set("a", "capacitance", -1), ValueError, ["capacitance"]),
    (lambda: base_net().set("a", "length", 0), ValueError, ["length"]),
    (lambda: base_net().set("a", "radius", [1, -1, 1]), ValueError, ["radius"]),
    (lambda: _hh("HH_gNa", -0.1), ValueError, ["HH_gNa", "positive"]),
    (lambda: _hh("HH_gK", 0.0), ValueError, ["HH_gK"]),
    (
        lambda: _proj(ns.SpikeSynapse(), "SpikeSynapse_s_decay", -1),
        ValueError,
        ["SpikeSynapse_s_decay", "positive"],
    ),
    (
        lambda: _proj(ns.ExpSynapse(), "ExpSynapse_tau", -5),
        ValueError,
        ["ExpSynapse_tau"],
    ),
    (
        lambda: _proj(ns.AlphaSynapse(), "AlphaSynapse_tau", 0),
        ValueError,
        ["AlphaSynapse_tau"],
    ),
    (
        lambda: _proj(ns.SpikeSynapse(conductance=True), "SpikeSynapse_gS", -1),
        ValueError,
        ["SpikeSynapse_gS"],
    ),
    (
        lambda: _proj(
            jaxley.synapses.IonotropicSynapse(), "IonotropicSynapse_gS", -1e-4
        ),
        ValueError,
        ["IonotropicSynapse_gS"],
    ),
    (
        lambda: base_net().add_population("c", 2, [ns.Leak(gLeak=-1)]),
        ValueError,
        ["Leak_gLeak"],
    ),
    (
        lambda: base_net().connect("a", "b", ns.SpikeSynapse(s_decay=-1)),
        ValueError,
        ["s_decay"],
    ),
    (lambda: ns.lif_stack([3, 2, 2], tau_out=-5), ValueError, ["tau_out", "-5"]),
    (lambda: ns.lif_stack([3, 2], tau_syn=0), ValueError, ["tau_syn"]),
    (lambda: ns.lif_stack([3, 2], tau_mem=float("nan")), ValueError, ["tau_mem"]),
    (lambda: _run_positive("Leak_gLeak", -1.0), ValueError, ["Leak_gLeak"]),
    (
        lambda: _run_positive("SpikeSynapse_s_decay", np.array(-2.0)),
        ValueError,
        ["SpikeSynapse_s_decay"],
    ),
]


@pytest.mark.parametrize("call, error, fragments", REFUSED)
def test_misuse_is_refused_by_name(call, error, fragments):
    with pytest.raises(error) as exc:
        call()
    for fragment in fragments:
        assert fragment in str(exc.value), str(exc.value)


@pytest.mark.parametrize("gs", [-1e-3, 0.0, 2.0])
def test_current_based_weights_stay_signed(gs):
    for syn in (ns.SpikeSynapse(), ns.ExpSynapse(), ns.AlphaSynapse()):
        _proj(syn, f"{syn.name}_gS", gs)
    net = ns.lif_stack([3, 2])  # normal(0, .) weights: signed
    net.set("in->out", "SpikeSynapse_gS", gs)


def test_run_for_a_huge_t_max_is_refused_by_name():
    net = base_net()
    net.record("b", "v")
    sim = ns.compile(net, dt=0.025)
    with pytest.raises(ValueError, match="t_max: .* steps; too many"):
        sim.run(sim.init_params(), {}, t_max=1e9)
    for bad in (-1.0, 0.0, float("inf"), float("nan"), "10"):
        with pytest.raises((ValueError, TypeError), match="t_max"):
            sim.run(sim.init_params(), {}, t_max=bad)


def test_positive_params_are_declared_by_the_mechanisms():
    assert ns.Leak().positive_params == ("Leak_gLeak",)
    assert ns.Fire().positive_params == ()
    assert ns.SpikeSynapse().positive_params == ("SpikeSynapse_s_decay",)
    assert "SpikeSynapse_gS" in ns.SpikeSynapse(conductance=True).positive_params
    assert ns.ExpSynapse().positive_params == ("ExpSynapse_tau",)
    hh = ns.mechanisms.jaxley.as_channel(jaxley.channels.HH())
    assert set(hh.positive_params) == {"HH_gNa", "HH_gK", "HH_gLeak"}
    rate = ns.mechanisms.jaxley.as_synapse(jaxley.synapses.TanhRateSynapse())
    assert rate.positive_params == ()  # no reversal: a signed weight

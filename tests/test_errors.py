"""Bad input gets a clear error.

Every case must raise the stated exception type before anything is traced, with a
message that names the argument, the value or shape that was given and, for an
unknown name, the closest valid one. The message fragments of each case are
matched in order (``pytest.raises(match=...)``), so a check that is missing,
moved behind a broadcast, or worded without the given value fails here.
"""

import copy
import re
from types import SimpleNamespace

import numpy as np
import pytest

import neurosim as ns


def _pattern(fragments):
    return ".*".join(re.escape(f) for f in fragments)


@pytest.fixture
def ctx(tiny_net):
    """tiny_net compiled at dt = 0.1 ms, its params and a valid (2, 5, 3) input."""
    sim = ns.compile(tiny_net, dt=0.1)
    return SimpleNamespace(
        net=tiny_net, sim=sim, params=sim.init_params(), x=np.zeros((2, 5, 3))
    )


def _with(params, target, name, value):
    """A copy of ``params`` with ``params[target][name] = value``."""
    out = copy.deepcopy(params)
    out[target][name] = value
    return out


def _without(params, target, name=None):
    out = copy.deepcopy(params)
    if name is None:
        del out[target]
    else:
        del out[target][name]
    return out


def _run(c, inputs=None, params=None, **kw):
    kw.setdefault("t_max", 1.0)
    return c.sim.run(c.params if params is None else params, inputs, **kw)


def _check(c, call, exc, fragments):
    with pytest.raises(exc, match=_pattern(fragments)):
        call(c)


# ----------------------------------------------------------------------------- shapes
SHAPES = [
    pytest.param(
        lambda c: _run(c, {"inp": np.zeros((2, 5, 4))}),
        ["inputs['inp']", "(time, 3)", "got (2, 5, 4)"],
        id="inputs-wrong-neuron-count",
    ),
    pytest.param(
        lambda c: _run(c, {"inp": np.zeros((2, 5, 1))}),
        ["inputs['inp']", "(time, 3)", "got (2, 5, 1)"],
        id="inputs-not-broadcast-from-one-neuron",
    ),
    pytest.param(
        lambda c: _run(c, {"inp": np.zeros(5)}),
        ["inputs['inp']", "(batch, time, 3) or (time, 3)", "got (5,)"],
        id="inputs-ndim-1",
    ),
    pytest.param(
        lambda c: _run(c, {"inp": np.zeros((1, 2, 5, 3))}),
        ["inputs['inp']", "(batch, time, 3) or (time, 3)", "got (1, 2, 5, 3)"],
        id="inputs-ndim-4",
    ),
    pytest.param(
        lambda c: _run(c, {"inp": np.zeros((2, 5, 3)), "hid": np.zeros((3, 5, 2))}),
        ["inputs['hid']", "(3, 5, 2)", "batch size 3", "other inputs 2"],
        id="inputs-unequal-batch",
    ),
    pytest.param(
        lambda c: _run(c, {"inp": np.zeros((2, 5, 3)), "hid": np.zeros((5, 2))}),
        ["inputs['hid']", "(5, 2)", "batch size none", "other inputs 2"],
        id="inputs-batched-and-unbatched",
    ),
    pytest.param(
        lambda c: _run(c, {"inp": np.zeros((0, 5, 3))}),
        ["inputs['inp']", "batch size 0", "(0, 5, 3)"],
        id="inputs-empty-batch",
    ),
    pytest.param(
        # t_max = 0.3 ms at dt = 0.1 ms is int(0.3 // 0.1 + 1) = 3 steps.
        lambda c: _run(c, {"inp": np.zeros((2, 10, 3))}, t_max=0.3),
        ["inputs: 10 time samples", "t_max=0.3", "3 steps"],
        id="inputs-longer-than-t_max",
    ),
    pytest.param(
        lambda c: _run(c, params=_with(c.params, "hid", "Leak_gLeak", np.ones(3))),
        ["params['hid']['Leak_gLeak']", "shape (2,)", "got shape (3,)"],
        id="params-wrong-length",
    ),
    pytest.param(
        lambda c: _run(c, params=_with(c.params, "hid", "Leak_gLeak", np.ones(1))),
        ["params['hid']['Leak_gLeak']", "shape (2,)", "got shape (1,)"],
        id="params-not-broadcast-from-one",
    ),
    pytest.param(
        lambda c: _run(
            c, params=_with(c.params, "inp->hid", "SpikeSynapse_gS", np.ones(6))
        ),
        ["params['inp->hid']['SpikeSynapse_gS']", "shape (3, 2)", "got shape (6,)"],
        id="params-flat-instead-of-matrix",
    ),
    pytest.param(
        lambda c: c.net.set("hid", "v", np.zeros(3)),
        ["hid.v", "shape (2,)", "got shape (3,)"],
        id="set-wrong-length",
    ),
    pytest.param(
        lambda c: c.net.set("inp->hid", "SpikeSynapse_gS", np.zeros((2, 3))),
        ["inp->hid.SpikeSynapse_gS", "shape (3, 2)", "got shape (2, 3)"],
        id="set-transposed-matrix",
    ),
    pytest.param(
        lambda c: c.net.stimulate("inp", np.zeros((5, 2))),
        ["current", "(time, 3)", "got (5, 2)"],
        id="stimulate-wrong-neuron-count",
    ),
]


@pytest.mark.parametrize("call, fragments", SHAPES)
def test_wrong_shape(ctx, call, fragments):
    _check(ctx, call, ValueError, fragments)


# ----------------------------------------------------------------------------- names
NAMES = [
    pytest.param(
        lambda c: c.net.set("hdi", "v", 0.0),
        ["target: ", "'hdi'", "did you mean 'hid'"],
        id="set-population",
    ),
    pytest.param(
        lambda c: c.net.set("inp->hdi", "SpikeSynapse_gS", 0.0),
        ["target: ", "'inp->hdi'", "did you mean 'inp->hid'"],
        id="set-projection",
    ),
    pytest.param(
        lambda c: c.net.set("hid", "Leak_gleak", 0.0),
        ["hid: ", "parameter or state 'Leak_gleak'", "did you mean 'Leak_gLeak'"],
        id="set-parameter",
    ),
    pytest.param(
        lambda c: c.net.set("inp->hid", "SpikeSynapse_gs", 0.0),
        ["inp->hid: ", "'SpikeSynapse_gs'", "did you mean 'SpikeSynapse_gS'"],
        id="set-synapse-parameter",
    ),
    pytest.param(
        lambda c: c.net.get("hid", "Fire_vt"),
        ["hid: ", "'Fire_vt'", "did you mean 'Fire_vth'"],
        id="get-parameter",
    ),
    pytest.param(
        lambda c: c.net.get("otu", "v"),
        ["target: ", "'otu'", "did you mean 'out'"],
        id="get-population",
    ),
    pytest.param(
        lambda c: c.net.record("hid", "Fire_spike"),
        ["record 'hid'", "state 'Fire_spike'", "did you mean 'Fire_spikes'"],
        id="record-state",
    ),
    pytest.param(
        lambda c: c.net.record("inp->hid", "SpikeSynapse_S"),
        ["record 'inp->hid'", "'SpikeSynapse_S'", "did you mean 'SpikeSynapse_s'"],
        id="record-synapse-state",
    ),
    pytest.param(
        lambda c: c.net.record("otu", "v"),
        ["target: ", "'otu'", "did you mean 'out'"],
        id="record-population",
    ),
    pytest.param(
        lambda c: _run(c, record=["out.vv"]),
        ["record 'out'", "state 'vv'", "did you mean 'v'"],
        id="run-record-state",
    ),
    pytest.param(
        lambda c: c.net.stimulate("ipn", np.zeros(5)),
        ["stimulate: ", "'ipn'", "did you mean 'inp'"],
        id="stimulate-population",
    ),
    pytest.param(
        lambda c: _run(c, {"ipn": c.x}),
        ["inputs: ", "population 'ipn'", "did you mean 'inp'"],
        id="inputs-population",
    ),
    pytest.param(
        lambda c: _run(c, params={**c.params, "hdi": {}}),
        ["params: ", "'hdi'", "did you mean 'hid'"],
        id="params-target",
    ),
    pytest.param(
        lambda c: _run(c, params=_with(c.params, "hid", "Leak_gleak", 0.01)),
        ["params['hid']", "parameter 'Leak_gleak'", "did you mean 'Leak_gLeak'"],
        id="params-parameter",
    ),
    pytest.param(
        lambda c: _run(
            c, params=_with(c.params, "inp->hid", "SpikeSynapse_s_dcay", 10.0)
        ),
        ["params['inp->hid']", "'SpikeSynapse_s_dcay'", "'SpikeSynapse_s_decay'"],
        id="params-synapse-parameter",
    ),
    pytest.param(
        lambda c: _run(c, params=_without(c.params, "hid")),
        ["params: missing 'hid'"],
        id="params-missing-target",
    ),
    pytest.param(
        lambda c: _run(c, params=_without(c.params, "hid", "Leak_gLeak")),
        ["params['hid']: missing 'Leak_gLeak'"],
        id="params-missing-parameter",
    ),
    pytest.param(
        lambda c: c.net.connect("inp", "otu", ns.SpikeSynapse(), name="x"),
        ["post: ", "'otu'", "did you mean 'out'"],
        id="connect-population",
    ),
    pytest.param(
        lambda c: ns.compile(c.net, solver="bwd_eular"),
        ["solver: ", "'bwd_eular'", "did you mean 'bwd_euler'"],
        id="solver",
    ),
    pytest.param(
        lambda c: c.net.connect("inp", "out", ns.SpikeSynapse(), "one_to_on"),
        ["connectivity: ", "'one_to_on'", "did you mean 'one_to_one'"],
        id="connectivity",
    ),
    pytest.param(
        lambda c: c.net.make_trainable("hid", "Leak_gLeak", transform="softpuls"),
        ["transform: ", "'softpuls'", "did you mean 'softplus'"],
        id="transform",
    ),
]


@pytest.mark.parametrize("call, fragments", NAMES)
def test_unknown_name_suggests_the_close_one(ctx, call, fragments):
    _check(ctx, call, ValueError, fragments)


def test_unknown_name_without_close_match_lists_the_valid_ones(ctx):
    _check(
        ctx,
        lambda c: ns.compile(c.net, solver="rk4"),
        ValueError,
        [
            "solver: unknown solver 'rk4'. Valid: ['bwd_euler', 'exp_euler', 'fwd_euler']"
        ],
    )


def test_unknown_recording_suggests_the_close_one(ctx):
    rec = _run(ctx, t_max=0.2)
    with pytest.raises(
        ValueError, match=_pattern(["'out.vv'", "did you mean 'out.v'"])
    ):
        rec["out.vv"]


# ----------------------------------------------------------------------------- numbers
BAD_POSITIVE = [0, -1.0, float("nan"), float("inf")]


@pytest.mark.parametrize("value", BAD_POSITIVE, ids=repr)
def test_dt_must_be_positive_and_finite(tiny_net, value):
    with pytest.raises(ValueError, match=_pattern(["dt: ", "positive", repr(value)])):
        ns.compile(tiny_net, dt=value)


@pytest.mark.parametrize("value", [*BAD_POSITIVE, True, "1.0"], ids=repr)
def test_t_max_must_be_positive_and_finite(ctx, value):
    _check(ctx, lambda c: _run(c, t_max=value), ValueError, ["t_max: ", repr(value)])


def test_numpy_scalars_are_accepted_for_dt_and_t_max(tiny_net):
    sim = ns.compile(tiny_net, dt=np.float32(0.1))
    rec = sim.run(sim.init_params(), t_max=np.float64(0.3))
    assert rec["out.v"].shape == (4, 2)


@pytest.mark.parametrize("key", ["capacitance", "length", "radius"])
@pytest.mark.parametrize("value", BAD_POSITIVE, ids=repr)
def test_geometry_must_be_positive_at_add_population(key, value):
    net = ns.Network()
    with pytest.raises(ValueError, match=_pattern([f"a.{key}: ", repr(value)])):
        net.add_population("a", 2, [ns.Leak()], **{key: value})
    assert "a" not in net.populations  # a refused population is not half-added


@pytest.mark.parametrize("key", ["capacitance", "length", "radius"])
@pytest.mark.parametrize(
    "value",
    [*BAD_POSITIVE, np.array([1.0, 0.0])],
    ids=lambda v: repr(v).replace(" ", ""),
)
def test_geometry_must_be_positive_at_set(tiny_net, key, value):
    before = tiny_net.get("hid", key)
    with pytest.raises(ValueError, match=_pattern([f"hid.{key}: ", repr(value)])):
        tiny_net.set("hid", key, value)
    assert tiny_net.get("hid", key) == before  # nothing stored


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), True, "0.5", None], ids=repr)
def test_random_probability_must_lie_in_unit_interval(p):
    with pytest.raises(ValueError, match=_pattern(["p: ", "[0, 1]", repr(p)])):
        ns.Random(p)


NON_FINITE = [
    pytest.param(
        lambda c: _run(c, {"inp": np.where(np.arange(3) == 1, np.nan, c.x)}),
        ["inputs['inp']", "NaN or inf"],
        id="inputs-nan",
    ),
    pytest.param(
        lambda c: _run(c, {"inp": np.full((5, 3), np.inf)}),
        ["inputs['inp']", "NaN or inf"],
        id="inputs-inf",
    ),
    pytest.param(
        lambda c: _run(c, params=_with(c.params, "hid", "Fire_vth", np.nan)),
        ["params['hid']['Fire_vth']", "NaN or inf"],
        id="params-nan",
    ),
    pytest.param(
        lambda c: _run(
            c,
            params=_with(
                c.params, "inp->hid", "SpikeSynapse_gS", np.full((3, 2), -np.inf)
            ),
        ),
        ["params['inp->hid']['SpikeSynapse_gS']", "NaN or inf"],
        id="params-inf",
    ),
    pytest.param(
        lambda c: c.net.set("hid", "Leak_eLeak", [0.0, np.nan]),
        ["hid.Leak_eLeak", "finite", "nan"],
        id="set-nan",
    ),
    pytest.param(
        lambda c: c.net.stimulate("inp", [0.0, np.inf]),
        ["current", "'inp'", "finite"],
        id="stimulate-inf",
    ),
]


@pytest.mark.parametrize("call, fragments", NON_FINITE)
def test_nan_and_inf_are_rejected(ctx, call, fragments):
    _check(ctx, call, ValueError, fragments)


NOT_REAL = [
    pytest.param(
        lambda c: _run(c, {"inp": c.x + 1j}),
        ["inputs['inp']", "real", "complex128"],
        id="inputs-complex",
    ),
    pytest.param(
        lambda c: _run(c, params=_with(c.params, "hid", "Leak_gLeak", "0.01")),
        ["params['hid']['Leak_gLeak']", "real", "<U4"],
        id="params-string",
    ),
    pytest.param(
        lambda c: c.net.set("hid", "Leak_gLeak", "0.01"),
        ["hid.Leak_gLeak", "real", "<U4"],
        id="set-string",
    ),
    pytest.param(
        lambda c: _run(c, record="out.v"),
        ["record: ", "list", "'out.v'", "record=['out.v']"],
        id="record-string",
    ),
]


@pytest.mark.parametrize("call, fragments", NOT_REAL)
def test_wrong_type_is_a_type_error(ctx, call, fragments):
    _check(ctx, call, TypeError, fragments)


# ----------------------------------------------------------------------------- structure
STRUCTURE = [
    pytest.param(
        lambda c: c.net.connect(
            "inp", "hid", ns.SpikeSynapse(), "one_to_one", name="x"
        ),
        ValueError,
        ["connectivity: ", "one_to_one", "got 3 -> 2"],
        id="one-to-one-unequal",
    ),
    pytest.param(
        lambda c: c.net.connect(
            "inp", "hid", ns.SpikeSynapse(), ns.EdgeList([0, 3], [0, 1]), name="x"
        ),
        ValueError,
        ["edges: pre indices", "[0, 3)", "got [0, 3]"],
        id="edgelist-pre-too-large",
    ),
    pytest.param(
        lambda c: c.net.connect(
            "inp", "hid", ns.SpikeSynapse(), ns.EdgeList([0, 1], [-1, 1]), name="x"
        ),
        ValueError,
        ["edges: post indices", "[0, 2)", "got [-1, 1]"],
        id="edgelist-post-negative",
    ),
    pytest.param(
        lambda c: c.net.connect(
            "inp", "hid", ns.SpikeSynapse(), ns.EdgeList([0, 1, 2], [0, 1]), name="x"
        ),
        ValueError,
        ["edges: ", "equal length", "(3,) and (2,)"],
        id="edgelist-unequal-lengths",
    ),
    pytest.param(
        lambda c: c.net.connect(
            "inp", "hid", ns.SpikeSynapse(), ns.EdgeList([0.0, 1.0], [0, 1]), name="x"
        ),
        TypeError,
        ["edges: ", "integers", "float64"],
        id="edgelist-float-indices",
    ),
    pytest.param(
        lambda c: c.net.connect("inp", "hid", ns.SpikeSynapse(), 3, name="x"),
        TypeError,
        ["connectivity: ", "Random(p, seed)", "got 3"],
        id="connectivity-not-a-rule",
    ),
    pytest.param(
        lambda c: c.net.connect("out", "hid", ns.SpikeSynapse()),
        ValueError,
        ["synapse: SpikeSynapse", "'out'", "no spiking channel", "Fire()"],
        id="spike-synapse-without-fire",
    ),
    pytest.param(
        lambda c: c.net.connect("inp", "hid", ns.Leak(), name="x"),
        TypeError,
        ["synapse: ", "got Leak("],
        id="synapse-not-a-synapse",
    ),
    pytest.param(
        lambda c: c.net.add_population("a", 2, ns.Leak()),
        TypeError,
        ["channels: ", "list", "got Leak(", "pass [Leak("],
        id="channels-not-a-list",
    ),
    pytest.param(
        lambda c: c.net.add_population("a", 2, ["Leak"]),
        TypeError,
        ["channels: ", "got 'Leak'"],
        id="channels-a-string",
    ),
    pytest.param(
        lambda c: c.net.add_population("a", 2, [ns.Leak(), ns.Leak()]),
        ValueError,
        ["channels: ", "unique", "['Leak', 'Leak']"],
        id="channels-duplicate",
    ),
    pytest.param(
        lambda c: c.net.add_population("a", 0, [ns.Leak()]),
        ValueError,
        ["n: ", "positive integer", "got 0"],
        id="population-size-zero",
    ),
    pytest.param(
        lambda c: c.net.add_population("a", 2.0, [ns.Leak()]),
        ValueError,
        ["n: ", "positive integer", "got 2.0"],
        id="population-size-float",
    ),
    pytest.param(
        lambda c: c.net.add_population("hid", 2, [ns.Leak()]),
        ValueError,
        ["name: 'hid' already exists"],
        id="duplicate-population",
    ),
    pytest.param(
        lambda c: c.net.connect("inp", "hid", ns.SpikeSynapse()),
        ValueError,
        ["name: 'inp->hid' already exists", "name="],
        id="duplicate-projection",
    ),
    pytest.param(
        lambda c: c.net.connect("inp", "hid", ns.SpikeSynapse(), name="out"),
        ValueError,
        ["name: 'out' already exists"],
        id="projection-named-like-population",
    ),
    pytest.param(
        lambda c: c.net.add_population("inp->hid", 2, [ns.Leak()]),
        ValueError,
        ["name: 'inp->hid' already exists"],
        id="population-named-like-projection",
    ),
    pytest.param(
        lambda c: c.net.add_population("a.b", 2, [ns.Leak()]),
        ValueError,
        ["name: ", "without '.'", "got 'a.b'"],
        id="name-with-dot",
    ),
    pytest.param(
        lambda c: ns.compile("net"),
        TypeError,
        ["net: ", "Network", "str"],
        id="compile-not-a-network",
    ),
    pytest.param(
        lambda c: ns.compile(ns.Network()),
        ValueError,
        ["net: ", "no populations"],
        id="compile-empty-network",
    ),
    pytest.param(
        lambda c: _run(c, {}, t_max=None),
        ValueError,
        ["t_max: required"],
        id="no-t_max-and-no-inputs",
    ),
]


@pytest.mark.parametrize("call, exc, fragments", STRUCTURE)
def test_bad_structure(ctx, call, exc, fragments):
    names = (list(ctx.net.populations), list(ctx.net.projections))
    _check(ctx, call, exc, fragments)
    # A refused element leaves the description unchanged.
    assert (list(ctx.net.populations), list(ctx.net.projections)) == names

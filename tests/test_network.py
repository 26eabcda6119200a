"""Network description and the compiled run: connectivity, parameters, recordings.

Oracles:
- edge lists written out from their definition (all-to-all pre-major:
  edge k = (k // n_post, k % n_post));
- initial values drawn by hand with the key split in the documented order;
- one step of DESIGN.md's update, written out in numpy float64 (Fire, then the
  synapse trace, then the backward-Euler voltage solve), compared sample by
  sample at rtol 1e-12;
- equivalent descriptions (sparse vs dense, per-edge vs shared, stimulate vs
  inputs, batched vs unbatched, padded vs short inputs) at rtol 1e-12 or exactly;
- central finite differences for gradients of quantities affine or smooth in the
  parameter (rtol 1e-6).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
import neurosim.mechanisms.base as mechanisms_base

RTOL = 1e-12
# Radius 1 µm and this length give an area of 1e5 µm²: 1 nA is 1 µA/cm².
SEED_LENGTH = 1.0 / (2 * np.pi * 1e-5)


def _lif():
    return [ns.Leak(gLeak=0.01, eLeak=0.0), ns.Fire(vth=1.0, vreset=0.0)]


def _leak():
    return [ns.Leak(gLeak=0.01, eLeak=0.0)]


def _two_pops(n_pre, n_post, connectivity="all_to_all", **syn):
    net = ns.Network()
    net.add_population("a", n_pre, _lif(), length=SEED_LENGTH, v=0.0)
    net.add_population("b", n_post, _leak(), length=SEED_LENGTH, v=0.0)
    net.connect("a", "b", ns.SpikeSynapse(**syn), connectivity)
    return net


def _drive(t, n, seed=0, mean=20.0):
    """Input currents (nA) strong enough to make LIF neurons fire repeatedly."""
    return mean * np.random.default_rng(seed).uniform(0.5, 1.5, (t, n))


# ----------------------------------------------------------------------------- connectivity
def _edges(net, name):
    proj = net.projections[name]
    return np.asarray(proj.pre_idx), np.asarray(proj.post_idx)


def test_all_to_all_edges_are_pre_major():
    pre, post = _edges(_two_pops(3, 4), "a->b")
    k = np.arange(12)
    np.testing.assert_array_equal(pre, k // 4)
    np.testing.assert_array_equal(post, k % 4)


def test_all_to_all_matrix_is_read_pre_major():
    net = _two_pops(3, 4)
    m = np.arange(12.0).reshape(3, 4)
    net.set("a->b", "SpikeSynapse_gS", m)
    pre, post = _edges(net, "a->b")
    np.testing.assert_array_equal(net.get("a->b", "SpikeSynapse_gS"), m)
    # a flat vector is read pre-major: edge k = (pre[k], post[k])
    net.set("a->b", "SpikeSynapse_gS", m[pre, post])
    np.testing.assert_array_equal(net.get("a->b", "SpikeSynapse_gS"), m)


def test_all_to_all_weight_reaches_the_right_neuron():
    """Only a[1] fires and only gS[1, 2] is non-zero: only b[2] moves."""
    net = _two_pops(3, 4)
    m = np.zeros((3, 4))
    m[1, 2] = -5.0
    net.set("a->b", "SpikeSynapse_gS", m)
    net.record("b", "v")
    sim = ns.compile(net, dt=0.01)
    x = np.zeros((30, 3))
    x[:, 1] = 20.0
    v = np.asarray(sim.run(sim.init_params(), {"a": x})["b.v"])
    assert np.all(v[:, [0, 1, 3]] == 0.0)
    assert v[-1, 2] > 0.0


def test_one_to_one_edges():
    pre, post = _edges(_two_pops(5, 5, "one_to_one"), "a->b")
    np.testing.assert_array_equal(pre, np.arange(5))
    np.testing.assert_array_equal(post, np.arange(5))


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_random_edges_are_seeded_and_near_p(p):
    e1 = _edges(_two_pops(100, 100, ns.Random(p, seed=3)), "a->b")
    e2 = _edges(_two_pops(100, 100, ns.Random(p, seed=3)), "a->b")
    e3 = _edges(_two_pops(100, 100, ns.Random(p, seed=4)), "a->b")
    np.testing.assert_array_equal(e1[0], e2[0])
    np.testing.assert_array_equal(e1[1], e2[1])
    assert not (e1[0].shape == e3[0].shape and np.all(e1[1] == e3[1]))
    # 10_000 Bernoulli(p) draws: std of the fraction <= 0.005; allow 6 std.
    assert abs(e1[0].size / 10_000 - p) < 0.03
    pairs = set(zip(e1[0].tolist(), e1[1].tolist(), strict=True))
    assert len(pairs) == e1[0].size  # no duplicate edges
    assert e1[0].min() >= 0 and e1[0].max() < 100 and e1[1].max() < 100


@pytest.mark.parametrize("p, n_edges", [(0.0, 0), (1.0, 12)])
def test_random_extremes(p, n_edges):
    pre, _ = _edges(_two_pops(3, 4, ns.Random(p)), "a->b")
    assert pre.size == n_edges


def test_edge_list_is_kept_in_order():
    pre, post = [2, 0, 2, 1], [0, 3, 3, 0]
    got = _edges(_two_pops(3, 4, ns.EdgeList(pre, post)), "a->b")
    np.testing.assert_array_equal(got[0], pre)
    np.testing.assert_array_equal(got[1], post)


# ----------------------------------------------------------------------------- set / get
def test_set_get_shared_and_per_element(tiny_net):
    tiny_net.set("hid", "Leak_gLeak", 0.02)
    tiny_net.set("out", "Leak_gLeak", [0.02, 0.03])
    tiny_net.set("inp->hid", "SpikeSynapse_gS", np.arange(6.0))
    assert tiny_net.get("hid", "Leak_gLeak") == 0.02
    np.testing.assert_array_equal(tiny_net.get("out", "Leak_gLeak"), [0.02, 0.03])
    params = ns.compile(tiny_net).init_params()
    assert params["hid"]["Leak_gLeak"].shape == ()
    assert float(params["hid"]["Leak_gLeak"]) == 0.02
    np.testing.assert_array_equal(params["out"]["Leak_gLeak"], [0.02, 0.03])
    np.testing.assert_array_equal(
        params["inp->hid"]["SpikeSynapse_gS"], np.arange(6).reshape(3, 2)
    )
    # Initial states: shared and per element broadcast to one value per neuron.
    tiny_net.set("hid", "v", [0.5, -0.5])
    state = ns.compile(tiny_net).init_state(params)
    np.testing.assert_array_equal(state["hid"]["v"], [0.5, -0.5])
    np.testing.assert_array_equal(state["out"]["v"], [0.0, 0.0])


def test_per_element_equal_values_match_shared(tiny_net):
    x = _drive(40, 3)
    sim = ns.compile(tiny_net, dt=0.01)
    shared = sim.run(sim.init_params(), {"inp": x})["out.v"]
    tiny_net.set("hid->out", "SpikeSynapse_gS", np.full(4, -20.0))
    tiny_net.set("hid", "Leak_gLeak", np.full(2, 0.01))
    sim = ns.compile(tiny_net, dt=0.01)
    params = sim.init_params()
    assert params["hid->out"]["SpikeSynapse_gS"].shape == (2, 2)
    np.testing.assert_allclose(sim.run(params, {"inp": x})["out.v"], shared, rtol=RTOL)


def test_initialisers_draw_from_the_key_in_order():
    """Populations first, then projections in the order added (not by name)."""
    net = ns.Network()
    net.add_population("a", 3, _lif())
    net.add_population("b", 2, _lif())
    net.add_population("c", 4, _leak())
    net.set("c", "Leak_eLeak", ns.uniform(-1.0, 1.0))
    net.connect("b", "c", ns.SpikeSynapse())  # added first
    net.connect("a", "c", ns.SpikeSynapse())
    net.set("a->c", "SpikeSynapse_gS", ns.normal(-2.0, 3.0))
    net.set("b->c", "SpikeSynapse_gS", ns.normal(1.0, 10.0))
    params = ns.compile(net).init_params(jax.random.key(1701))

    key = jax.random.key(1701)
    key, sub = jax.random.split(key)
    e_leak = jax.random.uniform(sub, (4,), jnp.float64, minval=-1.0, maxval=1.0)
    key, sub = jax.random.split(key)
    g_bc = 1.0 + jax.random.normal(sub, (2, 4), jnp.float64) * 10.0
    key, sub = jax.random.split(key)
    g_ac = -2.0 + jax.random.normal(sub, (3, 4), jnp.float64) * 3.0

    np.testing.assert_array_equal(params["c"]["Leak_eLeak"], e_leak)
    np.testing.assert_array_equal(params["b->c"]["SpikeSynapse_gS"], g_bc)
    np.testing.assert_array_equal(params["a->c"]["SpikeSynapse_gS"], g_ac)


# ----------------------------------------------------------------------------- step by hand
def _hand_run(x, g, n_steps, dt, fire, g_leak, e_leak, cap, area, s_decay=10.0):
    """DESIGN.md's step for point neurons in one vector, float64, step by step.

    ``g[i, j]``: current-based SpikeSynapse weight (µS) from neuron i to neuron j.
    Returns v, spikes and the presynaptic traces s, each (n_steps + 1, n).
    """
    n = g.shape[0]
    v, s = np.zeros(n), np.zeros(n)
    out = {"v": [v], "spikes": [np.zeros(n)], "s": [s]}
    for k in range(n_steps):
        i_ext = x[k] if k < len(x) else np.zeros(n)
        spike = fire & (v >= 1.0)  # Fire: vth = 1, from the start-of-step voltage
        v = np.where(spike, 0.0, v)  # reset to vreset = 0
        s = np.where(spike, 1.0, s - s_decay * s * dt)  # trace sees this step's spike
        i_syn = s @ g  # nA, outward-positive
        a = 1000.0 * g_leak / cap
        b = (1000.0 * g_leak * e_leak + (i_ext - i_syn) * 1e5 / area) / cap
        v = (v + dt * b) / (1.0 + dt * a)  # backward Euler
        out["v"].append(v)
        out["spikes"].append(spike.astype(float))
        out["s"].append(s)
    return {k: np.stack(val) for k, val in out.items()}


def _feedforward():
    """a (1 LIF, driven) -> b (1 Leak, radius 2, capacitance 2), gS = -5 µS."""
    net = ns.Network()
    net.add_population("a", 1, _lif(), length=SEED_LENGTH, v=0.0)
    net.add_population(
        "b", 1, _leak(), length=SEED_LENGTH, radius=2.0, capacitance=2.0, v=0.0
    )
    net.connect("a", "b", ns.SpikeSynapse(gS=-5.0))
    for spec in ("a.v", "a.spikes", "a.Fire_spikes", "a->b.SpikeSynapse_s", "b.v"):
        net.record(*spec.split("."))
    area = 2 * np.pi * np.array([1.0, 2.0]) * SEED_LENGTH
    hand = dict(
        g=np.array([[0.0, -5.0], [0.0, 0.0]]),
        fire=np.array([True, False]),
        cap=np.array([1.0, 2.0]),
        area=area,
    )
    return net, hand, ("a", 0), ("b", 0), "a->b"


def _recurrent():
    """a (2 LIF) onto itself; a[0] driven, inhibits itself and excites a[1]."""
    net = ns.Network()
    net.add_population("a", 2, _lif(), length=SEED_LENGTH, v=0.0)
    net.connect("a", "a", ns.SpikeSynapse())
    g = np.array([[2.0, -5.0], [0.0, 0.0]])
    net.set("a->a", "SpikeSynapse_gS", g)
    for spec in ("a.v", "a.spikes", "a.Fire_spikes", "a->a.SpikeSynapse_s"):
        net.record(*spec.split("."))
    hand = dict(
        g=g,
        fire=np.array([True, True]),
        cap=np.ones(2),
        area=np.full(2, 2 * np.pi * SEED_LENGTH),
    )
    return net, hand, ("a", 0), ("a", 1), "a->a"


@pytest.mark.parametrize("build", [_feedforward, _recurrent])
def test_step_matches_hand_computation(build):
    net, hand, (pre, i), (post, j), proj = build()
    dt, t_max = 0.01, 0.3
    sim = ns.compile(net, dt=dt)
    n_steps = int(t_max // dt + 1)
    x = np.zeros((n_steps, 2))
    x[:, 0] = 20.0  # a[0] alone is driven; v_inf = 2 > vth = 1
    inputs = {"a": x[:, : net.size("a")]}
    if "b" in net.populations:
        inputs["b"] = x[:, 1:]
    rec = sim.run(sim.init_params(), inputs, t_max=t_max)
    want = _hand_run(x, n_steps=n_steps, dt=dt, g_leak=0.01, e_leak=0.0, **hand)

    v_pre, v_post = (
        np.asarray(rec[f"{pre}.v"])[:, i],
        np.asarray(rec[f"{post}.v"])[:, j],
    )
    spikes = np.asarray(rec[f"{pre}.spikes"])[:, i]
    np.testing.assert_allclose(v_pre, want["v"][:, 0], rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(v_post, want["v"][:, 1], rtol=RTOL, atol=1e-14)
    np.testing.assert_array_equal(spikes, want["spikes"][:, 0])
    np.testing.assert_array_equal(rec[f"{pre}.Fire_spikes"][:, i], spikes)
    np.testing.assert_allclose(
        rec[f"{proj}.SpikeSynapse_s"][:, i], want["s"][:, 0], rtol=RTOL, atol=1e-15
    )
    # Same-step timing: the first spike is at step k (sample k + 1); the
    # postsynaptic voltage is exactly 0 before and moves within that same step.
    assert spikes.sum() >= 2
    k = int(np.argmax(spikes)) - 1
    assert np.all(v_post[: k + 1] == 0.0)
    assert v_post[k + 1] > 0.0


# ----------------------------------------------------------------------------- shapes, time
def test_unbatched_and_batched_traces(seed_sim):
    sim = seed_sim
    params = sim.init_params(jax.random.key(0))
    x = (
        _drive(30, 100, seed=1, mean=40.0)[None]
        * np.array([1.0, 0.5, 1.5])[:, None, None]
    )
    batched = np.asarray(sim.run(params, {"inp": x})["out.v"])
    assert batched.shape == (3, 31, 2)
    for b in range(3):
        single = np.asarray(sim.run(params, {"inp": x[b]})["out.v"])
        assert single.shape == (31, 2)
        np.testing.assert_allclose(batched[b], single, rtol=1e-10, atol=1e-12)
    assert np.ptp(batched[:, -1], axis=0).max() > 0  # the three samples differ


@pytest.mark.parametrize(
    # Floor division in floats: 0.3 // 0.1 == 2.0, so t_max = 0.3 is 3 steps, not 4.
    "dt, t_max",
    [(0.1, 0.3), (1e-3, 0.2), (0.5, 0.2)],
)
def test_number_of_samples_follows_jaxley(tiny_net, dt, t_max):
    sim = ns.compile(tiny_net, dt=dt)
    rec = sim.run(sim.init_params(), t_max=t_max)
    assert rec["out.v"].shape == (int(t_max // dt + 1) + 1, 2)


def test_short_stimulus_is_padded_with_zeros(tiny_net):
    sim = ns.compile(tiny_net, dt=0.01)
    params = sim.init_params()
    x = _drive(12, 3, mean=60.0)
    n_steps = int(0.4 // 0.01 + 1)
    short = sim.run(params, {"inp": x}, t_max=0.4)["out.v"]
    padded = np.concatenate([x, np.zeros((n_steps - 12, 3))])
    full = sim.run(params, {"inp": padded}, t_max=0.4)["out.v"]
    np.testing.assert_array_equal(short, full)
    assert short.shape == (n_steps + 1, 2)
    # Not padded by repeating the last sample: that would keep driving inp.
    repeated = np.concatenate([x, np.repeat(x[-1:], n_steps - 12, 0)])
    assert not np.allclose(sim.run(params, {"inp": repeated})["out.v"], full)


def test_stimulate_matches_inputs(tiny_net):
    sim = ns.compile(tiny_net, dt=0.01)
    params = sim.init_params()
    current = np.linspace(10.0, 40.0, 30)
    x = _drive(30, 3, seed=2, mean=5.0)
    want = sim.run(params, {"inp": np.repeat(current[:, None], 3, 1) + x})["out.v"]
    tiny_net.stimulate("inp", current)
    sim = ns.compile(tiny_net, dt=0.01)
    got = sim.run(params, {"inp": x})["out.v"]
    np.testing.assert_allclose(got, want, rtol=RTOL)
    assert np.abs(np.asarray(got)).max() > 0


def test_describe(tiny_net):
    tiny_net.connect("inp", "out", ns.SpikeSynapse(), ns.Random(1.0), name="skip")
    assert tiny_net.describe() == {
        "populations": {"inp": 3, "hid": 2, "out": 2},
        "projections": [
            {
                "name": "inp->hid",
                "pre": "inp",
                "post": "hid",
                "synapse": "SpikeSynapse",
                "n_edges": 6,
            },
            {
                "name": "hid->out",
                "pre": "hid",
                "post": "out",
                "synapse": "SpikeSynapse",
                "n_edges": 4,
            },
            {
                "name": "skip",
                "pre": "inp",
                "post": "out",
                "synapse": "SpikeSynapse",
                "n_edges": 6,
            },
        ],
    }


# ----------------------------------------------------------------------------- equivalences
@pytest.mark.parametrize("dense_limit", [None, 0], ids=["matrix", "segment-sum"])
def test_sparse_matches_dense_with_zeros(monkeypatch, dense_limit):
    n_pre, n_post = 20, 5
    sparse = _two_pops(n_pre, n_post, ns.Random(0.3, seed=5))
    pre, post = _edges(sparse, "a->b")
    w = np.random.default_rng(0).normal(0.0, 5.0, pre.size)
    sparse.set("a->b", "SpikeSynapse_gS", w)
    dense = _two_pops(n_pre, n_post)
    m = np.zeros((n_pre, n_post))
    m[pre, post] = w
    dense.set("a->b", "SpikeSynapse_gS", m)
    x = {"a": _drive(40, n_pre, seed=3)}
    out = []
    for net in (dense, sparse):
        net.record("b", "v")
        if net is sparse and dense_limit is not None:
            monkeypatch.setattr(mechanisms_base, "DENSE_LIMIT", dense_limit)
        sim = ns.compile(net, dt=0.01)
        out.append(np.asarray(sim.run(sim.init_params(), x)["b.v"]))
    np.testing.assert_allclose(out[1], out[0], rtol=RTOL, atol=1e-12)
    assert np.abs(out[0]).max() > 0.1


def test_per_edge_decay_matches_shared():
    x = {"a": _drive(40, 3, seed=4)}
    out = []
    for decay in (7.0, np.full(6, 7.0)):
        net = _two_pops(3, 2, gS=-2.0)
        net.set("a->b", "SpikeSynapse_s_decay", decay)
        net.record("b", "v")
        net.record("a->b", "SpikeSynapse_s")
        sim = ns.compile(net, dt=0.01)
        out.append(sim.run(sim.init_params(), x))
    shared, per_edge = out
    np.testing.assert_allclose(per_edge["b.v"], shared["b.v"], rtol=RTOL)
    # The per-edge trace lives per edge; the shared one per presynaptic neuron.
    pre, _ = _edges(net, "a->b")
    s_shared, s_edge = shared["a->b.SpikeSynapse_s"], per_edge["a->b.SpikeSynapse_s"]
    assert s_shared.shape == (41, 3) and s_edge.shape == (41, 6)
    np.testing.assert_allclose(s_edge, np.asarray(s_shared)[:, pre], rtol=RTOL)
    # The rate set (7/ms, not the default 10/ms) is the one used: one step after a
    # spike without a new one, s = 1 - 7 dt.
    s = np.asarray(s_edge)
    after = s[1:][(s[:-1] == 1.0) & (s[1:] < 1.0)]
    assert after.size > 0
    np.testing.assert_allclose(after, 1.0 - 7.0 * 0.01, rtol=RTOL)


def test_float32_by_default_without_x64(tiny_net):
    with jax.enable_x64(False):
        assert jnp.result_type(float) == jnp.float32
        sim = ns.compile(tiny_net, dt=0.01)
        params = sim.init_params()
        rec = sim.run(params, {"inp": _drive(20, 3)})
        dtypes = {x.dtype for x in jax.tree_util.tree_leaves((params, rec.traces))}
        dtypes |= {x.dtype for x in jax.tree_util.tree_leaves(rec.final_state)}
        assert dtypes == {jnp.dtype(jnp.float32)}


# ----------------------------------------------------------------------------- transforms
def _seed_loss(sim, x):
    def loss(params):
        return jnp.sum(sim.run(params, {"inp": x})["out.v"] ** 2)

    return loss


def test_grad_through_run_matches_finite_differences(seed_sim):
    sim = seed_sim
    params = sim.init_params(jax.random.key(1701))
    x = _drive(30, 100, seed=6, mean=40.0)
    loss = _seed_loss(sim, x)
    grads = jax.grad(loss)(params)
    leaves = jax.tree_util.tree_leaves(grads)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in leaves)
    # Spike times do not depend on the output side: the loss is smooth there.
    for target, name, eps in [
        ("inp->out", "SpikeSynapse_gS", 1e-3),
        ("out", "Leak_gLeak", 1e-6),
    ]:
        p = params[target][name]
        u = jnp.asarray(np.random.default_rng(0).normal(size=np.shape(p)))

        def shifted(h, target=target, name=name, p=p, u=u):
            q = {t: dict(d) for t, d in params.items()}
            q[target][name] = p + h * u
            return loss(q)

        fd = (shifted(eps) - shifted(-eps)) / (2 * eps)
        ad = jnp.sum(grads[target][name] * u)
        assert abs(float(ad)) > 0
        assert float(ad) == pytest.approx(float(fd), rel=1e-6)


def test_vmap_over_params(seed_sim):
    sim = seed_sim
    keys = jax.random.split(jax.random.key(0), 3)
    stacked = jax.vmap(sim.init_params)(keys)
    x = _drive(30, 100, seed=7, mean=40.0)
    got = jax.vmap(lambda p: sim.run(p, {"inp": x})["out.v"])(stacked)
    assert got.shape == (3, 31, 2)
    for b, key in enumerate(keys):
        want = sim.run(sim.init_params(key), {"inp": x})["out.v"]
        np.testing.assert_allclose(got[b], want, rtol=1e-10, atol=1e-12)
    assert np.ptp(np.asarray(got)[:, -1, 0]) > 0

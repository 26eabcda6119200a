"""Synaptic delays (`ns.Delayed`): oracles in float64. A delay of d steps shifts
the postsynaptic response by exactly d steps; per-edge delays equal the undelayed
network driven by hand-shifted spike trains; a delay of 0 changes nothing, bit for
bit; delays are traced values (no retracing per value) under `jit`, `vmap` and
`grad`; the fractional relaxation's gradient matches finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxley.synapses import IonotropicSynapse

import neurosim as ns
import neurosim.mechanisms.base as mechanisms_base
from neurosim.mechanisms.jaxley import as_synapse

DT, N_STEPS, MAX_STEPS = 0.1, 60, 12
PROJ = "pre->post"

SYNAPSES = {
    "spike": lambda: ns.SpikeSynapse(gS=0.05, s_decay=2.0),
    "spike_identity": lambda: ns.SpikeSynapse(gS=0.05, s_decay=1.0 / DT),
    "exp": lambda: ns.ExpSynapse(gS=0.3, tau=2.0),
    "exp_conductance": lambda: ns.ExpSynapse(gS=0.005, conductance=True),
    "alpha": lambda: ns.AlphaSynapse(gS=0.4, tau=1.5),
}


def _net(synapse, n_pre=1, n_post=1, connectivity="all_to_all", delay=None):
    """Spike sources onto passive cells at rest (-70 mV); records `post.v`."""
    net = ns.Network()
    net.add_population("pre", n_pre, [ns.SpikeSource()])
    net.add_population("post", n_post, [ns.Leak()], v=-70.0)
    net.connect("pre", "post", synapse, connectivity)
    if delay is not None:
        net.set(PROJ, f"{synapse.name}_delay", delay)
    net.record("post", "v")
    return net


def _run(net, x, params=None, dt=DT):
    sim = ns.compile(net, dt=dt)
    rec = sim.run(sim.init_params() if params is None else params, {"pre": x})
    return np.asarray(rec["post.v"])


def _spikes(n_pre=1, batch=None, seed=0, p=0.15):
    rng = np.random.default_rng(seed)
    shape = (N_STEPS, n_pre) if batch is None else (batch, N_STEPS, n_pre)
    return (rng.random(shape) < p).astype(float)


def _shift(x, d, axis=-2):
    """`x` delayed by `d` steps along time (zeros first)."""
    out = np.zeros_like(x)
    src = [slice(None)] * x.ndim
    dst = [slice(None)] * x.ndim
    src[axis], dst[axis] = slice(0, x.shape[axis] - d), slice(d, None)
    out[tuple(dst)] = x[tuple(src)]
    return out


@pytest.mark.parametrize("kind", ["spike", "exp"])
@pytest.mark.parametrize("steps", [1, 2, 5, MAX_STEPS])
def test_delay_shifts_the_response_by_whole_steps(kind, steps):
    """One spike source, one synapse: with a delay of d ms the voltage trace is the
    undelayed one shifted by exactly d / dt steps (rest before)."""
    x = np.zeros((N_STEPS, 1))
    x[[3, 9, 10], 0] = 1.0
    ref = _run(_net(SYNAPSES[kind]()), x)
    syn = ns.Delayed(SYNAPSES[kind](), max_steps=MAX_STEPS, delay=steps * DT)
    got = _run(_net(syn), x)
    want = np.concatenate([np.full((steps, 1), -70.0), ref[:-steps]])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.ptp(ref) > 0.1
    # the same shift is the undelayed network on a shifted input
    np.testing.assert_allclose(got, _run(_net(SYNAPSES[kind]()), _shift(x, steps)))


@pytest.mark.parametrize("kind", sorted(SYNAPSES))
def test_zero_delay_is_bit_identical(kind):
    """A delay of 0 (shared, dense projection, batched) gives the unwrapped
    synapse's traces bit for bit, whatever the buffer length."""
    x = _spikes(3, batch=2)
    ref = _run(_net(SYNAPSES[kind](), 3, 2), x)
    for max_steps in (0, 4):
        got = _run(_net(ns.Delayed(SYNAPSES[kind](), max_steps=max_steps), 3, 2), x)
        np.testing.assert_array_equal(got, ref)


def test_zero_per_edge_delays_equal_the_undelayed_network():
    """Per-edge delays of 0 sum over the edge list instead of a matrix product:
    the same traces to rounding."""
    x = _spikes(3, batch=2)
    ref = _run(_net(SYNAPSES["exp"](), 3, 2), x)
    got = _run(
        _net(ns.Delayed(SYNAPSES["exp"](), max_steps=3), 3, 2, delay=np.zeros((3, 2))),
        x,
    )
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def _per_edge_reference(kind, x, pre_idx, post_idx, steps, n_post, monkeypatch):
    """The undelayed synapse driven by one source per edge whose spike train is the
    edge's presynaptic train shifted by hand by the edge's delay."""
    n_edges = len(pre_idx)
    shifted = np.stack(
        [_shift(x[..., pre_idx[k]], int(steps[k]), axis=-1) for k in range(n_edges)],
        axis=-1,
    )
    monkeypatch.setattr(mechanisms_base, "DENSE_LIMIT", 0)  # sum over edges, as below
    net = _net(
        SYNAPSES[kind](), n_edges, n_post, ns.EdgeList(np.arange(n_edges), post_idx)
    )
    return _run(net, shifted)


@pytest.mark.parametrize("kind", ["spike", "exp", "alpha"])
def test_per_edge_delays_equal_hand_shifted_spike_trains(kind, monkeypatch):
    """Three sources onto two cells, all-to-all, one delay per edge (0 to
    `MAX_STEPS` steps): the voltages equal the undelayed synapse on hand-shifted
    trains, one per edge (a per-cell trace becomes a per-edge one)."""
    rng = np.random.default_rng(1)
    x = _spikes(3, batch=2, seed=2)
    steps = rng.integers(0, MAX_STEPS + 1, (3, 2))
    syn = ns.Delayed(SYNAPSES[kind](), max_steps=MAX_STEPS)
    got = _run(_net(syn, 3, 2, delay=steps * DT), x)
    pre_idx, post_idx = np.repeat(np.arange(3), 2), np.tile(np.arange(2), 3)
    want = _per_edge_reference(
        kind, x, pre_idx, post_idx, steps.reshape(-1), 2, monkeypatch
    )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.ptp(got) > 0.1


def test_per_edge_delays_on_an_edge_list(monkeypatch):
    """The same oracle on a sparse edge list with a repeated presynaptic cell."""
    pre_idx, post_idx = np.array([0, 0, 2, 1, 2]), np.array([1, 0, 0, 1, 1])
    steps = np.array([3, 0, 7, 1, 12])
    x = _spikes(3, batch=2, seed=3)
    syn = ns.Delayed(SYNAPSES["spike"](), max_steps=MAX_STEPS)
    net = _net(syn, 3, 2, ns.EdgeList(pre_idx, post_idx), delay=steps * DT)
    got = _run(net, x)
    want = _per_edge_reference("spike", x, pre_idx, post_idx, steps, 2, monkeypatch)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_shared_delay_keeps_the_buffer_per_presynaptic_cell_and_clips():
    """The buffer is `max_steps` states per presynaptic cell; a delay past the
    maximum acts as the maximum."""
    syn = ns.Delayed(SYNAPSES["exp"](), max_steps=4, delay=1.0)  # 10 steps > 4
    net = _net(syn, 3, 2)
    net.record(PROJ, "ExpSynapse_buffer4")
    sim = ns.compile(net, dt=DT)
    assert sim.layouts[PROJ] == {
        "ExpSynapse_I": "post",
        "ExpSynapse_delayed": "pre",
        **{f"ExpSynapse_buffer{j}": "pre" for j in range(1, 5)},
    }
    x = _spikes(3)
    rec = sim.run(sim.init_params(), {"pre": x})
    buf = np.asarray(rec[f"{PROJ}.ExpSynapse_buffer4"])[1:]  # after each step
    np.testing.assert_array_equal(buf, _shift(x, 3))  # slot j: j - 1 steps before
    want = _run(_net(SYNAPSES["exp"](), 3, 2), _shift(x, 4))
    np.testing.assert_allclose(np.asarray(rec["post.v"]), want, rtol=1e-12, atol=1e-12)


def _delay_sim(per_edge):
    syn = ns.Delayed(SYNAPSES["exp"](), max_steps=MAX_STEPS)
    net = _net(syn, 3, 2, delay=np.zeros((3, 2)) if per_edge else None)
    sim = ns.compile(net, dt=DT)
    return sim, sim.init_params()


def _with(params, **values):
    out = {t: dict(v) for t, v in params.items()}
    out[PROJ].update(values)
    return out


@pytest.mark.parametrize("per_edge", [False, True])
def test_delays_are_traced_under_jit_vmap_and_grad(per_edge):
    """Delays are array parameters with a static maximum: one trace serves every
    delay value under `jit`, `vmap` maps over delays, and `grad` with respect to
    the weights runs (and matches finite differences) at any delay."""
    sim, params = _delay_sim(per_edge)
    x = _spikes(3, seed=4)
    traces = []

    def voltages(delay):
        traces.append(1)
        return sim.run(_with(params, ExpSynapse_delay=delay), {"pre": x})["post.v"]

    shape = (3, 2) if per_edge else ()
    delays = [np.full(shape, d * DT) for d in (0, 3, 7)]
    f = jax.jit(voltages)
    outs = [np.asarray(f(jnp.asarray(d))) for d in delays]
    assert len(traces) == 1
    for d, out in zip((0, 3, 7), outs, strict=True):
        want = _run(_net(SYNAPSES["exp"](), 3, 2), _shift(x, d))
        np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
    mapped = jax.vmap(voltages)(jnp.asarray(np.stack(delays)))
    np.testing.assert_allclose(
        np.asarray(mapped), np.stack(outs), rtol=1e-12, atol=1e-12
    )

    def loss(w, delay):
        traces.append(1)
        p = _with(params, ExpSynapse_gS=w, ExpSynapse_delay=delay)
        v = sim.run(p, {"pre": x})["post.v"]
        return jnp.sum((v + 69.0) ** 2)

    traces.clear()
    grad = jax.jit(jax.grad(loss))
    w0 = jnp.asarray(np.random.default_rng(5).normal(0.0, 0.3, (3, 2)))
    for d in delays:
        g = np.asarray(grad(w0, jnp.asarray(d)))
        h = 1e-6
        e = np.zeros((3, 2))
        e[1, 0] = h
        fd = (loss(w0 + e, d) - loss(w0 - e, d)) / (2 * h)
        assert g[1, 0] == pytest.approx(float(fd), rel=1e-6)
    assert len(traces) == 1 + 2 * len(delays)  # one trace for grad, then the fd calls


def test_delayed_checks_its_arguments():
    with pytest.raises(TypeError, match="neurosim synapse"):
        ns.Delayed(ns.Leak())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="spike-driven"):
        ns.Delayed(as_synapse(IonotropicSynapse()))
    with pytest.raises(TypeError, match="max_steps"):
        ns.Delayed(ns.ExpSynapse(), max_steps=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_steps"):
        ns.Delayed(ns.ExpSynapse(), max_steps=-1)
    with pytest.raises(ValueError, match="delay"):
        ns.Delayed(ns.ExpSynapse(), max_steps=2, delay=-0.1)
    syn = ns.Delayed(ns.ExpSynapse(), max_steps=2).change_name("fast")
    assert set(syn.synapse_params) == {"fast_gS", "fast_tau", "fast_delay"}
    assert set(syn.synapse_states) == {
        "fast_I",
        "fast_delayed",
        "fast_buffer1",
        "fast_buffer2",
    }


def _fractional_loss(per_edge):
    """A squared error of the voltages as a function of the (trainable,
    fractional) delays."""
    syn = ns.Delayed(ns.ExpSynapse(gS=0.01, tau=2.0), MAX_STEPS, fractional=True)
    net = _net(syn, 3, 2, delay=np.full((3, 2), 0.3) if per_edge else None)
    net.make_trainable(PROJ, "ExpSynapse_delay", per_element=per_edge)
    sim = ns.compile(net, dt=DT)
    params = sim.init_params()
    x = _spikes(3, seed=6, p=0.2)
    target = np.random.default_rng(7).normal(-69.5, 0.3, (N_STEPS + 1, 2))

    def loss(delay):
        v = sim.run(_with(params, ExpSynapse_delay=delay), {"pre": x})["post.v"]
        return jnp.sum((v - target) ** 2)

    return loss


@pytest.mark.parametrize("per_edge", [False, True])
def test_gradient_of_a_fractional_delay_matches_finite_differences(per_edge):
    """With `fractional=True` the voltages are linear in each delay between whole
    steps, so `jax.grad` equals central differences of the relaxed forward pass."""
    loss = _fractional_loss(per_edge)
    rng = np.random.default_rng(8)
    d0 = rng.uniform(0.05, 1.0, (3, 2)) if per_edge else np.asarray(0.37)
    g = np.asarray(jax.grad(loss)(jnp.asarray(d0)))
    h = 1e-7
    for idx in [(0, 0), (1, 1), (2, 0)] if per_edge else [()]:
        e = np.zeros_like(d0)
        e[idx] = h
        fd = (loss(jnp.asarray(d0 + e)) - loss(jnp.asarray(d0 - e))) / (2 * h)
        assert g[idx] == pytest.approx(float(fd), rel=1e-6)
        assert abs(g[idx]) > 1.0


@pytest.mark.parametrize("kind", ["spike", "exp"])
def test_fractional_delay_at_whole_steps_is_the_integer_delay(kind):
    """At a whole number of steps the interpolation weight is exactly zero: the
    relaxed forward pass is the integer delay, bit for bit where `delay / dt` is
    exact (dt = 0.125 ms), to rounding otherwise; halfway it is the mean."""
    x = _spikes(3, batch=2, seed=9)
    for dt in (0.125, 0.1):
        for steps in (0, 3, MAX_STEPS):
            runs = {
                frac: _run(
                    _net(
                        ns.Delayed(SYNAPSES[kind](), MAX_STEPS, steps * dt, frac), 3, 2
                    ),
                    x,
                    dt=dt,
                )
                for frac in (False, True)
            }
            if dt == 0.125:
                np.testing.assert_array_equal(runs[True], runs[False])
            else:
                np.testing.assert_allclose(runs[True], runs[False], rtol=1e-9)
    if kind == "exp":  # linear in the spikes: halfway is the mean of the two
        dt = 0.125
        half, lo, hi = (
            _run(
                _net(ns.Delayed(SYNAPSES[kind](), MAX_STEPS, s * dt, f), 3, 2), x, dt=dt
            )
            for s, f in ((2.5, True), (2, False), (3, False))
        )
        np.testing.assert_allclose(half, (lo + hi) / 2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("per_edge", [False, True])
def test_fractional_read_has_the_derivative_of_its_formula(per_edge):
    """The interpolated read keeps the buffer, not the gathered slots, for its
    backward pass: its derivatives with respect to the buffer (what flows on to
    the presynaptic cells) and to the delays equal those of the formula, at
    whole steps, between them and at the maximum, under `vmap` over a batch."""
    from neurosim.mechanisms.delays import _interpolated

    rng = np.random.default_rng(10)
    max_steps = 5
    history = jnp.asarray(rng.random((3, max_steps + 1, 4)))  # batch of buffers
    if per_edge:
        cells = np.array([0, 0, 1, 3, 2, 3])
        steps = jnp.asarray([0.0, 2.0, 2.4, 4.7, 5.0, 1.5])
    else:
        cells, steps = slice(None), jnp.asarray(2.3)
    ct = jnp.asarray(rng.normal(size=(3, 6 if per_edge else 4)))

    def formula(h, s):
        lo = jnp.floor(s)
        f = s - lo
        lo = lo.astype(jnp.int32)
        hi = jnp.minimum(lo + 1, max_steps)
        return (1.0 - f) * h[lo, cells] + f * h[hi, cells]

    def loss(read):
        def batch(h, s):
            return jnp.sum(ct * jax.vmap(read, in_axes=(0, None))(h, s))

        return jax.grad(batch, argnums=(0, 1))(history, steps)

    got = loss(lambda h, s: _interpolated(h, s, cells, max_steps))
    want = loss(formula)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-12, atol=1e-12)
    assert np.abs(np.asarray(got[1])).max() > 0.1

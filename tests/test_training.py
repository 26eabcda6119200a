"""Trainable parameters, the layer sugar, fit (determinism, checkpoints), io."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import neurosim as ns
from neurosim.layers import LENGTH_UNIT_AREA


def _task(n=64, t=20, n_in=8, seed=0):
    """Class k has a higher spike rate on input block k."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    rate = np.where((np.arange(n_in) < n_in // 2)[None] == (y[:, None] == 0), 0.5, 0.05)
    x = (rng.random((n, t, n_in)) < rate[:, None, :]).astype(np.float64)
    return x, y


def _sim(**kw):
    net = ns.lif_stack([8, 12, 2], tau_mem=5.0, init_gain=2.0, **kw)
    return ns.compile(net, dt=1.0, solver="exp_euler")


def test_lif_stack_equals_the_circuit_built_by_hand():
    net = ns.lif_stack([5, 4, 3], recurrent=True, tau_mem=10.0, vth=1.0, dt=1.0)
    hand = ns.Network()
    geo = {"length": LENGTH_UNIT_AREA, "radius": 1.0, "v": 0.0}
    hand.add_population("in", 5, [ns.SpikeSource()], **geo)
    leak = ns.Leak(gLeak=ns.tau_to_gleak(10.0), eLeak=0.0)
    hand.add_population("h1", 4, [leak, ns.Fire(vth=1.0, vreset=0.0)], **geo)
    hand.add_population("out", 3, [leak], **geo)
    for pre, post in (("in", "h1"), ("h1", "h1"), ("h1", "out")):
        hand.connect(pre, post, ns.SpikeSynapse(s_decay=1.0))
    hand.record("out", "v")
    sim_a, sim_b = ns.compile(net, dt=1.0), ns.compile(hand, dt=1.0)
    params = sim_a.init_params(jax.random.key(3))
    assert set(params) == set(sim_b.init_params())
    x = (jax.random.uniform(jax.random.key(4), (2, 25, 5)) < 0.4).astype(float)
    va = sim_a.run(params, {"in": x})["out.v"]
    vb = sim_b.run(params, {"in": x})["out.v"]
    assert float(jnp.max(jnp.abs(va))) > 0.1
    np.testing.assert_array_equal(np.asarray(va), np.asarray(vb))


@pytest.mark.parametrize("transform", [None, "softplus", "log", "decay"])
def test_transforms_round_trip(transform):
    net = ns.Network()
    net.add_population("p", 3, [ns.Leak(gLeak=0.02)], capacitance=2.0)
    net.set("p", "Leak_gLeak", np.array([0.01, 0.02, 0.05]))
    net.make_trainable("p", "Leak_gLeak", transform=transform)
    sim = ns.compile(net, dt=0.5)
    params = sim.init_params()
    theta = ns.get_trainable(sim, params)
    back = ns.set_trainable(sim, params, theta)
    np.testing.assert_allclose(
        back["p"]["Leak_gLeak"], params["p"]["Leak_gLeak"], rtol=1e-10
    )
    if transform == "decay":  # alpha = exp(-dt / tau), tau = 1e-3 C / gLeak
        tau = 1e-3 * 2.0 / np.array([0.01, 0.02, 0.05])
        np.testing.assert_allclose(theta["p"]["Leak_gLeak"], np.exp(-0.5 / tau))
    # Any unconstrained value maps to a positive conductance.
    wild = {"p": {"Leak_gLeak": jnp.array([-50.0, 0.0, 50.0])}}
    if transform is not None:
        assert np.all(
            np.asarray(ns.set_trainable(sim, params, wild)["p"]["Leak_gLeak"]) > 0
        )


def test_per_element_and_shared_trainables():
    net = ns.lif_stack([4, 3, 2], train_tau=True, per_neuron=False)
    sim = ns.compile(net, dt=1.0)
    theta = ns.get_trainable(sim, sim.init_params(jax.random.key(0)))
    assert theta["h1"]["Leak_gLeak"].shape == ()
    assert theta["in->h1"]["SpikeSynapse_gS"].shape == (4, 3)  # (n_pre, n_post)
    assert ns.count_trainable(theta) == 12 + 6 + 1 + 1
    mask = ns.trainable_mask(sim, sim.init_params(jax.random.key(0)))
    assert mask["in->h1"]["SpikeSynapse_gS"] and not mask["h1"]["Fire_vreset"]


def test_fit_learns_and_is_deterministic():
    x, y = _task()
    sim = _sim()
    params = sim.init_params(jax.random.key(0))
    kw = dict(
        objective="sum_voltage",
        optimizer=optax.adam(0.05),
        epochs=8,
        batch_size=16,
        seed=1,
        validation_split=0.25,
        progress=False,
    )
    a = ns.fit(sim, params, x, y, **kw)
    b = ns.fit(sim, params, x, y, **kw)
    assert a.history["loss"] == b.history["loss"]
    assert a.history["val_accuracy"] == b.history["val_accuracy"]
    assert a.history["loss"][-1] < a.history["loss"][0]
    assert a.history["accuracy"][-1] >= 0.8


def test_checkpoint_resume_gives_the_same_history(tmp_path):
    x, y = _task()
    sim = _sim()
    params = sim.init_params(jax.random.key(0))
    kw = dict(
        objective="sum_voltage",
        optimizer=optax.adam(0.05),
        batch_size=16,
        seed=2,
        progress=False,
    )
    straight = ns.fit(sim, params, x, y, epochs=4, **kw)
    ns.fit(sim, params, x, y, epochs=2, checkpoint_dir=tmp_path, **kw)
    assert (tmp_path / "checkpoint.npz").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    resumed = ns.fit(sim, params, x, y, epochs=4, checkpoint_dir=tmp_path, **kw)
    np.testing.assert_allclose(
        resumed.history["loss"], straight.history["loss"], rtol=1e-12
    )
    other = ns.compile(ns.lif_stack([8, 5, 2]), dt=1.0)
    with pytest.raises(ns.CheckpointError, match="theta"):
        ns.fit(
            other,
            other.init_params(jax.random.key(0)),
            x,
            y,
            epochs=5,
            checkpoint_dir=tmp_path,
            progress=False,
        )


def test_early_stopping_returns_the_best_epoch():
    x, y = _task()
    sim = _sim()
    res = ns.fit(
        sim,
        sim.init_params(jax.random.key(0)),
        x,
        y,
        objective="sum_voltage",
        optimizer=optax.sgd(0.0),
        epochs=10,
        batch_size=16,
        patience=2,
        validation=(x[:16], y[:16]),
        progress=False,
    )
    assert len(res.history["loss"]) == 3 and res.best_epoch == 0


def test_fit_stops_with_a_named_error_on_nan():
    x, y = _task()
    sim = _sim(train_tau=False)
    with pytest.raises(FloatingPointError, match="epoch 0"):
        ns.fit(
            sim,
            sim.init_params(jax.random.key(0)),
            x,
            y,
            objective="sum_voltage",
            optimizer=optax.sgd(np.inf),
            epochs=2,
            batch_size=16,
            progress=False,
        )


def test_fit_rejects_bad_input():
    x, y = _task()
    sim = _sim()
    p = sim.init_params(jax.random.key(0))
    with pytest.raises(ValueError, match="x has 64 samples but y has 10"):
        ns.fit(sim, p, x, y[:10], progress=False)
    with pytest.raises(ValueError, match="loss: unknown 'maximum'"):
        ns.fit(sim, p, x, y, objective="maximum", progress=False)
    with pytest.raises(ValueError, match="epochs"):
        ns.fit(sim, p, x, y, epochs=0, progress=False)


def test_params_and_checkpoints_round_trip(tmp_path):
    sim = _sim()
    params = sim.init_params(jax.random.key(0))
    ns.save_params(tmp_path / "p.npz", params)
    back = ns.load_params(tmp_path / "p.npz")
    for t in params:
        for k in params[t]:
            np.testing.assert_array_equal(np.asarray(params[t][k]), back[t][k])
    state = {"theta": params, "epoch": 3, "opt": optax.adam(0.1).init(params)}
    ns.save_checkpoint(tmp_path / "c.npz", state)
    assert ns.load_checkpoint(tmp_path / "c.npz", like=state)["epoch"] == 3
    (tmp_path / "junk.pkl").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ValueError, match="is a pickle"):
        ns.load_checkpoint(tmp_path / "junk.pkl")
    with pytest.raises(FileNotFoundError, match="path"):
        ns.load_params(tmp_path / "missing.npz")

"""Online rules (`neurosim.train.rules`): e-prop equals BPTT where the theory
says so, and both rules learn a small task."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import neurosim as ns
from neurosim.train.rules import (
    OnlineRule,
    eligibility_feedback,
    eprop,
    last_window_feedback,
    random_feedback,
)

W = "SpikeSynapse_gS"


def _batch(n_in=6, batch=4, steps=40, p=0.3):
    rng = np.random.default_rng(0)
    x = jnp.asarray((rng.random((batch, steps, n_in)) < p).astype(float))
    return x, jnp.asarray([0, 1, 2, 1])


def _bptt(sim, params, x, labels):
    """`jax.grad` through `run` of the rule's loss, and the hidden spike rate."""

    def loss(p):
        rec = sim.run(p, {"in": x}, record=["out.v", "h1.spikes"])
        logp = jax.nn.log_softmax(rec["out.v"][:, 1:], axis=-1)
        target = jax.nn.one_hot(labels, 3)[:, None, :]
        return -jnp.mean(jnp.sum(target * logp, axis=-1)), jnp.mean(rec["h1.spikes"])

    (value, rate), grads = jax.value_and_grad(loss, has_aux=True)(params)
    return value, rate, grads


def _excitatory(params, gain=0.4):
    """Input weights made negative (exciting: outward-positive currents)."""
    w = params["in->h1"][W]
    params["in->h1"] = {**params["in->h1"], W: -gain * jnp.abs(w)}
    return params


def _rel(a, b):
    return float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(b)))


@pytest.mark.parametrize(("tau_syn", "gain"), [(None, 0.4), (5.0, 0.08)])
def test_eprop_equals_bptt_for_one_feedforward_layer(tau_syn, gain):
    """One non-recurrent hidden LIF layer feeding a leaky readout, the loss a sum
    of per-step readout terms: with symmetric feedback, the readout-filtered
    (`F_kappa`) trace and the eligibility vector of both the membrane and the
    outgoing synaptic trace, through the reset, the e-prop update of the input
    and the readout weights equals BPTT's gradient over the whole run (40 steps,
    the hidden layer firing), float64, to rounding."""
    sim = ns.compile(ns.lif_stack([6, 5, 3], tau_syn=tau_syn, init_gain=4.0), dt=1.0)
    params = _excitatory(sim.init_params(jax.random.key(0)), gain)
    x, labels = _batch()
    grads, loss, _ = eprop(sim).gradients(params, {"in": x}, labels)
    value, rate, exact = _bptt(sim, params, x, labels)
    assert 0.05 < float(rate) < 0.5  # spikes and resets take part
    assert float(loss) == pytest.approx(float(value), rel=1e-12)
    for proj in ("in->h1", "h1->out"):
        assert _rel(grads[proj][W], exact[proj][W]) < 1e-10, proj


def test_the_equality_can_fail():
    """Random feedback, or a recurrent layer (e-prop drops the paths through
    other neurons), no longer gives BPTT's hidden gradient; the readout's stays
    exact."""
    x, labels = _batch()
    sim = ns.compile(ns.lif_stack([6, 5, 3], init_gain=4.0), dt=1.0)
    params = _excitatory(sim.init_params(jax.random.key(0)))
    exact = _bptt(sim, params, x, labels)[2]
    grads, *_ = random_feedback(sim, jax.random.key(1)).gradients(
        params, {"in": x}, labels
    )
    assert _rel(grads["in->h1"][W], exact["in->h1"][W]) > 0.1
    assert _rel(grads["h1->out"][W], exact["h1->out"][W]) < 1e-10
    sim = ns.compile(ns.lif_stack([6, 5, 3], init_gain=4.0, recurrent=True), dt=1.0)
    params = _excitatory(sim.init_params(jax.random.key(0)))
    exact = _bptt(sim, params, x, labels)[2]
    grads, *_ = eprop(sim).gradients(params, {"in": x}, labels)
    assert _rel(grads["h1->h1"][W], exact["h1->h1"][W]) > 1e-6
    cos = jnp.vdot(grads["in->h1"][W], exact["in->h1"][W]) / (
        jnp.linalg.norm(grads["in->h1"][W]) * jnp.linalg.norm(exact["in->h1"][W])
    )
    assert float(cos) > 0.5


def test_hook_state_and_memory():
    """The rule is a plain `StepHook`: `run` returns its carry, whose size does
    not depend on the number of steps."""
    sim = ns.compile(ns.lif_stack([6, 5, 3], recurrent=True), dt=1.0)
    params = sim.init_params(jax.random.key(0))
    rule = eprop(sim)
    assert isinstance(rule, OnlineRule)
    sizes = []
    for steps in (10, 50):
        x, labels = _batch(steps=steps)
        rec = sim.run(params, {"in": x}, hook=rule.hook(labels))
        leaves = jax.tree_util.tree_leaves(rec.hook_state)
        sizes.append(sum(leaf.size for leaf in leaves))
        assert set(rec.hook_state.grads) == {"in->h1", "h1->h1", "h1->out"}
        assert rec.hook_state.grads["in->h1"][W].shape == (6, 5)
    assert sizes[0] == sizes[1]


def test_rules_check_the_network():
    sim = ns.compile(ns.lif_stack([4, 6, 5, 2]), dt=1.0)
    with pytest.raises(ValueError, match="random_feedback"):
        eprop(sim)
    assert random_feedback(sim, jax.random.key(0)).trained() == [
        "in->h1",
        "h1->h2",
        "h2->out",
    ]
    spiking = ns.compile(ns.lif_stack([4, 6, 2], readout="spiking"), dt=1.0)
    with pytest.raises(ValueError, match="readout"):
        eprop(spiking)
    with pytest.raises(TypeError, match="Simulator"):
        eprop("net")


def _gaussians(n, seed, steps=30):
    """Two Gaussian clouds in the plane, rate-coded on 4 spiking inputs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    sign = np.where(y[:, None] == 1, 1.0, -1.0)
    pts = rng.normal(0.0, 0.8, (n, 2)) + sign * np.array([1.0, 0.5])
    f = np.clip(np.concatenate([(2 + pts) / 4, (2 - pts) / 4], axis=1), 0, 1)
    spikes = rng.random((n, steps, 4)) < 0.5 * f[:, None, :]
    return jnp.asarray(spikes.astype(float)), jnp.asarray(y)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (eprop, 0.859375),
        (lambda sim: random_feedback(sim, jax.random.key(1)), 0.828125),
    ],
    ids=["eprop", "random_feedback"],
)
def test_online_training_learns(make, expected):
    """`fit(..., rule=...)` trains through the same loop as BPTT."""
    x, y = _gaussians(512, 0)
    x_test, y_test = _gaussians(256, 1)
    net = ns.lif_stack([4, 16, 2], tau_syn=5.0, init_gain=2.0, train_tau=False)
    sim = ns.compile(net, dt=1.0)
    params = sim.init_params(jax.random.key(0))
    rule = make(sim)

    def accuracy(p):
        return ns.evaluate(sim, p, x_test, y_test, objective=rule.objective)["accuracy"]

    before = accuracy(params)
    result = ns.fit(
        sim,
        params,
        x,
        y,
        rule=rule,
        objective=rule.objective,
        optimizer=optax.adam(0.05),
        epochs=3,
        batch_size=32,
        progress=False,
    )
    after = accuracy(result.params)
    assert before < 0.65
    assert after == pytest.approx(expected, abs=1e-9)
    assert after > 0.8
    assert result.history["loss"][-1] < 0.8 * result.history["loss"][0]
    assert result.history["accuracy"][-1] > 0.75


def test_recurrent_eprop_points_along_bptt():
    """A recurrent hidden layer: e-prop drops the paths through other hidden
    neurons, yet its update stays close in direction to BPTT's gradient (mean
    cosine similarity over 20 random batches; about 0.995 here)."""
    sim = ns.compile(ns.lif_stack([10, 16, 3], recurrent=True), dt=1.0)
    params = _excitatory(sim.init_params(jax.random.key(0)), 0.6)
    rule = eprop(sim)

    def loss(p, x, labels):
        logp = jax.nn.log_softmax(sim.run(p, {"in": x})["out.v"][:, 1:], axis=-1)
        target = jax.nn.one_hot(labels, 3)[:, None, :]
        return -jnp.mean(jnp.sum(target * logp, axis=-1))

    bptt = jax.jit(jax.grad(loss))
    cosines = {"in->h1": [], "h1->h1": []}
    for i in range(20):
        rng = np.random.default_rng(100 + i)
        x = jnp.asarray((rng.random((4, 30, 10)) < 0.3).astype(float))
        labels = jnp.asarray(rng.integers(0, 3, 4))
        grads, *_ = rule.gradients(params, {"in": x}, labels)
        exact = bptt(params, x, labels)
        for proj, values in cosines.items():
            a, b = grads[proj][W], exact[proj][W]
            values.append(
                float(jnp.vdot(a, b) / jnp.linalg.norm(a) / jnp.linalg.norm(b))
            )
    for proj, values in cosines.items():
        assert np.mean(values) > 0.9, proj


def _spiking(n_in=6, n_hidden=5, n_out=3, slope=0.5):
    net = ns.lif_stack(
        [n_in, n_hidden, n_out],
        tau_syn=5.0,
        readout="spiking",
        train_tau=False,
        surrogate=ns.FastSigmoid(slope=slope),
    )
    sim = ns.compile(net, dt=1.0)
    params = sim.init_params(jax.random.key(0))
    for proj, gain in (("in->h1", 0.1), ("h1->out", 0.2)):  # both layers fire
        params[proj] = {**params[proj], W: -gain * jnp.abs(params[proj][W])}
    return sim, params


def _history(sim, params, x, slope=0.5):
    """Spikes and surrogate derivatives of every step, from a recorded run:
    the surrogate is taken at the start-of-step voltage (recorded sample t)."""
    rec = sim.run(
        params, {"in": x}, record=["h1.v", "h1.spikes", "out.v", "out.spikes"]
    )
    spikes = {"in": x, "h1": rec["h1.spikes"][:, 1:], "out": rec["out.spikes"][:, 1:]}
    psi = {
        pop: 1.0 / (slope * jnp.abs(rec[f"{pop}.v"][:, :-1] - 1.0) + 1.0) ** 2
        for pop in ("h1", "out")
    }
    return spikes, psi


def _gain(sim, params, pop):
    """`-gain k` per neuron: the voltage step per unit activity and weight."""
    rule = eligibility_feedback(sim, jax.random.key(0))
    return -rule.membrane(sim.prepare(params), pop)[1]


def test_eligibility_feedback_is_the_seed_formula():
    """The online rule equals seed 001's update computed from the whole stored
    history: traces sum_t gamma^(T-1-t) psi_t x_t, the rate error at the end,
    sent to the hidden layer through the random matrix."""
    sim, params = _spiking()
    x, labels = _batch(steps=40, p=0.5)
    rule = eligibility_feedback(sim, jax.random.key(2), tau_trace=20.0)
    grads, loss, acc = rule.gradients(params, {"in": x}, labels)
    spikes, psi = _history(sim, params, x)
    steps = x.shape[1]
    decay = jnp.exp(-(steps - 1 - jnp.arange(steps, dtype=float)) / 20.0)
    onehot = jax.nn.one_hot(labels, 3)
    err = jnp.mean(spikes["out"], axis=1) - onehot
    assert 0.05 < float(jnp.mean(spikes["h1"])) < 0.6
    assert 0.02 < float(jnp.mean(spikes["out"])) < 0.6
    for proj, pre, pop, signal in (
        ("h1->out", "h1", "out", err),
        ("in->h1", "in", "h1", err @ rule.feedback["h1"].T),
    ):
        trace = jnp.einsum("t,bti,btj->bij", decay, spikes[pre], psi[pop])
        expected = jnp.einsum("bj,bij->ij", signal, trace) / 4
        expected = expected * _gain(sim, params, pop)[None, :]
        assert _rel(grads[proj][W], expected) < 1e-12, proj
    counts = jnp.sum(spikes["out"], axis=1)
    ce = -jnp.mean(jnp.sum(onehot * jax.nn.log_softmax(counts, axis=-1), axis=-1))
    assert float(loss) == pytest.approx(float(ce), rel=1e-12)
    right = jnp.mean((jnp.argmax(counts, axis=-1) == labels).astype(float))
    assert float(acc) == pytest.approx(float(right))


def test_last_window_feedback_is_the_seed_formula():
    """The last-window rule: window means of presynaptic spikes and surrogate
    derivatives, the window's rate error, as seed 001's `random_bp_step`."""
    sim, params = _spiking()
    x, labels = _batch(steps=30, p=0.5)
    window = 7
    rule = last_window_feedback(sim, jax.random.key(2), window=window)
    grads, _, _ = rule.gradients(params, {"in": x}, labels)
    spikes, psi = _history(sim, params, x)
    mean = {k: jnp.mean(v[:, -window:], axis=1) for k, v in {**spikes}.items()}
    psi_bar = {k: jnp.mean(v[:, -window:], axis=1) for k, v in psi.items()}
    delta = (mean["out"] - jax.nn.one_hot(labels, 3)) * psi_bar["out"]
    hidden = psi_bar["h1"] * (delta @ rule.feedback["h1"].T)
    for proj, pre, pop, signal in (
        ("h1->out", "h1", "out", delta),
        ("in->h1", "in", "h1", hidden),
    ):
        expected = jnp.einsum("bj,bi->ij", signal, mean[pre]) / 4
        expected = expected * _gain(sim, params, pop)[None, :]
        assert _rel(grads[proj][W], expected) < 1e-12, proj


def test_feedback_rules_carry_no_history():
    """The carry's size does not depend on the number of steps."""
    sim, params = _spiking()
    for rule in (
        eligibility_feedback(sim, jax.random.key(0)),
        last_window_feedback(sim, jax.random.key(0), window=5),
    ):
        sizes = []
        for steps in (10, 60):
            x, labels = _batch(steps=steps)
            rec = sim.run(params, {"in": x}, record=[], hook=rule.hook(labels, steps))
            sizes.append(sum(a.size for a in jax.tree_util.tree_leaves(rec.hook_state)))
        assert sizes[0] == sizes[1]


def test_feedback_rules_check_their_arguments():
    sim, _ = _spiking()
    leaky = ns.compile(ns.lif_stack([4, 6, 2]), dt=1.0)
    with pytest.raises(ValueError, match="spiking readout"):
        eligibility_feedback(leaky, jax.random.key(0))
    recurrent = ns.compile(
        ns.lif_stack([4, 6, 2], readout="spiking", recurrent=True), dt=1.0
    )
    with pytest.raises(ValueError, match="feed-forward"):
        last_window_feedback(recurrent, jax.random.key(0))
    with pytest.raises(ValueError, match="window"):
        last_window_feedback(sim, jax.random.key(0), window=0)
    with pytest.raises(TypeError, match="key"):
        eligibility_feedback(sim, 3)
    with pytest.raises(ValueError, match="tau_trace"):
        eligibility_feedback(sim, jax.random.key(0), tau_trace=-1.0)


def test_fit_checks_the_rule():
    """A rule that cannot update every trainable parameter, or one built for
    another network, is refused before training."""
    x, y = _gaussians(64, 0)
    sim = ns.compile(ns.lif_stack([4, 8, 2]), dt=1.0)  # trainable tau too
    params = sim.init_params(jax.random.key(0))
    with pytest.raises(ValueError, match="Leak_gLeak"):
        ns.fit(sim, params, x, y, rule=eprop(sim), progress=False)
    other = ns.compile(ns.lif_stack([4, 8, 2], train_tau=False), dt=1.0)
    with pytest.raises(ValueError, match="another compiled network"):
        ns.fit(
            other,
            other.init_params(jax.random.key(0)),
            x,
            y,
            rule=eprop(sim),
            progress=False,
        )
    with pytest.raises(TypeError, match="rule"):
        ns.fit(sim, params, x, y, rule="eprop", progress=False)
    with pytest.raises(ValueError, match="regularizer"):
        ns.fit(
            other,
            other.init_params(jax.random.key(0)),
            x,
            y,
            rule=eprop(other),
            regularizer=lambda p, rec: 0.0,
            progress=False,
        )


def test_cli_refuses_a_bad_rule(tmp_path, capsys):
    from neurosim.cli import main

    for argv in (
        ["train", "mnist", "--rule", "backprop"],
        ["train", "yinyang", "--rule", "eprop"],
        ["train", "mnist", "--rule", "eprop", "--set", "readout=spiking"],
    ):
        assert main([*argv, "--out", str(tmp_path / "run")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "rule" in err, err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("rule", ["random-feedback", "last-window", "eprop"])
def test_quick_mnist_with_a_rule(rule, tmp_path):
    """`neurosim train mnist --rule RULE --quick` on a small hidden layer."""
    from neurosim.tasks import run_task

    metrics = run_task(
        "mnist",
        out=tmp_path,
        quick=True,
        overrides={"rule": rule, "hidden": [16]},
        progress=False,
    )
    assert metrics["rule"] == rule and metrics["config"]["recurrent"] is False
    assert metrics["config"]["tau_mem"] == 20.0 and metrics["config"]["tau_syn"] == 5.0
    readout = "leaky" if rule == "eprop" else "spiking"
    assert metrics["network"].endswith(f"{readout} readout")
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert (tmp_path / "metrics.json").is_file() and (tmp_path / "params.npz").is_file()

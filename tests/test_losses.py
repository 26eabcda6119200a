"""Losses, decoders, accuracies and regularisers.

Oracle: each docstring formula computed again in numpy float64 on random
inputs (seeded), and `optax` for label smoothing. Float64 runs compare at
rtol 1e-12, float32 runs at rtol 1e-5.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from neurosim.train.losses import (
    DECODE_KINDS,
    accuracy,
    decode,
    firing_rate_reg,
    last_voltage_ce,
    max_voltage_ce,
    per_step_accuracy,
    per_step_ce,
    spike_count_ce,
    spread_penalty,
    sum_voltage_ce,
)

B, T, C = 6, 9, 4


def _rtol(dtype):
    return 1e-12 if dtype == jnp.float64 else 1e-5


def _data(seed=0):
    rng = np.random.default_rng(seed)
    v = rng.normal(0.0, 2.0, (B, T, C))
    spikes = (rng.uniform(size=(B, T, C)) < 0.3).astype(np.float64)
    labels = rng.integers(0, C, B)
    targets = rng.integers(0, C, (B, T))
    return v, spikes, labels, targets


def _np_log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _np_ce(logits, labels):
    return -np.mean(_np_log_softmax(logits)[np.arange(len(labels)), labels])


NP_DECODE = {
    "max": lambda x: x.max(axis=1),
    "count": lambda x: x.sum(axis=1),
    "sum": lambda x: x.sum(axis=1),
    "last": lambda x: x[:, -1, :],
}

LOSSES = {
    "max_voltage_ce": (max_voltage_ce, "max"),
    "spike_count_ce": (spike_count_ce, "count"),
    "sum_voltage_ce": (sum_voltage_ce, "sum"),
    "last_voltage_ce": (last_voltage_ce, "last"),
}


# ---------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_decoded_losses_match_numpy(name, dtype):
    fn, kind = LOSSES[name]
    v, spikes, labels, _ = _data()
    x = spikes if kind == "count" else v
    got = fn(jnp.asarray(x, dtype), jnp.asarray(labels))
    assert got.shape == () and got.dtype == dtype
    np.testing.assert_allclose(
        float(got), _np_ce(NP_DECODE[kind](x), labels), rtol=_rtol(dtype)
    )


def test_max_voltage_ce_is_seed_003_formula():
    # The seed: maximums = max over time; log_softmax over classes;
    # -mean(take_along_axis(logp, labels[:, None], 1)).
    v, _, labels, _ = _data(1)
    v, labels = jnp.asarray(v), jnp.asarray(labels)
    logp = jax.nn.log_softmax(jnp.max(v, axis=1), axis=1)
    seed = -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))
    np.testing.assert_allclose(float(max_voltage_ce(v, labels)), float(seed), rtol=1e-6)


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3, 1.0])
def test_label_smoothing_matches_optax(smoothing, dtype):
    v, _, labels, _ = _data(2)
    logits = jnp.asarray(v.sum(axis=1), dtype)
    one_hot = jax.nn.one_hot(jnp.asarray(labels), C, dtype=dtype)
    ref = jnp.mean(
        optax.softmax_cross_entropy(logits, optax.smooth_labels(one_hot, smoothing))
    )
    got = sum_voltage_ce(jnp.asarray(v, dtype), jnp.asarray(labels), smoothing)
    np.testing.assert_allclose(float(got), float(ref), rtol=_rtol(dtype))
    # and in numpy: q = (1 - eps) onehot + eps / C
    q = (1 - smoothing) * np.eye(C)[labels] + smoothing / C
    np_ref = -np.mean(np.sum(q * _np_log_softmax(v.sum(axis=1)), axis=-1))
    np.testing.assert_allclose(float(got), np_ref, rtol=_rtol(dtype))


def test_label_smoothing_changes_the_loss():
    v, _, labels, _ = _data(3)
    plain = float(sum_voltage_ce(v, labels))
    assert float(sum_voltage_ce(v, labels, label_smoothing=0.3)) != pytest.approx(plain)


@pytest.mark.parametrize("kind", DECODE_KINDS)
def test_decode_matches_numpy(kind, dtype):
    v, spikes, _, _ = _data(4)
    x = spikes if kind == "count" else v
    got = decode(jnp.asarray(x, dtype), kind)
    assert got.shape == (B, C) and got.dtype == dtype
    np.testing.assert_allclose(np.asarray(got), NP_DECODE[kind](x), rtol=_rtol(dtype))


def test_decode_casts_boolean_spikes():
    _, spikes, labels, _ = _data(5)
    got = decode(jnp.asarray(spikes, bool), "count")
    assert jnp.issubdtype(got.dtype, jnp.floating)
    np.testing.assert_array_equal(np.asarray(got), spikes.sum(axis=1))
    np.testing.assert_allclose(
        float(spike_count_ce(jnp.asarray(spikes, jnp.int32), labels)),
        _np_ce(spikes.sum(axis=1), labels),
        rtol=1e-5,
    )


def test_accuracy_matches_numpy(dtype):
    v, _, labels, _ = _data(6)
    logits = v.max(axis=1)
    got = accuracy(jnp.asarray(logits, dtype), jnp.asarray(labels))
    assert got.dtype == dtype
    assert float(got) == pytest.approx(np.mean(logits.argmax(-1) == labels))
    # Constructed: rows 0, 1 right, row 2 wrong.
    logits = jnp.array([[3.0, 1.0], [0.0, 2.0], [5.0, 4.0]])
    assert float(accuracy(logits, jnp.array([0, 1, 1]))) == pytest.approx(2 / 3)


def test_per_step_ce_matches_numpy(dtype):
    v, _, _, targets = _data(7)
    logp = _np_log_softmax(v)
    nll = -np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    got = per_step_ce(jnp.asarray(v, dtype), jnp.asarray(targets))
    assert got.dtype == dtype
    np.testing.assert_allclose(float(got), nll.mean(), rtol=_rtol(dtype))

    rng = np.random.default_rng(8)
    mask = rng.uniform(size=(B, T)) < 0.4
    got = per_step_ce(jnp.asarray(v, dtype), jnp.asarray(targets), jnp.asarray(mask))
    np.testing.assert_allclose(float(got), nll[mask].mean(), rtol=_rtol(dtype))

    time_mask = np.arange(T) >= 5  # e.g. MTS-XOR's answer window
    got = per_step_ce(jnp.asarray(v, dtype), jnp.asarray(targets), time_mask)
    np.testing.assert_allclose(float(got), nll[:, time_mask].mean(), rtol=_rtol(dtype))

    weights = rng.uniform(size=(B, T))
    got = per_step_ce(
        jnp.asarray(v, dtype), jnp.asarray(targets), jnp.asarray(weights, dtype)
    )
    np.testing.assert_allclose(
        float(got), (nll * weights).sum() / weights.sum(), rtol=_rtol(dtype)
    )


def test_per_step_ce_with_one_label_per_sample():
    v, _, labels, _ = _data(9)
    held = np.broadcast_to(labels[:, None], (B, T))
    assert float(per_step_ce(v, labels)) == pytest.approx(float(per_step_ce(v, held)))


def test_per_step_ce_all_zero_mask_is_zero_with_finite_gradient():
    v, _, _, targets = _data(10)
    mask = jnp.zeros((B, T), bool)
    assert float(per_step_ce(v, targets, mask)) == 0.0
    g = jax.grad(per_step_ce)(jnp.asarray(v), jnp.asarray(targets), mask)
    assert bool(jnp.all(g == 0))


def test_per_step_accuracy_matches_numpy(dtype):
    v, _, _, targets = _data(11)
    v[:, :, 0] += 1.0  # make some steps right
    hit = v.argmax(-1) == targets
    got = per_step_accuracy(jnp.asarray(v, dtype), jnp.asarray(targets))
    assert got.dtype == dtype
    assert float(got) == pytest.approx(hit.mean())
    mask = np.arange(T) % 2 == 0
    got = per_step_accuracy(jnp.asarray(v, dtype), jnp.asarray(targets), mask)
    assert float(got) == pytest.approx(hit[:, mask].mean())


# ---------------------------------------------------------------------------
# regularisers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["l2", "upper", "lower"])
@pytest.mark.parametrize("target", [0.0, 0.3])
def test_firing_rate_reg_matches_numpy(kind, target, dtype):
    rng = np.random.default_rng(12)
    spikes = (rng.uniform(size=(B, T, 7)) < rng.uniform(size=7)).astype(np.float64)
    rates = spikes.mean(axis=(0, 1))
    diff = rates - target
    ref = {
        "l2": np.mean(diff**2),
        "upper": np.mean(np.maximum(diff, 0.0) ** 2),
        "lower": np.mean(np.maximum(-diff, 0.0) ** 2),
    }[kind]
    got = firing_rate_reg(jnp.asarray(spikes, dtype), target_rate=target, kind=kind)
    assert got.dtype == dtype
    np.testing.assert_allclose(float(got), ref, rtol=_rtol(dtype), atol=1e-15)


def test_firing_rate_reg_per_neuron_target():
    rng = np.random.default_rng(13)
    spikes = (rng.uniform(size=(B, T, 5)) < 0.2).astype(np.float32)
    target = np.linspace(0.0, 0.4, 5).astype(np.float32)
    ref = np.mean((spikes.mean(axis=(0, 1)) - target) ** 2)
    got = firing_rate_reg(jnp.asarray(spikes), jnp.asarray(target))
    np.testing.assert_allclose(float(got), ref, rtol=1e-5)
    # the default is a plain activity penalty, mean of squared rates
    np.testing.assert_allclose(
        float(firing_rate_reg(spikes)),
        np.mean(spikes.mean(axis=(0, 1)) ** 2),
        rtol=1e-5,
    )


def _np_spread(alpha, sd, upper, weight):
    return sd * np.linalg.norm(alpha - alpha.mean()) + weight * np.linalg.norm(
        np.maximum(alpha - upper, 0.0)
    )


def test_spread_penalty_matches_numpy(dtype):
    rng = np.random.default_rng(14)
    alpha = rng.uniform(0.7, 1.0, 32)
    for kw in [{}, {"l2_alpha_sd": 1e-3}, {"upper": 0.9, "upper_weight": 2.0}]:
        full = {"l2_alpha_sd": 0.1, "upper": 0.95, "upper_weight": 0.1, **kw}
        got = spread_penalty(jnp.asarray(alpha, dtype), **kw)
        assert got.dtype == dtype
        np.testing.assert_allclose(
            float(got),
            _np_spread(alpha, full["l2_alpha_sd"], full["upper"], full["upper_weight"]),
            rtol=_rtol(dtype),
        )


def test_spread_penalty_norms_are_not_squared():
    # alpha = (0, 1): ||alpha - mean|| = sqrt(0.5); relu(alpha - 0.5) = (0, 0.5).
    got = spread_penalty(
        jnp.array([0.0, 1.0]), l2_alpha_sd=1.0, upper=0.5, upper_weight=1.0
    )
    assert float(got) == pytest.approx(np.sqrt(0.5) + 0.5)


def test_spread_penalty_gradient_finite_where_norms_vanish(dtype):
    # All alpha equal and below `upper`: both norms are 0. The plain norm's
    # gradient is NaN there; the double-where one gives the subgradient 0.
    alpha = jnp.full((8,), 0.5, dtype)
    naive = jax.grad(lambda a: jnp.linalg.norm(a - jnp.mean(a)))(alpha)
    assert bool(jnp.all(jnp.isnan(naive)))
    g = jax.grad(spread_penalty)(alpha)
    assert bool(jnp.all(g == 0))
    assert float(spread_penalty(alpha)) == 0.0
    # Only the bound term active: gradient = upper_weight * relu(.)/||relu(.)||.
    alpha = jnp.asarray([0.5, 0.5, 0.99, 0.99], dtype)
    g = jax.grad(lambda a: spread_penalty(a, l2_alpha_sd=0.0))(alpha)
    np.testing.assert_allclose(
        np.asarray(g), [0.0, 0.0, 0.1 / np.sqrt(2), 0.1 / np.sqrt(2)], rtol=1e-6
    )


def test_spread_penalty_is_per_layer():
    with pytest.raises(ValueError, match=r"one layer's vector.*\(3, 4\).*sum"):
        spread_penalty(jnp.ones((3, 4)))
    layers = [jnp.array([0.9, 0.8]), jnp.array([0.96, 0.5, 0.7])]
    total = sum(spread_penalty(a) for a in layers)
    ref = sum(_np_spread(np.asarray(a, np.float64), 0.1, 0.95, 0.1) for a in layers)
    assert float(total) == pytest.approx(ref, rel=1e-6)


# ---------------------------------------------------------------------------
# gradients, transforms
# ---------------------------------------------------------------------------

SCALAR_FNS = {
    "max_voltage_ce": lambda x, y, t: max_voltage_ce(x, y),
    "spike_count_ce": lambda x, y, t: spike_count_ce(x, y),
    "sum_voltage_ce": lambda x, y, t: sum_voltage_ce(x, y, 0.3),
    "last_voltage_ce": lambda x, y, t: last_voltage_ce(x, y),
    "per_step_ce": lambda x, y, t: per_step_ce(x, t),
    "per_step_ce_masked": lambda x, y, t: per_step_ce(x, t, jnp.arange(T) > 3),
    "firing_rate_reg": lambda x, y, t: firing_rate_reg(x, 0.2, "upper"),
    "spread_penalty": lambda x, y, t: spread_penalty(x[0, 0]),
}


@pytest.mark.parametrize("name", sorted(SCALAR_FNS))
def test_gradients_finite_and_jit_consistent(name, dtype):
    fn = SCALAR_FNS[name]
    v, _, labels, targets = _data(15)
    v = jnp.asarray(v * 50.0, dtype)  # large logits: log_softmax must stay stable
    labels, targets = jnp.asarray(labels), jnp.asarray(targets)
    value, grad = jax.value_and_grad(fn)(v, labels, targets)
    assert grad.shape == v.shape and grad.dtype == dtype
    assert bool(jnp.all(jnp.isfinite(grad))) and bool(jnp.isfinite(value))
    jit_value = jax.jit(fn)(v, labels, targets)
    np.testing.assert_allclose(float(jit_value), float(value), rtol=_rtol(dtype) * 10)


def test_gradient_of_max_voltage_ce_vs_finite_differences():
    with jax.enable_x64(True):
        v, _, labels, _ = _data(16)
        v, labels = jnp.asarray(v), jnp.asarray(labels)
        g = jax.grad(max_voltage_ce)(v, labels)
        rng = np.random.default_rng(0)
        for _ in range(5):
            d = jnp.asarray(rng.normal(size=v.shape))
            eps = 1e-6
            fd = (
                max_voltage_ce(v + eps * d, labels)
                - max_voltage_ce(v - eps * d, labels)
            ) / (2 * eps)
            np.testing.assert_allclose(float(jnp.sum(g * d)), float(fd), rtol=1e-6)


def test_vmap_over_an_ensemble_axis():
    v, _, labels, _ = _data(17)
    ens = np.stack([v, 2 * v, -v])
    got = jax.vmap(max_voltage_ce, in_axes=(0, None))(
        jnp.asarray(ens), jnp.asarray(labels)
    )
    ref = [_np_ce(e.max(axis=1), labels) for e in ens]
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-5)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_shape_and_dtype_errors(name):
    fn, _ = LOSSES[name]
    v, _, labels, _ = _data()
    arg = "spikes" if name == "spike_count_ce" else "v"
    with pytest.raises(
        ValueError, match=r"`labels` must have shape .*\(6,\), got shape \(5,\)"
    ):
        fn(v, labels[:5])
    with pytest.raises(
        ValueError, match=r"`labels` must hold integer class indices, got dtype float"
    ):
        fn(v, labels.astype(np.float32))
    with pytest.raises(ValueError, match=r"`labels` must hold integer"):
        fn(v, np.eye(C)[labels].astype(np.float32))  # one-hot is not accepted
    with pytest.raises(
        ValueError,
        match=rf"`{arg}` must have shape \(batch, time, classes\).*got shape \(6, 4\)",
    ):
        fn(v[:, 0, :], labels)
    with pytest.raises(ValueError, match=r"must lie in \[0, 4\).*\[0, 4\]"):
        fn(v, np.where(labels == labels[0], 4, labels))


def test_errors_are_raised_at_trace_time_under_jit():
    v, _, labels, _ = _data()
    with pytest.raises(ValueError, match="`labels` must have shape"):
        jax.jit(max_voltage_ce)(v, labels[:3])
    with pytest.raises(ValueError, match=r"max_voltage_ce: `v` must have shape"):
        jax.jit(max_voltage_ce)(v[None], labels)


def test_per_step_and_mask_errors():
    v, _, labels, targets = _data()
    with pytest.raises(
        ValueError,
        match=r"per_step_ce: `targets` must have shape \(batch, time\).*\(6, 9\), got shape \(6, 8\)",
    ):
        per_step_ce(v, targets[:, :8])
    with pytest.raises(
        ValueError, match=r"per_step_ce: `mask` must have shape .*got shape \(9, 6\)"
    ):
        per_step_ce(v, targets, np.ones((T, B), bool))
    with pytest.raises(
        ValueError, match=r"per_step_accuracy: `targets` must hold integer"
    ):
        per_step_accuracy(v, targets.astype(np.float32))
    with pytest.raises(
        ValueError, match=r"accuracy: `logits` must have shape \(batch, classes\)"
    ):
        accuracy(v, labels)
    with pytest.raises(
        ValueError, match=r"accuracy: `labels` must have shape \(batch,\) = \(6,\)"
    ):
        accuracy(v[:, 0], targets)


def test_option_errors():
    v, spikes, labels, _ = _data()
    with pytest.raises(
        ValueError, match=r"unknown kind 'mean'.*'max', 'count', 'sum', 'last'"
    ):
        decode(v, "mean")
    with pytest.raises(ValueError, match=r"`label_smoothing` must lie in \[0, 1\]"):
        sum_voltage_ce(v, labels, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"unknown kind 'l1'.*'l2', 'upper', 'lower'"):
        firing_rate_reg(spikes, 0.1, kind="l1")
    with pytest.raises(ValueError, match=r"`target_rate` must be a finite number >= 0"):
        firing_rate_reg(spikes, -0.1)
    with pytest.raises(
        ValueError,
        match=r"`target_rate` must be a scalar or have shape \(neurons,\) = \(4,\), got shape \(3,\)",
    ):
        firing_rate_reg(spikes, jnp.zeros(3))
    with pytest.raises(
        ValueError,
        match=r"firing_rate_reg: `spikes` must have shape \(batch, time, neurons\)",
    ):
        firing_rate_reg(spikes[0], 0.1)
    with pytest.raises(ValueError, match=r"`l2_alpha_sd` must be a finite number >= 0"):
        spread_penalty(jnp.ones(3), l2_alpha_sd=-1.0)

"""Tests of neurosim.datasets.encoders: shapes, dtypes, values, keys and jit.

Oracles: the definitions in the docstrings, worked by hand, and np.convolve
for kernel_convolve (exact for spike inputs, 1e-5 relative for random floats).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurosim.datasets.encoders import (
    constant_current,
    kernel_convolve,
    latency,
    poisson,
    rate,
)

X = np.array([[0.0, 0.25, 1.0], [0.5, 0.75, 0.1]], dtype=np.float32)


def test_rate_repeats_input_at_every_step():
    out = rate(X, 7)
    assert out.shape == (2, 7, 3) and out.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(out), np.repeat(X[:, None, :], 7, axis=1))


def test_integer_input_becomes_default_float():
    out = rate(np.array([[1, 2]], dtype=np.int32), 3)
    assert jnp.issubdtype(out.dtype, jnp.floating)
    np.testing.assert_array_equal(np.asarray(out[0, 2]), [1.0, 2.0])


def test_constant_current_is_gain_times_input():
    out = constant_current(X, 4, gain=2.5)
    assert out.shape == (2, 4, 3)
    np.testing.assert_allclose(np.asarray(out[:, 3]), 2.5 * X, rtol=1e-6)


# All poisson calls share one shape, (2, N_STEPS, 3), so jax compiles its draw once.
N_STEPS = 10000


def test_poisson_shape_dtype_binary_and_deterministic():
    key = jax.random.key(0)
    a = poisson(X, N_STEPS, key)
    b = poisson(X, N_STEPS, key)
    c = poisson(X, N_STEPS, jax.random.key(1))
    assert a.shape == (2, N_STEPS, 3) and a.dtype == jnp.float32
    assert set(np.unique(np.asarray(a))) <= {0.0, 1.0}
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(c))


def test_poisson_rate_matches_probability():
    # 10000 Bernoulli draws per feature: the standard error is at most 0.005.
    out = np.asarray(poisson(X, N_STEPS, jax.random.key(3), max_rate=0.4))
    np.testing.assert_allclose(out.mean(axis=1), 0.4 * X, atol=0.025)
    assert out[0, :, 0].sum() == 0  # x = 0 never spikes
    full = np.asarray(poisson(np.ones((2, 3)), N_STEPS, jax.random.key(3)))
    assert full.min() == 1.0  # probability 1 always spikes


def test_latency_one_spike_ordered_by_value():
    x = np.array([[1.0, 0.8, 0.5, 0.2, 0.05, 0.01, 0.005, 0.0]], dtype=np.float32)
    out = np.asarray(latency(x, 50))
    assert out.shape == (1, 50, 8) and out.dtype == np.float32
    counts = out.sum(axis=1)[0]
    np.testing.assert_array_equal(counts, [1, 1, 1, 1, 1, 0, 0, 0])
    times = out[0].argmax(axis=0)[:5]
    assert times[0] == 0  # x = 1 fires first with normalize=True
    assert np.all(np.diff(times) > 0), times  # bigger value, earlier spike
    # Log code by hand: t = 49 ln(1/0.5) / ln(1/0.01) = 7.375 -> step 7.
    assert times[2] == 7


def test_latency_rc_model_by_hand():
    # t = tau ln(x / (x - threshold)): tau=5, threshold=0.5, x=1 -> 3.47 -> 3;
    # x=0.6 -> 5 ln 6 = 8.96 -> 8; x=0.501 -> 31.1 -> clipped to step 19.
    x = np.array([[1.0, 0.6, 0.501, 0.5]], dtype=np.float32)
    out = np.asarray(latency(x, 20, tau=5.0, threshold=0.5, normalize=False))
    assert out.sum(axis=1)[0].tolist() == [1, 1, 1, 0]
    assert out[0, :, :3].argmax(axis=0).tolist() == [3, 8, 19]


def test_encoders_jit():
    key = jax.random.key(0)
    np.testing.assert_array_equal(
        np.asarray(
            jax.jit(poisson, static_argnames="n_steps")(X, n_steps=N_STEPS, key=key)
        ),
        np.asarray(poisson(X, N_STEPS, key)),
    )
    np.testing.assert_array_equal(
        np.asarray(jax.jit(latency, static_argnums=(1, 4))(X, 9, 5.0, 0.01, True)),
        np.asarray(latency(X, 9)),
    )
    np.testing.assert_array_equal(
        np.asarray(jax.jit(rate, static_argnums=1)(X, 4)), np.asarray(rate(X, 4))
    )
    spikes = rate(X, 9)
    np.testing.assert_array_equal(
        np.asarray(jax.jit(kernel_convolve)(spikes, jnp.array([1.0, 2.0]))),
        np.asarray(kernel_convolve(spikes, jnp.array([1.0, 2.0]))),
    )


@pytest.mark.parametrize("taps", [1, 2, 3, 4, 7])
def test_kernel_convolve_equals_np_convolve_same(taps):
    rng = np.random.default_rng(taps)
    x = rng.random((3, 12, 4)).astype(np.float32)
    kernel = rng.random(taps).astype(np.float32)
    out = np.asarray(kernel_convolve(x, kernel))
    assert out.shape == x.shape and out.dtype == np.float32
    for b in range(3):
        for c in range(4):
            expected = np.convolve(kernel, x[b, :, c], "same")
            np.testing.assert_allclose(out[b, :, c], expected, rtol=1e-5, atol=1e-6)


def test_kernel_convolve_two_taps_by_hand():
    # out[t] = k0 x[t] + k1 x[t - 1], exactly, for spikes.
    x = np.zeros((1, 6, 1), dtype=np.float32)
    x[0, [0, 3, 4], 0] = 1.0
    out = np.asarray(kernel_convolve(x, np.array([508.0, 100.0], dtype=np.float32)))
    np.testing.assert_array_equal(out[0, :, 0], [508, 100, 0, 508, 608, 100])


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="n_steps"):
        rate(X, 0)
    with pytest.raises(TypeError, match="n_steps"):
        rate(X, 2.5)
    # (A TypeError when run under the jaxtyping import hook.)
    with pytest.raises((ValueError, TypeError), match="batch,? features"):
        poisson(np.ones(3), 4, jax.random.key(0))
    with pytest.raises(ValueError, match="max_rate"):
        poisson(X, 4, jax.random.key(0), max_rate=-1.0)
    with pytest.raises(ValueError, match="threshold"):
        latency(X, 4, threshold=1.5)
    with pytest.raises(ValueError, match="kernel"):
        kernel_convolve(np.ones((1, 3, 2)), np.ones(4))
    with pytest.raises((ValueError, TypeError), match="spikes"):
        kernel_convolve(np.ones((3, 2)), np.ones(1))


def test_encode_picks_the_encoder_by_name():
    from neurosim.datasets import encode

    np.testing.assert_array_equal(encode(X, "rate", 4), rate(X, 4))
    key = jax.random.key(3)
    np.testing.assert_array_equal(encode(X, "poisson", 4, key=key), poisson(X, 4, key))
    np.testing.assert_array_equal(encode(X, "latency", 4), latency(X, 4))
    with pytest.raises(ValueError, match="encoder: expected one of.*'morse'"):
        encode(X, "morse", 4)
    with pytest.raises(ValueError, match="key: encoder 'poisson'"):
        encode(X, "poisson", 4)

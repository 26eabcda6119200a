"""Training never goes on silently with NaN, and reports a diverging loss.

Oracles: an optimiser that injects NaN into one named leaf at a known step
(so the epoch, batch and leaf of the error are known in advance); the bytes of
the last good checkpoint; a run that skips the bad steps ends where the
stopped run's last good parameters are.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import neurosim as ns

N, T, N_IN, BATCH = 32, 10, 4, 8  # 4 batches per epoch
SIM = ns.compile(ns.lif_stack([N_IN, 5, 2], tau_mem=5.0), dt=1.0)
PARAMS = SIM.init_params(jax.random.key(0))


def _task():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, N)
    x = (rng.random((N, T, N_IN)) < np.where(y[:, None, None], 0.5, 0.1)).astype(float)
    return x, y


def nan_at(step: int, leaf: str) -> optax.GradientTransformation:
    """SGD(0.01) whose update of projection ``leaf`` is NaN at update ``step``."""

    def init(params):
        return jnp.zeros((), jnp.int32)

    def update(grads, count, params=None):
        def one(path, g):
            bad = (count == step) & (path[0].key == leaf)
            return jnp.where(bad, jnp.nan, -0.01 * g)

        return jax.tree_util.tree_map_with_path(one, grads), count + 1

    return optax.GradientTransformation(init, update)


NAN_AT_6 = nan_at(6, "h1->out")  # one object: its compiled step is reused


def _fit(epochs, **kw):
    x, y = _task()
    kw = dict(dict(optimizer=NAN_AT_6, batch_size=BATCH), **kw)
    return ns.fit(SIM, PARAMS, x, y, epochs=epochs, progress=False, **kw)


def test_a_nan_update_stops_training_naming_epoch_batch_and_leaf(tmp_path):
    _fit(1, checkpoint_dir=tmp_path)  # epoch 0 is clean: updates 0-3
    good = (tmp_path / "checkpoint.npz").read_bytes()
    with pytest.raises(ns.NonFiniteError) as info:
        _fit(3, checkpoint_dir=tmp_path)  # update 6 = epoch 1, batch 2
    err = info.value
    assert isinstance(err, FloatingPointError)
    assert (err.epoch, err.batch) == (1, 2)
    assert err.leaves == ["params/h1->out/SpikeSynapse_gS"]
    assert "epoch 1, batch 2" in str(err) and "h1->out" in str(err)
    assert str(tmp_path / "checkpoint.npz") in str(err)
    assert (tmp_path / "checkpoint.npz").read_bytes() == good  # never a NaN one
    assert all(np.all(np.isfinite(v)) for v in jax.tree_util.tree_leaves(err.params))


def test_skip_leaves_the_state_unchanged_and_counts_the_batches():
    with pytest.raises(ns.NonFiniteError) as info:
        _fit(3)
    # The optimiser's step counter is rolled back with the parameters, so every
    # update from step 6 on is skipped: 0 in epoch 0, 2 in epoch 1, 4 in epoch 2.
    res = _fit(3, on_nonfinite="skip")
    assert res.history["skipped"] == [0, 2, 4]
    assert math.isnan(res.history["loss"][2]) and math.isfinite(res.history["loss"][1])
    assert int(res.opt_state) == 6
    for target, leaves in info.value.params.items():
        for key, value in leaves.items():
            np.testing.assert_array_equal(res.params[target][key], value)


def test_an_infinite_learning_rate_stops_in_the_first_batch():
    with pytest.raises(ns.NonFiniteError, match="epoch 0, batch 0") as info:
        _fit(2, optimizer=optax.sgd(np.inf))
    assert any(name.startswith("params/") for name in info.value.leaves)


def test_a_diverging_finite_loss_is_flagged():
    # Gradient ascent on a quadratic penalty: the loss grows about 1e4-fold per
    # epoch and stays finite.
    def penalty(params, rec):
        return jnp.sum(params["h1->out"]["SpikeSynapse_gS"] ** 2)

    with pytest.warns(RuntimeWarning, match="diverges"):
        res = _fit(3, optimizer=optax.sgd(-1.0), regularizer=penalty)
    assert all(map(math.isfinite, res.history["loss"]))
    assert res.history["diverged"] == [False, True, True]
    calm = _fit(2, optimizer=optax.sgd(0.01))
    assert calm.history["diverged"] == [False, False]
    assert calm.history["skipped"] == [0, 0]

"""Property tests (hypothesis) for losses, encoders, data sets and fit's checks.

Profiles (tests/conftest.py): "quick" by default (few examples, derandomised),
``HYPOTHESIS_PROFILE=ci`` for a longer run.

Properties: losses are finite scalars and decoders keep ``(batch, classes)``
for any valid input; encoders keep ``(batch, n_steps, features)`` and emit
0/1 spikes (at most one per feature for ``latency``); data sets keep their
documented shapes and label ranges; any invalid argument of fit, evaluate, the
losses or the encoders raises only the documented TypeError or ValueError.
"""

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import neurosim as ns
from neurosim.datasets import latency, mts_xor, poisson, rate, yinyang
from neurosim.train import losses

# A few sizes only: every new shape is a new XLA compilation.
DIMS = st.sampled_from([1, 3])
CE_LOSSES = [
    losses.max_voltage_ce,
    losses.spike_count_ce,
    losses.sum_voltage_ce,
    losses.last_voltage_ce,
]


@st.composite
def traces_and_labels(draw):
    b, t, c = draw(DIMS), draw(DIMS), draw(st.sampled_from([2, 5]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    return scale * rng.normal(size=(b, t, c)), rng.integers(0, c, b)


@given(traces_and_labels(), st.sampled_from(losses.DECODE_KINDS))
def test_losses_and_decoders_keep_their_shape_contracts(data, kind):
    v, y = data
    assert losses.decode(v, kind).shape == (v.shape[0], v.shape[2])
    for loss in CE_LOSSES:
        value = loss(v, y)
        assert value.shape == () and np.isfinite(float(value)) and float(value) >= 0
    y_steps = np.broadcast_to(y[:, None], v.shape[:2])
    assert 0.0 <= float(losses.per_step_accuracy(v, y_steps)) <= 1.0
    assert np.isfinite(float(losses.per_step_ce(v, y_steps)))


@given(traces_and_labels(), st.integers(-5, 20), st.sampled_from(CE_LOSSES))
def test_losses_reject_labels_outside_the_classes(data, bad, loss):
    v, y = data
    if 0 <= bad < v.shape[2]:
        bad = v.shape[2]
    with pytest.raises(ValueError, match="labels"):
        loss(v, np.where(np.arange(len(y)) == 0, bad, y))


BAD_ARRAYS = st.one_of(
    st.just(np.zeros((2, 3))),  # wrong rank
    st.just(np.zeros((2, 3, 4, 5))),
    st.just(np.array(["a", "b"])),
    st.just(None),
    st.text(max_size=3),
)


@given(BAD_ARRAYS, st.sampled_from(CE_LOSSES))
def test_losses_answer_bad_arrays_with_documented_errors(bad, loss):
    with pytest.raises((TypeError, ValueError)):
        loss(bad, np.zeros(2, int))


@given(DIMS, DIMS, st.sampled_from([1, 7]), st.integers(0, 2**31 - 1))
def test_encoders_keep_their_shape_contracts(batch, features, n_steps, seed):
    x = np.random.default_rng(seed).random((batch, features))
    key = jax.random.key(seed)
    for out in (
        rate(x, n_steps),
        poisson(x, n_steps, key),
        latency(x, n_steps),
        latency(x, n_steps, normalize=False),
    ):
        assert out.shape == (batch, n_steps, features)
    spikes = np.asarray(poisson(x, n_steps, key))
    assert set(np.unique(spikes)) <= {0.0, 1.0}
    assert np.asarray(latency(x, n_steps)).sum(axis=1).max() <= 1


NOT_POSITIVE_INT = st.one_of(
    st.integers(max_value=0),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


@given(NOT_POSITIVE_INT, st.sampled_from(["rate", "poisson", "latency"]))
def test_encoders_reject_bad_n_steps(n_steps, which):
    encode = {"rate": rate, "poisson": poisson, "latency": latency}[which]
    args = (jax.random.key(0),) if which == "poisson" else ()
    with pytest.raises((TypeError, ValueError), match="n_steps"):
        encode(np.ones((2, 2)), n_steps, *args)


@given(st.integers(1, 40), st.integers(0, 2**31 - 1))
def test_datasets_keep_their_shape_contracts(n, seed):
    x, y = yinyang(n, seed)
    assert x.shape == (n, 4) and y.shape == (n,) and set(y) <= {0, 1, 2}
    task = mts_xor(n, seed)
    assert task.spikes.shape == (n, 100, 40) and task.targets.shape == (n, 100)
    assert set(np.unique(task.targets)) <= {0, 1}


SIM = ns.compile(ns.lif_stack([3, 4, 2], tau_mem=5.0), dt=1.0)
PARAMS = SIM.init_params(jax.random.key(0))
X = np.zeros((6, 5, 3))
Y = np.array([0, 1, 0, 1, 0, 1])
FIT_ARGS = {
    "batch_size": NOT_POSITIVE_INT,
    "epochs": NOT_POSITIVE_INT,
    "patience": NOT_POSITIVE_INT.filter(lambda v: v is not None),
    "max_batches": NOT_POSITIVE_INT.filter(lambda v: v is not None),
    "seed": st.one_of(st.integers(max_value=-1), st.floats(), st.text(max_size=2)),
    "validation_split": st.one_of(
        st.floats().filter(lambda v: not 0 <= v < 1), st.text(max_size=2)
    ),
    "objective": st.one_of(st.integers(), st.text(max_size=5)),
    "optimizer": st.one_of(st.integers(), st.text(max_size=3), st.none()).filter(
        lambda v: v is not None
    ),
    "on_nonfinite": st.text(max_size=5),
}


@given(st.data())
def test_fit_answers_any_bad_argument_with_a_named_error(data):
    name = data.draw(st.sampled_from(sorted(FIT_ARGS)))
    value = data.draw(FIT_ARGS[name])
    with pytest.raises((TypeError, ValueError)) as err:
        ns.fit(SIM, PARAMS, X, Y, progress=False, **{name: value})
    assert name.split("_")[0] in str(err.value) or "loss" in str(err.value)


@given(
    st.lists(st.integers(-3, 5), min_size=6, max_size=6).filter(
        lambda ys: min(ys) < 0 or max(ys) > 1
    )
)
def test_fit_and_evaluate_reject_labels_outside_the_classes(labels):
    y = np.array(labels)
    for call in (ns.fit, ns.evaluate):
        with pytest.raises(ValueError, match="labels"):
            call(SIM, PARAMS, X, y, **({"progress": False} if call is ns.fit else {}))

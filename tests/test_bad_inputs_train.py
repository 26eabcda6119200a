"""Every bad argument of fit, evaluate, the data loaders and io is answered by
name: a TypeError or ValueError whose message names the argument (or the
file), raised before any training step.

Oracle: the message must contain the argument's name; the error type is the
documented one.
"""

import gzip
import pickle

import jax
import numpy as np
import optax
import pytest

import neurosim as ns
from neurosim.datasets import (
    kernel_convolve,
    latency,
    load_mnist_idx,
    load_mnist_npz,
    load_shd,
    poisson,
    rate,
)

N, T, N_IN = 16, 8, 4
SIM = ns.compile(ns.lif_stack([N_IN, 5, 2], tau_mem=5.0), dt=1.0)
PARAMS = SIM.init_params(jax.random.key(0))
RNG = np.random.default_rng(0)
X = (RNG.random((N, T, N_IN)) < 0.3).astype(float)
Y = RNG.integers(0, 2, N)

# (argument overrides, error type, text the message must contain)
BAD_FIT = {
    "batch_size=0": (dict(batch_size=0), ValueError, "batch_size"),
    "batch_size=-3": (dict(batch_size=-3), ValueError, "batch_size"),
    "batch_size=2.5": (dict(batch_size=2.5), TypeError, "batch_size"),
    "batch_size='8'": (dict(batch_size="8"), TypeError, "batch_size"),
    "batch_size=True": (dict(batch_size=True), TypeError, "batch_size"),
    "batch_size=None": (dict(batch_size=None), TypeError, "batch_size"),
    "seed=-1": (dict(seed=-1), ValueError, "seed"),
    "seed=1.5": (dict(seed=1.5), TypeError, "seed"),
    "seed='0'": (dict(seed="0"), TypeError, "seed"),
    "epochs=0": (dict(epochs=0), ValueError, "epochs"),
    "epochs=2.0": (dict(epochs=2.0), TypeError, "epochs"),
    "objective=42": (dict(objective=42), TypeError, "objective"),
    "objective=class": (dict(objective=ns.Objective), TypeError, "instance"),
    "objective='nope'": (dict(objective="nope"), ValueError, "loss"),
    "optimizer=optax.adam": (dict(optimizer=optax.adam), TypeError, "call it"),
    "optimizer='adam'": (dict(optimizer="adam"), TypeError, "optimizer"),
    "optimizer=0.1": (dict(optimizer=0.1), TypeError, "optimizer"),
    "validation=X": (dict(validation=X), TypeError, "validation"),
    "validation=(X,)": (dict(validation=(X,)), TypeError, "validation"),
    "validation short y": (dict(validation=(X, Y[:3])), ValueError, "validation"),
    "validation float y": (
        dict(validation=(X, Y.astype(float))),
        TypeError,
        r"validation\[1\]",
    ),
    "validation label 7": (dict(validation=(X, Y * 0 + 7)), ValueError, "labels"),
    "validation_split=1.0": (
        dict(validation_split=1.0),
        ValueError,
        "validation_split",
    ),
    "validation_split=-0.1": (
        dict(validation_split=-0.1),
        ValueError,
        "validation_split",
    ),
    "validation_split='0.2'": (
        dict(validation_split="0.2"),
        TypeError,
        "validation_split",
    ),
    "validation_split=0.99": (
        dict(validation_split=0.99),
        ValueError,
        "validation_split",
    ),
    "patience=0": (dict(patience=0), ValueError, "patience"),
    "patience=1.5": (dict(patience=1.5), TypeError, "patience"),
    "max_batches=0": (dict(max_batches=0), ValueError, "max_batches"),
    "max_batches='2'": (dict(max_batches="2"), TypeError, "max_batches"),
    "on_nonfinite='ignore'": (dict(on_nonfinite="ignore"), ValueError, "on_nonfinite"),
    "config=str": (dict(config="lr=1"), TypeError, "config"),
    "config=object": (dict(config={"f": object()}), TypeError, "config"),
}

# (x, y, error type, text)
BAD_DATA = {
    "x strings": (np.full((N, T, N_IN), "a"), Y, TypeError, "x"),
    "x complex": (X + 1j, Y, TypeError, "x"),
    "x ragged": ([[1.0], [1.0, 2.0]], Y[:2], TypeError, "x"),
    "x rank 2": (X[:, :, 0], Y, ValueError, "x"),
    "x rank 4": (X[..., None], Y, ValueError, "x"),
    "x NaN": (np.where(X > 0, np.nan, 0.0), Y, ValueError, "x"),
    "x inf": (np.where(X > 0, np.inf, 0.0), Y, ValueError, "x"),
    "y float": (X, Y.astype(float), TypeError, "y"),
    "y one-hot": (X, np.eye(2, dtype=int)[Y], ValueError, "labels"),
    "y rank 3": (X, Y[:, None, None], ValueError, "y"),
    "y short": (X, Y[:5], ValueError, "x has 16 samples but y has 5"),
    "no samples": (X[:0], Y[:0], ValueError, "no samples"),
    "label -1": (X, np.where(Y > 0, -1, 0), ValueError, "labels"),
    "label 2 of 2 classes": (X, Y + 1, ValueError, "labels"),
    "label 99": (X, Y * 99, ValueError, "labels"),
}


@pytest.mark.parametrize("kw, error, text", BAD_FIT.values(), ids=BAD_FIT.keys())
def test_fit_names_a_bad_argument(kw, error, text):
    args = dict(dict(epochs=1, batch_size=8, progress=False), **kw)
    with pytest.raises(error, match=text):
        ns.fit(SIM, PARAMS, X, Y, **args)


@pytest.mark.parametrize("x, y, error, text", BAD_DATA.values(), ids=BAD_DATA.keys())
def test_fit_and_evaluate_name_bad_data(x, y, error, text):
    with pytest.raises(error, match=text):
        ns.fit(SIM, PARAMS, x, y, epochs=1, progress=False)
    with pytest.raises(error, match=text):
        ns.evaluate(SIM, PARAMS, x, y)


BAD_EVALUATE = {
    "batch_size=0": (dict(batch_size=0), ValueError, "batch_size"),
    "batch_size=1.5": (dict(batch_size=1.5), TypeError, "batch_size"),
    "objective=3": (dict(objective=3), TypeError, "objective"),
    "objective='max'": (dict(objective="max"), ValueError, "loss"),
}


@pytest.mark.parametrize(
    "kw, error, text", BAD_EVALUATE.values(), ids=BAD_EVALUATE.keys()
)
def test_evaluate_names_a_bad_argument(kw, error, text):
    with pytest.raises(error, match=text):
        ns.evaluate(SIM, PARAMS, X, Y, **kw)


def test_good_labels_pass_the_checks():
    res = ns.evaluate(SIM, PARAMS, X, Y, batch_size=5)
    assert res["predictions"].shape == (N,) and np.isfinite(res["loss"])


# ---------------------------------------------------------------------------
# Damaged data files name the file
# ---------------------------------------------------------------------------


def _mnist_npz(tmp_path, kind):
    path = tmp_path / "mnist10k.npz"
    images = np.zeros((10, 28, 28), np.uint8)
    labels = np.arange(10, dtype=np.uint8)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("not an archive")
    elif kind == "truncated":
        np.savez(path, images=images, labels=labels)
        path.write_bytes(path.read_bytes()[:300])
    elif kind == "pickled arrays":
        np.savez(path, images=np.array([object()]), labels=labels)
    elif kind == "pickle":
        path.write_bytes(pickle.dumps({"images": images}))
    elif kind == "labels 10":
        np.savez(path, images=images, labels=labels + 1)
    elif kind == "float labels":
        np.savez(path, images=images, labels=labels.astype(float))
    elif kind == "no labels":
        np.savez(path, images=images)
    return path


MNIST_KINDS = [
    "empty",
    "text",
    "truncated",
    "pickled arrays",
    "pickle",
    "labels 10",
    "float labels",
    "no labels",
]


@pytest.mark.parametrize("kind", MNIST_KINDS)
def test_a_damaged_mnist_npz_names_the_file(tmp_path, kind):
    path = _mnist_npz(tmp_path, kind)
    with pytest.raises(ValueError, match="mnist10k.npz"):
        load_mnist_npz(path)


def _idx(path, magic, shape, data, compress=False):
    raw = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in shape)
    raw += bytes(data)
    if compress:
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)


@pytest.mark.parametrize("kind", ["bad gzip", "cut gzip", "labels 12"])
def test_damaged_idx_files_name_the_file(tmp_path, kind):
    _idx(tmp_path / "train-images-idx3-ubyte", 2051, (2, 2, 2), [0] * 8)
    _idx(tmp_path / "t10k-images-idx3-ubyte", 2051, (2, 2, 2), [0] * 8)
    _idx(tmp_path / "t10k-labels-idx1-ubyte", 2049, (2,), [0, 1])
    bad = tmp_path / "train-labels-idx1-ubyte.gz"
    if kind == "bad gzip":
        bad.write_bytes(b"\x1f\x8b not really gzip")
    elif kind == "cut gzip":
        _idx(bad, 2049, (2,), [0, 1], compress=True)
        bad.write_bytes(bad.read_bytes()[:15])
    else:
        _idx(bad, 2049, (2,), [0, 12], compress=True)
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz"):
        load_mnist_idx(tmp_path)


@pytest.mark.parametrize("kind", ["text", "empty", "labels 25", "fixed-length"])
def test_a_damaged_shd_file_names_the_file(tmp_path, kind):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "shd_train.h5"
    if kind == "text":
        path.write_text("not hdf5")
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        with h5py.File(path, "w") as f:
            if kind == "fixed-length":
                f["spikes/times"] = np.zeros((2, 3))
                f["spikes/units"] = np.zeros((2, 3), int)
            else:
                vlen = h5py.special_dtype(vlen=np.float64)
                f.create_dataset("spikes/times", (2,), dtype=vlen)
                f.create_dataset(
                    "spikes/units", (2,), dtype=h5py.special_dtype(vlen=np.int64)
                )
            f["labels"] = np.array([0, 25 if kind == "labels 25" else 1])
    with pytest.raises(ValueError, match="shd_train.h5"):
        load_shd(tmp_path)


# ---------------------------------------------------------------------------
# Encoders and io
# ---------------------------------------------------------------------------

KEY = jax.random.key(0)
BAD_ENCODER = {
    "rate x strings": (lambda: rate(np.array([["a"]]), 3), TypeError, "x"),
    "rate x complex": (lambda: rate(np.ones((2, 2)) + 1j, 3), TypeError, "x"),
    "rate x rank 3": (lambda: rate(np.ones((2, 2, 2)), 3), ValueError, "x"),
    "rate n_steps=0": (lambda: rate(np.ones((2, 2)), 0), ValueError, "n_steps"),
    "rate n_steps=1.5": (lambda: rate(np.ones((2, 2)), 1.5), TypeError, "n_steps"),
    "poisson key=0": (lambda: poisson(np.ones((2, 2)), 3, 0), TypeError, "key"),
    "poisson key=ints": (
        lambda: poisson(np.ones((2, 2)), 3, np.array([1, 2, 3])),
        TypeError,
        "key",
    ),
    "poisson max_rate<0": (
        lambda: poisson(np.ones((2, 2)), 3, KEY, max_rate=-1.0),
        ValueError,
        "max_rate",
    ),
    "latency tau=0": (lambda: latency(np.ones((2, 2)), 3, tau=0.0), ValueError, "tau"),
    "latency threshold=2": (
        lambda: latency(np.ones((2, 2)), 3, threshold=2.0),
        ValueError,
        "threshold",
    ),
    "kernel_convolve rank 2": (
        lambda: kernel_convolve(np.ones((2, 2)), np.ones(2)),
        ValueError,
        "spikes",
    ),
    "kernel_convolve kernel too long": (
        lambda: kernel_convolve(np.ones((1, 2, 2)), np.ones(5)),
        ValueError,
        "kernel",
    ),
    "kernel_convolve kernel strings": (
        lambda: kernel_convolve(np.ones((1, 2, 2)), np.array(["a"])),
        TypeError,
        "kernel",
    ),
}


@pytest.mark.parametrize(
    "call, error, text", BAD_ENCODER.values(), ids=BAD_ENCODER.keys()
)
def test_encoders_name_a_bad_argument(call, error, text):
    with pytest.raises(error, match=text):
        call()


def test_io_names_bad_trees(tmp_path):
    with pytest.raises(TypeError, match="params"):
        ns.save_params(tmp_path / "p.npz", [1, 2])
    with pytest.raises(TypeError, match=r"params\['a'\]"):
        ns.save_params(tmp_path / "p.npz", {"a": 3})
    with pytest.raises(TypeError, match=r"params\['a'\]\['b'\]"):
        ns.save_params(tmp_path / "p.npz", {"a": {"b": np.array(["s"])}})
    with pytest.raises(ValueError, match="'/'"):
        ns.save_params(tmp_path / "p.npz", {"a/b": {"c": 1.0}})
    with pytest.raises(TypeError, match="dict keys must be strings"):
        ns.save_checkpoint(tmp_path / "c.npz", {1: np.zeros(2)})
    assert not list(tmp_path.iterdir())

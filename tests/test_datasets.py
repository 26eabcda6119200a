"""Tests of neurosim.datasets.

Oracles: the seed-003 code itself (run literally on a small batch), the
published Yin-Yang samples (lkriener/yin_yang_data_set, publication_data/),
class rules and binning worked by hand, the known MNIST-subset class counts,
and binomial tolerances (several standard errors) for spike rates.
"""

import ast
import gzip
import inspect
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim.datasets as ds
from neurosim.datasets.yinyang import which_class

REPO = Path(__file__).resolve().parents[1]


def test_datasets_import_no_engine_module():
    # Static check of the import-linter contract: only neurosim.datasets.* inside.
    for file in (REPO / "neurosim" / "datasets").glob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("neurosim"):
                    assert name.startswith("neurosim.datasets"), (file.name, name)


def test_toy_defaults_are_the_seed_values():
    # The seed: key 1701, 256 samples, 100 inputs, int(T / dt) = 200 steps, 5 Hz.
    params = inspect.signature(ds.toy).parameters.values()
    assert [p.default for p in params] == [1701, 256, 100, 200, 1e-3, 5.0, (508.0,) * 2]


def test_toy_shapes_dtypes_and_rates():
    task = ds.toy(batch_size=64)
    assert task.currents.shape == task.spikes.shape == (64, 200, 100)
    assert task.currents.dtype == jnp.asarray(0.0).dtype
    assert task.labels.shape == (64,) and task.labels.dtype == jnp.int32
    assert set(np.unique(np.asarray(task.labels))) == {0, 1}
    # 1.28e6 Bernoulli(0.005) draws: the standard error is 6e-5.
    assert abs(float(task.spikes.mean()) - 0.005) < 4e-4
    # One sample's currents, per channel, are np.convolve(kernel, spikes, "same").
    spikes = np.asarray(task.spikes[7])
    assert spikes.sum() > 0
    for c in range(100):
        expected = np.convolve([508.0, 508.0], spikes[:, c], "same")
        np.testing.assert_array_equal(np.asarray(task.currents[7, :, c]), expected)


def _seed_003_literal(batch_size, n_input, n_steps=200):
    """The seed's own code (a list comprehension of jnp.convolve), time last."""
    key = jax.random.key(1701)
    key, subkey = jax.random.split(key)
    key, subkey = jax.random.split(key)
    i_min = jnp.array([508.0] * 2)
    prob = 5 * 1e-3
    key, subkey = jax.random.split(key)
    mask = jax.random.uniform(subkey, (batch_size, n_input, n_steps))
    x_data = jnp.where(mask < prob, 1.0, 0.0)
    conv = [[jnp.convolve(i_min, row, "same") for row in sample] for sample in x_data]
    key, subkey = jax.random.split(key)
    u = jax.random.uniform(subkey, (batch_size), minval=0.0, maxval=1.0)
    return jnp.array(conv), x_data, jnp.where(u < 0.5, 1, 0)


@pytest.mark.parametrize("x64", [False, True])
def test_toy_reproduces_the_seed_draws_exactly(x64):
    with jax.enable_x64(x64):
        currents, spikes, targets = _seed_003_literal(6, 8)
        task = ds.toy(batch_size=6, n_input=8)
        assert task.currents.dtype == (jnp.float64 if x64 else jnp.float32)
        np.testing.assert_array_equal(task.spikes, np.swapaxes(spikes, 1, 2))
        np.testing.assert_array_equal(task.currents, np.swapaxes(currents, 1, 2))
        np.testing.assert_array_equal(task.labels, targets)


def test_toy_is_deterministic_and_checks_arguments():
    a = ds.toy(seed=3, batch_size=6, n_input=8)
    np.testing.assert_array_equal(a.currents, ds.toy(3, 6, 8).currents)
    assert not np.array_equal(a.spikes, ds.toy(4, 6, 8).spikes)
    with pytest.raises(ValueError, match="batch_size"):
        ds.toy(batch_size=0)
    with pytest.raises(ValueError, match="rate_hz"):
        ds.toy(rate_hz=2000.0)
    with pytest.raises(ValueError, match="kernel"):
        ds.toy(n_steps=3, kernel=(1.0,) * 4)


def test_mts_xor_shapes_targets_and_mask():
    data = ds.mts_xor(64, seed=0)
    assert data.spikes.shape == (64, 100, 40) and data.spikes.dtype == np.float32
    assert data.targets.shape == (64, 100) and data.targets.dtype == np.int32
    assert set(np.unique(data.spikes)) <= {0.0, 1.0}
    # The 60 cue steps 15-24, 30-39, ..., 90-99.
    expected_steps = [s for i in range(6) for s in range(15 + 15 * i, 25 + 15 * i)]
    assert np.flatnonzero(ds.MTS_XOR_EVAL_STEPS).tolist() == expected_steps
    np.testing.assert_array_equal(data.eval_steps, ds.MTS_XOR_EVAL_STEPS)
    # Targets recomputed from the classes: 0 for steps 0-9, XOR on window i.
    expected = np.zeros((64, 100), dtype=np.int32)
    for i in range(6):
        xor = np.logical_xor(data.cue_class, data.window_class[:, i])
        expected[:, 10 + 15 * i : 25 + 15 * i] = xor[:, None]
    np.testing.assert_array_equal(data.targets, expected)


def test_mts_xor_spike_rates_per_region():
    data = ds.mts_xor(2000, seed=1)
    s, cue, win = data.spikes, data.cue_class, data.window_class
    noise_only = np.concatenate(
        [s[:, :10, 20:].ravel(), s[:, 10:, :20].ravel()]
        + [s[:, 10 + 15 * i : 15 + 15 * i, 20:].ravel() for i in range(6)]
    )
    assert abs(noise_only.mean() - 0.01) < 0.002
    # A cue of probability p OR-ed with noise 0.01 spikes with p + 0.01 - 0.01 p.
    for k, p in enumerate((0.2, 0.6)):
        expected = p + 0.01 - 0.01 * p
        assert abs(s[cue == k, :10, :20].mean() - expected) < 0.01
        cues = [s[win[:, i] == k, 15 + 15 * i : 25 + 15 * i, 20:] for i in range(6)]
        window = np.concatenate([c.ravel() for c in cues])
        assert abs(window.mean() - expected) < 0.01


def test_mts_xor_determinism_and_splits():
    a, b, c = ds.mts_xor(16, 5), ds.mts_xor(16, 5), ds.mts_xor(16, 6)
    np.testing.assert_array_equal(a.spikes, b.spikes)
    assert not np.array_equal(a.spikes, c.spikes)
    split = ds.mts_xor_splits(seed=0, n_train=32, n_test=16)
    assert split.x_train.shape == (32, 100, 40) and split.y_test.shape == (16, 100)
    assert split.n_classes == 2 and split.eval_steps.sum() == 60
    assert not np.array_equal(split.x_train[:16], split.x_test)
    again = ds.mts_xor_splits(seed=0, n_train=32, n_test=16)
    np.testing.assert_array_equal(split.x_test, again.x_test)
    with pytest.raises(ValueError, match="n_samples"):
        ds.mts_xor(0, 0)
    with pytest.raises(TypeError, match="seed"):
        ds.mts_xor(4, 1.5)


def test_yinyang_which_class_known_points():
    # Dots: centres (0.25, 0.5) and (0.75, 0.5), radius 0.1 -> class 2.
    # (0.25, 0.675): d_left = 0.175 in the ring (0.1, 0.25] -> class 1.
    # (0.75, 0.325): d_right = 0.175 > 0.1, d_left = 0.53, y < 0.5 -> class 0.
    # (0.5, 0.9): upper half, d_right = 0.47 > 0.25 -> class 1.
    # (0.5, 0.1): lower half, d_left = 0.47 outside the ring -> class 0.
    # (0.6, 0.6): upper half but d_right = 0.18 <= 0.25, d_left = 0.36 -> class 0.
    points = [(0.25, 0.5), (0.75, 0.5), (0.25, 0.675), (0.75, 0.325)]
    points += [(0.5, 0.9), (0.5, 0.1), (0.6, 0.6)]
    assert [which_class(x, y) for x, y in points] == [2, 2, 1, 0, 1, 0, 0]


def test_yinyang_matches_published_samples():
    # First samples of publication_data/{train,test}_samples.npy (seeds 42, 40).
    data = ds.yinyang_splits()
    published_train = [[0.68030754, 0.45049925], [0.09767211, 0.68423303]]
    np.testing.assert_allclose(data.x_train[:2, :2], published_train, atol=1e-7)
    assert data.y_train[:3].tolist() == [2, 1, 2]
    published_test = [[0.23409665, 0.40172498], [0.75132902, 0.46824252]]
    np.testing.assert_allclose(data.x_test[:2, :2], published_test, atol=1e-7)
    # Published class counts of the 5000 training and 1000 test samples.
    assert np.bincount(data.y_train).tolist() == [1681, 1702, 1617]
    assert np.bincount(data.y_test).tolist() == [350, 316, 334]
    assert data.x_val.shape == (1000, 4) and data.n_classes == 3


def test_yinyang_features_balance_and_rule():
    x, y = ds.yinyang(3000, seed=7)
    assert x.shape == (3000, 4) and x.dtype == np.float32 and y.dtype == np.int32
    assert x.min() >= 0.0 and x.max() <= 1.0
    np.testing.assert_allclose(x[:, 2:], 1.0 - x[:, :2], atol=1e-6)
    assert np.all(np.hypot(x[:, 0] - 0.5, x[:, 1] - 0.5) <= 0.5 + 1e-6)
    # Binomial(3000, 1/3): the standard deviation of a count is 26.
    assert np.all(np.abs(np.bincount(y, minlength=3) - 1000) < 130)
    assert all(
        which_class(float(a), float(b)) == c
        for (a, b), c in zip(x[:300, :2].astype(float), y[:300], strict=True)
    )
    np.testing.assert_array_equal(ds.yinyang(50, 3)[0], ds.yinyang(50, 3)[0])
    with pytest.raises(ValueError, match="r_small"):
        ds.yinyang(5, 0, r_small=0.3)


def test_digits_split():
    data = ds.digits()
    assert data.x_train.shape == (1437, 64) and data.x_test.shape == (360, 64)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    # Stratified: each class's test share is within one sample of 20 %.
    train_counts, test_counts = np.bincount(data.y_train), np.bincount(data.y_test)
    assert np.all(np.abs(test_counts - 0.2 * (train_counts + test_counts)) <= 1)
    np.testing.assert_array_equal(data.x_test, ds.digits().x_test)
    assert not np.array_equal(data.x_test, ds.digits(seed=1).x_test)
    with pytest.raises(ValueError, match="test_fraction"):
        ds.digits(test_fraction=1.0)


def test_digits_without_sklearn_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"neurosim\[data\]"):
        ds.digits()


def test_mnist_npz_real_file(monkeypatch):
    monkeypatch.delenv("NEUROSIM_DATA", raising=False)
    data = ds.load_mnist_npz()
    assert data.x_train.shape == (8000, 784) and data.x_test.shape == (2000, 784)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    counts = np.bincount(np.concatenate([data.y_train, data.y_test]))
    assert counts.tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    with np.load(REPO / "neurosim" / "data" / "mnist10k.npz") as raw:
        np.testing.assert_array_equal(data.y_test, raw["labels"][8000:])
        np.testing.assert_allclose(
            data.x_train[0], raw["images"][0].ravel() / 255.0, rtol=1e-6
        )


def test_mnist_npz_env_var_and_missing_file(tmp_path, monkeypatch):
    labels = (np.arange(8003) % 10).astype(np.uint8)
    images = np.zeros((8003, 28, 28), dtype=np.uint8)
    images[-1] = 255
    np.savez(tmp_path / "mnist10k.npz", images=images, labels=labels)
    monkeypatch.setenv("NEUROSIM_DATA", str(tmp_path))
    data = ds.load_mnist_npz()
    assert data.x_train.shape == (8000, 784) and data.y_test.tolist() == [0, 1, 2]
    assert data.x_test[2].min() == 1.0 and data.x_train.max() == 0.0
    assert ds.load_mnist_npz(tmp_path / "mnist10k.npz").y_test.tolist() == [0, 1, 2]
    with pytest.raises(FileNotFoundError, match="mnist10k.npz"):
        ds.load_mnist_npz(tmp_path / "elsewhere")


def _write_idx(path, array, magic):
    dims = b"".join(d.to_bytes(4, "big") for d in array.shape)
    raw = magic.to_bytes(4, "big") + dims + array.astype(np.uint8).tobytes()
    with (gzip.open if path.suffix == ".gz" else open)(path, "wb") as f:
        f.write(raw)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_mnist_idx_round_trip(tmp_path, suffix):
    images = np.random.default_rng(0).integers(0, 256, (8, 28, 28))
    _write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images[:5], 2051)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", np.r_[0:4, 9], 2049)
    _write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", images[5:], 2051)
    _write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", np.r_[4:7], 2049)
    data = ds.load_mnist_idx(tmp_path)
    assert data.x_train.shape == (5, 784) and data.x_test.shape == (3, 784)
    assert data.y_train.tolist() == [0, 1, 2, 3, 9] and data.y_test.dtype == np.int32
    expected = images[5:].reshape(3, 784) / 255.0
    np.testing.assert_allclose(data.x_test, expected, rtol=1e-6)


def test_mnist_idx_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        ds.load_mnist_idx(tmp_path)
    images, labels = np.zeros((2, 28, 28)), np.zeros(2)
    _write_idx(tmp_path / "train-images-idx3-ubyte", images, 2049)  # labels' magic
    _write_idx(tmp_path / "train-labels-idx1-ubyte", labels, 2049)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", images, 2051)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels, 2049)
    with pytest.raises(ValueError, match="magic number 2049"):
        ds.load_mnist_idx(tmp_path)
    _write_idx(tmp_path / "train-images-idx3-ubyte", images, 2051)
    with open(tmp_path / "t10k-labels-idx1-ubyte", "ab") as f:
        f.write(b"\x00")
    with pytest.raises(ValueError, match="truncated or damaged"):
        ds.load_mnist_idx(tmp_path)


def _write_shd(path, times, units, labels):
    """Writes the SHD layout: vlen spikes/times (s) and spikes/units, labels, extra/."""
    import h5py

    with h5py.File(path, "w") as f:
        for name, rows, dtype in zip(
            ["times", "units"], [times, units], [np.float32, np.uint16], strict=True
        ):
            vlen = f.create_dataset(
                f"spikes/{name}", (len(rows),), dtype=h5py.special_dtype(vlen=dtype)
            )
            for i, row in enumerate(rows):
                vlen[i] = np.asarray(row, dtype=dtype)
        f["labels"] = np.asarray(labels, dtype=np.uint16)
        f["extra/speaker"] = np.zeros(len(labels), dtype=np.uint16)


def test_shd_binning_by_hand(tmp_path):
    pytest.importorskip("h5py")
    times = [[0.0, 0.05, 0.06, 0.35, 0.99, 1.0, 1.3], [0.5], []]
    units = [[0, 3, 3, 699, 350, 10, 20], [100], []]
    _write_shd(tmp_path / "shd_test.h5", times, units, [4, 19, 0])
    # 4 bins of 0.25 s up to t_max = 1.0 s (spikes at 1.0 and 1.3 s dropped).
    x, y = ds.load_shd(tmp_path, split="test", n_bins=4, t_max=1.0)
    assert x.shape == (3, 4, 700) and x.dtype == np.float32
    assert y.tolist() == [4, 19, 0] and y.dtype == np.int32
    expected = np.zeros((3, 4, 700), dtype=np.float32)
    expected[0, 0, 0] = 1  # 0.0 s
    expected[0, 0, 3] = 2  # 0.05 s and 0.06 s on unit 3
    expected[0, 1, 699] = 1  # 0.35 s
    expected[0, 3, 350] = 1  # 0.99 s
    expected[1, 2, 100] = 1  # 0.5 s
    np.testing.assert_array_equal(x, expected)
    # Pooling to 7 channels: unit u -> u * 7 // 700 = u // 100; binary caps at 1.
    xp, _ = ds.load_shd(
        tmp_path, split="test", n_bins=4, t_max=1.0, n_channels=7, binary=True
    )
    assert xp.shape == (3, 4, 7)
    nonzero = sorted(zip(*np.nonzero(xp), strict=True))
    assert nonzero == [(0, 0, 0), (0, 1, 6), (0, 3, 3), (1, 2, 1)]
    assert xp.max() == 1.0


def test_shd_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="zenkelab.org"):
        ds.load_shd(tmp_path)
    with pytest.raises(ValueError, match="split"):
        ds.load_shd(tmp_path, split="validation")
    with pytest.raises(ValueError, match="n_channels"):
        ds.load_shd(tmp_path, n_channels=701)
    with pytest.raises(ValueError, match="n_bins"):
        ds.load_shd(tmp_path, n_bins=0)


def test_public_names_exported():
    names = """toy mts_xor mts_xor_splits MTS_XOR_EVAL_STEPS yinyang yinyang_splits
    digits load_mnist_npz load_mnist_idx load_shd download_shd Dataset rate poisson
    latency constant_current kernel_convolve"""
    assert set(names.split()) <= set(dir(ds))


def test_shifted_copies_by_hand():
    # Oracle: a 2x2 image [[1, 2], [3, 4]] moved up, down, left, right.
    x5, y5 = ds.shifted_copies(np.array([[1.0, 2.0, 3.0, 4.0]]), np.array([7]))
    want = [[1, 2, 3, 4], [3, 4, 0, 0], [0, 0, 1, 2], [2, 0, 4, 0], [0, 1, 0, 3]]
    np.testing.assert_array_equal(x5, want)
    np.testing.assert_array_equal(y5, [7] * 5)
    with pytest.raises(ValueError, match="square images"):
        ds.shifted_copies(np.zeros((2, 5)), np.zeros(2))


def test_rebin_mts_xor_aligns_spikes_targets_and_scoring():
    # Oracle: bin b's spikes land on step k b, its target on steps k b + lat ...
    # k b + lat + k - 1, and a scored bin is scored on its last step, lat late.
    data = ds.mts_xor_splits(0, n_train=3, n_test=2)
    k, lat = 2, 3
    out = ds.rebin_mts_xor(data, k, latency=lat)
    assert out.x_train.shape == (3, 100 * k + lat, 40) and out.x_train.dtype == np.uint8
    np.testing.assert_array_equal(out.x_train[:, ::k][:, :100], data.x_train)
    assert not out.x_train[:, 1::k].any()
    np.testing.assert_array_equal(out.y_test[:, lat::k], data.y_test)
    np.testing.assert_array_equal(out.y_test[:, lat + 1 :: k], data.y_test)
    assert not out.y_test[:, :lat].any()
    np.testing.assert_array_equal(
        np.flatnonzero(out.eval_steps), lat + k * np.flatnonzero(data.eval_steps) + 1
    )
    with pytest.raises(ValueError, match="latency"):
        ds.rebin_mts_xor(data, 1, latency=-1)

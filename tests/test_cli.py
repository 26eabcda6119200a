"""The ``neurosim`` command: usage errors exit 2, ``tasks`` lists every task,
``train TASK --quick`` writes metrics, a curve and parameters.

Yin-Yang, digits and MNIST run through ``run_task`` in test_tasks.py; here the
command line trains the seed-003 task, MTS-XOR and SHD (on a generated file).
"""

import json

import numpy as np
import pytest

import neurosim as ns
from neurosim.cli import main
from neurosim.tasks import TASKS

METRIC_KEYS = {"train_accuracy", "test_accuracy", "epochs", "wall_seconds", "config"}


def write_shd(folder, n_train=24, n_test=8, seed=0):
    """Writes tiny shd_train.h5 / shd_test.h5 files in the SHD layout."""
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        with h5py.File(folder / f"shd_{split}.h5", "w") as f:
            for name, dtype in (("times", np.float32), ("units", np.uint16)):
                f.create_dataset(
                    f"spikes/{name}", (n,), dtype=h5py.special_dtype(vlen=dtype)
                )
            for i in range(n):
                k = int(rng.integers(50, 200))
                f["spikes/times"][i] = np.sort(rng.uniform(0, 1.2, k)).astype(
                    np.float32
                )
                f["spikes/units"][i] = rng.integers(0, 700, k).astype(np.uint16)
            f["labels"] = rng.integers(0, 20, n).astype(np.uint16)
    return folder


# (train, test) accuracy of each task's --quick run at its default seed.
QUICK_ACCURACY = {
    "toy": (0.5, 0.5546875),
    "mts-xor": (0.49856775, 0.53632814),
    "shd": (0.125, 0.0),
}


def check_outputs(out, task):
    metrics = json.loads((out / "metrics.json").read_text())
    assert METRIC_KEYS <= set(metrics)
    assert metrics["task"] == task and metrics["quick"] is True
    assert metrics["epochs"] == 1
    # Oracle: the fixed seed's quick run (float32, one epoch): these numbers.
    want = QUICK_ACCURACY[task]
    got = (metrics["train_accuracy"], metrics["test_accuracy"])
    assert got == pytest.approx(want, abs=2e-3), got
    assert set(metrics["config"]) == set(TASKS[task].defaults.to_dict())
    assert (out / "training_curve.png").stat().st_size > 1000
    params = ns.load_params(out / "params.npz")
    assert params and all(
        np.all(np.isfinite(v)) for p in params.values() for v in p.values()
    )
    return metrics


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["fly"],
        ["train"],
        ["train", "cifar"],
        ["train", "toy", "--lr", "fast"],
        ["train", "toy", "--set", "no-equals-sign"],
        ["demo", "--epochs", "-1"],
    ],
)
def test_misuse_prints_usage_and_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage: neurosim" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "toy", "--epochs", "-3"],
        ["train", "toy", "--epochs", "0"],
        ["train", "toy", "--seed", "-1"],
        ["train", "toy", "--set", "tau_mem=20"],  # the toy circuit has no tau_mem
        ["train", "yinyang", "--set", "batch_size=0"],  # the settings' own checks
        ["train", "yinyang", "--set", "encoder=morse"],
        ["train", "mts-xor", "--set", "dt=3"],
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(argv, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"neurosim train {argv[1]}: ")


def test_tasks_lists_every_task(capsys):
    assert main(["tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(TASKS)
    assert sorted(TASKS) == [
        "delay-lag",
        "delay-lag-no-delays",
        "digits",
        "mnist",
        "mts-xor",
        "shd",
        "toy",
        "yinyang",
    ]
    assert main(["tasks", "--all"]) == 0
    assert '"hidden"' in capsys.readouterr().out


def test_shd_without_data_exits_2_with_a_message(tmp_path, capsys):
    assert main(["train", "shd", "--quick", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: neurosim")
    assert "--data DIR" in err and "shd_train.h5" in err
    # a folder without the files is the same error, naming the missing file
    code = main(
        [
            "train",
            "shd",
            "--quick",
            "--data",
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert "shd_train.h5" in capsys.readouterr().err
    assert not (tmp_path / "o" / "metrics.json").exists()


def test_train_shd_quick_on_a_generated_file(tmp_path, capsys):
    data = write_shd(tmp_path)
    out = tmp_path / "shd"
    argv = ["train", "shd", "--quick", "--data", str(data), "--out", str(out)]
    assert main([*argv, "--no-progress"]) == 0
    metrics = check_outputs(out, "shd")
    assert metrics["n_train"] == 24 and metrics["n_test"] == 8
    assert metrics["config"]["optimizer"] == "lion"
    assert set(metrics["tau_mean_ms"]) == {"h1", "h2", "out"}
    printed = json.loads(capsys.readouterr().out)
    assert printed["test_accuracy"] == metrics["test_accuracy"]


def test_missing_package_exits_2_with_one_line(tmp_path, capsys, monkeypatch):
    for mod in ("sklearn", "sklearn.datasets", "sklearn.model_selection"):
        monkeypatch.setitem(__import__("sys").modules, mod, None)  # even if imported
    out = tmp_path / "digits"
    assert main(["train", "digits", "--quick", "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("neurosim train digits: ")
    assert "pip install scikit-learn" in err[-1]
    assert not out.exists()


def test_train_toy_quick(tmp_path):
    out = tmp_path / "toy"
    assert main(["train", "toy", "--quick", "--out", str(out), "--no-progress"]) == 0
    metrics = check_outputs(out, "toy")
    assert metrics["n_train"] == 256 and metrics["config"]["seed"] == 1701


def test_train_mts_xor_quick_with_flags(tmp_path):
    out = tmp_path / "mts"
    argv = ["train", "mts-xor", "--quick", "--out", str(out), "--no-progress"]
    argv += ["--hidden", "16", "16", "--lr", "0.003", "--set", "tau_mem=150"]
    assert main(argv) == 0
    metrics = check_outputs(out, "mts-xor")
    cfg = metrics["config"]
    assert cfg["hidden"] == [16, 16] and cfg["lr"] == 0.003 and cfg["tau_mem"] == 150
    assert set(metrics["tau_mean_ms"]) == {"h1", "h2", "out"}
    # trained time constants stay at or below tau_max (seed 000: alpha <= 0.98)
    params = ns.load_params(out / "params.npz")
    for layer in ("h1", "h2", "out"):
        p = params[layer]
        tau = ns.gleak_to_tau(p["Leak_gLeak"], p["capacitance"])
        assert np.all(tau <= cfg["tau_max"] * (1 + 1e-4))
        assert np.shape(p["Leak_eLeak"]) == np.shape(tau)  # trained rest: a bias

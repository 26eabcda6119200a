"""``neurosim.tasks``: typed settings, quick mode, data errors, and quick runs of
the static-data tasks (their accuracy is the benchmark's job:
``benchmarks/accuracy.py``)."""

import dataclasses
import importlib.util
import json
from pathlib import Path

import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim.tasks import (
    QUICK_BATCHES,
    QUICK_SAMPLES,
    TASKS,
    TaskDataError,
    TaskDependencyError,
    run_task,
)
from neurosim.tasks.config import quick


def test_every_task_describes_itself_with_typed_defaults():
    for name, task in TASKS.items():
        line = task.describe()
        assert "epochs" in line and "lr=" in line, name
        assert dataclasses.is_dataclass(task.defaults), name
        with pytest.raises(dataclasses.FrozenInstanceError):
            task.defaults.epochs = 3
        assert {"epochs", "batch_size", "lr", "hidden", "seed"} <= set(
            task.defaults.to_dict()
        )


@pytest.mark.parametrize(
    ("overrides", "exc", "match"),
    [
        ({"batch_size": 0}, ValueError, r"batch_size: expected an integer >= 1, got 0"),
        ({"batch_size": 2.5}, TypeError, r"batch_size: .* got 2.5"),
        ({"lr": -1}, ValueError, r"lr: expected a positive finite number, got -1"),
        ({"hidden": []}, TypeError, r"hidden: expected a non-empty list"),
        ({"encoder": "morse"}, ValueError, r"encoder: expected one of .*'rate'"),
        ({"recurrent": "yes"}, TypeError, r"recurrent: expected true or false"),
        ({"label_smoothing": 1.0}, ValueError, r"label_smoothing: .*\[0, 1\)"),
        ({"lr_scale": {"Leak_eLeak": 0}}, ValueError, r"lr_scale\['Leak_eLeak'\]"),
        ({"tau": 3.0}, ValueError, r"no setting 'tau'.*tau_mem"),
    ],
)
def test_settings_check_their_own_values(overrides, exc, match):
    with pytest.raises(exc, match=match):
        TASKS["digits"].configure(overrides)


def test_settings_normalise_and_cross_check():
    cfg = TASKS["mnist"].configure({"hidden": [10, 5], "tau_mem": 20})
    assert cfg.hidden == (10, 5) and cfg.tau_mem == 20.0
    assert isinstance(cfg.tau_mem, float) and cfg.to_dict()["hidden"] == [10, 5]
    with pytest.raises(ValueError, match="dt: .*10 ms bins.*got 3.0"):
        TASKS["mts-xor"].configure({"dt": 3.0})
    with pytest.raises(ValueError, match="data_init"):
        TASKS["mts-xor"].configure({"recurrent": True})
    with pytest.raises(ValueError, match="one hidden layer"):
        TASKS["toy"].configure({"hidden": [4, 4]})


def test_quick_is_one_set_of_overrides():
    cfg = quick(TASKS["mts-xor"].defaults)
    assert (cfg.epochs, cfg.n_train, cfg.n_test) == (
        1,
        QUICK_BATCHES * cfg.batch_size,
        QUICK_SAMPLES,
    )
    # everything else is the default
    others = {
        k: v
        for k, v in cfg.to_dict().items()
        if k not in ("epochs", "n_train", "n_test")
    }
    defaults = TASKS["mts-xor"].defaults.to_dict()
    assert others == {k: defaults[k] for k in others}


def test_unknown_task_is_a_worded_error(tmp_path):
    with pytest.raises(ValueError, match="unknown task 'cifar'"):
        run_task("cifar", out=tmp_path)
    with pytest.raises(ValueError, match="no setting 'tau'"):
        run_task("digits", out=tmp_path, quick=True, overrides={"tau": 3.0})
    assert not (tmp_path / "metrics.json").exists()


def test_missing_data_or_package_raises_a_task_error(tmp_path, monkeypatch):
    with pytest.raises(TaskDataError, match="--data DIR"):
        run_task("shd", out=tmp_path, quick=True)
    with pytest.raises(TaskDataError, match="shd_train.h5"):
        run_task("shd", out=tmp_path, quick=True, data=tmp_path)
    with pytest.raises(TaskDataError, match="train-images-idx3-ubyte"):
        run_task("mnist", out=tmp_path, quick=True, data=tmp_path)
    for mod in ("sklearn", "sklearn.datasets", "sklearn.model_selection"):
        monkeypatch.setitem(__import__("sys").modules, mod, None)  # even if imported
    with pytest.raises(TaskDependencyError, match="pip install scikit-learn"):
        run_task("digits", out=tmp_path, quick=True)


def _check_run(out, name, metrics):
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == metrics
    for key in ("train_accuracy", "test_accuracy", "epochs", "wall_seconds", "config"):
        assert key in metrics
    assert metrics["epochs"] == 1 and metrics["quick"] is True
    assert metrics["n_test"] == QUICK_SAMPLES
    assert metrics["config"] == quick(TASKS[name].defaults).to_dict()
    assert len(metrics["history"]["loss"]) == 1
    assert (out / "training_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    params = ns.load_params(out / "params.npz")
    assert "in->h1" in params and "out" in params
    tau = ns.gleak_to_tau(params["h1"]["Leak_gLeak"], params["h1"]["capacitance"])
    assert metrics["tau_mean_ms"]["h1"] == pytest.approx(float(np.mean(tau)), rel=1e-5)


@pytest.mark.parametrize("name", ["yinyang", "digits"])
def test_quick_run_writes_metrics_curve_and_params(name, tmp_path):
    metrics = run_task(name, out=tmp_path, quick=True, progress=False)
    _check_run(tmp_path, name, metrics)
    assert metrics["n_train"] == QUICK_BATCHES * TASKS[name].defaults.batch_size
    # conftest switches x64 on; the tasks pin float32 (the seed-003 toy: float64)
    assert jax.config.jax_enable_x64
    params = ns.load_params(tmp_path / "params.npz")
    assert params["in->h1"]["SpikeSynapse_gS"].dtype == np.float32


def test_quick_mnist_trains_the_recurrent_stack(tmp_path):
    metrics = run_task("mnist", out=tmp_path, quick=True, progress=False)
    _check_run(tmp_path, "mnist", metrics)
    assert metrics["n_train"] == QUICK_BATCHES * 256  # scored without the copies
    assert "shifted copies" in metrics["split"]
    params = ns.load_params(tmp_path / "params.npz")
    assert "h1->h1" in params  # recurrent, with trained thresholds
    assert np.ndim(params["h1"]["Fire_vth"]) == 1


@pytest.mark.standard_promotion  # optax's Adam in the baseline's own loop
def test_ann_baseline_learns_separable_classes():
    # Oracle: two Gaussian blobs 8 sd apart are separable: test accuracy 1.
    path = Path(__file__).parents[1] / "benchmarks" / "ann.py"
    spec = importlib.util.spec_from_file_location("ann", path)
    ann = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ann)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    x = rng.normal(size=(400, 5)) + 4.0 * (2 * y[:, None] - 1)
    acc = ann.train_mlp(
        x[:300], y[:300], x[300:], y[300:], n_classes=2, hidden=(8,), epochs=40,
        batch_size=50, lr=1e-2,
    )  # fmt: skip
    assert acc == 1.0


def test_mts_xor_loss_counts_only_the_scored_steps():
    from neurosim.tasks.snn import TaskData, _objective

    cfg = TASKS["mts-xor"].defaults
    assert cfg.mask_loss and cfg.loss == "per_step"
    scored = np.array([False, True, True, False])
    data = TaskData(None, None, None, None, 2, eval_steps=scored)
    targets = np.array([[1, 0, 1, 1]])
    # right on the scored steps, wrong (by 5 mV) on the others
    right = np.eye(2)[targets[0]] * 5.0
    v = np.concatenate([np.zeros((1, 2)), np.where(scored[:, None], right, 5 - right)])
    rec = {"out.v": jax.numpy.asarray(v[None], jax.numpy.float32)}
    masked, acc = _objective(cfg, data)(rec, targets)
    unmasked, acc_all = _objective(dataclasses.replace(cfg, mask_loss=False), data)(
        rec, targets
    )
    assert float(acc) == float(acc_all) == 1.0  # accuracy: scored steps only
    assert float(masked) == pytest.approx(np.log1p(np.exp(-5.0)), rel=1e-5)
    assert float(unmasked) == pytest.approx(
        (2 * np.log1p(np.exp(-5.0)) + 2 * np.log1p(np.exp(5.0))) / 4, rel=1e-5
    )

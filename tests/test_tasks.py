"""``neurosim.tasks``: the optimiser pieces by hand, settings, data errors, and
quick runs of the static-data tasks (their accuracy is the benchmark's job:
``benchmarks/accuracy.py``)."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import neurosim as ns
from neurosim.tasks import (
    QUICK_BATCHES,
    QUICK_SAMPLES,
    TASKS,
    TaskDataError,
    cap_decay,
    centralize_gradients,
    run_task,
)


def test_centralize_gradients_by_hand():
    # Oracle: a 2x3 matrix loses each column's mean (over all axes but the last);
    # the flat leaf is viewed as (2, 3) through `shapes`; 1-D leaves pass unchanged.
    g = jnp.array([[1.0, 2.0, 6.0], [3.0, 2.0, 0.0]])
    grads = {"a": {"w": g, "flat": g.reshape(-1), "v": jnp.array([1.0, 5.0])}}
    gc = centralize_gradients({"a": {"flat": (2, 3)}})
    out, _ = gc.update(grads, gc.init(grads))
    want = jnp.array([[-1.0, 0.0, 3.0], [1.0, 0.0, -3.0]])
    np.testing.assert_array_equal(out["a"]["w"], want)
    np.testing.assert_array_equal(out["a"]["flat"], want.reshape(-1))
    np.testing.assert_array_equal(out["a"]["v"], grads["a"]["v"])


def test_cap_decay_keeps_alpha_below_the_cap():
    # Oracle: alpha + update <= 0.98 exactly where listed; other leaves untouched.
    params = {"h1": {"Leak_gLeak": jnp.array([0.97, 0.5]), "x": jnp.array([0.97])}}
    updates = {"h1": {"Leak_gLeak": jnp.array([0.05, 0.05]), "x": jnp.array([0.05])}}
    tx = cap_decay(0.98, {("h1", "Leak_gLeak")})
    out, _ = tx.update(updates, tx.init(params), params)
    new = optax.apply_updates(params, out)
    np.testing.assert_allclose(new["h1"]["Leak_gLeak"], [0.98, 0.55], rtol=1e-6)
    np.testing.assert_allclose(new["h1"]["x"], [1.02], rtol=1e-6)
    with pytest.raises(ValueError, match="needs params"):
        tx.update(updates, tx.init(params))


def test_every_task_describes_itself():
    for name, task in TASKS.items():
        line = task.describe()
        assert "epochs" in line and "lr=" in line, name
        assert {"epochs", "batch_size", "lr", "hidden", "seed"} <= set(task.defaults)


def test_unknown_task_or_setting_is_a_worded_error(tmp_path):
    with pytest.raises(ValueError, match="unknown task 'cifar'"):
        run_task("cifar", out=tmp_path)
    with pytest.raises(ValueError, match="no setting 'tau'.*tau_mem"):
        run_task("digits", out=tmp_path, quick=True, overrides={"tau": 3.0})
    assert not (tmp_path / "metrics.json").exists()


def test_missing_data_raises_task_data_error(tmp_path):
    with pytest.raises(TaskDataError, match="--data DIR"):
        run_task("shd", out=tmp_path, quick=True)
    with pytest.raises(TaskDataError, match="shd_train.h5"):
        run_task("shd", out=tmp_path, quick=True, data=tmp_path)
    with pytest.raises(TaskDataError, match="train-images-idx3-ubyte"):
        run_task("mnist", out=tmp_path, quick=True, data=tmp_path)


def _check_run(out, name, metrics):
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == metrics
    for key in ("train_accuracy", "test_accuracy", "epochs", "wall_seconds", "config"):
        assert key in metrics
    assert metrics["epochs"] == 1 and metrics["quick"] is True
    assert metrics["n_test"] == QUICK_SAMPLES
    assert metrics["config"] == {**TASKS[name].defaults, "epochs": 1}
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
    batches = QUICK_BATCHES * TASKS[name].defaults["batch_size"]
    assert metrics["n_train"] == min(QUICK_SAMPLES, batches)
    # conftest switches x64 on; the tasks pin float32 (the seed-003 toy: float64)
    assert jax.config.jax_enable_x64
    params = ns.load_params(tmp_path / "params.npz")
    assert params["in->h1"]["SpikeSynapse_gS"].dtype == np.float32


def test_quick_mnist_reports_the_ann_beside_the_snn(tmp_path):
    metrics = run_task("mnist", out=tmp_path, quick=True, progress=False)
    _check_run(tmp_path, "mnist", metrics)
    assert 0.0 <= metrics["ann_test_accuracy"] <= 1.0
    assert metrics["ann_network"] == "784-128-10"
    params = ns.load_params(tmp_path / "params.npz")
    assert "h1->h1" in params  # recurrent, with trained thresholds
    assert np.ndim(params["h1"]["Fire_vth"]) == 1

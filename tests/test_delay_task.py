"""The delay-lag task: its generator, its quick runs through `run_task` and the
CLI, and the delay-cost benchmark's quick rows."""

import dataclasses
import json
import math

import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim import cli
from neurosim.datasets import delay_lag, delay_lag_splits
from neurosim.tasks import QUICK_BATCHES, QUICK_SAMPLES, TASKS, run_task
from neurosim.tasks.config import quick
from neurosim.tasks.delay_lag import DELAY_KEY, network


def test_group_b_is_group_a_lagged_by_the_class():
    lags = (3, 7, 11)
    x, y = delay_lag(64, seed=1, n_steps=40, channels=5, lags=lags, p=0.2)
    assert x.shape == (64, 40, 10) and x.dtype == np.uint8 and y.dtype == np.int32
    assert set(np.unique(y)) == {0, 1, 2}
    for xi, c in zip(x, y, strict=True):
        lag = lags[c]
        a, b = xi[:, :5], xi[:, 5:]
        np.testing.assert_array_equal(b[lag:], a[:-lag])
        for other in set(lags) - {lag}:  # no other lag fits
            assert not np.array_equal(b[other:], a[:-other])
    again, _ = delay_lag(64, seed=1, n_steps=40, channels=5, lags=lags, p=0.2)
    np.testing.assert_array_equal(again, x)


def test_each_group_alone_carries_no_class():
    """Both groups are cut from one longer pattern: the first steps of B are
    drawn, not silent, so the spike counts do not depend on the lag."""
    x, y = delay_lag(3000, seed=2, n_steps=30, channels=4, lags=(4, 20), p=0.1)
    for group in (slice(0, 4), slice(4, 8)):
        for steps in (slice(0, 4), slice(None)):
            rates = [x[y == c][:, steps, group].mean() for c in (0, 1)]
            assert rates[0] == pytest.approx(0.1, abs=0.01)
            assert rates[1] == pytest.approx(rates[0], abs=0.01)


def test_splits_are_independent_and_checked():
    ds = delay_lag_splits(0, n_train=32, n_test=16, n_steps=30)
    assert ds.x_train.shape == (32, 30, 16) and ds.n_classes == 5
    assert not np.array_equal(ds.x_train[:16], ds.x_test)
    with pytest.raises(ValueError, match="lags"):
        delay_lag(2, 0, lags=(3, 3))
    with pytest.raises(TypeError, match="lags"):
        delay_lag(2, 0, lags=(3.5, 4))
    with pytest.raises(ValueError, match="p: "):
        delay_lag(2, 0, p=1.0)
    with pytest.raises(ValueError, match="lags: "):
        TASKS["delay-lag"].configure({"lags": [2, -1]})
    with pytest.raises(ValueError, match="hidden"):
        TASKS["delay-lag"].configure({"hidden": [8, 8]})


def test_the_two_tasks_differ_only_in_delays():
    with_delays = TASKS["delay-lag"].defaults
    without = TASKS["delay-lag-no-delays"].defaults
    assert with_delays.delays and not without.delays
    assert dataclasses.replace(with_delays, delays=False) == without
    assert max(with_delays.lags) <= with_delays.max_delay
    # the smallest lag is several membrane time constants
    assert min(with_delays.lags) * with_delays.dt >= 4 * with_delays.tau_mem


def _check(out, name, metrics):
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert metrics["epochs"] == 1 and metrics["quick"] is True
    assert metrics["n_test"] == QUICK_SAMPLES
    assert metrics["n_train"] == QUICK_BATCHES * TASKS[name].defaults.batch_size
    assert metrics["config"] == quick(TASKS[name].defaults).to_dict()
    assert math.isfinite(metrics["test_accuracy"])
    assert (out / "training_curve.png").exists()
    return ns.load_params(out / "params.npz")


def test_quick_delay_lag_through_the_cli_trains_the_delays(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "delay-lag", "--quick", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert "learnable per-edge delays" in metrics["network"]
    assert "delay-lag" in capsys.readouterr().out
    params = _check(out, "delay-lag", metrics)
    cfg = TASKS["delay-lag"].defaults
    delays = params["in->h1"][DELAY_KEY]
    assert delays.shape == (2 * cfg.channels, cfg.hidden[0])
    assert np.isfinite(delays).all()
    # drawn uniformly, then moved by training: not the drawn values
    sim = ns.compile(network(cfg, 2 * cfg.channels, len(cfg.lags)), dt=cfg.dt)
    with jax.enable_x64(False):
        drawn = np.asarray(
            sim.init_params(jax.random.key(cfg.seed))["in->h1"][DELAY_KEY]
        )
    assert 0.0 <= drawn.min() and drawn.max() <= cfg.max_delay * cfg.dt
    assert np.abs(delays - drawn).max() > 0.01


def test_quick_no_delays_run(tmp_path):
    metrics = run_task("delay-lag-no-delays", out=tmp_path, quick=True, progress=False)
    params = _check(tmp_path, "delay-lag-no-delays", metrics)
    assert DELAY_KEY not in params["in->h1"]
    assert "no delays" in metrics["network"]


@pytest.mark.slow  # compiles four training steps and three scans
def test_delay_cost_rows_quick():
    from neurosim.bench.delays import rows

    out = rows(quick=True)
    assert len(out) == 5
    for row in out:
        assert set(row) == {"name", "value", "unit", "goal", "note"}
        assert isinstance(row["value"], float) and math.isfinite(row["value"])
        assert row["value"] > 0 and row["unit"] == "x"
    assert [r["goal"] for r in out[:3]] == ["<= 1.2", "<= 1.5", "<= 3"]

"""The seed-003 circuit (``neurosim.examples``): batch of 256, the seed's numbers."""

import json
from pathlib import Path

import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim.datasets import toy
from neurosim.examples import SEED003_DT, SEED003_T_MAX, seed003_network

DATA = Path(__file__).parent / "data"


def test_seed003_circuit_with_the_seeds_draws():
    net = seed003_network()
    net.record("inp", "spikes")
    sim = ns.compile(net, dt=SEED003_DT)
    params = sim.init_params(jax.random.key(1701))
    task = toy(seed=1701)  # (256, 200, 100) nA
    rec = sim.run(params, {"inp": task.currents}, t_max=SEED003_T_MAX)
    assert list(net.populations) == ["inp", "hid", "out"]
    assert {k for k, _ in sim.net.trainable} == {"inp->hid", "hid->out"}
    assert rec["out.v"].shape == (256, 202, 2)  # 201 steps + the initial state
    assert int(rec.status) == 0
    # The seed's gS draws: the first two splits of key 1701.
    key = jax.random.key(1701)
    key, sub = jax.random.split(key)
    np.testing.assert_array_equal(
        np.reshape(params["inp->hid"]["SpikeSynapse_gS"], (100, 4)),
        10.0 * jax.random.normal(sub, (400,)).reshape(100, 4),  # pre-major
    )
    # One input spike per input event: an event (two samples of 508 nA) drives
    # an input neuron from 0 to 1.0009 mV, over the 1 mV threshold. ("same"
    # convolution cuts the second sample of an event at the last step.)
    events = np.asarray(task.spikes)[:, :-1].sum(axis=1)
    spikes = np.asarray(rec["inp.spikes"]).sum(axis=1)
    lone = (events == 1) & (np.asarray(task.spikes)[:, -1] == 0)
    assert lone.sum() > 1000
    np.testing.assert_array_equal(spikes[lone], 1)
    v2 = (0.508 / 1.01 + 0.508) / 1.01  # two bwd-Euler steps with a = 10/ms
    assert 1.0 < v2 < 1.001


def test_demo_writes_its_outputs(tmp_path):
    from neurosim.demo import run_demo

    metrics = run_demo(tmp_path, epochs=3, progress=False)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved == metrics
    for key in ("train_accuracy", "final_loss", "epochs", "wall_seconds"):
        assert key in saved
    # Oracle: the float64 run with the seed's draws (3 epochs of Adam(0.1)).
    assert saved["epochs"] == 3 and saved["train_accuracy"] == 0.5
    assert saved["final_loss"] == pytest.approx(0.8824376416584759, rel=1e-6)
    for name in ("training_curve.png", "output_voltages.png", "params.npz"):
        assert (tmp_path / name).stat().st_size > 1000


def test_seed003_trajectory_matches_the_stored_reproduction():
    """The first 25 float64 losses of the seed-003 experiment (the seed's draws,
    Adam(0.1), full batch) equal those stored from the full 500-epoch run that
    reproduced the seed (tests/data/make_seed003_trajectory.py), to 1e-6."""
    from neurosim.demo import fit_seed003

    stored = json.loads((DATA / "seed003_trajectory.json").read_text())
    task = toy(seed=1701)
    n = len(stored["losses"])
    _, result = fit_seed003(task.currents, task.labels, epochs=n, progress=False)
    assert result.history["loss"] == pytest.approx(stored["losses"], rel=1e-6)
    assert stored["train_accuracy"] == pytest.approx(0.8828, abs=1e-3)


@pytest.mark.slow
def test_seed003_experiment_end_to_end(tmp_path):
    """500 epochs of Adam(0.1) in float64: the seed reached 0.883 / 0.2618."""
    from neurosim.demo import run_demo

    metrics = run_demo(tmp_path, epochs=500, progress=False)
    assert metrics["train_accuracy"] == pytest.approx(0.8828, abs=1e-3)
    assert metrics["final_loss"] == pytest.approx(0.2616, abs=1e-3)

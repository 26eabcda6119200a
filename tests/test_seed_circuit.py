"""The seed-003 circuit: built in a few lines, batch of 256, the seed's numbers."""

import json

import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim.datasets import toy


def test_seed003_circuit_in_25_lines():
    # --- user code, as in the README (25 lines at most) -------------------------
    net = ns.Network()
    length = 1.0 / (2 * np.pi * 1e-5)  # µm: area 2 pi r L = 1e5 µm² at r = 1 µm
    for name, n, fires in (("inp", 100, True), ("hid", 4, True), ("out", 2, False)):
        channels = [ns.Leak(gLeak=0.01, eLeak=0.0)]
        if fires:
            channels.append(ns.Fire(vth=1.0, vreset=0.0))
        net.add_population(name, n, channels, length=length, radius=1.0, v=0.0)
    for pre, post in (("inp", "hid"), ("hid", "out")):
        net.connect(pre, post, ns.SpikeSynapse())  # all-to-all, s_decay 10/ms
        net.set(f"{pre}->{post}", "SpikeSynapse_gS", ns.normal(0.0, 10.0))  # µS
    net.record("out", "v")
    net.record("inp", "spikes")
    sim = ns.compile(net, dt=1e-3)
    params = sim.init_params(jax.random.key(1701))
    task = toy(seed=1701)  # (256, 200, 100) nA
    rec = sim.run(params, {"inp": task.currents}, t_max=0.2)
    # ---------------------------------------------------------------------------
    assert rec["out.v"].shape == (256, 202, 2)  # 201 steps + the initial state
    assert int(rec.status) == 0
    # The seed's gS draws: the first two splits of key 1701.
    key = jax.random.key(1701)
    key, sub = jax.random.split(key)
    np.testing.assert_array_equal(
        params["inp->hid"]["SpikeSynapse_gS"], 10.0 * jax.random.normal(sub, (400,))
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
    assert saved["epochs"] == 3 and 0.0 <= saved["train_accuracy"] <= 1.0
    for name in ("training_curve.png", "output_voltages.png", "params.npz"):
        assert (tmp_path / name).stat().st_size > 1000


@pytest.mark.slow
def test_seed003_experiment_end_to_end(tmp_path):
    """500 epochs of Adam(0.1) in float64: the seed reached 0.883 / 0.2618."""
    from neurosim.demo import run_demo

    metrics = run_demo(tmp_path, epochs=500, progress=False)
    assert metrics["train_accuracy"] >= 0.88
    assert abs(metrics["final_loss"] - 0.2618) < 0.01

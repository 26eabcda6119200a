"""The seed-003 experiment: fit the conductances of a small SNN (``neurosim demo``).

100 Leak+Fire inputs -> 4 Leak+Fire hidden -> 2 Leak outputs, all-to-all
``SpikeSynapse`` (gS ~ N(0, 10) µS, decay 10/ms), dt = 1e-3 ms, t_max = 0.2 ms,
a fixed batch of 256 Poisson samples with random binary labels (seed 1701),
500 epochs of Adam(0.1) on the max-voltage cross-entropy, in float64 as the
seed ran it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import jax
import numpy as np
import optax

from .datasets import toy
from .engine import Simulator, compile
from .io import save_params
from .layers import LENGTH_UNIT_AREA
from .mechanisms.channels import Fire, Leak
from .mechanisms.synapses import SpikeSynapse
from .network import Network, normal
from .train import Objective, evaluate, fit

__all__ = ["build_seed003", "run_demo"]

DT, T_MAX, SEED = 1e-3, 0.2, 1701


def build_seed003(
    n_input: int = 100, n_hidden: int = 4, n_output: int = 2
) -> Simulator:
    """The seed-003 circuit, compiled (output voltages recorded, gS trainable)."""
    net = Network()
    for name, n, fire in (
        ("inp", n_input, True),
        ("hid", n_hidden, True),
        ("out", n_output, False),
    ):
        channels = [Leak(gLeak=0.01, eLeak=0.0)] + (
            [Fire(vth=1.0, vreset=0.0)] if fire else []
        )
        net.add_population(
            name, n, channels, length=LENGTH_UNIT_AREA, radius=1.0, v=0.0
        )
    for pre, post in (("inp", "hid"), ("hid", "out")):
        proj = net.connect(pre, post, SpikeSynapse())
        net.set(proj, "SpikeSynapse_gS", normal(0.0, 10.0))
        net.make_trainable(proj, "SpikeSynapse_gS", per_element=True)
    net.record("out", "v")
    return compile(net, dt=DT)


def run_demo(
    out: str | Path = "neurosim-demo", epochs: int = 500, progress: bool = True
) -> dict:
    """Train the seed-003 circuit and write metrics, figures and parameters to ``out``."""
    from . import plot  # matplotlib only when figures are written

    t0 = time.perf_counter()
    with jax.enable_x64(True):
        task = toy(seed=SEED)
        sim = build_seed003()
        params = sim.init_params(jax.random.key(SEED))
        x, y = np.asarray(task.currents), np.asarray(task.labels)
        result = fit(
            sim,
            params,
            x,
            y,
            input="inp",
            objective=Objective("max_voltage"),
            optimizer=optax.adam(0.1),
            epochs=epochs,
            batch_size=len(x),
            t_max=T_MAX,
            progress=progress,
        )
        final = evaluate(sim, result.params, x, y, input="inp", t_max=T_MAX)
        v = np.asarray(sim.run(result.params, {"inp": x[:4]}, t_max=T_MAX)["out.v"])
    wall = time.perf_counter() - t0
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics = {
        # As a Keras history and the seed's loss: measured on the training batch
        # in the last epoch's forward pass (before its update).
        "train_accuracy": result.history["accuracy"][-1],
        "final_loss": result.history["loss"][-1],
        # The same batch evaluated once more after the last update.
        "accuracy_after_last_update": final["accuracy"],
        "loss_after_last_update": final["loss"],
        "epochs": epochs,
        "wall_seconds": round(wall, 2),
        "seed": SEED,
        "dtype": "float64",
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    plot.save(plot.training_curves(result.history), out / "training_curve.png")
    fig_ax = None
    for i in range(v.shape[0]):
        fig_ax = plot.voltage_traces(
            v,
            sample=i,
            dt=DT,
            labels=[f"sample {i}: class 0", f"sample {i}: class 1"],
            ax=fig_ax,
        )
    fig_ax.set_title("output voltages after training (4 samples)")
    plot.save(fig_ax, out / "output_voltages.png")
    save_params(out / "params.npz", result.params)
    return metrics

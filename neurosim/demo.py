"""The seed-003 experiment: fit the conductances of a small SNN (`neurosim demo`).

100 Leak+Fire inputs -> 4 Leak+Fire hidden -> 2 Leak outputs, all-to-all
`SpikeSynapse` (gS ~ N(0, 10) µS, decay 10/ms), dt = 1e-3 ms, t_max = 0.2 ms,
a fixed batch of 256 Poisson samples with random binary labels (seed 1701),
500 epochs of Adam(0.1) on the max-voltage cross-entropy, in float64 as the
seed ran it. The circuit is `neurosim.examples.seed003_network`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np
import optax

from .datasets import toy
from .engine import Simulator, compile
from .examples import SEED003_DT, SEED003_SEED, SEED003_T_MAX, seed003_network
from .io import save_params
from .train import FitResult, Objective, evaluate, fit

__all__ = ["fit_seed003", "run_demo"]

N_SHOWN = 4  # samples drawn in output_voltages.png


def fit_seed003(
    x: Any,
    y: Any,
    *,
    n_hidden: int = 4,
    epochs: int = 500,
    lr: float = 0.1,
    batch_size: int | None = None,
    seed: int = SEED003_SEED,
    checkpoint_dir: str | Path | None = None,
    config: dict | None = None,
    progress: bool = True,
) -> tuple[Simulator, FitResult]:
    """Fit the seed-003 circuit's conductances with Adam on the max-voltage loss.

    Call it inside `jax.enable_x64(True)` to run in float64, as the seed did.

    Args:
        x: input currents, nA, `(batch, 200, n_input)`.
        y: labels 0 or 1, `(batch,)`.
        n_hidden: hidden neurons.
        epochs: epochs.
        lr: Adam's learning rate.
        batch_size: samples per batch (default: the whole batch, as the seed).
        seed: draws the weights (`jax.random.key(seed)`) and the batch order.
        checkpoint_dir: checkpoint every epoch there, and continue a checkpoint
            found there (`neurosim.fit`'s `checkpoint_dir`).
        config: what else a checkpoint must match to be continued (`fit`).
        progress: show a progress bar.

    Returns:
        `(sim, result)`: the compiled circuit and `neurosim.fit`'s result.
    """
    net = seed003_network(np.shape(x)[-1], n_hidden)
    sim = compile(net, dt=SEED003_DT)
    result = fit(
        sim,
        sim.init_params(jax.random.key(seed)),
        x,
        y,
        input="inp",
        objective=Objective("max_voltage"),
        optimizer=optax.adam(lr),
        epochs=epochs,
        batch_size=batch_size or len(x),
        seed=seed,
        t_max=SEED003_T_MAX,
        checkpoint_dir=checkpoint_dir,
        config=config,
        progress=progress,
    )
    return sim, result


def run_demo(
    out: str | Path = "neurosim-demo",
    epochs: int = 500,
    progress: bool = True,
    checkpoint: bool = False,
) -> dict:
    """Train the seed-003 circuit and write its outputs to `out`.

    Writes `metrics.json`, `training_curve.png`, `output_voltages.png`
    (one panel per sample: both outputs, the label and the prediction) and
    `params.npz`.

    Args:
        out: output folder (created).
        epochs: epochs of Adam(0.1) on the full batch of 256.
        progress: show a progress bar.
        checkpoint: write `out/checkpoint.npz` every epoch and continue one
            found there (`neurosim demo --resume`).

    Returns:
        The metrics written to `out/metrics.json`.
    """
    from . import plot  # matplotlib only when figures are written

    t0 = time.perf_counter()
    objective = Objective("max_voltage")
    if checkpoint:
        Path(out).mkdir(parents=True, exist_ok=True)
    with jax.enable_x64(True):
        task = toy(seed=SEED003_SEED)
        x, y = np.asarray(task.currents), np.asarray(task.labels)
        sim, result = fit_seed003(
            x,
            y,
            epochs=epochs,
            checkpoint_dir=out if checkpoint else None,
            config={"run": "demo"},
            progress=progress,
        )
        final = evaluate(sim, result.params, x, y, input="inp", t_max=SEED003_T_MAX)
        rec = sim.run(result.params, {"inp": x[:N_SHOWN]}, t_max=SEED003_T_MAX)
        v, pred = np.asarray(rec["out.v"]), np.asarray(objective.predict(rec))
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
        "seed": SEED003_SEED,
        "dtype": "float64",
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    plot.save(plot.training_curves(result.history), out / "training_curve.png")
    fig = plot.output_panels(v, y[:N_SHOWN], pred, dt=SEED003_DT)
    fig.suptitle(f"output voltages after {epochs} epochs (predicted: the higher peak)")
    plot.save(fig, out / "output_voltages.png")
    save_params(out / "params.npz", result.params)
    return metrics

"""Seed 003: memorise 256 Poisson samples with random labels (`neurosim demo`'s run)."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from .. import datasets
from ..demo import fit_seed003
from ..examples import SEED003_SEED, SEED003_T_MAX
from ..train import evaluate
from .config import TaskConfig, integer, setting
from .snn import TaskData, fit_config, subset

TITLE = "seed 003: memorise 256 Poisson samples with random labels (as `neurosim demo`)"


@dataclasses.dataclass(frozen=True)
class ToyConfig(TaskConfig):
    """Settings of the seed-003 task (`neurosim.examples.seed003_network`).

    Attributes:
        n_input: input neurons (channels of the Poisson currents).
    """

    n_input: int = setting(100, integer(1))

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.hidden) != 1 or self.optimizer != "adam":
            raise ValueError(
                "hidden, optimizer: the seed-003 circuit has one hidden layer and "
                f"trains with adam, got hidden={list(self.hidden)}, "
                f"optimizer={self.optimizer!r}."
            )


DEFAULTS = ToyConfig(
    n_input=100, hidden=(4,), lr=0.1, epochs=500, batch_size=256, seed=SEED003_SEED
)


def load(cfg: ToyConfig, data_dir: str | None) -> TaskData:
    """The seed's batch of 256 (`seed`) and a fresh one for testing (`seed + 1`)."""
    del data_dir
    with jax.enable_x64(True):
        train = datasets.toy(seed=cfg.seed, n_input=cfg.n_input)
        test = datasets.toy(seed=cfg.seed + 1, n_input=cfg.n_input)
        arrays = [np.asarray(a) for a in (train.currents, train.labels)]
        arrays += [np.asarray(a) for a in (test.currents, test.labels)]
    return TaskData(
        *subset(*arrays[:2], cfg.n_train),
        *subset(*arrays[2:], cfg.n_test),
        2,
        split="seed-003 batch of 256 (random labels); test: a fresh batch (seed + 1)",
    )


def train(
    cfg: ToyConfig, data: TaskData, progress: bool, checkpoint_dir: Any = None
) -> dict:
    """Train as `neurosim demo` does (float64, Adam, max-voltage loss); score
    both splits. `checkpoint_dir`: as `train_snn`."""
    with jax.enable_x64(True):
        sim, result = fit_seed003(
            data.x_train,
            data.y_train,
            n_hidden=cfg.hidden[0],
            epochs=cfg.epochs,
            lr=cfg.lr,
            batch_size=cfg.batch_size,
            seed=cfg.seed,
            checkpoint_dir=checkpoint_dir,
            config=fit_config(cfg),
            progress=progress,
        )
        out: dict = {
            "params": result.params,
            "history": result.history,
            "network": f"{cfg.n_input}-{cfg.hidden[0]}-2 LIF, leaky readout "
            "(seed 003; only the weights are trained)",
        }
        for split, x, y in (
            ("train", data.x_train, data.y_train),
            ("test", data.x_test, data.y_test),
        ):
            ev = evaluate(sim, result.params, x, y, input="inp", t_max=SEED003_T_MAX)
            out[f"{split}_accuracy"], out[f"{split}_loss"] = ev["accuracy"], ev["loss"]
            out[f"n_{split}"] = len(x)
    return out

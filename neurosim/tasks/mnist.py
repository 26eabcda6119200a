"""MNIST: the bundled 10k subset (or the full IDX files), a recurrent 784-100-10
stack trained by BPTT; with `rule` set, seed 001's feed-forward network trained
by an online rule or BPTT (`neurosim.tasks.online`).

The ANN baseline on the same split is `benchmarks/ann.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import datasets
from .online import OnlineConfig, rule_defaults, train_online
from .snn import TaskData, TaskDataError, static_data, train_snn

TITLE = "MNIST 10k subset (8000 / 2000; seed 002), rate-coded pixels"

# Rate code, dt 1 ms, tau 10 ms: StaticConfig's own defaults.
DEFAULTS = OnlineConfig(
    hidden=(100,),
    recurrent=True,
    train_vth=True,
    n_steps=25,
    gain=0.5,
    loss="max_voltage",
    lr=2e-3,
    schedule="cosine",
    epochs=6,
    batch_size=256,
    augment="shift",
)


# `--rule RULE`: seed 001's network and training on the same data.
RULE_DEFAULTS = rule_defaults


def train(
    cfg: OnlineConfig, data: TaskData, progress: bool, checkpoint_dir: Any = None
) -> dict:
    """BPTT of the recurrent stack, or with `cfg.rule` seed 001's network."""
    run = train_snn if cfg.rule is None else train_online
    return run(cfg, data, progress, checkpoint_dir=checkpoint_dir)


def load(cfg: OnlineConfig, data_dir: str | None) -> TaskData:
    """The bundled `mnist10k.npz`, or from `data_dir` the npz or MNIST's
    four IDX files (a folder without the npz is read as IDX).

    Raises:
        TaskDataError: the files are not there.
    """
    try:
        if (
            data_dir is not None
            and not (Path(data_dir) / datasets.mnist.MNIST_NPZ).exists()
        ):
            ds = datasets.load_mnist_idx(data_dir)
        else:
            ds = datasets.load_mnist_npz(data_dir)
    except FileNotFoundError as err:
        raise TaskDataError(str(err)) from err
    return static_data(ds, cfg)

"""MNIST: the bundled 10k subset (or the full IDX files), a recurrent 784-100-10 stack.

The ANN baseline on the same split is `benchmarks/ann.py`.
"""

from __future__ import annotations

from pathlib import Path

from .. import datasets
from .config import StaticConfig
from .snn import TaskData, TaskDataError, static_data

TITLE = "MNIST 10k subset (8000 / 2000; seed 002), rate-coded pixels"

# Rate code, dt 1 ms, tau 10 ms: StaticConfig's own defaults.
DEFAULTS = StaticConfig(
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


def load(cfg: StaticConfig, data_dir: str | None) -> TaskData:
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

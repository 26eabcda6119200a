"""Yin-Yang: 4 rate-coded coordinates, 3 classes, a 4-64-3 LIF stack."""

from __future__ import annotations

from .. import datasets
from .config import StaticConfig
from .snn import TaskData, static_data

TITLE = "Yin-Yang, 4 rate-coded inputs, 3 classes"

# Rate code, dt 1 ms, tau 10 ms: StaticConfig's own defaults.
DEFAULTS = StaticConfig(
    hidden=(64,),
    lr=1e-2,
    schedule="cosine",
    epochs=30,
    batch_size=50,
)


def load(cfg: StaticConfig, data_dir: str | None) -> TaskData:
    """The generated Yin-Yang splits, encoded as `cfg` says."""
    del data_dir
    return static_data(datasets.yinyang_splits(), cfg)

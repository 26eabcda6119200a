"""scikit-learn's 8x8 digits: 64 rate-coded pixels, 10 classes (needs scikit-learn)."""

from __future__ import annotations

from .. import datasets
from .config import StaticConfig
from .snn import TaskData, TaskDependencyError, static_data

TITLE = "scikit-learn 8x8 digits, rate-coded pixels (needs scikit-learn)"

# Rate code, dt 1 ms, tau 10 ms: StaticConfig's own defaults.
DEFAULTS = StaticConfig(
    hidden=(128,),
    lr=5e-3,
    schedule="cosine",
    epochs=40,
    batch_size=32,
)


def load(cfg: StaticConfig, data_dir: str | None) -> TaskData:
    """The digits with split seed 0, encoded as `cfg` says.

    Raises:
        TaskDependencyError: scikit-learn is not installed.
    """
    del data_dir
    try:
        ds = datasets.digits(seed=0)
    except ImportError as err:
        raise TaskDependencyError(str(err)) from err
    return static_data(ds, cfg)

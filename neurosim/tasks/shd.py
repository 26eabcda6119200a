"""The Spiking Heidelberg Digits (seed 004): 20 classes, a recurrent 256-128-128-20
stack (needs `--data` with the two .h5 files, and h5py)."""

from __future__ import annotations

import dataclasses

from .. import datasets
from .config import SnnConfig, integer, positive, setting
from .snn import TaskData, TaskDataError, TaskDependencyError, subset

TITLE = "Spiking Heidelberg Digits (seed 004), 128 bins x 256 channels, needs --data"


@dataclasses.dataclass(frozen=True)
class ShdConfig(SnnConfig):
    """Settings of SHD.

    Attributes:
        n_steps: time bins per sample.
        t_max_s: the binned span, s.
        channels: input channels (the 700 cochlea channels pooled).
    """

    n_steps: int = setting(128, integer(1))
    t_max_s: float = setting(1.0, positive)
    channels: int = setting(256, integer(1))


DEFAULTS = ShdConfig(
    hidden=(128, 128),
    recurrent=True,
    surrogate="arctan",
    n_steps=128,
    t_max_s=1.0,
    channels=256,
    dt=1000.0 / 128,
    tau_mem=20.0,
    tau_out=20.0,
    loss="sum_voltage",
    label_smoothing=0.3,
    optimizer="lion",
    lr=1e-4,
    epochs=50,
    batch_size=256,
)


def load(cfg: ShdConfig, data_dir: str | None) -> TaskData:
    """`shd_train.h5` and `shd_test.h5` from `data_dir`, binned as `cfg` says.

    Raises:
        TaskDataError: no `data_dir`, or the files are not in it.
        TaskDependencyError: h5py is not installed.
    """
    if data_dir is None:
        raise TaskDataError(
            "needs --data DIR, a folder holding shd_train.h5 and shd_test.h5 "
            f"(from {datasets.shd.SHD_PAGE}; neurosim.datasets.download_shd(DIR) "
            "fetches them)."
        )
    kw = {"n_bins": cfg.n_steps, "t_max": cfg.t_max_s, "n_channels": cfg.channels}
    try:
        train = datasets.load_shd(data_dir, "train", **kw)
        test = datasets.load_shd(data_dir, "test", **kw)
    except FileNotFoundError as err:
        raise TaskDataError(str(err)) from err
    except ImportError as err:
        raise TaskDependencyError(str(err)) from err
    x_tr, y_tr = subset(train.x, train.y, cfg.n_train)
    x_te, y_te = subset(test.x, test.y, cfg.n_test)
    return TaskData(x_tr, y_tr, x_te, y_te, 20, split="shd_train.h5 / shd_test.h5")

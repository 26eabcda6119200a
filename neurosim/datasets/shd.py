"""The Spiking Heidelberg Digits (SHD; Cramer et al. 2022, IEEE TNNLS 33(7)).

Spoken digits 0-9 in English and German (20 classes), turned into spikes of
700 cochlear-model units. `shd_train.h5` (8156 samples) and `shd_test.h5`
(2264) come from https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/
(CC BY 4.0); nothing here downloads them unless `download` is called. Each
file holds per-sample variable-length `spikes/times` (s) and `spikes/units`
(0-699) and `labels` (0-19); the `extra/` group is not used.
"""

import gzip
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from neurosim.datasets._common import (
    Split,
    check_choice,
    check_positive,
    check_positive_int,
)

SHD_UNITS = 700
SHD_CLASSES = 20
SHD_PAGE = "https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/"
SHD_BASE_URL = "https://zenkelab.org/datasets/"
SPLITS = ("train", "test")
_CHUNK = 512  # samples binned at once, to bound the memory of the index arrays

MSG_NO_H5PY = (
    "load_shd() needs h5py to read the SHD files; install it with "
    "`pip install neurosim[data]` (or `pip install h5py`)."
)


def _import_h5py():
    try:
        import h5py
    except ImportError as err:
        raise ImportError(MSG_NO_H5PY) from err
    return h5py


def load_shd(
    folder: str | os.PathLike,
    split: str = "train",
    n_bins: int = 100,
    t_max: float = 1.4,
    n_channels: int = 700,
    binary: bool = False,
) -> Split:
    """Reads one SHD split and bins it into a dense spike tensor.

    Bin `k` counts the spikes with `k t_max / n_bins <= time < (k + 1) t_max /
    n_bins`; spikes at or after `t_max` are dropped. Unit `u` goes to channel
    `u * n_channels // 700`, so `n_channels < 700` pools neighbouring units
    (seed 004 used `n_bins=128`, `t_max=1.0`, `n_channels=256`).

    Args:
        folder: folder holding `shd_train.h5` / `shd_test.h5`.
        split: "train" or "test".
        n_bins: number of time bins.
        t_max: end of the binned window, in s (the longest SHD sample lasts
            about 1.37 s).
        n_channels: number of channels after pooling, 1 to 700.
        binary: if True, a bin holds 1. when it has any spike instead of the count.

    Returns:
        `Split(x, y)`: spikes float32 `(n, n_bins, n_channels)` (counts, or 0./1.
        with `binary=True`; one bin lasts `t_max / n_bins` s) and int32 labels
        `(n,)` in 0-19.

    Raises:
        FileNotFoundError: if the file is not in `folder`.
        ValueError: on a bad argument or a file without the SHD layout.
        ImportError: if h5py is not installed.
    """
    split = check_choice("split", split, SPLITS)
    n_bins = check_positive_int("n_bins", n_bins)
    t_max = check_positive("t_max", t_max)
    n_channels = check_positive_int("n_channels", n_channels)
    if n_channels > SHD_UNITS:
        raise ValueError(
            f"n_channels must be between 1 and {SHD_UNITS} (channels are pooled "
            f"from the {SHD_UNITS} SHD units, never split); got {n_channels!r}."
        )
    path = Path(folder).expanduser() / f"shd_{split}.h5"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no such file (folder={str(folder)!r}, split={split!r}). "
            f"Get shd_{split}.h5 from {SHD_PAGE} (or call "
            f"neurosim.datasets.download_shd(folder)) and unpack it into that folder."
        )
    h5py = _import_h5py()
    try:
        with h5py.File(path, "r") as f:
            for key in ("spikes/times", "spikes/units", "labels"):
                if key not in f:
                    raise ValueError(
                        f"{path}: missing dataset {key!r}; not an SHD file?"
                    )
            times = f["spikes/times"][:]
            units = f["spikes/units"][:]
            raw_labels = f["labels"][:]
    except (OSError, KeyError, TypeError) as err:
        raise ValueError(
            f"{path}: cannot be read as an SHD HDF5 file ({err}); it is truncated, "
            f"damaged or of another format. Get shd_{split}.h5 again from {SHD_PAGE}."
        ) from err
    if raw_labels.ndim != 1 or raw_labels.dtype.kind not in "iu":
        raise ValueError(
            f"{path}: 'labels' must be integers of shape (n,); got dtype "
            f"{raw_labels.dtype} and shape {raw_labels.shape}."
        )
    if times.dtype != object or units.dtype != object:
        raise ValueError(
            f"{path}: 'spikes/times' and 'spikes/units' must hold one variable-length "
            f"list per sample; got dtypes {times.dtype} and {units.dtype}."
        )
    labels = raw_labels.astype(np.int32)
    if labels.size and not 0 <= labels.min() <= labels.max() < SHD_CLASSES:
        raise ValueError(
            f"{path}: labels must lie in 0-{SHD_CLASSES - 1}; found {labels.min()} "
            f"to {labels.max()}."
        )
    n = len(labels)
    if len(times) != n or len(units) != n:
        raise ValueError(
            f"{path}: {len(times)} spike-time lists, {len(units)} unit lists and "
            f"{n} labels; they must agree."
        )

    x = np.zeros((n, n_bins, n_channels), dtype=np.float32)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        lengths = [len(t) for t in times[start:stop]]
        if sum(lengths) == 0:
            continue
        t = np.concatenate(times[start:stop]).astype(np.float64)
        u = np.concatenate(units[start:stop]).astype(np.int64)
        if [len(v) for v in units[start:stop]] != lengths:
            raise ValueError(
                f"{path}: a sample has unequal numbers of times and units."
            )
        if u.min() < 0 or u.max() >= SHD_UNITS:
            raise ValueError(
                f"{path}: unit ids must lie in 0-{SHD_UNITS - 1}; "
                f"found {u.min()} to {u.max()}."
            )
        sample = np.repeat(np.arange(start, stop), lengths)
        keep = (t >= 0.0) & (t < t_max)
        # floor(t / width); the clip guards t just below t_max rounding up.
        bins = np.minimum((t[keep] * n_bins / t_max).astype(np.int64), n_bins - 1)
        channels = u[keep] * n_channels // SHD_UNITS
        if binary:
            x[sample[keep], bins, channels] = 1.0
        else:
            np.add.at(x, (sample[keep], bins, channels), 1.0)
    return Split(x, labels)


def download_shd(
    folder: str | os.PathLike, splits: tuple[str, ...] = SPLITS
) -> list[Path]:
    """Downloads and unpacks `shd_train.h5` / `shd_test.h5` into `folder`.

    Never called implicitly. Tries `<name>.h5.zip`, then `<name>.h5.gz`, at
    `SHD_BASE_URL`; files already present are kept.

    Args:
        folder: destination folder (created if missing).
        splits: which splits to fetch.

    Returns:
        The paths of the unpacked `.h5` files.
    """
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for split in splits:
        check_choice("split", split, SPLITS)
        target = folder / f"shd_{split}.h5"
        paths.append(target)
        if target.is_file():
            continue
        errors = []
        for suffix in (".zip", ".gz"):
            archive = folder / (target.name + suffix)
            try:
                urllib.request.urlretrieve(SHD_BASE_URL + archive.name, archive)
            except (urllib.error.URLError, OSError) as err:
                errors.append(f"{archive.name}: {err}")
                continue
            if suffix == ".zip":
                with zipfile.ZipFile(archive) as zf:
                    zf.extract(target.name, folder)
            else:
                with gzip.open(archive, "rb") as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            archive.unlink()
            break
        else:
            raise OSError(
                f"could not download shd_{split}.h5 from {SHD_BASE_URL} "
                f"({'; '.join(errors)}); get it by hand from {SHD_PAGE}."
            )
    return paths

"""MNIST handwritten digits: the bundled 10,000-digit subset and the IDX files.

The MNIST database is by Yann LeCun, Corinna Cortes and Christopher Burges
and is distributed under CC BY-SA 3.0. `neurosim/data/README.md` gives the provenance
of the bundled subset `mnist10k.npz`.
"""

import gzip
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from neurosim.datasets._common import Dataset, find_data_file

MNIST_NPZ = "mnist10k.npz"
N_TRAIN_NPZ = 8000  # fixed split of the subset: first 8000 train, last 2000 test
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
# IDX magic numbers: two zero bytes, the type code (0x08 = unsigned byte), ndim.
IDX_IMAGES_MAGIC = 0x00000803  # 2051
IDX_LABELS_MAGIC = 0x00000801  # 2049


_DAMAGED = "cannot be read: the file is truncated, damaged or of another format"


def _check_labels(labels: np.ndarray, file: os.PathLike) -> None:
    """MNIST labels are integers 0-9."""
    if labels.dtype.kind not in "iu" or (
        labels.size and not 0 <= int(labels.min()) <= int(labels.max()) <= 9
    ):
        values = f" in [{labels.min()}, {labels.max()}]" if labels.size else ""
        raise ValueError(
            f"{file}: labels must be integers 0-9; got dtype {labels.dtype}{values}."
        )


def _to_dataset(
    images: list[np.ndarray],
    labels: list[np.ndarray],
    split: str,
    name: str,
) -> Dataset:
    x_train, x_test = (
        im.reshape(len(im), int(np.prod(im.shape[1:]))).astype(np.float32) / 255.0
        for im in images
    )
    y_train, y_test = (np.asarray(lab, dtype=np.int32) for lab in labels)
    return Dataset(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        n_classes=10,
        name=name,
        split=split,
    )


def load_mnist_npz(path: str | os.PathLike | None = None) -> Dataset:
    """The bundled 10,000-digit MNIST subset with its fixed 8000 / 2000 split.

    The file holds `images` (uint8, `(10000, 28, 28)`) and `labels` (uint8),
    shuffled once; the first 8000 are the training set and the last 2000 the
    test set. This is not MNIST's official test split: say so next to any
    accuracy quoted on it.

    Args:
        path: `mnist10k.npz` or a folder holding it. If None, the folder in the
            `NEUROSIM_DATA` environment variable, else the package's `neurosim/data/`.

    Returns:
        A `Dataset` with pixels scaled to [0, 1] as float32 `(n, 784)`
        (row-major 28x28) and int32 labels `(n,)`: 8000 train, 2000 test.

    Raises:
        FileNotFoundError: if the file cannot be found.
        ValueError: if the file lacks the `images` or `labels` arrays.
    """
    file = find_data_file(MNIST_NPZ, path)
    try:
        with np.load(file, allow_pickle=False) as npz:
            if "images" not in npz or "labels" not in npz:
                raise ValueError(
                    f"{file}: expected arrays 'images' and 'labels'; got {sorted(npz)}."
                )
            images, labels = npz["images"], npz["labels"]
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{file}: {_DAMAGED} ({err}).") from err
    except ValueError as err:
        if str(file) in str(err):
            raise
        raise ValueError(f"{file}: {_DAMAGED} ({err}).") from err
    if images.ndim != 3 or images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{file}: expected images (n, 28, 28) and labels (n,); got "
            f"{images.shape} and {labels.shape}."
        )
    _check_labels(labels, file)
    return _to_dataset(
        [images[:N_TRAIN_NPZ], images[N_TRAIN_NPZ:]],
        [labels[:N_TRAIN_NPZ], labels[N_TRAIN_NPZ:]],
        split=f"{MNIST_NPZ}: first {N_TRAIN_NPZ} train, the rest test",
        name="mnist10k",
    )


def _read_idx(path: str | os.PathLike, magic: int) -> np.ndarray:
    """Reads one IDX file of unsigned bytes (plain or gzip), checking its header.

    Args:
        path: the file; a name ending in `.gz` is decompressed.
        magic: the expected magic number (2051 for images, 2049 for labels).

    Returns:
        The uint8 array, shaped as the header says.

    Raises:
        ValueError: if the magic number or the length does not match.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: {_DAMAGED} ({err}).") from err
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if found != magic:
        raise ValueError(
            f"{path}: magic number {found} where an IDX file of unsigned bytes "
            f"with {ndim} dimension(s) has {magic}; is it the right or an "
            f"undamaged file?"
        )
    shape = tuple(
        int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    if len(raw) != header + int(np.prod(shape)):
        raise ValueError(
            f"{path}: header says shape {shape} ({int(np.prod(shape))} bytes), "
            f"but {len(raw) - header} data bytes follow; the file is truncated "
            f"or damaged."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_mnist_idx(folder: str | os.PathLike) -> Dataset:
    """The full MNIST from its four standard IDX files (60,000 / 10,000).

    Args:
        folder: folder holding `train-images-idx3-ubyte`,
            `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
            `t10k-labels-idx1-ubyte`, each plain or with a `.gz` suffix.

    Returns:
        A `Dataset` with pixels scaled to [0, 1] as float32 `(n, 784)` and
        int32 labels `(n,)`, in the files' order.

    Raises:
        FileNotFoundError: if a file is missing.
        ValueError: if a header is wrong or images and labels disagree in number.
    """
    folder = Path(folder).expanduser()
    arrays = {}
    for key, name in IDX_FILES.items():
        candidates = [folder / name, folder / f"{name}.gz"]
        file = next((c for c in candidates if c.is_file()), None)
        if file is None:
            raise FileNotFoundError(
                f"folder={str(folder)!r}: found neither {name} nor {name}.gz; "
                f"the MNIST IDX files are at https://yann.lecun.com/exdb/mnist/ "
                f"and its mirrors."
            )
        magic = IDX_IMAGES_MAGIC if key.startswith("x") else IDX_LABELS_MAGIC
        arrays[key] = _read_idx(file, magic)
        if key.startswith("y"):
            _check_labels(arrays[key], file)
    for split in ("train", "test"):
        n_x, n_y = len(arrays[f"x_{split}"]), len(arrays[f"y_{split}"])
        if n_x != n_y:
            raise ValueError(
                f"folder={str(folder)!r}: {n_x} {split} images but {n_y} labels."
            )
    return _to_dataset(
        [arrays["x_train"], arrays["x_test"]],
        [arrays["y_train"], arrays["y_test"]],
        split="the official MNIST split, in file order",
        name="mnist",
    )

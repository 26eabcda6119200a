"""scikit-learn's 8x8 handwritten digits (the UCI optical digits test set).

1797 images of 8x8 pixels with 17 grey levels (0-16), ten classes. The data
ship inside scikit-learn, so nothing is downloaded.
"""

import numpy as np

from neurosim.datasets._common import Dataset, check_seed

MSG_NO_SKLEARN = (
    "digits() needs scikit-learn, which ships the 8x8 digits; install it with "
    "`pip install neurosim[data]` (or `pip install scikit-learn`)."
)


def digits(seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """The 8x8 digits with a stratified, seeded train/test split.

    Args:
        seed: seed of the split (`random_state` of scikit-learn's
            `train_test_split`); the same seed gives the same split.
        test_fraction: share of each class that goes to the test set, in (0, 1).

    Returns:
        A `Dataset` with pixels scaled to [0, 1] as float32 `(n, 64)` (row-major
        8x8), int32 labels `(n,)` and `n_classes=10`; with the defaults,
        1437 training and 360 test samples.

    Raises:
        ImportError: if scikit-learn is not installed.

    Examples:
        >>> data = digits()
        >>> data.x_train.shape, data.x_test.shape
        ((1437, 64), (360, 64))
    """
    seed = check_seed("seed", seed)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, float | int):
        raise TypeError(
            f"test_fraction must be a number strictly between 0 and 1; "
            f"got {test_fraction!r} of type {type(test_fraction).__name__}."
        )
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(
            f"test_fraction must be strictly between 0 and 1; got {test_fraction!r}."
        )
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as err:
        raise ImportError(MSG_NO_SKLEARN) from err

    bunch = load_digits()
    x = (np.asarray(bunch.data, dtype=np.float32) / 16.0).astype(np.float32)
    y = np.asarray(bunch.target, dtype=np.int32)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    return Dataset(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        n_classes=10,
        name="digits",
        split=(
            f"stratified {1 - test_fraction:g} / {test_fraction:g} split, "
            f"sklearn train_test_split(random_state={seed})"
        ),
    )

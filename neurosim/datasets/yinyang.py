"""The Yin-Yang data set (Kriener, Göltz and Petrovici 2021, arXiv:2102.08211).

A reimplementation of the rule in lkriener/yin_yang_data_set (MIT): points
are drawn uniformly in the square `[0, 2 r_big]^2`, kept only inside the big
circle of radius `r_big` around `(r_big, r_big)`, and labelled yin (0), yang
(1) or dot (2). Classes are balanced by rejection sampling: each sample first
draws its target class uniformly, then draws points until one has that class.
The draws follow the original's order with `numpy.random.RandomState(seed)`
(`randint(3)` for the class, `rand(2) * 2 r_big` per point), so the same seed
gives the original's samples. Features are `(x, y, 1 - x, 1 - y)`; the
mirrored pair lets neurons without a bias see both ends of each axis.
"""

import numpy as np
from jaxtyping import Float, Int

from neurosim.datasets._common import (
    Dataset,
    Split,
    check_positive,
    check_positive_int,
    check_seed,
)

YIN, YANG, DOT = 0, 1, 2
CLASS_NAMES = ("yin", "yang", "dot")


def which_class(x: float, y: float, r_small: float = 0.1, r_big: float = 0.5) -> int:
    """Class of a point inside the big circle: 0 yin, 1 yang, 2 dot.

    With `d_right` and `d_left` the distances to the dot centres
    `(1.5 r_big, r_big)` and `(0.5 r_big, r_big)`: a point closer than
    `r_small` to either centre is a dot (2). Otherwise it is class 1 if
    `d_right <= r_small`, or it lies in the ring `r_small < d_left <= r_big / 2`
    around the left dot, or in the upper half (`y > r_big`) outside the
    half-disc of radius `r_big / 2` around the right centre; else class 0.
    (The original's code calls the class-1 region `is_yin` but names the
    classes `['yin', 'yang', 'dot']`; the numbers are what matter.)
    """
    d_right = np.hypot(x - 1.5 * r_big, y - r_big)
    d_left = np.hypot(x - 0.5 * r_big, y - r_big)
    if d_right < r_small or d_left < r_small:
        return DOT
    in_class_1 = (
        d_right <= r_small
        or r_small < d_left <= 0.5 * r_big
        or (y > r_big and d_right > 0.5 * r_big)
    )
    return YANG if in_class_1 else YIN


def yinyang(
    n_samples: int, seed: int, r_small: float = 0.1, r_big: float = 0.5
) -> tuple[Float[np.ndarray, "batch 4"], Int[np.ndarray, " batch"]]:
    """Draws class-balanced Yin-Yang samples.

    Args:
        n_samples: number of samples.
        seed: seed of `numpy.random.RandomState`; the same seed gives the same data.
        r_small: radius of the two dots (dimensionless, as the coordinates).
        r_big: radius of the big circle; coordinates lie in `[0, 2 r_big]`.

    Returns:
        `(x, y)`: features `(x, y, 1 - x, 1 - y)` as float32 `(n_samples, 4)`
        and int32 classes `(n_samples,)` (0 yin, 1 yang, 2 dot).

    Examples:
        >>> x, y = yinyang(6, seed=42)
        >>> x.shape, y.dtype
        ((6, 4), dtype('int32'))
    """
    n_samples = check_positive_int("n_samples", n_samples)
    seed = check_seed("seed", seed)
    r_small = check_positive("r_small", r_small)
    r_big = check_positive("r_big", r_big)
    if r_small >= 0.5 * r_big:
        raise ValueError(
            f"r_small must be below r_big / 2 for the dots to fit their halves; "
            f"got r_small={r_small!r}, r_big={r_big!r}."
        )
    rng = np.random.RandomState(seed)
    features = np.empty((n_samples, 4), dtype=np.float64)
    labels = np.empty(n_samples, dtype=np.int32)
    for i in range(n_samples):
        goal = rng.randint(3)
        while True:
            px, py = rng.rand(2) * 2.0 * r_big
            if np.hypot(px - r_big, py - r_big) > r_big:
                continue  # outside the big circle
            if which_class(px, py, r_small, r_big) == goal:
                break
        features[i] = (px, py, 1.0 - px, 1.0 - py)
        labels[i] = goal
    return features.astype(np.float32), labels


def yinyang_splits(r_small: float = 0.1, r_big: float = 0.5) -> Dataset:
    """The original's standard splits: 5000 / 1000 / 1000 with seeds 42 / 41 / 40.

    Args:
        r_small: radius of the two dots.
        r_big: radius of the big circle.

    Returns:
        A `Dataset` with train, validation and test features `(n, 4)` float32,
        int32 labels `(n,)` and `n_classes=3`.
    """
    train = Split(*yinyang(5000, 42, r_small, r_big))
    val = Split(*yinyang(1000, 41, r_small, r_big))
    test = Split(*yinyang(1000, 40, r_small, r_big))
    return Dataset(
        x_train=train.x,
        y_train=train.y,
        x_test=test.x,
        y_test=test.y,
        x_val=val.x,
        y_val=val.y,
        n_classes=3,
        name="yinyang",
        split="5000 train (seed 42) / 1000 validation (seed 41) / 1000 test (seed 40)",
    )

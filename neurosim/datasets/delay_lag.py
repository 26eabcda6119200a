"""Delay-lag: a coincidence-detection task whose class is a time lag.

A sample is `n_steps` steps on two groups of `channels` input channels. A
random spike pattern (every channel spikes with probability `p` at every
step, independently) drives group A; group B carries the same pattern
`lags[c]` steps later, channel for channel: `B_i(t) = A_i(t - lags[c])`,
where `c` is the sample's class. The pattern is drawn `max(lags)` steps
longer than the sample and both groups are cut from it, so each group is a
stationary Bernoulli train on every step: the rates, the spike counts and
each group on its own carry no information about the class; only the
timing of B relative to A does.

Without memory longer than the smallest lag, no function of the two groups
over a short window can tell the classes apart (the windows of A and B it
sees are independent draws); a neuron that receives `A_i` delayed by
`lags[c]` and `B_i` undelayed sees coincident spikes on every spike of the
pattern exactly when the class is `c`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from jaxtyping import Int

from neurosim.datasets._common import Dataset, check_positive_int, check_seed

__all__ = [
    "DEFAULT_LAGS",
    "check_lags",
    "check_probability",
    "delay_lag",
    "delay_lag_splits",
]

DEFAULT_LAGS = (4, 8, 12, 16, 20)
"""The default lags (steps): class `c` has lag `DEFAULT_LAGS[c]`."""


def check_lags(lags: Any) -> tuple[int, ...]:
    """`lags` as a tuple of ints, or a worded error."""
    try:
        listed = list(lags)
    except TypeError:
        listed = None
    if (
        listed is None
        or len(listed) < 2
        or not all(isinstance(v, int | np.integer) for v in listed)
        or any(isinstance(v, bool) for v in listed)
    ):
        raise TypeError(
            f"lags: expected a list of at least two whole numbers of steps, "
            f"got {lags!r}."
        )
    if min(listed) < 0 or len(set(listed)) != len(listed):
        raise ValueError(
            f"lags: expected distinct whole numbers of steps >= 0, got {lags!r}."
        )
    return tuple(int(v) for v in listed)


def check_probability(p: Any) -> float:
    """`p` as a float in (0, 1), or a worded error."""
    if isinstance(p, bool) or not isinstance(p, int | float | np.floating):
        raise TypeError(f"p: expected a probability in (0, 1), got {p!r}.")
    if not 0.0 < p < 1.0:
        raise ValueError(f"p: expected a probability in (0, 1), got {p!r}.")
    return float(p)


def _generate(
    n: int,
    n_steps: int,
    channels: int,
    lags: tuple[int, ...],
    p: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    lead = max(lags)
    y = rng.integers(0, len(lags), size=n).astype(np.int32)
    pattern = rng.random((n, n_steps + lead, channels)) < p
    lag = np.asarray(lags)[y]
    t = np.arange(n_steps)
    a = pattern[:, lead + t]  # (n, n_steps, channels)
    b = pattern[np.arange(n)[:, None], lead + t[None, :] - lag[:, None]]
    return np.concatenate([a, b], axis=-1).astype(np.uint8), y


def delay_lag(
    n_samples: int,
    seed: int,
    *,
    n_steps: int = 50,
    channels: int = 8,
    lags: Any = DEFAULT_LAGS,
    p: float = 0.1,
) -> tuple[Int[np.ndarray, "batch time channels"], Int[np.ndarray, " batch"]]:
    """Draws delay-lag samples.

    Args:
        n_samples: number of samples.
        seed: seed of `numpy.random.default_rng`; the same seed gives the
            same data.
        n_steps: steps per sample.
        channels: channels per group (the input has `2 * channels`).
        lags: lag of group B behind group A (steps), one per class.
        p: spike probability per channel and step.

    Returns:
        Spikes uint8 `(n_samples, n_steps, 2 * channels)` (group A on the
        first `channels` channels, group B on the rest) and int32 classes
        `(n_samples,)`.

    Examples:
        >>> x, y = delay_lag(4, seed=0, n_steps=30, channels=2, lags=(3, 6))
        >>> x.shape, y.shape
        ((4, 30, 4), (4,))
        >>> lag = (3, 6)[y[0]]
        >>> bool((x[0, lag:, 2:] == x[0, :-lag, :2]).all())
        True
    """
    n_samples = check_positive_int("n_samples", n_samples)
    seed = check_seed("seed", seed)
    n_steps = check_positive_int("n_steps", n_steps)
    channels = check_positive_int("channels", channels)
    lags, p = check_lags(lags), check_probability(p)
    rng = np.random.default_rng(seed)
    return _generate(n_samples, n_steps, channels, lags, p, rng)


def delay_lag_splits(
    seed: int = 0,
    n_train: int = 4096,
    n_test: int = 1024,
    *,
    n_steps: int = 50,
    channels: int = 8,
    lags: Any = DEFAULT_LAGS,
    p: float = 0.1,
) -> Dataset:
    """Delay-lag training and test sets drawn from independent streams of one
    seed (`numpy.random.SeedSequence(seed).spawn(2)`); the other arguments
    as in `delay_lag`.

    Returns:
        A `Dataset` with uint8 spikes `(n, n_steps, 2 * channels)`, int32
        classes `(n,)` and `n_classes = len(lags)`.
    """
    seed = check_seed("seed", seed)
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    n_steps = check_positive_int("n_steps", n_steps)
    channels = check_positive_int("channels", channels)
    lags, p = check_lags(lags), check_probability(p)
    train_seq, test_seq = np.random.SeedSequence(seed).spawn(2)
    x_tr, y_tr = _generate(
        n_train, n_steps, channels, lags, p, np.random.default_rng(train_seq)
    )
    x_te, y_te = _generate(
        n_test, n_steps, channels, lags, p, np.random.default_rng(test_seq)
    )
    return Dataset(
        x_train=x_tr,
        y_train=y_tr,
        x_test=x_te,
        y_test=y_te,
        n_classes=len(lags),
        name="delay_lag",
        split=(
            f"{n_train} train / {n_test} test, SeedSequence({seed}).spawn(2); "
            f"lags {list(lags)} steps, {channels} channels per group, p={p:g}"
        ),
    )

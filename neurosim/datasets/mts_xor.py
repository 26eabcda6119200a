"""Multi-time-scale XOR (MTS-XOR), the seed-000 task.

After Moro et al. (2024), "The role of temporal hierarchy in spiking neural
networks", and Zheng et al. (2024), "Temporal dendritic heterogeneity
incorporated with spiking neural networks for learning multi-timescale
dynamics", Nature Communications 15, 277.

A sample lasts 100 steps of 10 ms (1 s) on 40 input channels:

- noise: every channel spikes with probability 0.01 at every step;
- steps 0-9: cue 1 on channels 0-19, spiking with probability 0.2 (class 0)
  or 0.6 (class 1), OR-ed with the noise;
- six windows of 15 steps, window i starting at step 10 + 15 i: 5 silent
  (noise-only) steps, then a 10-step cue on channels 20-39 with its own
  random class (same 0.2 / 0.6 rule).

The target is 0 on steps 0-9 and XOR(cue-1 class, window-i class) on all 15
steps of window i. Accuracy is scored on the 60 cue steps of the windows,
`MTS_XOR_EVAL_STEPS` (steps 15-24, 30-39, ..., 90-99): the network must hold
the first cue for up to 0.9 s while reacting to each new one.
"""

import dataclasses
from typing import NamedTuple

import numpy as np
from jaxtyping import Bool, Float, Int

from neurosim.datasets._common import Dataset, check_positive_int, check_seed

N_STEPS = 100  # steps of 10 ms
N_CHANNELS = 40
N_WINDOWS = 6
STEP_MS = 10.0
NOISE_P = 0.01
CUE_P = (0.2, 0.6)  # spike probability per step for class 0 and class 1
FIRST_CUE_STEPS = 10
WINDOW_STEPS, GAP_STEPS = 15, 5


def _eval_steps() -> Bool[np.ndarray, " time"]:
    mask = np.zeros(N_STEPS, dtype=bool)
    for i in range(N_WINDOWS):
        start = FIRST_CUE_STEPS + WINDOW_STEPS * i + GAP_STEPS
        mask[start : start + WINDOW_STEPS - GAP_STEPS] = True
    mask.setflags(write=False)
    return mask


MTS_XOR_EVAL_STEPS = _eval_steps()
"""Boolean `(100,)` mask of the 60 cue steps on which accuracy is scored."""


class MtsXor(NamedTuple):
    """MTS-XOR samples, batch-major.

    Attributes:
        spikes: input spikes (0. or 1.), float32 `(n, 100, 40)`.
        targets: per-step targets, int32 `(n, 100)`.
        eval_steps: `MTS_XOR_EVAL_STEPS`, boolean `(100,)`.
        cue_class: class of the first cue, int32 `(n,)`.
        window_class: class of each window's cue, int32 `(n, 6)`.
    """

    spikes: Float[np.ndarray, "batch time channels"]
    targets: Int[np.ndarray, "batch time"]
    eval_steps: Bool[np.ndarray, " time"]
    cue_class: Int[np.ndarray, " batch"]
    window_class: Int[np.ndarray, "batch windows"]


def _generate(n: int, rng: np.random.Generator) -> MtsXor:
    cue_class = rng.integers(0, 2, size=n, dtype=np.int32)
    window_class = rng.integers(0, 2, size=(n, N_WINDOWS), dtype=np.int32)
    p_cue = np.asarray(CUE_P, dtype=np.float32)
    half = N_CHANNELS // 2

    def bernoulli(p: np.ndarray, n_steps: int) -> np.ndarray:
        draws = rng.random((n, n_steps, half), dtype=np.float32)
        return draws < p[:, None, None]

    spikes = rng.random((n, N_STEPS, N_CHANNELS), dtype=np.float32) < NOISE_P
    spikes[:, :FIRST_CUE_STEPS, :half] |= bernoulli(p_cue[cue_class], FIRST_CUE_STEPS)
    targets = np.zeros((n, N_STEPS), dtype=np.int32)
    for i in range(N_WINDOWS):
        start = FIRST_CUE_STEPS + WINDOW_STEPS * i
        cue = slice(start + GAP_STEPS, start + WINDOW_STEPS)
        spikes[:, cue, half:] |= bernoulli(
            p_cue[window_class[:, i]], WINDOW_STEPS - GAP_STEPS
        )
        xor = cue_class ^ window_class[:, i]
        targets[:, start : start + WINDOW_STEPS] = xor[:, None]
    return MtsXor(
        spikes.astype(np.float32), targets, MTS_XOR_EVAL_STEPS, cue_class, window_class
    )


def mts_xor(n_samples: int, seed: int) -> MtsXor:
    """Draws MTS-XOR samples.

    Args:
        n_samples: number of samples.
        seed: seed of `numpy.random.default_rng`; the same seed gives the same data.

    Returns:
        An `MtsXor` with spikes `(n_samples, 100, 40)` float32 on a 10 ms step,
        targets `(n_samples, 100)` int32, the `(100,)` scoring mask and the
        classes behind the targets.

    Examples:
        >>> data = mts_xor(8, seed=0)
        >>> data.spikes.shape, data.targets.shape, int(data.eval_steps.sum())
        ((8, 100, 40), (8, 100), 60)
    """
    n_samples = check_positive_int("n_samples", n_samples)
    seed = check_seed("seed", seed)
    return _generate(n_samples, np.random.default_rng(seed))


def mts_xor_splits(seed: int = 0, n_train: int = 10240, n_test: int = 1024) -> Dataset:
    """MTS-XOR training and test sets drawn from independent streams of one seed.

    Args:
        seed: root seed; the two splits use `numpy.random.SeedSequence(seed).spawn(2)`.
        n_train: number of training samples.
        n_test: number of test samples.

    Returns:
        A `Dataset` with `x_*` spikes `(n, 100, 40)` float32, `y_*` targets
        `(n, 100)` int32, `n_classes=2` and `eval_steps=MTS_XOR_EVAL_STEPS`.
    """
    seed = check_seed("seed", seed)
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    train_seq, test_seq = np.random.SeedSequence(seed).spawn(2)
    train = _generate(n_train, np.random.default_rng(train_seq))
    test = _generate(n_test, np.random.default_rng(test_seq))
    return Dataset(
        x_train=train.spikes,
        y_train=train.targets,
        x_test=test.spikes,
        y_test=test.targets,
        n_classes=2,
        name="mts_xor",
        split=f"{n_train} train / {n_test} test, SeedSequence({seed}).spawn(2)",
        eval_steps=MTS_XOR_EVAL_STEPS,
    )


def rebin_mts_xor(data: Dataset, steps_per_bin: int, latency: int = 0) -> Dataset:
    """MTS-XOR on a finer step, its targets delayed by `latency` steps.

    Each 10 ms bin becomes `k = steps_per_bin` steps: its spikes on the first,
    its target on all `k`. A stack of `n` LIF layers passes its input on one
    step per layer (the engine's step order), so the targets are delayed by
    `latency` steps (class 0 before the first), the inputs padded with as many
    silent steps, and each cue bin is scored on its last step, that much later.

    Args:
        data: from `mts_xor_splits` (`(n, 100, 40)` spikes).
        steps_per_bin: steps per 10 ms bin (the step is `10 / k` ms).
        latency: delay of the targets, in steps, >= 0.

    Returns:
        A `Dataset` with uint8 spikes `(n, 100 k + latency, 40)`, targets
        `(n, 100 k + latency)` and the matching `eval_steps`.

    Examples:
        >>> d = rebin_mts_xor(mts_xor_splits(0, n_train=2, n_test=2), 2, latency=3)
        >>> d.x_train.shape, d.y_train.shape, int(d.eval_steps.sum())
        ((2, 203, 40), (2, 203), 60)
    """
    k = check_positive_int("steps_per_bin", steps_per_bin)
    if isinstance(latency, bool) or not isinstance(latency, int) or latency < 0:
        raise ValueError(f"latency: expected an integer >= 0, got {latency!r}.")

    def spikes(x):
        out = np.zeros((x.shape[0], x.shape[1] * k + latency, x.shape[2]), np.uint8)
        out[:, : x.shape[1] * k : k] = x
        return out

    def targets(y):
        return np.pad(np.repeat(y, k, axis=1), ((0, 0), (latency, 0)))

    scored = np.zeros(len(data.eval_steps) * k + latency, bool)
    scored[latency + k - 1 :: k] = data.eval_steps
    return dataclasses.replace(
        data,
        x_train=spikes(data.x_train),
        y_train=targets(data.y_train),
        x_test=spikes(data.x_test),
        y_test=targets(data.y_test),
        split=f"{data.split}; {k} step(s) per 10 ms bin, scored {latency} step(s) late",
        eval_steps=scored,
    )

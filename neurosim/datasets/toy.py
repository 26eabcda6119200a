"""The seed-003 toy task: Poisson spike trains turned into input currents.

The seed classifies random Poisson inputs into two random classes (nothing in
the input predicts the label, so the task measures how well a small network
can memorise one batch). This module reproduces the seed's random draws:

    key = jax.random.key(seed)
    key, sub1 = jax.random.split(key)   # gS of the first projection (engine)
    key, sub2 = jax.random.split(key)   # gS of the second projection (engine)
    key, sub3 = jax.random.split(key)   # input mask: uniform < rate_hz * dt
    key, sub4 = jax.random.split(key)   # labels: uniform < 0.5

`sub1` and `sub2` are drawn and discarded here; the engine's
`init_params(jax.random.key(seed))` draws the weights from them.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from neurosim.datasets._common import check_positive, check_positive_int, check_seed
from neurosim.datasets.encoders import kernel_convolve


class ToyTask(NamedTuple):
    """The seed-003 batch, batch-major.

    Attributes:
        currents: input currents in nA, shape `(batch, n_steps, n_input)`.
        spikes: the Poisson spikes (0. or 1.) behind them, same shape.
        labels: int32 class labels (0 or 1), shape `(batch,)`.
    """

    currents: Float[Array, "batch time channels"]
    spikes: Float[Array, "batch time channels"]
    labels: Int[Array, " batch"]


def toy(
    seed: int = 1701,
    batch_size: int = 256,
    n_input: int = 100,
    n_steps: int = 200,
    dt: float = 1e-3,
    rate_hz: float = 5.0,
    kernel: tuple[float, ...] = (508.0, 508.0),
) -> ToyTask:
    """Draws the seed-003 toy batch.

    Each input channel spikes at each step with probability `rate_hz * dt`;
    the spikes are convolved along time with `kernel` (`jnp.convolve(kernel,
    spikes, "same")`, so with two taps `i[t] = k0 s[t] + k1 s[t-1]`), and each
    sample gets label 1 with probability 1/2.

    The draws use JAX's default float dtype. With `jax_enable_x64` on (as the
    seed ran) they are exactly the seed's; in float32 the uniform draws, and
    hence the spikes and labels, differ.

    Args:
        seed: the integer for `jax.random.key`.
        batch_size: number of samples.
        n_input: number of input channels.
        n_steps: number of steps (the seed's `int(T / dt)` = 200).
        dt: step in seconds, used only for the spike probability `rate_hz * dt`.
        rate_hz: Poisson rate in Hz.
        kernel: convolution taps, in nA per spike.

    Returns:
        A `ToyTask` of currents (nA) and spikes, both
        `(batch_size, n_steps, n_input)`, and labels `(batch_size,)` int32.

    Examples:
        >>> task = toy(batch_size=4, n_input=3, n_steps=10)
        >>> task.currents.shape, task.labels.shape
        ((4, 10, 3), (4,))
    """
    seed = check_seed("seed", seed)
    batch_size = check_positive_int("batch_size", batch_size)
    n_input = check_positive_int("n_input", n_input)
    n_steps = check_positive_int("n_steps", n_steps)
    prob = check_positive("rate_hz", rate_hz) * check_positive("dt", dt)
    if prob > 1.0:
        raise ValueError(
            f"rate_hz * dt is a spike probability per step and must be at most 1; "
            f"got rate_hz={rate_hz!r}, dt={dt!r} (product {prob!r})."
        )
    taps = tuple(kernel)
    if not 1 <= len(taps) <= n_steps:
        raise ValueError(
            f"kernel must have 1 to n_steps={n_steps} taps; got {kernel!r}."
        )

    key = jax.random.key(seed)
    key, _ = jax.random.split(key)  # gS of the first projection
    key, _ = jax.random.split(key)  # gS of the second projection
    key, sub = jax.random.split(key)
    mask = jax.random.uniform(sub, (batch_size, n_input, n_steps))
    spikes = jnp.where(mask < prob, 1.0, 0.0)
    key, sub = jax.random.split(key)
    labels = jnp.where(
        jax.random.uniform(sub, (batch_size,), minval=0.0, maxval=1.0) < 0.5, 1, 0
    ).astype(jnp.int32)

    spikes = jnp.swapaxes(spikes, 1, 2)  # (batch, n_input, time) -> batch-major
    currents = kernel_convolve(spikes, jnp.array(taps, dtype=spikes.dtype))
    return ToyTask(currents=currents, spikes=spikes, labels=labels)

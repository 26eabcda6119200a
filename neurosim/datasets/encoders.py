"""Encoders that turn static inputs into spike or current sequences.

Every encoder maps a `(batch, features)` array to a batch-major
`(batch, n_steps, features)` sequence, is written in `jax.numpy` without Python
loops over time or samples, and can be jitted with its integer and boolean
options static, for example
`jax.jit(poisson, static_argnames="n_steps")(x, n_steps=100, key=key)`.
Integer or boolean inputs are cast to JAX's default float dtype; float inputs
keep their dtype.
"""

import numbers

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from neurosim.datasets._common import check_positive, check_positive_int

# A Python number, or a 0-d array (for example a traced value under `jit`).
Scalar = float | Float[Array, ""]


def _as_float(x: ArrayLike, name: str) -> Array:
    """`x` as a floating array; real numbers or booleans only, else a worded error."""
    try:
        x = jnp.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be an array of real numbers; got {type(x).__name__} ({err})."
        ) from err
    if x.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (float, int or bool); got dtype {x.dtype}."
        )
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.asarray(0.0).dtype)
    return x


def _static_features(name: str, x: ArrayLike) -> Array:
    """`x` as a float array of shape `(batch, features)`, or a worded error."""
    x = _as_float(x, name)
    if x.ndim != 2:
        raise ValueError(
            f"{name} must have shape (batch, features); got shape {x.shape}."
        )
    return x


def _check_number(name: str, value: object) -> None:
    # Traced or array-valued options are left to the caller.
    if isinstance(value, numbers.Real):
        check_positive(name, value)


def _check_key(key: object) -> None:
    """A JAX random key: typed (`jax.random.key`) or raw (`jax.random.PRNGKey`)."""
    dtype = getattr(key, "dtype", None)
    typed = dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)
    raw = dtype == jnp.uint32 and getattr(key, "shape", None) == (2,)
    if not (typed or raw):
        raise TypeError(
            f"key must be a JAX random key such as jax.random.key(0); got {key!r}."
        )


def rate(
    x: Real[ArrayLike, "batch features"], n_steps: int
) -> Float[Array, "batch time features"]:
    """Repeats a static input at every step.

    Args:
        x: inputs, shape `(batch, features)`, any unit.
        n_steps: number of steps (static under `jit`).

    Returns:
        `x` repeated over time, shape `(batch, n_steps, features)`.
    """
    x = _static_features("x", x)
    n_steps = check_positive_int("n_steps", n_steps)
    return jnp.broadcast_to(x[:, None, :], (x.shape[0], n_steps, x.shape[1]))


def constant_current(
    x: Real[ArrayLike, "batch features"], n_steps: int, gain: Scalar = 1.0
) -> Float[Array, "batch time features"]:
    """A constant external current proportional to the input.

    Args:
        x: inputs, shape `(batch, features)`, dimensionless (e.g. pixels in [0, 1]).
        n_steps: number of steps (static under `jit`).
        gain: current per unit of `x`, in nA.

    Returns:
        `gain * x` at every step, in nA, shape `(batch, n_steps, features)`.
    """
    return gain * rate(x, n_steps)


def poisson(
    x: Real[ArrayLike, "batch features"],
    n_steps: int,
    key: PRNGKeyArray,
    max_rate: Scalar = 1.0,
) -> Float[Array, "batch time features"]:
    """Bernoulli (discrete-time Poisson) spike trains.

    At every step each feature spikes independently with probability
    `clip(x * max_rate, 0, 1)`.

    Args:
        x: intensities, shape `(batch, features)`, usually in [0, 1].
        n_steps: number of steps (static under `jit`).
        key: a JAX random key; the same key gives the same spikes.
        max_rate: spike probability per step for `x = 1` (dimensionless; a rate
            of r Hz at a step of dt s is `r * dt`).

    Returns:
        Spikes (0. or 1.), shape `(batch, n_steps, features)`, dtype of `x`.
    """
    x = _static_features("x", x)
    n_steps = check_positive_int("n_steps", n_steps)
    if isinstance(max_rate, numbers.Real) and max_rate < 0:
        raise ValueError(f"max_rate must be non-negative; got {max_rate!r}.")
    _check_key(key)
    prob = jnp.clip(x * max_rate, 0.0, 1.0)
    u = jax.random.uniform(key, (x.shape[0], n_steps, x.shape[1]), dtype=x.dtype)
    return (u < prob[:, None, :]).astype(x.dtype)


def latency(
    x: Real[ArrayLike, "batch features"],
    n_steps: int,
    tau: Scalar = 5.0,
    threshold: Scalar = 0.01,
    normalize: bool = True,
) -> Float[Array, "batch time features"]:
    """Time-to-first-spike code: one spike at most per feature, bigger fires earlier.

    Features with `x <= threshold` never fire. The others fire once, at step
    `floor(t)` clipped to `[0, n_steps - 1]`, where `t` is

    - `normalize=True` (log code over the window, `tau` unused):
      `t = (n_steps - 1) * ln(1 / x) / ln(1 / threshold)`, so `x = 1` fires at
      step 0 and `x` just above `threshold` fires at the last step
      (`threshold` must then be below 1);
    - `normalize=False` (RC model): `t = tau * ln(x / (x - threshold))`, the
      time an RC membrane with time constant `tau` (in steps), driven from 0 by
      a constant `x`, takes to reach `threshold`.

    Args:
        x: intensities, shape `(batch, features)`, usually in [0, 1].
        n_steps: number of steps (static under `jit`).
        tau: membrane time constant of the RC model, in steps.
        threshold: intensity at and below which a feature stays silent.
        normalize: use the log code spread over the window (static under `jit`).

    Returns:
        Spikes (0. or 1.), shape `(batch, n_steps, features)`, dtype of `x`.
    """
    x = _static_features("x", x)
    n_steps = check_positive_int("n_steps", n_steps)
    _check_number("tau", tau)
    _check_number("threshold", threshold)
    if normalize and isinstance(threshold, numbers.Real) and threshold >= 1:
        raise ValueError(
            f"threshold must be below 1 with normalize=True; got {threshold!r}."
        )
    fires = x > threshold
    # Silent features get a harmless stand-in so no log(0) or 0/0 appears.
    safe = jnp.where(fires, x, threshold + 1.0)
    if normalize:
        t = (n_steps - 1) * jnp.log(1.0 / safe) / jnp.log(1.0 / threshold)
    else:
        t = tau * jnp.log(safe / (safe - threshold))
    step = jnp.clip(jnp.floor(t), 0, n_steps - 1).astype(jnp.int32)
    steps = jnp.arange(n_steps, dtype=jnp.int32)[None, :, None]
    return ((steps == step[:, None, :]) & fires[:, None, :]).astype(x.dtype)


def kernel_convolve(
    spikes: Real[ArrayLike, "batch time channels"],
    kernel: Float[ArrayLike, " taps"],
) -> Float[Array, "batch time channels"]:
    """Convolves every channel with a kernel along time, as the seed-003 task does.

    Per sample and channel this is `jnp.convolve(kernel, spikes[b, :, c], "same")`
    (full convolution, centre `time` samples kept). For a two-tap kernel,
    `out[t] = kernel[0] * spikes[t] + kernel[1] * spikes[t - 1]`.

    Args:
        spikes: spike (or any) sequences, shape `(batch, time, channels)`.
        kernel: 1-D kernel with at most `time` taps, in the output's unit per
            spike (nA for the seed's input currents).

    Returns:
        Convolved sequences, shape `(batch, time, channels)`, in the kernel's unit.
    """
    spikes = _as_float(spikes, "spikes")
    if spikes.ndim != 3:
        raise ValueError(
            f"spikes must have shape (batch, time, channels); got shape {spikes.shape}."
        )
    kernel = _as_float(kernel, "kernel").astype(spikes.dtype)
    if kernel.ndim != 1 or not 1 <= kernel.shape[0] <= spikes.shape[1]:
        raise ValueError(
            f"kernel must be 1-D with 1 to time={spikes.shape[1]} taps; "
            f"got shape {kernel.shape}."
        )

    def one(row: Array) -> Array:
        return jnp.convolve(
            kernel, row, mode="same", precision=jax.lax.Precision.HIGHEST
        )

    # Inner vmap over channels (axis 1 of a (time, channels) sample), outer over batch.
    return jax.vmap(jax.vmap(one, in_axes=1, out_axes=1))(spikes)


ENCODERS = ("rate", "poisson", "latency")


def encode(
    x: Real[ArrayLike, "batch features"],
    encoder: str,
    n_steps: int,
    *,
    key: PRNGKeyArray | None = None,
) -> Float[Array, "batch time features"]:
    """Encodes static inputs with the encoder named by a string (a task setting).

    Args:
        x: inputs in [0, 1], shape `(batch, features)`.
        encoder: `"rate"` (`rate`), `"poisson"` (`poisson`) or
            `"latency"` (`latency`).
        n_steps: number of steps.
        key: a JAX random key; needed by `"poisson"` only.

    Returns:
        The sequences, shape `(batch, n_steps, features)`.

    Raises:
        ValueError: unknown `encoder`, or `"poisson"` without a `key`.
    """
    if encoder == "rate":
        return rate(x, n_steps)
    if encoder == "poisson":
        if key is None:
            raise ValueError("key: encoder 'poisson' needs a JAX random key, got None.")
        return poisson(x, n_steps, key)
    if encoder == "latency":
        return latency(x, n_steps)
    raise ValueError(f"encoder: expected one of {ENCODERS}, got {encoder!r}.")

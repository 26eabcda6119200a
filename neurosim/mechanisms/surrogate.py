"""Spike functions with surrogate derivatives.

Every spike function here has the same forward pass, the exact Heaviside step of
`x = v - vth` (mV), with the value 1 at 0:

    spike = H(x) = 1 if x >= 0 else 0,

so a neuron fires when `v >= vth`, as jaxley's 1.0.0 branch
(`heaviside(x, at_zero=1)`). Only the backward pass differs: `jax.grad` sees a
smooth or box-shaped *surrogate derivative* `h(x)` in place of the Dirac delta,
through a `jax.custom_jvp` whose tangent is `h(x) * x_dot`.

A surrogate is a value, not a closure: a small frozen dataclass that prints,
compares, hashes and checkpoints. Its shape parameters are static pytree
metadata, so a surrogate can be passed through `jax.jit` (a new slope means a
new trace) and sits inside other pytrees, such as a `Fire` channel.

| class | backward `h(x)` | `h(0)` (defaults) | defaults |
|---|---|---|---|
| `FastSigmoid` | `1 / (slope·abs(x) + 1)²` | 1 | slope 10 (jaxley) |
| `ArcTan` | `(slope/2) / (1 + (π/2·slope·x)²)` | slope/2 = 1 | slope 2 (snnTorch) |
| `Sigmoid` | `slope·σ(slope·x)·(1 − σ(slope·x))` | slope/4 = 6.25 | slope 25 (snnTorch) |
| `Triangle` | `max(0, 1 − slope·abs(x))` | 1 | slope 1 |
| `Boxcar` | `height · 1[abs(x) < width]` | height = 1 | width 0.5, height 1 |
| `Gaussian` | `exp(−x²/(2σ²)) / (σ√(2π))` | 1/(σ√(2π)) ≈ 0.798 | sigma 0.5 |

The peaks differ on purpose (each follows its source); the table says by how
much.

Examples:
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from neurosim.mechanisms.surrogate import FastSigmoid
    >>> spike = FastSigmoid(slope=10.0)
    >>> spike(jnp.array([-0.5, 0.0, 0.5])).tolist()
    [0.0, 1.0, 1.0]
    >>> float(jax.grad(spike)(0.0))
    1.0
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import jax
import jax.numpy as jnp

__all__ = [
    "AbstractSurrogate",
    "ArcTan",
    "Boxcar",
    "FastSigmoid",
    "Gaussian",
    "SURROGATES",
    "Sigmoid",
    "Triangle",
    "get_surrogate",
    "heaviside",
]


def _step(x: jax.Array) -> jax.Array:
    # H(0) = 1: fires at v >= vth.
    return (x >= 0).astype(x.dtype)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _spike(surrogate: AbstractSurrogate, x: jax.Array) -> jax.Array:
    return _step(x)


@_spike.defjvp
def _spike_jvp(surrogate, primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return _step(x), surrogate.derivative(x) * x_dot


def _as_float_array(x: Any) -> jax.Array:
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(
            f"spike functions take a floating-point `x` (v - vth in mV); got dtype "
            f"{x.dtype}. Cast it first, e.g. `x.astype(float)`."
        )
    return x


class AbstractSurrogate:
    """Contract for spike functions: exact step forward, surrogate backward.

    A subclass is a frozen dataclass whose fields are positive floats (static
    pytree metadata) and which implements `derivative`. Calling an instance
    returns spikes; differentiating the call gives `derivative(x)`.
    """

    def __call__(self, x: Any) -> jax.Array:
        """Spikes `H(x)`: 1 where `x >= 0`, else 0.

        Args:
            x: `v - vth` in mV, any shape, floating dtype.

        Returns:
            Array of 0.0 / 1.0 with the shape and dtype of `x`. Its derivative
            under `jax.grad` / `jax.jvp` is `self.derivative(x)`.
        """
        return _spike(self, _as_float_array(x))

    def derivative(self, x: Any) -> jax.Array:
        """Surrogate derivative `h(x)`, same shape and dtype as `x`."""
        raise NotImplementedError

    def __post_init__(self) -> None:
        # Coerce every field to a positive finite Python float, so that
        # FastSigmoid(10) == FastSigmoid(10.0) and both hash alike under jit.
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            try:
                number = float(value)
            except (TypeError, jax.errors.ConcretizationTypeError):
                raise TypeError(
                    f"{type(self).__name__}: `{f.name}` must be a Python number "
                    f"(it is static); got {value!r}."
                ) from None
            if isinstance(value, bool) or not (math.isfinite(number) and number > 0):
                raise ValueError(
                    f"{type(self).__name__}: `{f.name}` must be a positive finite "
                    f"number; got {value!r}."
                )
            object.__setattr__(self, f.name, number)


def _register(cls):
    cls = dataclasses.dataclass(frozen=True)(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    return jax.tree_util.register_dataclass(cls, data_fields=[], meta_fields=names)


@_register
class FastSigmoid(AbstractSurrogate):
    """SuperSpike / fast-sigmoid surrogate (Zenke & Ganguli 2018).

    Forward: `H(x)`, 1 where `x >= 0`. Backward:
    `h(x) = 1 / (slope·|x| + 1)²`, peak `h(0) = 1`.

    Attributes:
        slope: sharpness in 1/mV, default 10.0: jaxley 1.0.0's `heaviside`
            grad_scale, as used by the seed-003 classification example.
    """

    slope: float = 10.0

    def derivative(self, x: Any) -> jax.Array:
        x = _as_float_array(x)
        return 1.0 / (self.slope * jnp.abs(x) + 1.0) ** 2


@_register
class ArcTan(AbstractSurrogate):
    """Arctan surrogate, in snnTorch's `ATan` convention.

    Forward: `H(x)`, 1 where `x >= 0`. Backward (the derivative of
    `arctan(π/2·slope·x)/π`):
    `h(x) = (slope/2) / (1 + (π/2·slope·x)²)`, peak `h(0) = slope/2`.

    Attributes:
        slope: snnTorch's `alpha`, in 1/mV; default 2.0, so `h(0) = 1`.
    """

    slope: float = 2.0

    def derivative(self, x: Any) -> jax.Array:
        x = _as_float_array(x)
        return (self.slope / 2.0) / (1.0 + (math.pi / 2.0 * self.slope * x) ** 2)


@_register
class Sigmoid(AbstractSurrogate):
    """Logistic-sigmoid surrogate, as snnTorch's `sigmoid`.

    Forward: `H(x)`, 1 where `x >= 0`. Backward (the derivative of
    `σ(slope·x)`): `h(x) = slope·σ(slope·x)·(1 − σ(slope·x))`, peak
    `h(0) = slope/4`.

    Attributes:
        slope: in 1/mV; default 25.0 (snnTorch), so `h(0) = 6.25`.
    """

    slope: float = 25.0

    def derivative(self, x: Any) -> jax.Array:
        x = _as_float_array(x)
        z = self.slope * x
        # σ(z)(1 − σ(z)) written as σ(z)σ(−z): no cancellation in 1 − σ(z) for
        # large z, so the tail stays accurate in float32.
        return self.slope * jax.nn.sigmoid(z) * jax.nn.sigmoid(-z)


@_register
class Triangle(AbstractSurrogate):
    """Triangular (piecewise-linear) surrogate.

    Forward: `H(x)`, 1 where `x >= 0`. Backward:
    `h(x) = max(0, 1 − slope·|x|)`: peak `h(0) = 1`, zero for
    `|x| >= 1/slope` (half-width `1/slope` mV). Its area is `1/slope`.

    Attributes:
        slope: in 1/mV; default 1.0 (half-width 1 mV).
    """

    slope: float = 1.0

    def derivative(self, x: Any) -> jax.Array:
        x = _as_float_array(x)
        return jnp.maximum(0.0, 1.0 - self.slope * jnp.abs(x))


@_register
class Boxcar(AbstractSurrogate):
    """Rectangular (boxcar) surrogate, as the hSNN code of seed 000.

    Forward: `H(x)`, 1 where `x >= 0`. Backward:
    `h(x) = height · 1[|x| < width]`: `h(0) = height`, and 0 at `|x| = width`
    exactly. Its area is `2·width·height`.

    Attributes:
        width: half-width in mV; default 0.5 (the seed's `|x| < 0.5`).
        height: the value inside, in 1/mV; default 1.0 (the seed's).
    """

    width: float = 0.5
    height: float = 1.0

    def derivative(self, x: Any) -> jax.Array:
        x = _as_float_array(x)
        inside = jnp.abs(x) < self.width
        return jnp.where(inside, self.height, 0.0).astype(x.dtype)


@_register
class Gaussian(AbstractSurrogate):
    """Gaussian surrogate (the normal density, area 1).

    Forward: `H(x)`, 1 where `x >= 0`. Backward:
    `h(x) = exp(−x²/(2·sigma²)) / (sigma·√(2π))`, peak
    `h(0) = 1/(sigma·√(2π))` (≈ 0.798 for the default).

    Attributes:
        sigma: standard deviation in mV; default 0.5.
    """

    sigma: float = 0.5

    def derivative(self, x: Any) -> jax.Array:
        x = _as_float_array(x)
        norm = 1.0 / (self.sigma * math.sqrt(2.0 * math.pi))
        return norm * jnp.exp(-(x**2) / (2.0 * self.sigma**2))


SURROGATES: dict[str, type[AbstractSurrogate]] = {
    "fast_sigmoid": FastSigmoid,
    "superspike": FastSigmoid,
    "arctan": ArcTan,
    "sigmoid": Sigmoid,
    "triangle": Triangle,
    "boxcar": Boxcar,
    "gaussian": Gaussian,
}
"""Names accepted by `get_surrogate`, mapped to their classes."""


def get_surrogate(
    name_or_obj: str | AbstractSurrogate, **kwargs: float
) -> AbstractSurrogate:
    """Return a surrogate instance from a name or an instance.

    Args:
        name_or_obj: a key of `SURROGATES` (case-insensitive, e.g.
            `"superspike"`, `"arctan"`) or a surrogate instance.
        **kwargs: the class's parameters (`slope`, `width`, `height`,
            `sigma`). With an instance, they replace its fields.

    Returns:
        A surrogate instance.

    Raises:
        ValueError: unknown name, or a non-positive parameter.
        TypeError: a parameter the class does not have.

    Examples:
        >>> from neurosim.mechanisms.surrogate import get_surrogate
        >>> get_surrogate("superspike", slope=5.0)
        FastSigmoid(slope=5.0)
    """
    if isinstance(name_or_obj, AbstractSurrogate) and not kwargs:
        return name_or_obj
    if isinstance(name_or_obj, AbstractSurrogate):
        cls, base = type(name_or_obj), dataclasses.asdict(name_or_obj)  # type: ignore[call-overload]
    elif isinstance(name_or_obj, str):
        key = name_or_obj.strip().lower().replace("-", "_")
        if key not in SURROGATES:
            raise ValueError(
                f"unknown surrogate {name_or_obj!r}; valid names are "
                f"{sorted(SURROGATES)}, or pass an instance such as "
                "FastSigmoid(slope=10.0)."
            )
        cls, base = SURROGATES[key], {}
    else:
        raise TypeError(
            "get_surrogate takes a name from SURROGATES or a surrogate instance; "
            f"got {type(name_or_obj).__name__}."
        )
    fields = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(kwargs) - set(fields))
    if unknown:
        raise TypeError(
            f"{cls.__name__} has no parameter(s) {unknown}; its parameters are "
            f"{fields}."
        )
    return cls(**{**base, **kwargs})


def heaviside(x: Any, surrogate: str | AbstractSurrogate = "fast_sigmoid") -> jax.Array:
    """Spikes `H(x)` (1 where `x >= 0`) with the given surrogate derivative.

    Args:
        x: `v - vth` in mV, any shape, floating dtype.
        surrogate: a surrogate instance or a name from `SURROGATES`; default
            `"fast_sigmoid"`, i.e. `FastSigmoid(slope=10.0)`.

    Returns:
        0.0 / 1.0 array with the shape and dtype of `x`.

    Examples:
        >>> import jax
        >>> from neurosim.mechanisms.surrogate import heaviside
        >>> float(jax.grad(lambda x: heaviside(x, "arctan"))(0.0))
        1.0
    """
    return get_surrogate(surrogate)(x)

"""Parameter transforms: how a trainable parameter is kept in its valid range.

`net.make_trainable(target, key, transform=...)` takes one of these values (or
its name). The optimiser works on an unconstrained `theta`; `forward` maps it
to the parameter and `inverse` maps a parameter to its `theta`. They are
applied in one place, `neurosim.train.trainable.set_trainable` and
`get_trainable`.

| transform       | name       | `theta -> parameter`                   | keeps             |
|-----------------|------------|----------------------------------------|-------------------|
| `None`          |            | identity                               | —                 |
| `Softplus()`    | `softplus` | `softplus(theta)`                      | > 0               |
| `Log()`         | `log`      | `exp(theta)`                           | > 0               |
| `DecayFactor()` | `decay`    | `theta` is `alpha = exp(-dt / tau_m)`; | tau_m > 0         |
|                 |            | `g = -1e-3 * C * log(alpha) / dt`      | (alpha in (0, 1)) |

`DecayFactor` trains a conductance `g` [S/cm²] of a population through the
decay factor of the membrane time constant `tau_m = 1e-3 * C / g` [ms] (`C`
the population's capacitance, µF/cm²), the parameterisation of seeds 000/002.

Write your own by subclassing `Transform` (`forward`, `inverse`; and
`check` to refuse targets it does not apply to).

Examples:
    >>> import jax.numpy as jnp
    >>> from neurosim.transforms import Context, Softplus
    >>> t = Softplus()
    >>> ctx = Context(dt=0.1, params={})
    >>> float(t.forward(t.inverse(jnp.asarray(2.0), ctx), ctx))
    2.0
"""

from __future__ import annotations

import abc
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["Context", "DecayFactor", "Log", "Softplus", "Transform", "as_transform"]


@dataclass(frozen=True)
class Context:
    """What a transform may need besides the value.

    Attributes:
        dt: the simulator's step (ms).
        params: the parameters of the same target (e.g. its `capacitance`).
    """

    dt: float
    params: Mapping[str, Any]


class Transform(abc.ABC):
    """A map between an unconstrained `theta` and a parameter value."""

    def check(self, target: str, key: str, is_population: bool) -> None:
        """Raise `ValueError` if this transform cannot apply to `target.key`."""
        del target, key, is_population

    @abc.abstractmethod
    def forward(self, theta: Any, ctx: Context) -> Any:
        """`theta -> parameter`."""

    @abc.abstractmethod
    def inverse(self, value: Any, ctx: Context) -> Any:
        """`parameter -> theta`."""


@dataclass(frozen=True)
class Softplus(Transform):
    """`value = softplus(theta) = log(1 + exp(theta))`: keeps values positive."""

    def forward(self, theta, ctx):
        del ctx
        return jax.nn.softplus(theta)

    def inverse(self, value, ctx):
        del ctx
        return value + jnp.log(-jnp.expm1(-value))  # stable inverse softplus


@dataclass(frozen=True)
class Log(Transform):
    """`value = exp(theta)`: keeps values positive, steps are relative."""

    def forward(self, theta, ctx):
        del ctx
        return jnp.exp(theta)

    def inverse(self, value, ctx):
        del ctx
        return jnp.log(value)


@dataclass(frozen=True)
class DecayFactor(Transform):
    """`theta = alpha = exp(-dt / tau_m)` of a conductance, `tau_m = 1e-3 C / g`.

    Attributes:
        eps: `alpha` is clipped into `[eps, 1 - eps]` so `tau_m` stays finite
            and positive.
    """

    eps: float = 1e-6

    def check(self, target, key, is_population):
        if not is_population:
            raise ValueError(
                f"transform: DecayFactor ('decay') trains a population's conductance "
                f"through its membrane time constant; {target}.{key} is not on a "
                "population."
            )

    def forward(self, theta, ctx):
        alpha = jnp.clip(theta, self.eps, 1.0 - self.eps)
        return -1e-3 * jnp.asarray(ctx.params["capacitance"]) * jnp.log(alpha) / ctx.dt

    def inverse(self, value, ctx):
        tau = 1e-3 * jnp.asarray(ctx.params["capacitance"]) / value
        return jnp.exp(-ctx.dt / tau)


TRANSFORMS = {"softplus": Softplus(), "log": Log(), "decay": DecayFactor()}


def as_transform(value: Any) -> Transform | None:
    """`None`, a `Transform`, or one of the names in `TRANSFORMS`."""
    if value is None or isinstance(value, Transform):
        return value
    if isinstance(value, str) and value in TRANSFORMS:
        return TRANSFORMS[value]
    if isinstance(value, type) and issubclass(value, Transform):
        raise TypeError(
            f"transform: got the class {value.__name__}; pass an instance, "
            f"{value.__name__}()."
        )
    names = ", ".join(repr(k) for k in TRANSFORMS)
    close = difflib.get_close_matches(str(value), list(TRANSFORMS), n=1)
    hint = f" did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"transform: unknown transform {value!r};{hint} Expected None, a Transform "
        f"(Softplus(), Log(), DecayFactor()) or one of {names}."
    )

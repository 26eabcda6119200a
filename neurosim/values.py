"""Values a `Network` is given: initialisers drawn in `Simulator.init_params`
(`normal`, `uniform`), a step current, floats of JAX's default type, and the
error that names an unknown key with the closest valid ones.

Examples:
    >>> import neurosim as ns
    >>> ns.normal(0.0, 2.0)
    Initializer(kind='normal', a=0.0, b=2.0)
    >>> ns.step_current(1.0, 2.0, 0.5, dt=1.0, t_max=4.0).tolist()
    [0.0, 0.5, 0.5, 0.0, 0.0]
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Initializer", "as_float", "normal", "step_current", "uniform", "unknown"]


def unknown(
    kind: str, name: str, options: Sequence[str], where: str = ""
) -> ValueError:
    """A ValueError for an unknown name, with the closest valid ones."""
    same_case = [o for o in options if str(o).lower() == str(name).lower()]
    close = same_case or difflib.get_close_matches(name, list(options), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "."
    return ValueError(f"{where}unknown {kind} {name!r}{hint} Valid: {sorted(options)}.")


@dataclass(frozen=True)
class Initializer:
    """A random initial value drawn in `Simulator.init_params(key)`."""

    kind: str
    a: float
    b: float

    def __call__(self, key: jax.Array, shape: tuple[int, ...], dtype: Any) -> jax.Array:
        if self.kind == "normal":
            return self.a + jax.random.normal(key, shape, dtype) * self.b
        return jax.random.uniform(key, shape, dtype, minval=self.a, maxval=self.b)


def normal(mean: float = 0.0, std: float = 1.0) -> Initializer:
    """Per-element values `mean + std * N(0, 1)`."""
    return Initializer("normal", mean, std)


def uniform(low: float = 0.0, high: float = 1.0) -> Initializer:
    """Per-element values `U(low, high)`."""
    return Initializer("uniform", low, high)


def step_current(
    i_delay: float, i_dur: float, i_amp: float, dt: float, t_max: float
) -> np.ndarray:
    """A current step (nA): `i_amp` from `i_delay` for `i_dur` ms, else 0.

    One sample per step that `run(..., t_max=t_max)` takes, `int(t_max // dt + 1)`,
    with jaxley's window `[int(i_delay / dt), int((i_delay + i_dur) / dt))`
    (jaxley's `step_current` has one more sample, which its `integrate` drops).
    """
    for nm, val in (("dt", dt), ("t_max", t_max)):
        if not (isinstance(val, (int, float)) and math.isfinite(val) and val > 0):
            raise ValueError(f"{nm}: expected a positive number, got {val!r}.")
    current = np.zeros(int(t_max // dt + 1))
    current[int(i_delay / dt) : int((i_delay + i_dur) / dt)] = i_amp
    return current


def as_float(x: Any) -> jax.Array:
    """`x` as JAX's default float type (float32, or float64 with x64 enabled)."""
    return jnp.asarray(x, dtype=jnp.result_type(float))

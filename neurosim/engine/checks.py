"""Argument checks for `compile` and `Simulator`: raised before tracing, each
naming the argument, what was given and what is expected."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..elements import positive_keys
from ..network import Network
from ..values import as_float, unknown

__all__ = [
    "check_finite",
    "check_n_steps",
    "check_inputs",
    "check_params",
    "check_positive_number",
    "check_state",
]


def is_concrete(x: Any) -> bool:
    return not isinstance(x, jax.core.Tracer)


def check_positive_number(name: str, value: Any, what: str = "number") -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not (math.isfinite(value) and value > 0)
    ):
        raise ValueError(f"{name}: expected a positive {what}, got {value!r}.")
    return float(value)


def check_real(name: str, x: Any) -> None:
    dtype = x.dtype if isinstance(x, jax.Array | np.ndarray) else np.asarray(x).dtype
    if not any(
        jnp.issubdtype(dtype, t) for t in (jnp.floating, jnp.integer, jnp.bool_)
    ):
        raise TypeError(f"{name}: expected real numbers, got dtype {dtype}.")


@jax.jit
def _all_finite(leaves: list) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def check_finite(named: list[tuple[str, Any]]) -> None:
    """Raise for the first `(name, value)` holding NaN or inf. Device arrays are
    reduced in one compiled call (no copies); values being traced are skipped."""
    named = [(n, x) for n, x in named if is_concrete(x)]
    device = [x for _, x in named if isinstance(x, jax.Array)]
    try:
        fast = not device or bool(_all_finite(device))
    except jax.errors.ConcretizationTypeError:  # constants inside a caller's trace
        fast = False
    for name, x in named:
        if (fast and isinstance(x, jax.Array)) or np.isfinite(np.asarray(x)).all():
            continue
        raise ValueError(f"{name}: contains NaN or inf; expected finite values.")


def check_params(
    net: Network, params: Any, fixed: Mapping[tuple[str, str], float], named: list
) -> None:
    """`params` has every target and parameter of `net` with a valid shape;
    `fixed` holds the values a compiled layout relied on (they may not change)."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"params: expected a dict from init_params, got {type(params)}."
        )
    targets = [*net.populations, *net.projections]
    positive = {t: positive_keys(net.element(t)) for t in targets}
    for target in params:
        if target not in targets:
            raise unknown("population or projection", target, targets, "params: ")
    for target in targets:
        el = net.element(target)
        if target not in params:
            raise ValueError(f"params: missing {target!r}; use sim.init_params().")
        for name in params[target]:
            if name not in el.params:
                raise unknown(
                    "parameter", name, list(el.params), f"params[{target!r}]: "
                )
        for name in el.params:
            if name not in params[target]:
                raise ValueError(f"params[{target!r}]: missing {name!r}.")
            value = params[target][name]
            shape = net.shape(target, name)
            if jnp.shape(value) not in ((), shape):
                raise ValueError(
                    f"params[{target!r}][{name!r}]: expected a scalar or shape "
                    f"{shape}, got shape {jnp.shape(value)}."
                )
            check_real(f"params[{target!r}][{name!r}]", value)
            named.append((f"params[{target!r}][{name!r}]", value))
            if not is_concrete(value):
                continue
            if name in positive[target] and np.any(np.asarray(value) <= 0):
                raise ValueError(
                    f"params[{target!r}][{name!r}]: must be positive, got "
                    f"{np.asarray(value)!r}."
                )
            if (target, name) in fixed and not np.all(
                np.asarray(value) == fixed[(target, name)]
            ):
                raise ValueError(
                    f"params[{target!r}][{name!r}]: the simulator was compiled for "
                    f"the fixed value {fixed[(target, name)]!r} (it decided how "
                    f"state is stored), got {np.asarray(value)!r}; make it "
                    "trainable or set it on the network before compiling."
                )


def check_inputs(net: Network, inputs: Any, named: list):
    """`inputs` as `{population: float array}`, their batch size (or None)
    and the longest time axis (or None)."""
    inputs = {} if inputs is None else inputs
    if not isinstance(inputs, Mapping):
        raise TypeError(
            f"inputs: expected a dict {{population: array}}, got {type(inputs)}."
        )
    batch, t_in, out = None, None, {}
    for name, x in inputs.items():
        pop = net.populations.get(name)
        if pop is None:
            raise unknown("population", name, net.populations, "inputs: ")
        shape = jnp.shape(x)
        # cells of several compartments also take one value per compartment
        widths = {pop.n, pop.n * pop.n_comp}
        if len(shape) not in (2, 3) or shape[-1] not in widths:
            n = " or ".join(str(w) for w in sorted(widths))
            raise ValueError(
                f"inputs[{name!r}]: expected shape (batch, time, {n}) or "
                f"(time, {n}), got {shape}."
            )
        b = shape[0] if len(shape) == 3 else None
        if b == 0:
            raise ValueError(f"inputs[{name!r}]: batch size 0, got shape {shape}.")
        if out and b != batch:
            raise ValueError(
                f"inputs[{name!r}]: shape {shape} has batch size {b or 'none'}, "
                f"the other inputs {batch or 'none'}; give every input the same "
                "batch axis."
            )
        batch = b
        t_in = max(t_in or 0, shape[-2])
        check_real(f"inputs[{name!r}]", x)
        named.append((f"inputs[{name!r}]", x))
        out[name] = as_float(x)
    return out, batch, t_in


def check_state(state: Any, ref: Mapping, batch: int | None, named: list) -> None:
    """`state` has the keys of `ref` (an unbatched state's shapes), each
    unbatched or with the run's batch size in front."""
    if not isinstance(state, Mapping) or set(state) != set(ref):
        raise ValueError(f"state: expected keys {sorted(ref)}, got {type(state)}.")
    for target, st in ref.items():
        if not isinstance(state[target], Mapping) or set(state[target]) != set(st):
            raise ValueError(
                f"state[{target!r}]: expected keys {sorted(st)}, got "
                f"{sorted(state[target]) if isinstance(state[target], Mapping) else type(state[target])}."
            )
        for key, shape in st.items():
            got = jnp.shape(state[target][key])
            ok = [tuple(shape)] + ([(batch, *shape)] if batch else [])
            if got not in ok:
                raise ValueError(
                    f"state[{target!r}][{key!r}]: expected shape "
                    f"{' or '.join(map(str, ok))}, got {got}."
                )
            named.append((f"state[{target!r}][{key!r}]", state[target][key]))


def check_n_steps(net: Network, dt: float, t_max: Any, t_in: int | None) -> int:
    """The number of steps of a run: from `t_max` (ms; `int(t_max // dt + 1)`, as
    jaxley), else from the inputs' length, else from the longest stimulus."""
    if t_max is None:
        # Fixed stimuli (net.stimulate) are cut to t_max; inputs must fit in it.
        lengths = [x.shape[0] for x in net.stimuli.values()]
        if t_in is None and not lengths:
            raise ValueError("t_max: required when there are no inputs or stimuli.")
        n_steps = t_in if t_in is not None else max(lengths)
        if n_steps == 0:
            raise ValueError("inputs: 0 time samples; expected at least one step.")
    else:
        check_positive_number("t_max", t_max, "number of ms")
        n_steps = int(t_max // dt + 1)
        if t_in is not None and t_in > n_steps:
            raise ValueError(
                f"inputs: {t_in} time samples but t_max={t_max} ms gives {n_steps} "
                f"steps of dt={dt}; shorten the inputs or raise t_max."
            )
    if n_steps > 2**31 - 1:
        raise ValueError(f"t_max: {t_max} ms is {n_steps} steps; too many.")
    return n_steps

"""Checks of what `fit` and `evaluate` are given, run before any tracing.

Each raises `TypeError` (wrong kind of value) or `ValueError` (right kind,
wrong value) naming the argument, the value given and what is expected.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..datasets._common import check_positive_int
from ..engine import Simulator
from .objective import Objective

ON_NONFINITE = ("raise", "skip")


def check_optional_positive_int(name: str, value: Any) -> int | None:
    """`None`, or `value` as a positive int."""
    return None if value is None else check_positive_int(name, value)


def check_objective(objective: Any) -> Objective:
    """An `Objective` from an instance or a loss name."""
    if isinstance(objective, str):
        return _named_objective(objective)
    if isinstance(objective, Objective):
        return objective
    if objective is Objective:
        raise TypeError(
            "objective: got the class Objective; pass an instance, e.g. "
            "Objective('max_voltage'), or a loss name."
        )
    raise TypeError(
        f"objective: expected an Objective or a loss name (str), got {objective!r} "
        f"of type {type(objective).__name__}."
    )


@functools.cache
def _named_objective(loss: str) -> Objective:
    """One Objective per loss name, so that compiled steps are reused."""
    return Objective(loss)


def check_optimizer(optimizer: Any) -> Any:
    """An optax `GradientTransformation` (anything with `init` and `update`)."""
    if callable(getattr(optimizer, "init", None)) and callable(
        getattr(optimizer, "update", None)
    ):
        return optimizer
    hint = (
        " It is a function: call it, e.g. optax.adam(1e-3)."
        if callable(optimizer)
        else ""
    )
    raise TypeError(
        "optimizer: expected an optax GradientTransformation (e.g. "
        f"optax.adam(1e-3)), got {optimizer!r} of type "
        f"{type(optimizer).__name__}.{hint}"
    )


def check_fraction(name: str, value: Any) -> float:
    """A number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(
            f"{name}: expected a number in [0, 1), got {value!r} of type "
            f"{type(value).__name__}."
        )
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name}: expected a number in [0, 1), got {value!r}.")
    return float(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}.")
    return value


def check_config(config: Any) -> dict | None:
    """`None`, or a JSON-serialisable dict (stored in checkpoints)."""
    if config is None:
        return None
    if not isinstance(config, dict):
        raise TypeError(
            f"config: expected a dict (JSON-serialisable) or None, got "
            f"{type(config).__name__}."
        )
    try:
        json.dumps(config, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"config: expected JSON-serialisable values (numbers, strings, lists, "
            f"dicts), got {config!r} ({err})."
        ) from err
    return config


def check_data(x: Any, y: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Inputs `(samples, time, n_input)`, real and finite, and integer labels
    `(samples,)` or `(samples, time)` of the same length.

    Args:
        x: the inputs given.
        y: the labels given.
        name: how the pair is called in messages (`"x, y"`, `"validation"`).

    Returns:
        `x` and `y` as numpy arrays.
    """
    xs, ys = ("x", "y") if name == "x, y" else (f"{name}[0]", f"{name}[1]")
    x, y = _array(x, xs), _array(y, ys)
    if x.dtype.kind not in "biuf":
        raise TypeError(
            f"{xs}: expected real numbers (float, int or bool), got dtype {x.dtype}."
        )
    if x.ndim != 3:
        raise ValueError(
            f"{xs}: expected shape (samples, time, n_input), got shape {x.shape}."
        )
    if y.dtype.kind not in "iu":
        raise TypeError(
            f"{ys}: expected integer class labels, got dtype {y.dtype}; use e.g. "
            f"`{ys}.astype(int)` (not one-hot vectors)."
        )
    if y.ndim not in (1, 2):
        raise ValueError(
            f"{ys}: expected labels of shape (samples,) or per-step targets "
            f"(samples, time), got shape {y.shape}."
        )
    if len(x) != len(y):
        raise ValueError(f"{name}: x has {len(x)} samples but y has {len(y)}.")
    if len(x) == 0:
        raise ValueError(f"{name}: no samples.")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise ValueError(f"{xs}: contains NaN or inf; expected finite inputs.")
    return x, y


def _array(value: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name}: expected an array, got {type(value).__name__} that numpy "
            f"cannot read as one ({err})."
        ) from err


def check_labels(
    sim: Simulator,
    params: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    name: str,
    input: str,
    objective: Objective,
    t_max: float | None,
) -> None:
    """Labels are class indices of the readout: in `[0, n_classes)`.

    The number of classes is the last dimension of the recorded trace, found
    by tracing one sample abstractly (`jax.eval_shape`: nothing is run).
    """
    if objective.loss != "per_step" and y.ndim != 1:
        raise ValueError(
            f"labels: {name} has shape {y.shape}; the {objective.loss!r} loss takes "
            "one label per sample, shape (samples,)."
        )
    shape = _readout_shape(
        sim, objective.record, input, t_max, x.shape[1:], x.dtype, params
    )
    n_classes = shape[-1]
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= n_classes:
        raise ValueError(
            f"labels: {name} holds values in [{lo}, {hi}]; expected class indices "
            f"in [0, {n_classes}) for the {n_classes} classes of "
            f"{objective.record!r}."
        )


_SHAPES: dict = {}  # (sim, record, input, t_max, sample shape, dtype) -> shape


def _readout_shape(sim, record, input, t_max, sample_shape, dtype, params):
    key = (sim, record, input, t_max, tuple(sample_shape), np.dtype(dtype).str)
    try:
        return _SHAPES[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable simulator: no cache
        return _trace_shape(key, params)
    if len(_SHAPES) > 64:
        _SHAPES.clear()
    _SHAPES[key] = _trace_shape(key, params)
    return _SHAPES[key]


def _trace_shape(key, params):
    sim, record, input, t_max, sample_shape, dtype = key

    def readout(p, xb):
        return sim.run(p, {input: xb}, t_max=t_max, record=[record])[record]

    sample = jax.ShapeDtypeStruct((1, *sample_shape), np.dtype(dtype))
    return jax.eval_shape(readout, params, sample).shape


# A finite loss above this many times the first epoch's (and above
# `DIVERGENCE_FACTOR` itself) marks the epoch as diverging.
DIVERGENCE_FACTOR = 1e3


def diverging(loss: float, first: float) -> bool:
    """Whether an epoch's loss counts as divergence: finite, and more than
    `DIVERGENCE_FACTOR` times `max(|first epoch's loss|, 1)`."""
    return math.isfinite(loss) and loss > DIVERGENCE_FACTOR * max(abs(first), 1.0)


def all_finite(tree: Any) -> Any:
    """Per-leaf finiteness (one boolean per leaf) of a pytree of arrays."""
    return jax.tree_util.tree_map(lambda a: jnp.all(jnp.isfinite(a)), tree)


def check_validation(validation: Any) -> tuple | None:
    """`None`, or a pair `(x_val, y_val)` checked as `check_data` checks."""
    if validation is None:
        return None
    if not isinstance(validation, (tuple, list)) or len(validation) != 2:
        raise TypeError(
            "validation: expected a pair (x_val, y_val), got "
            f"{type(validation).__name__}"
            + (
                f" of length {len(validation)}."
                if hasattr(validation, "__len__")
                else "."
            )
        )
    return check_data(*validation, "validation")

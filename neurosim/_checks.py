"""Argument checks shared by the public functions: each names the argument, the
value given and what is expected."""

from typing import Any

import numpy as np


def check_positive_int(name: str, value: Any) -> int:
    """Returns `value` as an int, or raises if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"{name} must be a positive integer; got {value!r} "
            f"of type {type(value).__name__}."
        )
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def check_seed(name: str, value: Any) -> int:
    """Returns `value` as an int, or raises if it is not a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"{name} must be a non-negative integer; got {value!r} "
            f"of type {type(value).__name__}."
        )
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value!r}.")
    return int(value)


def check_positive(name: str, value: Any) -> float:
    """Returns `value` as a float, or raises if it is not a positive number."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(
            f"{name} must be a positive number; got {value!r} "
            f"of type {type(value).__name__}."
        )
    if not value > 0 or not np.isfinite(value):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}.")
    return float(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Returns `value`, or raises if it is not one of `choices`."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}.")
    return value

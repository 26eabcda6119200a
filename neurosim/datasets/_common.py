"""Shared containers, argument checks and data-folder lookup for the data sets."""

import dataclasses
import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from jaxtyping import Bool

# The repository's own data folder (`<repo>/data`); present in a source checkout.
REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
# Environment variable naming a folder that holds the data files.
DATA_ENV_VAR = "NEUROSIM_DATA"


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A data set with fixed splits; every array is batch-major.

    Static data sets hold `x` of shape `(batch, features)`; sequence data sets
    hold `(batch, time, channels)`. Labels are int32, `(batch,)` for one label
    per sample or `(batch, time)` for one target per step.

    Attributes:
        x_train: training inputs.
        y_train: training labels (int32).
        x_test: test inputs.
        y_test: test labels (int32).
        x_val: validation inputs, or None when the data set has no such split.
        y_val: validation labels, or None.
        n_classes: number of classes.
        name: short name of the data set.
        split: how the splits were made (sizes, seeds, order), in words.
        eval_steps: for per-step targets, a `(time,)` boolean mask of the
            steps on which accuracy is scored; None otherwise.
    """

    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    x_val: Any = None
    y_val: Any = None
    n_classes: int = 0
    name: str = ""
    split: str = ""
    eval_steps: Bool[np.ndarray, " time"] | None = None


class Split(NamedTuple):
    """One split of a data set: inputs `x` and int32 labels `y`."""

    x: Any
    y: Any


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


def find_data_file(filename: str, path: str | os.PathLike | None) -> Path:
    """Locates a data file.

    Looks at `path` if given (a file, or a folder holding `filename`); else in
    the folder named by the `NEUROSIM_DATA` environment variable; else in the
    repository's `data/` folder.

    Raises:
        FileNotFoundError: if the file is in none of those places.
    """
    if path is not None:
        candidate = Path(path).expanduser()
        if candidate.is_dir():
            candidate = candidate / filename
    elif os.environ.get(DATA_ENV_VAR):
        candidate = Path(os.environ[DATA_ENV_VAR]).expanduser() / filename
    else:
        candidate = REPO_DATA_DIR / filename
    if candidate.is_file():
        return candidate
    raise FileNotFoundError(
        f"{filename}: no such file at {candidate} (path={path!r}, "
        f"{DATA_ENV_VAR}={os.environ.get(DATA_ENV_VAR)!r}). Pass `path=` the file "
        f"or its folder, or set {DATA_ENV_VAR} to the folder that holds it; a "
        f"source checkout keeps it in {REPO_DATA_DIR}."
    )

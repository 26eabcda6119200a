"""Typed task settings: frozen dataclasses that check their own fields.

Every setting is a dataclass field whose `check` (in its metadata) turns the
given value into the stored one (`int` -> `float` for a float setting, a
list -> a tuple for layer sizes) or raises `TypeError`/`ValueError` naming
the setting, the value and what it expects. `dataclasses.replace` runs the
same checks, so `--set KEY=VALUE` on the command line, `overrides=` in
`run_task` and the defaults are held to one standard.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

from ..datasets.encoders import ENCODERS
from ..train import LOSSES

__all__ = [
    "QUICK_BATCHES",
    "QUICK_SAMPLES",
    "SnnConfig",
    "StaticConfig",
    "TaskConfig",
    "apply_overrides",
    "quick",
]

QUICK_BATCHES = 3  # a smoke run trains one epoch of this many batches
QUICK_SAMPLES = 128  # and scores this many test samples
# Counts and sizes stay within int32 (the arrays they shape are indexed by it);
# a seed leaves room for `seed + 1` (the test split's draws).
INT_MAX = 2**31 - 1
SEED_MAX = INT_MAX - 1


def _fail(name: str, value: Any, expected: str, exc: type = ValueError) -> Exception:
    return exc(f"{name}: expected {expected}, got {value!r}.")


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def integer(least: int, most: int = INT_MAX) -> Callable[[str, Any], int]:
    """A check: an integer in `[least, most]`."""

    def check(name: str, v: Any) -> int:
        if not _is_int(v):
            raise _fail(name, v, f"an integer >= {least}", TypeError)
        if v < least:
            raise _fail(name, v, f"an integer >= {least}")
        if v > most:
            raise _fail(name, v, f"an integer <= {most}")
        return int(v)

    return check


def positive(name: str, v: Any) -> float:
    """A check: a finite number > 0."""
    if not _is_real(v):
        raise _fail(name, v, "a positive number", TypeError)
    if not (math.isfinite(v) and v > 0):
        raise _fail(name, v, "a positive finite number")
    return float(v)


def fraction(name: str, v: Any) -> float:
    """A check: a number in [0, 1)."""
    if not _is_real(v):
        raise _fail(name, v, "a number in [0, 1)", TypeError)
    if not 0.0 <= v < 1.0:
        raise _fail(name, v, "a number in [0, 1)")
    return float(v)


def boolean(name: str, v: Any) -> bool:
    """A check: `True` or `False`."""
    if not isinstance(v, bool):
        raise _fail(name, v, "true or false", TypeError)
    return v


def choice(*options: str | None) -> Callable[[str, Any], str | None]:
    """A check: one of `options` (`None` among them: the setting is optional)."""

    def check(name: str, v: Any) -> str | None:
        if v not in options:
            raise _fail(name, v, f"one of {list(options)}")
        return v

    return check


def optional(check: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    """A check: `None`, or what `check` accepts."""
    return lambda name, v: None if v is None else check(name, v)


def sizes(name: str, v: Any) -> tuple[int, ...]:
    """A check: a non-empty list of positive integers (layer sizes)."""
    if not isinstance(v, list | tuple) or not v or not all(_is_int(n) for n in v):
        raise _fail(name, v, "a non-empty list of positive integers", TypeError)
    if min(v) < 1 or max(v) > INT_MAX:
        raise _fail(name, v, f"a non-empty list of integers in [1, {INT_MAX}]")
    return tuple(int(n) for n in v)


def factors(name: str, v: Any) -> dict[str, float]:
    """A check: `{parameter name: positive factor}`."""
    if not isinstance(v, Mapping) or not all(isinstance(k, str) for k in v):
        raise _fail(name, v, "a mapping of parameter names to factors", TypeError)
    return {k: positive(f"{name}[{k!r}]", x) for k, x in v.items()}


def setting(default: Any, check: Callable[[str, Any], Any]) -> Any:
    """A dataclass field with its `check`."""
    return dataclasses.field(default=default, metadata={"check": check})


@dataclasses.dataclass(frozen=True)
class TaskConfig:
    """Settings every task has.

    Attributes:
        hidden: hidden layer sizes.
        optimizer: `"adam"`, or `"lion"` after gradient centralisation.
        lr: learning rate.
        epochs: passes over the training set.
        batch_size: samples per batch.
        seed: draws the weights, the batch order and generated data.
        n_train: use the first `n_train` training samples (`None`: all).
        n_test: score the first `n_test` test samples (`None`: all).
    """

    hidden: tuple[int, ...] = setting((64,), sizes)
    optimizer: str = setting("adam", choice("adam", "lion"))
    lr: float = setting(1e-3, positive)
    epochs: int = setting(1, integer(1))
    batch_size: int = setting(32, integer(1))
    seed: int = setting(0, integer(0, SEED_MAX))
    n_train: int | None = setting(None, optional(integer(1)))
    n_test: int | None = setting(None, optional(integer(1)))

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = f.metadata["check"](f.name, getattr(self, f.name))
            object.__setattr__(self, f.name, value)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-ready values (tuples as lists)."""
        out = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


@dataclasses.dataclass(frozen=True)
class SnnConfig(TaskConfig):
    """Settings of a task trained as an LIF stack (`neurosim.lif_stack`).

    Attributes:
        recurrent: all-to-all recurrence in each hidden layer.
        dt: step, ms.
        tau_mem: initial membrane time constant of the hidden layers, ms
            (trained per neuron).
        tau_out: initial membrane time constant of the readout, ms.
        tau_max: cap on the trained time constants, ms, or `None`.
        train_vth: train each neuron's threshold.
        train_rest: train each neuron's resting potential `eLeak` (a bias).
        gain: initial weights move `v` by `gain / sqrt(fan_in)` mV per
            input unit.
        data_init: rescale weights and rests on the first batch
            (`neurosim.train.data_init.data_init`; needs `train_rest`).
        init_std: its target spread, mV.
        loss: an `Objective` loss.
        mask_loss: for `loss="per_step"`: the loss counts only the scored
            steps (`eval_steps`), not steps whose target the input does not
            yet determine (`Objective`'s `mask_loss`).
        label_smoothing: of the cross-entropy, in [0, 1).
        surrogate: `"fast_sigmoid"` (slope 10) or `"arctan"`.
        schedule: `"constant"`, or `"cosine"` decay to 1 %.
        lr_scale: `{parameter name: factor}` on its updates, or `None`.
    """

    recurrent: bool = setting(False, boolean)
    dt: float = setting(1.0, positive)
    tau_mem: float = setting(10.0, positive)
    tau_out: float = setting(10.0, positive)
    tau_max: float | None = setting(None, optional(positive))
    train_vth: bool = setting(False, boolean)
    train_rest: bool = setting(False, boolean)
    gain: float = setting(1.0, positive)
    data_init: bool = setting(False, boolean)
    init_std: float = setting(1.0, positive)
    loss: str = setting("sum_voltage", choice(*LOSSES))
    mask_loss: bool = setting(False, boolean)
    label_smoothing: float = setting(0.0, fraction)
    surrogate: str = setting("fast_sigmoid", choice("fast_sigmoid", "arctan"))
    schedule: str = setting("constant", choice("constant", "cosine"))
    lr_scale: dict[str, float] | None = setting(None, optional(factors))

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.data_init and (self.recurrent or not self.train_rest):
            raise ValueError(
                "data_init: expected a feed-forward stack with train_rest=true, got "
                f"data_init=true with recurrent={self.recurrent}, "
                f"train_rest={self.train_rest}."
            )


def apply_overrides(
    task: str, config: TaskConfig, overrides: Mapping[str, Any] | None
) -> TaskConfig:
    """`config` with `overrides` checked and applied.

    Raises:
        ValueError: a key is not a setting of `config`, or a value is out of range.
        TypeError: a value has the wrong type.
    """
    names = [f.name for f in dataclasses.fields(config)]
    for key in overrides or {}:
        if key not in names:
            raise ValueError(
                f"overrides: task {task!r} has no setting {key!r}; "
                f"its settings are {sorted(names)}."
            )
    return dataclasses.replace(config, **dict(overrides or {}))


def quick(config: TaskConfig) -> TaskConfig:
    """The smoke run of `config`: one epoch of `QUICK_BATCHES` batches, scored
    on at most `QUICK_SAMPLES` test samples. The one place quick mode acts."""
    n_train = QUICK_BATCHES * config.batch_size
    return dataclasses.replace(
        config,
        epochs=1,
        n_train=min(n_train, config.n_train or n_train),
        n_test=min(QUICK_SAMPLES, config.n_test or QUICK_SAMPLES),
    )


@dataclasses.dataclass(frozen=True)
class StaticConfig(SnnConfig):
    """Settings of an LIF-stack task on static data (pixels, coordinates).

    Attributes:
        encoder: `"rate"` (the value at every step), `"poisson"` or
            `"latency"` (`neurosim.datasets.encode`).
        n_steps: steps per sample.
        augment: `"shift"` adds the images moved by one pixel (4 copies), or
            `None`.
    """

    encoder: str = setting("rate", choice(*ENCODERS))
    n_steps: int = setting(20, integer(1))
    augment: str | None = setting(None, choice(None, "shift"))

"""The values the engine hands out: `Recording`, `Observations`, and the
`StepHook` pair a caller's own state rides on."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import numpy as np
from jaxtyping import Array, Int

from ..network import unknown

__all__ = ["Observations", "Params", "Recording", "State", "StepContext", "StepHook"]

Params = dict[str, dict[str, Array | np.ndarray | float]]
State = dict[str, dict[str, Array | np.ndarray]]


class Observations(NamedTuple):
    """What one step exposes besides the new state (arrays `(..., n)`).

    Attributes:
        v: `{population: voltage after the solve (mV)}`.
        spikes: `{population: this step's spikes}` for spiking populations.
        surrogate_grad: `{population: d spikes / d v}` (the surrogate
            derivative) where the spiking channel gives one.
        pre: `{projection: presynaptic activity}` (spikes, or the trace the
            synapse passes on).
        current: `{projection: synaptic current per postsynaptic cell}` (nA,
            outward-positive, at the voltage after the channel phase).
    """

    v: dict
    spikes: dict
    surrogate_grad: dict
    pre: dict
    current: dict


class StepContext(NamedTuple):
    """What a `StepHook` sees at each step of `run`."""

    t: Array  # step index
    inputs: dict  # this step's inputs (with stimuli), `{population: (..., n)}`
    state: dict  # the state after the step
    obs: Observations
    prepared: dict


class StepHook(NamedTuple):
    """A caller's own state carried through `run`'s scan (an optax-like pair).

    Attributes:
        init: `(prepared, state) -> carry`, before the first step.
        update: `(carry, StepContext) -> carry`, after every step.
    """

    init: Callable[[dict, dict], Any]
    update: Callable[[Any, StepContext], Any]


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=["traces", "final_state", "status", "hook_state"],
    meta_fields=[],
)
@dataclass(frozen=True)
class Recording:
    """What `Simulator.run` returns.

    Attributes:
        traces: `{"target.state": Float[Array, "batch time n"]}`, one sample per
            step plus the initial state (the batch axis only when the inputs had one).
        final_state: the state after the last step (for continuing a run).
        status: a scalar int32: 0 if every recorded value and the final state
            are finite, else 1 (one flag for the whole batch).
        hook_state: the final carry of `run(..., hook=...)`, else `None`.
    """

    traces: dict[str, Array]
    final_state: State
    status: Int[Array, "*batch"]
    hook_state: Any = None

    def __getitem__(self, key: str) -> Array:
        if key not in self.traces:
            raise unknown("recording", key, list(self.traces))
        return self.traces[key]

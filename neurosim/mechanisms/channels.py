"""Channels: `Leak`, `Fire` and `SpikeSource`.

Each is a small frozen dataclass under the `Channel`
contract; jaxley's own channels (`HH`, `Na`, `K`, ...) are inserted through
`neurosim.mechanisms.jaxley`. Units (jaxley's): voltage mV, time ms,
conductance S/cm², current mA/cm².
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jax.numpy as jnp

from .base import Channel, ChannelStep
from .surrogate import FastSigmoid

__all__ = ["Fire", "Leak", "SpikeSource", "gleak_to_tau", "tau_to_gleak"]


@dataclass(frozen=True)
class Leak(Channel):
    """Passive leak current `i = gLeak (v - eLeak)`.

    | parameter    | default | unit  | meaning          |
    |--------------|---------|-------|------------------|
    | `Leak_gLeak` | 1e-4    | S/cm² | leak conductance |
    | `Leak_eLeak` | -70.0   | mV    | leak reversal    |

    The membrane time constant is `tau_m [ms] = 1e-3 * capacitance / gLeak`
    (capacitance in µF/cm²); see `tau_to_gleak`.

    Attributes:
        name: prefix of the parameter names (`"Leak"`).
        gLeak: default leak conductance (S/cm²).
        eLeak: default leak reversal (mV).
    """

    name: str = "Leak"
    gLeak: float = 1e-4
    eLeak: float = -70.0

    @property
    def channel_params(self) -> dict[str, float]:
        return {f"{self.name}_gLeak": self.gLeak, f"{self.name}_eLeak": self.eLeak}

    @property
    def positive_params(self) -> tuple[str, ...]:
        return (f"{self.name}_gLeak",)

    @property
    def channel_states(self) -> dict[str, float]:
        return {}

    def update(self, states, v, params, dt, drive=None):
        del states, v, params, dt, drive
        return ChannelStep({})

    def current(self, states, v, params):
        del states
        p = self.name
        return params[f"{p}_gLeak"] * (v - params[f"{p}_eLeak"])

    def linear(self, params):
        """`gLeak * v - gLeak * eLeak`."""
        g = params[f"{self.name}_gLeak"]
        return g, g * params[f"{self.name}_eLeak"]


@dataclass(frozen=True)
class Fire(Channel):
    """Threshold and reset with a surrogate derivative.

    At each step, from the start-of-step voltage: `spike = H(v - vth)` with
    `H(0) = 1` (fires at `v >= vth`, as jaxley's 1.0.0 branch; jaxley 0.14 fires
    at `v > vth`, which differs only when `v` lands exactly on `vth`); then
    `v <- v + spike * (vreset - v)`. The backward pass uses `surrogate`'s
    derivative, through the reset as well. The default `FastSigmoid(slope=10)`
    is jaxley's `1/(10|v - vth| + 1)^2`.

    | parameter     | default | unit | meaning               |
    |---------------|---------|------|-----------------------|
    | `Fire_vth`    | -50.0   | mV   | firing threshold      |
    | `Fire_vreset` | -70.0   | mV   | voltage after a spike |

    State `Fire_spikes` (0/1) records whether the neuron spiked this step.

    Attributes:
        name: prefix of the parameter and state names (`"Fire"`).
        vth: default firing threshold (mV).
        vreset: default voltage after a spike (mV).
        surrogate: the spike function and its surrogate derivative (a
            `neurosim.mechanisms.surrogate` class such as `FastSigmoid()`).
    """

    emits_spikes = True

    name: str = "Fire"
    vth: float = -50.0
    vreset: float = -70.0
    surrogate: Any = field(default_factory=FastSigmoid)

    @property
    def channel_params(self) -> dict[str, float]:
        return {f"{self.name}_vth": self.vth, f"{self.name}_vreset": self.vreset}

    @property
    def channel_states(self) -> dict[str, float]:
        return {f"{self.name}_spikes": 0.0}

    def update(self, states, v, params, dt, drive=None):
        del states, dt, drive
        p = self.name
        x = v - params[f"{p}_vth"]
        spike = self.surrogate(x)
        v_new = v + spike * (params[f"{p}_vreset"] - v)
        return ChannelStep(
            {f"{p}_spikes": spike},
            v=v_new,
            spikes=spike,
            surrogate_grad=self.surrogate.derivative(x),
        )

    def current(self, states, v, params):
        del states, params
        return jnp.zeros_like(v)

    def linear(self, params):
        """No current."""
        del params
        return 0.0, 0.0


@dataclass(frozen=True)
class SpikeSource(Channel):
    """Neurons whose spikes are given: `run`'s inputs for a population with this
    channel are its spikes per step (0/1, or graded values), not currents.

    At step `k` the engine hands input sample `k` to this channel (phase 2
    of the step), which makes it this step's spikes (and `SpikeSource_spikes`),
    so synapses from this population see them in the same step. The voltage is
    left to the other channels (none is needed).
    """

    emits_spikes = True
    takes_input = True
    spikes_are_input = True

    name: str = "SpikeSource"

    @property
    def channel_params(self) -> dict[str, float]:
        return {}

    @property
    def channel_states(self) -> dict[str, float]:
        return {f"{self.name}_spikes": 0.0}

    def update(self, states, v, params, dt, drive=None):
        """The given spikes (`drive`) become this step's spikes."""
        del states, params, dt
        spikes = jnp.zeros_like(v) if drive is None else drive
        return ChannelStep({f"{self.name}_spikes": spikes}, spikes=spikes)

    def current(self, states, v, params):
        del states, params
        return jnp.zeros_like(v)

    def linear(self, params):
        """No current."""
        del params
        return 0.0, 0.0


def tau_to_gleak(tau_ms: Any, capacitance: Any = 1.0) -> Any:
    """Leak conductance [S/cm²] for a membrane time constant `tau_ms` [ms].

    `gLeak = 1e-3 * capacitance / tau` with capacitance in µF/cm².
    """
    return 1e-3 * capacitance / tau_ms


def gleak_to_tau(gleak: Any, capacitance: Any = 1.0) -> Any:
    """Membrane time constant [ms] of a leak conductance `gleak` [S/cm²]."""
    return 1e-3 * capacitance / gleak

"""Membrane mechanisms: ``Leak``, ``Fire`` and the adapter for jaxley channels.

A channel follows jaxley 0.14's contract, so jaxley's own channels (``HH``, ``Na``,
``K``, ...) are inserted into a population unchanged:

- ``channel_params``: ``{"<name>_<param>": default}``; ``channel_states`` likewise;
- ``update_states(states, dt, v, params) -> dict`` (may return ``"v"``: a reset);
- ``compute_current(states, v, params) -> Array`` in mA/cm², outward-positive;
- ``init_state(states, v, params, delta_t) -> dict``.

Units (jaxley's): voltage mV, time ms, conductance S/cm², current mA/cm².
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import jax.numpy as jnp

from .surrogate import FastSigmoid

__all__ = [
    "Fire",
    "Leak",
    "SpikeSource",
    "gleak_to_tau",
    "spike_state_name",
    "tau_to_gleak",
]


class _ChannelBase:
    """What every neurosim channel shares: its current's name, renaming, and an
    ``init_state`` with nothing to initialise."""

    name: str

    @property
    def current_name(self) -> str:
        return f"i_{self.name}"

    def change_name(self, name: str) -> Any:
        """A copy under another name (its parameter and state keys follow)."""
        return dataclasses.replace(self, name=name)

    def init_state(self, states, v, params, delta_t):
        del states, v, params, delta_t
        return {}


@dataclass(frozen=True)
class Leak(_ChannelBase):
    """Passive leak current ``i = gLeak (v - eLeak)``.

    | parameter     | default | unit   | meaning              |
    |---------------|---------|--------|----------------------|
    | ``Leak_gLeak``| 1e-4    | S/cm²  | leak conductance     |
    | ``Leak_eLeak``| -70.0   | mV     | leak reversal        |

    The membrane time constant is ``tau_m [ms] = 1e-3 * capacitance / gLeak``
    (capacitance in µF/cm²); see :func:`tau_to_gleak`.
    """

    name: str = "Leak"
    gLeak: float = 1e-4
    eLeak: float = -70.0

    @property
    def channel_params(self) -> dict[str, float]:
        return {f"{self.name}_gLeak": self.gLeak, f"{self.name}_eLeak": self.eLeak}

    @property
    def channel_states(self) -> dict[str, float]:
        return {}

    def update_states(self, states, dt, v, params):
        del states, dt, v, params
        return {}

    def compute_current(self, states, v, params):
        del states
        p = self.name
        return params[f"{p}_gLeak"] * (v - params[f"{p}_eLeak"])


@dataclass(frozen=True)
class Fire(_ChannelBase):
    """Threshold and reset with a surrogate derivative.

    At each step, from the start-of-step voltage: ``spike = H(v - vth)`` with
    ``H(0) = 1`` (fires at ``v >= vth``, as jaxley's 1.0.0 branch; jaxley 0.14 fires
    at ``v > vth``, which differs only when ``v`` lands exactly on ``vth``); then
    ``v <- v + spike * (vreset - v)``. The backward pass uses ``surrogate``'s
    derivative, through the reset as well. The default ``FastSigmoid(slope=10)``
    is jaxley's ``1/(10|v - vth| + 1)^2``.

    | parameter      | default | unit | meaning              |
    |----------------|---------|------|----------------------|
    | ``Fire_vth``   | -50.0   | mV   | firing threshold     |
    | ``Fire_vreset``| -70.0   | mV   | voltage after a spike|

    State ``Fire_spikes`` (0/1) records whether the neuron spiked this step.
    """

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

    def update_states(self, states, dt, v, params):
        del states, dt
        p = self.name
        spike = self.surrogate(v - params[f"{p}_vth"])
        v_new = v + spike * (params[f"{p}_vreset"] - v)
        return {"v": v_new, f"{p}_spikes": spike}

    def compute_current(self, states, v, params):
        del states, params
        return jnp.zeros_like(v)


@dataclass(frozen=True)
class SpikeSource(_ChannelBase):
    """Neurons whose spikes are given: ``run``'s inputs for a population with this
    channel are its spikes per step (0/1, or graded values), not currents.

    At step ``k`` the engine sets ``SpikeSource_spikes`` to input sample ``k``
    (phase 1 of the step), so synapses from this population see them in the same
    step. The voltage is left to the other channels (none is needed).
    """

    name: str = "SpikeSource"

    @property
    def channel_params(self) -> dict[str, float]:
        return {}

    @property
    def channel_states(self) -> dict[str, float]:
        return {f"{self.name}_spikes": 0.0}

    def drive(self, states, inputs):
        """Phase 1: the given spikes become this step's spikes."""
        del states
        return {f"{self.name}_spikes": inputs}

    def update_states(self, states, dt, v, params):
        del states, dt, v, params
        return {}

    def compute_current(self, states, v, params):
        del states, params
        return jnp.zeros_like(v)


def spike_state_name(channel: Any) -> str | None:
    """The state in which ``channel`` reports spikes (``"<name>_spikes"``), if any."""
    key = f"{channel.name}_spikes"
    return key if key in (channel.channel_states or {}) else None


def tau_to_gleak(tau_ms: Any, capacitance: Any = 1.0) -> Any:
    """Leak conductance [S/cm²] for a membrane time constant ``tau_ms`` [ms].

    ``gLeak = 1e-3 * capacitance / tau`` with capacitance in µF/cm².
    """
    return 1e-3 * capacitance / tau_ms


def gleak_to_tau(gleak: Any, capacitance: Any = 1.0) -> Any:
    """Membrane time constant [ms] of a leak conductance ``gleak`` [S/cm²]."""
    return 1e-3 * capacitance / gleak

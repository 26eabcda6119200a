"""Synapses: ``SpikeSynapse`` (trace driven by presynaptic spikes) and jaxley's.

Two kinds of synapse reach the engine:

- **trace synapses** (``SpikeSynapse``): the state depends only on the presynaptic
  side, so a dense projection is one matrix product per step;
- **edge synapses**: any jaxley 0.14 ``Synapse`` (``IonotropicSynapse``, ...),
  called unchanged per edge with jaxley's contract
  ``update_states(states, dt, pre_v, post_v, params)`` and
  ``compute_current(states, pre_v, post_v, params) -> nA``.

Synaptic currents are in nA, outward-positive (as every jaxley synapse current).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["SpikeSynapse", "is_trace_synapse"]


@dataclass(frozen=True)
class SpikeSynapse:
    """Synapse for networks of spiking (``Fire``) neurons.

    Per presynaptic neuron a trace ``s`` is set to 1 when the presynaptic neuron
    spiked this step (set, not incremented); otherwise ``s <- s - s_decay * s * dt``
    (forward Euler, ``s_decay`` in 1/ms). This is the ``SpikeSynapse`` of jaxley's
    1.0.0 branch.

    The current on the postsynaptic membrane (nA, outward-positive) is

    - current-based (default, jaxley's): ``I = gS * s``, so ``gS > 0`` **inhibits**
      and ``gS < 0`` excites;
    - ``conductance=True``: ``I = gS * s * (v_post - e_syn)``.

    | parameter              | default | unit | meaning                       |
    |------------------------|---------|------|-------------------------------|
    | ``SpikeSynapse_gS``    | 1e-4    | µS   | synaptic weight (conductance) |
    | ``SpikeSynapse_s_decay``| 10.0   | 1/ms | decay rate of the trace       |
    | ``SpikeSynapse_e_syn`` | 0.0     | mV   | reversal (conductance form)   |

    With a shared ``s_decay`` (or one per presynaptic neuron) the trace lives per
    presynaptic neuron; with one ``s_decay`` per edge it lives per edge.
    """

    name: str = "SpikeSynapse"
    gS: float = 1e-4
    s_decay: float = 10.0
    conductance: bool = False
    e_syn: float = 0.0

    @property
    def synapse_params(self) -> dict[str, float]:
        p = self.name
        out = {f"{p}_gS": self.gS, f"{p}_s_decay": self.s_decay}
        if self.conductance:
            out[f"{p}_e_syn"] = self.e_syn
        return out

    @property
    def synapse_states(self) -> dict[str, float]:
        return {f"{self.name}_s": 0.0}

    def change_name(self, name: str) -> SpikeSynapse:
        return dataclasses.replace(self, name=name)

    def update_trace(self, s, spikes, s_decay, dt):
        """One step of the trace: ``s <- 1`` on a spike, else ``s - s_decay*s*dt``."""
        return spikes + (1.0 - spikes) * (s - s_decay * s * dt)


def is_trace_synapse(synapse: Any) -> bool:
    """Whether ``synapse`` is driven by presynaptic spikes (engine's dense path)."""
    return hasattr(synapse, "update_trace")

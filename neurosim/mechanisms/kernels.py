"""Synapses with a postsynaptic current kernel: `ExpSynapse` and `AlphaSynapse`.

Their state lives per postsynaptic cell and is driven by the weighted
presynaptic spikes `Wᵀ s` (one matrix product per step for a dense
projection). Each is current-based by default (the weight `gS` in nA per
spike) or conductance-based (`conductance=True`: `gS` in µS, current
`g (v_post - e_syn)`).

Sign: like every neurosim synaptic current, outward-positive, so a positive
current-based weight **inhibits** and a negative one excites (the ML convention,
`I_syn` adding to `dv/dt`, is the opposite sign: negate weights taken from
it). The kernels are exact in discrete time: after one
presynaptic spike at step `k0` the current at step `k0 + k` is

- `ExpSynapse`: `gS * exp(-k dt / tau)` (the jump at the spike's own step);
- `AlphaSynapse`: `gS * (k dt / tau) * exp(1 - k dt / tau)` (zero at the
  spike's step, peak `gS` at `k dt = tau`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp

from .base import POST, Prepared, Synapse, dense_matrix, project

__all__ = ["AlphaSynapse", "ExpSynapse"]


@dataclass(frozen=True)
class _KernelSynapse(Synapse):
    """Shared: parameters, weight preparation and the current of a kernel state."""

    needs_spikes = True

    name: str = "Kernel"
    gS: float = 1.0
    tau: float = 5.0
    conductance: bool = False
    e_syn: float = 0.0

    @property
    def synapse_params(self) -> dict[str, float]:
        p = self.name
        out = {f"{p}_gS": self.gS, f"{p}_tau": self.tau}
        if self.conductance:
            out[f"{p}_e_syn"] = self.e_syn
        return out

    @property
    def positive_params(self) -> tuple[str, ...]:
        """`tau`; `gS` too when conductance-based (a current-based weight
        is signed)."""
        p = self.name
        return (f"{p}_tau", *((f"{p}_gS",) if self.conductance else ()))

    def layout(self, conn, per_element, fixed, dt):
        del conn, per_element, fixed, dt
        return {k: POST for k in self.synapse_states}

    def prepare(self, params, conn, layout):
        del layout
        p = self.name
        dense = conn.fits_dense
        w = params[f"{p}_gS"]
        arrays = {
            "W": dense_matrix(w, conn)
            if dense
            else jnp.broadcast_to(w, (conn.n_edges,)),
            "tau": params[f"{p}_tau"],
        }
        if self.conductance:
            arrays["e_syn"] = params[f"{p}_e_syn"]
        return Prepared(arrays, (("dense", dense),))

    def drive(self, pre, prepared, conn):
        """This step's weighted presynaptic spikes `Wᵀ s` per postsynaptic cell."""
        return project(pre.spikes, prepared["W"], conn, prepared.flag("dense"))

    def kernel_current(self, value, prepared):
        """`(g, c)` of a kernel value: a current (nA) or a conductance (µS)."""
        if self.conductance:
            return value, value * prepared["e_syn"]
        return None, -value


@dataclass(frozen=True)
class ExpSynapse(_KernelSynapse):
    """One exponentially decaying variable per postsynaptic cell.

    Each step `I <- I * exp(-dt / tau) + Wᵀ s` (the current-based LIF synapse
    of NIR's CubaLIF and of most SNN libraries); the current is `I` (nA), or
    `I (v_post - e_syn)` with `conductance=True` (`I` then in µS).

    | parameter          | default | unit    | meaning                     |
    |--------------------|---------|---------|-----------------------------|
    | `ExpSynapse_gS`    | 1.0     | nA (µS) | weight per spike            |
    | `ExpSynapse_tau`   | 5.0     | ms      | decay time constant         |
    | `ExpSynapse_e_syn` | 0.0     | mV      | reversal (conductance form) |

    State `ExpSynapse_I` per postsynaptic cell.
    """

    name: str = "ExpSynapse"

    @property
    def synapse_states(self) -> dict[str, float]:
        return {f"{self.name}_I": 0.0}

    def step(self, states, pre, v_post, prepared, conn, dt):
        del v_post
        key = f"{self.name}_I"
        decay = jnp.exp(-dt / prepared["tau"])
        return {key: states[key] * decay + self.drive(pre, prepared, conn)}

    def current(self, states, pre, v_post, prepared, conn):
        del pre, v_post, conn
        return self.kernel_current(states[f"{self.name}_I"], prepared)


@dataclass(frozen=True)
class AlphaSynapse(_KernelSynapse):
    """An alpha-function current per postsynaptic cell, exact in discrete time.

    Two states per postsynaptic cell, with `a = exp(-dt / tau)`: each step
    `q <- a (q + e (dt / tau) p)`, then `p <- a p + Wᵀ s`; the current is
    `q` (nA), or `q (v_post - e_syn)` with `conductance=True`. One spike of weight `gS` gives
    `gS (t / tau) exp(1 - t / tau)`: zero at the spike, peak `gS` at `t = tau`.

    | parameter            | default | unit    | meaning                     |
    |----------------------|---------|---------|-----------------------------|
    | `AlphaSynapse_gS`    | 1.0     | nA (µS) | peak current (conductance)  |
    | `AlphaSynapse_tau`   | 5.0     | ms      | time to peak                |
    | `AlphaSynapse_e_syn` | 0.0     | mV      | reversal (conductance form) |

    States `AlphaSynapse_p` and `AlphaSynapse_q` per postsynaptic cell.
    """

    name: str = "AlphaSynapse"

    @property
    def synapse_states(self) -> dict[str, float]:
        return {f"{self.name}_p": 0.0, f"{self.name}_q": 0.0}

    def step(self, states, pre, v_post, prepared, conn, dt):
        del v_post
        p, q = f"{self.name}_p", f"{self.name}_q"
        dt_over_tau = dt / prepared["tau"]
        a = jnp.exp(-dt_over_tau)
        return {
            q: a * (states[q] + math.e * dt_over_tau * states[p]),
            p: a * states[p] + self.drive(pre, prepared, conn),
        }

    def current(self, states, pre, v_post, prepared, conn):
        del pre, v_post, conn
        return self.kernel_current(states[f"{self.name}_q"], prepared)

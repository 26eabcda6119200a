"""Spike-driven synapses: `SpikeSynapse` (jaxley's 1.0.0 branch).

A synapse follows the `Synapse` contract; jaxley's
own synapses (`IonotropicSynapse`, ...) are connected through
`neurosim.mechanisms.jaxley`. Synaptic currents are in nA,
outward-positive (as every jaxley synapse current): a positive current-based
weight inhibits.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import (
    EDGE,
    PRE,
    Connectivity,
    Prepared,
    Presynaptic,
    Synapse,
    dense_matrix,
    edges_to_post,
    pre_to_edges,
)

__all__ = ["SpikeSynapse"]

# A fixed decay with |s_decay * dt - 1| below this makes the trace the spikes.
IDENTITY_TOL = 1e-12


@dataclass(frozen=True)
class SpikeSynapse(Synapse):
    """Synapse for networks of spiking (`Fire`) neurons.

    A trace `s` is set to 1 when the presynaptic neuron spiked this step (set,
    not incremented); otherwise `s <- s - s_decay * s * dt` (forward Euler,
    `s_decay` in 1/ms). This is the `SpikeSynapse` of jaxley's 1.0.0 branch.

    The current on the postsynaptic membrane (nA, outward-positive) is

    - current-based (default, jaxley's): `I = gS * s`, so `gS > 0` **inhibits**
      and `gS < 0` excites;
    - `conductance=True`: `I = gS * s * (v_post - e_syn)`.

    | parameter              | default | unit | meaning                       |
    |------------------------|---------|------|-------------------------------|
    | `SpikeSynapse_gS`      | 1e-4    | µS   | synaptic weight (conductance) |
    | `SpikeSynapse_s_decay` | 10.0    | 1/ms | decay rate of the trace       |
    | `SpikeSynapse_e_syn`   | 0.0     | mV   | reversal (conductance form)   |

    Like every projection parameter, `s_decay` is either shared (a scalar) or
    one value per edge (an `(n_pre, n_post)` matrix for an all-to-all
    projection, else `(n_edges,)`); there is no per-presynaptic-neuron form.
    Where the trace lives is decided at compile time (`layout`): with a shared
    `s_decay`, one trace per presynaptic neuron, shared by its outgoing edges;
    with `s_decay` per edge (set per edge, drawn by an initialiser, or trainable
    with `per_element=True`), one trace per edge; projections from one
    population with the same fixed `s_decay` share one stored trace; with a shared `s_decay` that is
    not trainable and `s_decay * dt = 1`, the trace equals this step's spikes and
    is not stored at all. When the trace is not per edge and the projection
    is all-to-all or its `(n_pre, n_post)` weight matrix fits `DENSE_LIMIT`,
    the current is one matrix product `s @ G` per step; otherwise it is
    summed over the edges.

    Attributes:
        name: prefix of the parameter and state names (`"SpikeSynapse"`).
        gS: default weight (µS).
        s_decay: default decay rate of the trace (1/ms).
        conductance: conductance-based (`I = gS * s * (v_post - e_syn)`) rather
            than current-based.
        e_syn: default reversal potential (mV); a parameter only when
            `conductance` is true.
    """

    needs_spikes = True

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

    @property
    def positive_params(self) -> tuple[str, ...]:
        """`s_decay`; `gS` too when conductance-based (a current-based
        weight is signed: its sign says inhibitory or excitatory)."""
        p = self.name
        return (f"{p}_s_decay", *((f"{p}_gS",) if self.conductance else ()))

    def trace(self, s, spikes, s_decay, dt):
        """One step of the trace: `s <- 1` on a spike, else `s - s_decay*s*dt`."""
        return spikes + (1.0 - spikes) * (s - s_decay * s * dt)

    def layout(self, conn, per_element, fixed, dt):
        del conn
        key, decay = f"{self.name}_s", f"{self.name}_s_decay"
        if per_element[decay]:
            return {key: EDGE}
        if decay in fixed and abs(fixed[decay] * dt - 1.0) < IDENTITY_TOL:
            return {}  # the trace is the spike train
        return {key: PRE}

    def shared_states(self, layout, fixed, dt):
        """A per-neuron trace with a fixed decay is the same for every
        projection from the population with that decay."""
        key, decay = f"{self.name}_s", f"{self.name}_s_decay"
        if layout.get(key) != PRE or decay not in fixed:
            return {}
        return {key: ("SpikeSynapse trace", float(fixed[decay]) * dt)}

    def prepare(self, params, conn: Connectivity, layout) -> Prepared:
        p = self.name
        where = layout.get(f"{p}_s")
        dense = where != EDGE and conn.fits_dense
        arrays = {"s_decay": params[f"{p}_s_decay"]}
        weights = {"G": params[f"{p}_gS"]}
        if self.conductance:
            weights["GE"] = params[f"{p}_gS"] * params[f"{p}_e_syn"]
        for k, w in weights.items():
            arrays[k] = dense_matrix(w, conn) if dense else w
        return Prepared(arrays, (("where", where), ("dense", dense)))

    def step(self, states, pre: Presynaptic, v_post, prepared, conn, dt):
        del v_post
        key = f"{self.name}_s"
        where = prepared.flag("where")
        if where is None:
            return {}
        spikes = pre_to_edges(pre.spikes, conn) if where == EDGE else pre.spikes
        return {key: self.trace(states[key], spikes, prepared["s_decay"], dt)}

    def activity(self, states, pre):
        return states.get(f"{self.name}_s", pre.spikes)

    def spike_current(self, spikes, prepared, conn):
        """Without a trace (the trace is the spikes) and with a dense weight
        matrix: the current of any spike sequence, one product."""
        if prepared.flag("where") is not None or not prepared.flag("dense"):
            return None
        return self._current(spikes, prepared, conn)

    def current(self, states, pre, v_post, prepared, conn):
        del v_post
        return self._current(self.activity(states, pre), prepared, conn)

    def _current(self, s, prepared, conn):
        if prepared.flag("dense"):
            g = s @ prepared["G"]
            c = s @ prepared["GE"] if self.conductance else None
        else:
            s_edge = s if prepared.flag("where") == EDGE else pre_to_edges(s, conn)
            g = edges_to_post(prepared["G"] * s_edge, conn)
            c = (
                edges_to_post(prepared["GE"] * s_edge, conn)
                if self.conductance
                else None
            )
        if self.conductance:  # I = g (v - e): slope g, constant g e
            return g, c
        return None, -g  # I = g s: a constant outward current

"""The mechanism contract: what a channel and a synapse give the engine.

This page is the one place the contract is written. The engine
(`neurosim.engine`) calls only the methods below; it never reads a
mechanism's parameter names, never tests for a role with `hasattr` and never
formats a mechanism's keys. A new channel, synapse, delay line or plasticity
trace is an added subclass.

**Keys.** A mechanism declares its parameters and states as dicts of defaults
whose keys carry its name, as in jaxley (`{"Leak_gLeak": 1e-4}`); those keys
are what users pass to `net.set` and find in `params` and `state`. It
lists those that must be positive in `positive_params` (empty by default).

**Channel** (per compartment that carries it). Each step, from the start-of-step
voltage, `Channel.update` returns a `ChannelStep`: the new states,
optionally a reset voltage, and, for a channel that initiates spikes, this step's
spikes and their surrogate derivative. The engine then calls
`Channel.current` (mA/cm², outward-positive) at the possibly reset
voltage and linearises it in `v` for the voltage solve.
`Channel.init_state` gives the steady state at a voltage (jaxley's
`init_states`). Static roles are class variables: `emits_spikes` (the
population's spikes come from this channel), `takes_input` (`run`'s input
for the population is handed to `update` as `drive` instead of being
injected as a current) and `spikes_are_input` (the spikes `update` returns
are its `drive`, unchanged). `Channel.linear` may give the current as
per-run constants (a leak).

**Synapse** (per projection). `Synapse.layout` says, at compile time, where
each state lives (`PRE`: per presynaptic cell, `EDGE`: per edge,
`POST`: per postsynaptic cell) and may leave a state out (a trace that
equals the spikes needs none); `Synapse.shared_states` marks `PRE` states
that projections from one population may share (one stored copy).
`Synapse.prepare` turns parameters into
per-run constants once per run (a dense weight matrix, say). Each step
`Synapse.step` advances the states from a `Presynaptic` value
(this step's spikes, the presynaptic voltage) and the postsynaptic voltage, and
`Synapse.current` returns `(g, c)` per postsynaptic cell (µS, nA) such
that the synaptic current is `I = g * v_post - c`, which the engine adds to
the linearised membrane equation. A synapse without states whose current
depends on this step's presynaptic spikes alone says so through
`Synapse.spike_current`; the engine may then compute its current for a
whole spike sequence at once (one large product outside the scan).

Every array handed to a mechanism is one sample's (the engine `jax.vmap`-s a
batch); parameters are scalars or one value per element.
"""

from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "DENSE_LIMIT",
    "EDGE",
    "POST",
    "PRE",
    "Channel",
    "ChannelStep",
    "Connectivity",
    "Prepared",
    "Presynaptic",
    "Synapse",
    "dense_matrix",
    "edges_to_post",
    "pre_to_edges",
    "project",
]

# Where a synapse state lives.
PRE = "pre"  # one value per presynaptic cell
EDGE = "edge"  # one value per edge
POST = "post"  # one value per postsynaptic cell
LOCATIONS = (PRE, EDGE, POST)

# All-to-all projections always get a dense weight matrix (a reshape of their
# per-edge weights), so their current is one matrix product per step. Other
# wiring with at most this many (n_pre * n_post) entries does too; larger
# sparse projections sum over their edge list.
DENSE_LIMIT = 4_000_000


class ChannelStep(NamedTuple):
    """What `Channel.update` returns.

    Attributes:
        states: the channel's new states (keys as in `channel_states`).
        v: a voltage reset (mV), or `None` to leave `v` alone.
        spikes: this step's spikes (0/1, or graded), for a channel with
            `emits_spikes`; else `None`.
        surrogate_grad: the surrogate derivative of `spikes` with respect to
            `v` at this step, for online learning rules; else `None`.
    """

    states: dict
    v: Any = None
    spikes: Any = None
    surrogate_grad: Any = None


class _Named:
    name: str

    @property
    def positive_params(self) -> tuple[str, ...]:
        """The keys of this mechanism's parameters that must be > 0 (conductances
        of a conductance-based mechanism, time constants, decay rates).

        The network refuses a value <= 0 for them wherever it is set: the
        defaults, `net.set` and `run`'s `params`. Empty by default: a
        parameter is signed unless its mechanism declares it here, so a
        current-based synaptic weight stays signed.
        """
        return ()

    def change_name(self, name: str) -> Any:
        """A copy under another name (its parameter and state keys follow)."""
        return dataclasses.replace(self, name=name)


class Channel(_Named, abc.ABC):
    """A membrane mechanism inserted in compartments.

    Subclasses are frozen dataclasses with a `name` field. Units: mV, ms,
    S/cm² (conductances), mA/cm² (currents, outward-positive).
    """

    emits_spikes: ClassVar[bool] = False
    takes_input: ClassVar[bool] = False
    spikes_are_input: ClassVar[bool] = False

    @property
    @abc.abstractmethod
    def channel_params(self) -> dict[str, float]:
        """`{"<name>_<param>": default}`."""

    @property
    @abc.abstractmethod
    def channel_states(self) -> dict[str, float]:
        """`{"<name>_<state>": default}`."""

    @property
    def current_name(self) -> str:
        return f"i_{self.name}"

    def init_state(self, states: dict, v: Any, params: dict, dt: float) -> dict:
        """Steady states at voltage `v` (only the states that change)."""
        del states, v, params, dt
        return {}

    @abc.abstractmethod
    def update(
        self, states: dict, v: Any, params: dict, dt: float, drive: Any = None
    ) -> ChannelStep:
        """One step from the start-of-step voltage `v`.

        Args:
            states: this channel's states.
            v: membrane voltage (mV).
            params: this channel's parameters plus `radius`, `length` (µm) and
                `capacitance` (µF/cm²).
            dt: step (ms).
            drive: this step's input of the population when the class sets
                `takes_input`, else `None`.
        """

    @abc.abstractmethod
    def current(self, states: dict, v: Any, params: dict) -> Any:
        """Membrane current density in mA/cm², outward-positive."""

    def linear(self, params: dict) -> tuple[Any, Any] | None:
        """The current as per-run constants `(g, c)`, or `None` (default).

        A channel whose current is `g * v - c` with `g` (mA/cm² per mV) and
        `c` (mA/cm²) that depend on its parameters alone (not on its states,
        nor on `v`) returns them: `current(states, v, params) == g * v - c`
        for every state and voltage. When every channel of a population
        does, the engine computes the population's leak and integration
        coefficients once per run, outside the scan, and calls no `current`
        per step. `None`: the engine linearises `current` at every step.
        """
        del params
        return None


@dataclass(frozen=True, eq=False)
class Connectivity:
    """The static wiring of a projection (indices within the populations).

    Attributes:
        n_pre: cells in the presynaptic population.
        n_post: cells in the postsynaptic population.
        pre_idx: `(n_edges,)` int array; edge `k` runs from cell `pre_idx[k]`...
        post_idx: `(n_edges,)` int array; ...to cell `post_idx[k]`.
        all_to_all: every pair, edges pre-major (edge `i * n_post + j`).
    """

    n_pre: int
    n_post: int
    pre_idx: np.ndarray
    post_idx: np.ndarray
    all_to_all: bool

    @property
    def n_edges(self) -> int:
        return int(self.pre_idx.size)

    def size(self, location: str) -> int:
        """Number of values a state at `location` holds."""
        return {PRE: self.n_pre, EDGE: self.n_edges, POST: self.n_post}[location]

    @property
    def fits_dense(self) -> bool:
        """Whether the projection's products are dense `(n_pre, n_post)` matrix
        products: always for all-to-all wiring (the matrix is a reshape of the
        per-edge weights), else when the matrix is within `DENSE_LIMIT`."""
        return self.all_to_all or self.n_pre * self.n_post <= DENSE_LIMIT


class Presynaptic(NamedTuple):
    """What a synapse sees of its presynaptic population at this step.

    Attributes:
        spikes: this step's spikes `(..., n_pre)`, or `None` when the
            population emits none.
        v: the voltage (mV) at each cell's spike-initiation compartment after
            the channel phase of this step, `(..., n_pre)`.
    """

    spikes: Any
    v: Any


class Synapse(_Named, abc.ABC):
    """A projection's mechanism: states, a step, a current on the postsynaptic
    cells. Subclasses are frozen dataclasses with a `name` field. Units: µS,
    nA (outward-positive), mV, ms."""

    needs_spikes: ClassVar[bool] = False

    @property
    @abc.abstractmethod
    def synapse_params(self) -> dict[str, float]:
        """`{"<name>_<param>": default}`."""

    @property
    @abc.abstractmethod
    def synapse_states(self) -> dict[str, float]:
        """`{"<name>_<state>": default}`."""

    def layout(
        self, conn: Connectivity, per_element: dict[str, bool], fixed: dict, dt: float
    ) -> dict[str, str]:
        """Where each state lives, decided at compile time.

        Args:
            conn: the wiring.
            per_element: for each parameter, whether it has one value per edge.
            fixed: the values of the parameters that are not trainable (static;
                absent for trainable ones).
            dt: step (ms).

        Returns:
            `{state: PRE | EDGE | POST}`; a state left out is not stored.
            Default: every state per edge.
        """
        del conn, per_element, fixed, dt
        return {k: EDGE for k in self.synapse_states}

    def shared_states(self, layout: dict, fixed: dict, dt: float) -> dict:
        """`{state: key}` for `PRE` states that follow from the presynaptic
        spikes and fixed parameters alone, decided at compile time.

        Projections from the same population whose states have equal keys
        (say, a trace with the same fixed decay) store one copy: the engine
        keeps it once and hands it to each of them. `key` is any hashable
        value that tells the state's update apart (include the class and
        the fixed values it depends on). Default: `{}`, nothing shared.
        """
        del layout, fixed, dt
        return {}

    def prepare(self, params: dict, conn: Connectivity, layout: dict) -> Any:
        """Per-run constants from the parameters (default: the parameters)."""
        del conn, layout
        return params

    @abc.abstractmethod
    def step(
        self,
        states: dict,
        pre: Presynaptic,
        v_post: Any,
        prepared: Any,
        conn: Connectivity,
        dt: float,
    ) -> dict:
        """The states after this step (`v_post`: `(..., n_post)` mV)."""

    @abc.abstractmethod
    def current(
        self, states: dict, pre: Presynaptic, v_post: Any, prepared: Any, conn
    ) -> tuple[Any, Any]:
        """`(g, c)` per postsynaptic cell, `(..., n_post)` in µS and nA, such
        that the synaptic current is `I = g * v_post - c` (outward-positive)."""

    def activity(self, states: dict, pre: Presynaptic) -> Any:
        """The presynaptic activity this synapse passes on (default: spikes)."""
        del states
        return pre.spikes

    def spike_current(self, spikes: Any, prepared: Any, conn) -> tuple | None:
        """`(g, c)` for presynaptic spikes of any leading shape, or `None`.

        A synapse that keeps no state (with this `prepared`) and whose
        `current` depends on this step's presynaptic spikes alone (not on
        `v_post`) returns what `current` would, for `spikes` of shape
        `(..., n_pre)` (say `(batch, time, n_pre)`): `(g, c)` of shape
        `(..., n_post)`, `g` possibly `None`. The engine then computes the
        current of a projection from a population whose spikes are its input
        for the whole run at once, outside the scan. Default `None`: the
        synapse steps inside the scan.
        """
        del spikes, prepared, conn
        return None


def edges_to_post(values: Any, conn: Connectivity) -> Any:
    """Sum per-edge values `(..., n_edges)` onto the postsynaptic cells (for
    all-to-all wiring, a sum over the presynaptic axis of the pre-major
    `(n_pre, n_post)` reshape)."""
    if conn.all_to_all:
        shape = (*jnp.shape(values)[:-1], conn.n_pre, conn.n_post)
        return jnp.sum(jnp.reshape(values, shape), axis=-2)
    summed = jax.ops.segment_sum(
        jnp.moveaxis(values, -1, 0), conn.post_idx, conn.n_post
    )
    return jnp.moveaxis(summed, 0, -1)


def pre_to_edges(values: Any, conn: Connectivity) -> Any:
    """Per-presynaptic-cell values `(..., n_pre)` on each edge,
    `(..., n_edges)` (for all-to-all wiring, a broadcast, no gather)."""
    if conn.all_to_all:
        shape = (*jnp.shape(values)[:-1], conn.n_pre, conn.n_post)
        edges = jnp.broadcast_to(jnp.expand_dims(values, -1), shape)
        return jnp.reshape(edges, (*shape[:-2], conn.n_edges))
    return values[..., conn.pre_idx]


def dense_matrix(per_edge: Any, conn: Connectivity) -> Any:
    """Per-edge values as an `(n_pre, n_post)` matrix (summing duplicates)."""
    w = jnp.broadcast_to(per_edge, (conn.n_edges,))
    if conn.all_to_all:
        return w.reshape(conn.n_pre, conn.n_post)
    return (
        jnp.zeros((conn.n_pre, conn.n_post), w.dtype)
        .at[conn.pre_idx, conn.post_idx]
        .add(w)
    )


@dataclass(frozen=True)
class Prepared:
    """Per-run constants of a mechanism: arrays (traced) and static choices.

    `static` is a tuple of `(name, value)` pairs known at compile time (a
    layout choice, say); it is pytree metadata, so it may steer Python code.
    """

    arrays: dict
    static: tuple = ()

    def __getitem__(self, key: str) -> Any:
        return self.arrays[key]

    def flag(self, key: str) -> Any:
        return dict(self.static)[key]


jax.tree_util.register_dataclass(
    Prepared, data_fields=["arrays"], meta_fields=["static"]
)


def project(values: Any, weights: Any, conn: Connectivity, dense: bool) -> Any:
    """Presynaptic values `(..., n_pre)` through the projection's weights onto
    the postsynaptic cells, `(..., n_post)`: one matrix product with a dense
    `(n_pre, n_post)` matrix, else a sum over the edges (per-edge weights)."""
    if dense:
        return values @ weights
    return edges_to_post(weights * pre_to_edges(values, conn), conn)

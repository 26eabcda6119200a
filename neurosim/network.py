"""The `Network` description: populations, projections, parameters, recordings.

A `Network` only describes; `neurosim.compile` turns it into pure JAX
functions. Nothing here touches `jax.lax`.

Examples:
    >>> import neurosim as ns
    >>> net = ns.Network()
    >>> net.add_population("hid", 4, [ns.Leak(), ns.Fire()])
    'hid'
    >>> net.set("hid", "Leak_gLeak", 0.01)
    >>> net.get("hid", "Leak_gLeak")
    0.01
"""

from __future__ import annotations

import copy
import difflib
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .mechanisms.base import Channel, Connectivity, Synapse
from .mechanisms.jaxley import as_channel, as_synapse
from .transforms import Transform, as_transform

__all__ = [
    "AllToAll",
    "EdgeList",
    "Network",
    "OneToOne",
    "Random",
    "normal",
    "uniform",
]

# Geometry and membrane parameters of every population (jaxley's names and defaults).
POPULATION_PARAMS = {"capacitance": 1.0, "length": 10.0, "radius": 1.0}
POSITIVE_PARAMS = ("capacitance", "length", "radius")


def positive_keys(el: Any) -> set[str]:
    """The parameters of a population or projection that must be > 0: the
    geometry, and what its mechanisms declare in `positive_params`."""
    if isinstance(el, Population):
        keys = set(POSITIVE_PARAMS)
        for ch in el.channels:
            keys.update(ch.positive_params)
        return keys
    return set(el.synapse.positive_params)


def check_defaults(mech: Any, params: dict) -> None:
    """A mechanism's own defaults obey its `positive_params`."""
    for key in mech.positive_params:
        value = params.get(key)
        if isinstance(value, numbers.Real) and not value > 0:
            raise ValueError(
                f"{type(mech).__name__}: {key} must be positive, got {value!r}."
            )


def unknown(
    kind: str, name: str, options: Sequence[str], where: str = ""
) -> ValueError:
    """A ValueError for an unknown name, with the closest valid ones."""
    same_case = [o for o in options if str(o).lower() == str(name).lower()]
    close = same_case or difflib.get_close_matches(name, list(options), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "."
    return ValueError(f"{where}unknown {kind} {name!r}{hint} Valid: {sorted(options)}.")


# --------------------------------------------------------------------------- connectivity
@dataclass(frozen=True)
class AllToAll:
    """Every presynaptic neuron onto every postsynaptic one; edges pre-major."""

    dense = True

    def edges(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        pre, post = np.divmod(np.arange(n_pre * n_post), n_post)
        return pre.astype(np.int32), post.astype(np.int32)


@dataclass(frozen=True)
class OneToOne:
    """Neuron `i` onto neuron `i`; both populations must have the same size."""

    dense = False

    def edges(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        if n_pre != n_post:
            raise ValueError(
                f"connectivity: one_to_one needs equal sizes, got {n_pre} -> {n_post}."
            )
        idx = np.arange(n_pre, dtype=np.int32)
        return idx, idx.copy()


@dataclass(frozen=True)
class Random:
    """Each pair connected independently with probability `p` (seeded numpy draw)."""

    p: float
    seed: int = 0
    dense = False

    def __post_init__(self):
        p = self.p
        if isinstance(p, bool) or not (isinstance(p, numbers.Real) and 0.0 <= p <= 1.0):
            raise ValueError(f"p: expected a probability in [0, 1], got {self.p!r}.")

    def edges(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        mask = np.random.default_rng(self.seed).random((n_pre, n_post)) < self.p
        pre, post = np.nonzero(mask)
        return pre.astype(np.int32), post.astype(np.int32)


@dataclass(frozen=True, eq=False)
class EdgeList:
    """An explicit list of edges `pre[k] -> post[k]` (indices within populations)."""

    pre: Any
    post: Any
    dense = False

    def edges(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        pre, post = np.asarray(self.pre), np.asarray(self.post)
        if pre.ndim != 1 or pre.shape != post.shape:
            raise ValueError(
                f"edges: pre and post must be 1-D of equal length, got shapes "
                f"{pre.shape} and {post.shape}."
            )
        if not (np.issubdtype(pre.dtype, np.integer) or pre.size == 0):
            raise TypeError(f"edges: indices must be integers, got {pre.dtype}.")
        for arr, n, side in ((pre, n_pre, "pre"), (post, n_post, "post")):
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise ValueError(
                    f"edges: {side} indices must lie in [0, {n}), got "
                    f"[{arr.min()}, {arr.max()}]."
                )
        return pre.astype(np.int32), post.astype(np.int32)


_CONNECTIVITY = {"all_to_all": AllToAll, "one_to_one": OneToOne}


def as_connectivity(conn: Any) -> Any:
    if isinstance(conn, type):
        raise TypeError(
            f"connectivity: got the class {conn.__name__}; pass an instance, such "
            "as 'all_to_all', 'one_to_one', Random(p, seed) or EdgeList(pre, post)."
        )
    if isinstance(conn, str):
        if conn not in _CONNECTIVITY:
            raise unknown("connectivity", conn, list(_CONNECTIVITY), "connectivity: ")
        return _CONNECTIVITY[conn]()
    if not hasattr(conn, "edges"):
        raise TypeError(
            "connectivity: expected 'all_to_all', 'one_to_one', Random(p, seed) or "
            f"EdgeList(pre, post), got {conn!r}."
        )
    return conn


# --------------------------------------------------------------------------- initialisers
@dataclass(frozen=True)
class Initializer:
    """A random initial value drawn in `Simulator.init_params(key)`."""

    kind: str
    a: float
    b: float

    def __call__(self, key: jax.Array, shape: tuple[int, ...], dtype: Any) -> jax.Array:
        if self.kind == "normal":
            return self.a + jax.random.normal(key, shape, dtype) * self.b
        return jax.random.uniform(key, shape, dtype, minval=self.a, maxval=self.b)


def normal(mean: float = 0.0, std: float = 1.0) -> Initializer:
    """Per-element values `mean + std * N(0, 1)`."""
    return Initializer("normal", mean, std)


def uniform(low: float = 0.0, high: float = 1.0) -> Initializer:
    """Per-element values `U(low, high)`."""
    return Initializer("uniform", low, high)


# --------------------------------------------------------------------------- elements
@dataclass(frozen=True, eq=False)
class Insertion:
    """A channel inserted in a population: on every cell (`cells is None`) or on
    the listed cells. Its per-element parameters and states hold one value per
    carrying cell, in the order of `cells`."""

    channel: Channel
    cells: np.ndarray | None = None

    def size(self, n: int) -> int:
        return n if self.cells is None else int(self.cells.size)


@dataclass
class Population:
    """`n` cells of `n_comp` compartments each (a point neuron: one). Channel
    parameters and states are laid out per carrying cell (see `Insertion`);
    `v` and the geometry per cell."""

    name: str
    n: int
    insertions: tuple = ()
    params: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)  # key -> number of elements
    n_comp: int = 1

    @property
    def channels(self) -> tuple:
        return tuple(ins.channel for ins in self.insertions)

    @property
    def spiking(self) -> Insertion | None:
        """The insertion whose channel emits the population's spikes, if any."""
        return next((i for i in self.insertions if i.channel.emits_spikes), None)

    @property
    def input_channel(self) -> Insertion | None:
        """The insertion that takes `run`'s input as its drive, if any."""
        return next((i for i in self.insertions if i.channel.takes_input), None)


@dataclass
class Projection:
    name: str
    pre: str
    post: str
    synapse: Synapse
    conn: Connectivity
    params: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.conn.n_edges

    @property
    def pre_idx(self) -> np.ndarray:
        return self.conn.pre_idx

    @property
    def post_idx(self) -> np.ndarray:
        return self.conn.post_idx

    @property
    def dense(self) -> bool:
        return self.conn.all_to_all


# --------------------------------------------------------------------------- network
class Network:
    """Description of a circuit of point compartments joined by synapses.

    Populations carry channels; projections carry synapses. Parameters and
    initial states are set shared (a scalar) or per element (one value per
    neuron, or per edge for projections: an `(n_pre, n_post)` matrix for an
    all-to-all projection, see `shape`). Units: mV, ms, µF/cm², S/cm², µS, nA, µm.
    """

    def __init__(self) -> None:
        self.populations: dict[str, Population] = {}
        self.projections: dict[str, Projection] = {}
        self.recordings: list[str] = []
        self.stimuli: dict[str, np.ndarray] = {}
        self.trainable: dict[tuple[str, str], tuple[bool, Transform | None]] = {}

    # ----------------------------------------------------------------- building
    def add_population(
        self,
        name: str,
        n: int,
        channels: Sequence[Any] = (),
        *,
        capacitance: float = 1.0,
        length: float = 10.0,
        radius: float = 1.0,
        v: float = -70.0,
    ) -> str:
        """Add `n` point compartments with `channels`; returns `name`.

        Args:
            name: population name (no `.`, unique among populations and projections).
            n: number of compartments.
            channels: neurosim or jaxley channels (`Leak()`, `Fire()`, `HH()`).
            capacitance: membrane capacitance (µF/cm²).
            length: compartment length (µm; area `2 pi r L`).
            radius: compartment radius (µm).
            v: initial voltage (mV).
        """
        self._check_new_name(name)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"n: expected a positive integer, got {n!r}.")
        if isinstance(channels, str) or not isinstance(channels, Sequence):
            raise TypeError(
                f"channels: expected a list of channels, got {channels!r}; "
                f"pass [{channels!r}]."
            )
        chans = [as_channel(ch) for ch in channels]
        names = [c.name for c in chans]
        if len(set(names)) != len(names):
            raise ValueError(f"channels: names must be unique, got {names}.")
        pop = Population(name, int(n))
        pop.params.update(POPULATION_PARAMS)
        pop.sizes.update({k: pop.n for k in [*POPULATION_PARAMS, "v"]})
        for ch in chans:
            self._insert(pop, ch, None)
        pop.states["v"] = -70.0
        self.populations[name] = pop
        try:
            for key, value in (
                ("capacitance", capacitance),
                ("length", length),
                ("radius", radius),
                ("v", v),
            ):
                self.set(name, key, value)
        except (TypeError, ValueError):
            del self.populations[name]  # a refused population is not half-added
            raise
        return name

    def insert(self, target: str, channel: Any, cells: Any = None) -> None:
        """Insert `channel` on some cells of population `target`.

        Args:
            target: the population.
            channel: a neurosim or jaxley channel (an instance).
            cells: cell indices (default: every cell). The channel's per-element
                parameters and states then hold one value per listed cell, in
                this order (`net.set(target, "HH_gNa", [...])` takes
                `len(cells)` values).
        """
        pop = self.populations.get(target)
        if pop is None:
            raise unknown("population", target, self.populations, "target: ")
        idx = None
        if cells is not None:
            idx = np.asarray(cells)
            if (
                idx.ndim != 1
                or idx.size == 0
                or not np.issubdtype(idx.dtype, np.integer)
            ):
                raise ValueError(
                    f"cells: expected a non-empty list of cell indices, got {cells!r}."
                )
            if idx.min() < 0 or idx.max() >= pop.n or np.unique(idx).size != idx.size:
                raise ValueError(
                    f"cells: expected distinct indices in [0, {pop.n}), got {cells!r}."
                )
            idx = idx.astype(np.int32)
        self._insert(pop, as_channel(channel), idx)

    def _insert(self, pop: Population, ch: Channel, cells: np.ndarray | None) -> None:
        if ch.name in [c.name for c in pop.channels]:
            raise ValueError(
                f"channels: {ch.name!r} is already in {pop.name!r}; names must be "
                "unique (use channel.change_name)."
            )
        for role, what in (
            ("emits_spikes", "emits spikes"),
            ("takes_input", "takes input"),
        ):
            if getattr(ch, role) and any(getattr(c, role) for c in pop.channels):
                raise ValueError(
                    f"channels: {pop.name!r} already has a channel that {what}; "
                    f"a population has at most one, got another: {ch.name!r}."
                )
        check_defaults(ch, ch.channel_params)
        keys = [*ch.channel_params, *ch.channel_states]
        taken = [k for k in keys if k in pop.params or k in pop.states]
        if taken:
            raise ValueError(
                f"channels: {ch.name!r} redefines {taken} in {pop.name!r}."
            )
        ins = Insertion(ch, cells)
        pop.insertions = (*pop.insertions, ins)
        pop.params.update(ch.channel_params)
        pop.states.update({k: float(v_) for k, v_ in ch.channel_states.items()})
        pop.sizes.update({k: ins.size(pop.n) for k in keys})

    def connect(
        self,
        pre: str,
        post: str,
        synapse: Any,
        connectivity: Any = "all_to_all",
        *,
        name: str | None = None,
    ) -> str:
        """Project `pre` onto `post` through `synapse`; returns the projection name.

        Args:
            pre: presynaptic population name.
            post: postsynaptic population name (equal to `pre` for recurrence).
            synapse: `SpikeSynapse()` or a jaxley synapse (`IonotropicSynapse()`).
            connectivity: `"all_to_all"` (edges pre-major: edge `i * n_post + j`),
                `"one_to_one"`, `Random(p, seed)` or `EdgeList(pre, post)`.
            name: defaults to `"pre->post"`.
        """
        for side, pop in (("pre", pre), ("post", post)):
            if pop not in self.populations:
                raise unknown("population", pop, self.populations, f"{side}: ")
        name = f"{pre}->{post}" if name is None else name
        self._check_new_name(name)
        synapse = as_synapse(synapse)
        check_defaults(synapse, synapse.synapse_params)
        conn = as_connectivity(connectivity)
        n_pre, n_post = self.populations[pre].n, self.populations[post].n
        pre_idx, post_idx = conn.edges(n_pre, n_post)
        if synapse.needs_spikes and self.populations[pre].spiking is None:
            raise ValueError(
                f"synapse: {type(synapse).__name__} needs presynaptic spikes, but "
                f"population {pre!r} has no spiking channel; insert Fire()."
            )
        wiring = Connectivity(n_pre, n_post, pre_idx, post_idx, bool(conn.dense))
        proj = Projection(name, pre, post, synapse, wiring)
        proj.params.update(synapse.synapse_params)
        proj.states.update({k: float(v) for k, v in synapse.synapse_states.items()})
        self.projections[name] = proj
        return name

    def _check_new_name(self, name: str) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(
                f"name: expected a non-empty string without '.', got {name!r}."
            )
        if name in self.populations or name in self.projections:
            raise ValueError(f"name: {name!r} already exists; pass another name=.")

    # ----------------------------------------------------------------- parameters
    def element(self, target: str) -> Population | Projection:
        """The population or projection called `target`."""
        if target in self.populations:
            return self.populations[target]
        if target in self.projections:
            return self.projections[target]
        raise unknown(
            "population or projection",
            target,
            [*self.populations, *self.projections],
            "target: ",
        )

    def size(self, target: str, key: str | None = None) -> int:
        """Number of cells (population) or edges (projection); with `key`, the
        number of values a per-element `key` holds (a channel inserted on some
        cells has one per carrying cell)."""
        el = self.element(target)
        if key is not None and isinstance(el, Population):
            return el.sizes.get(key, el.n)
        return el.n

    def shape(self, target: str, key: str) -> tuple[int, ...]:
        """The shape of a per-element `key` of `target`: `(n,)` per cell,
        `(len(cells),)` for a channel on some cells, `(n_edges,)` per edge, and
        `(n_pre, n_post)` for an all-to-all projection's weights and other
        per-edge parameters (a matrix, as ML users expect)."""
        el = self.element(target)
        if isinstance(el, Projection) and el.dense:
            return (el.conn.n_pre, el.conn.n_post)
        return (self.size(target, key),)

    def set(self, target: str, key: str, value: Any) -> None:
        """Set a parameter or an initial state, shared (scalar) or per element.

        `value` is a scalar, an array shaped as `shape` says (one value
        per neuron / edge; an all-to-all projection takes a `(n_pre, n_post)`
        matrix, or its flat pre-major vector), or an initialiser drawn in
        `init_params(key)`: `ns.normal(0, 10)`, `ns.uniform(...)` or any
        `(key, shape, dtype) -> array` callable such as
        `jax.nn.initializers.glorot_normal()`.
        """
        el = self.element(target)
        store = (
            el.params if key in el.params else el.states if key in el.states else None
        )
        if store is None:
            raise unknown(
                "parameter or state", key, [*el.params, *el.states], f"{target}: "
            )
        store[key] = self._check_value(el, target, key, value)

    def get(self, target: str, key: str) -> Any:
        """The value set for `key` (parameter or initial state) of `target`."""
        el = self.element(target)
        if key in el.params:
            return el.params[key]
        if key in el.states:
            return el.states[key]
        raise unknown(
            "parameter or state", key, [*el.params, *el.states], f"{target}: "
        )

    def _check_value(self, el, target: str, key: str, value: Any) -> Any:
        if callable(value) and not isinstance(value, type):
            return value  # an initialiser, called (and checked) in init_params
        if isinstance(value, type):
            raise TypeError(
                f"{target}.{key}: expected a number, an array or an initialiser, got "
                f"the class {value.__name__}."
            )
        arr = np.asarray(value)
        if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(
            arr.dtype, np.complexfloating
        ):
            raise TypeError(f"{target}.{key}: expected real numbers, got {arr.dtype}.")
        shape = self.shape(target, key)
        if len(shape) == 2 and arr.shape == (el.n,):
            arr = arr.reshape(shape)  # a flat pre-major vector of an all-to-all
        if arr.shape not in ((), shape):
            raise ValueError(
                f"{target}.{key}: expected a scalar or shape {shape}, got shape "
                f"{arr.shape}."
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{target}.{key}: values must be finite, got {value!r}.")
        if key in positive_keys(el) and np.any(arr <= 0):
            raise ValueError(f"{target}.{key}: must be positive, got {value!r}.")
        return float(arr) if arr.ndim == 0 else arr.astype(float)

    def make_trainable(
        self,
        target: str,
        key: str,
        *,
        per_element: bool = False,
        transform: Transform | str | None = None,
    ) -> None:
        """Mark a parameter for training.

        Args:
            target: population or projection.
            key: parameter name, e.g. `"Leak_gLeak"` or `"SpikeSynapse_gS"`.
            per_element: one value per neuron/edge (else shared, unless the value
                set is already per element).
            transform: keeps a positive quantity positive during optimisation:
                a `Transform` (`Softplus()`,
                `Log()`, `DecayFactor()` for a population's conductance
                trained as `alpha = exp(-dt / tau_m)`, or your own) or its name
                (`"softplus"`, `"log"`, `"decay"`); `None` for
                unconstrained.
        """
        el = self.element(target)
        if key not in el.params:
            raise unknown("parameter", key, list(el.params), f"{target}: ")
        if not isinstance(per_element, bool):
            raise TypeError(
                f"per_element: expected True or False, got {per_element!r}."
            )
        transform = as_transform(transform)
        if transform is not None:
            transform.check(target, key, isinstance(el, Population))
        self.trainable[(target, key)] = (bool(per_element), transform)

    # ----------------------------------------------------------------- recording, stimuli
    def record(self, target: str, state: str = "v") -> None:
        """Record `state` (`"v"`, `"spikes"`, a channel or synapse state)."""
        self.check_record(f"{target}.{state}")
        if f"{target}.{state}" not in self.recordings:
            self.recordings.append(f"{target}.{state}")

    def delete_recordings(self) -> None:
        self.recordings = []

    def check_record(self, spec: str) -> tuple[str, str]:
        """Validate `"target.state"` and return `(target, state_key)`."""
        if not isinstance(spec, str) or "." not in spec:
            raise ValueError(f"record: expected 'target.state', got {spec!r}.")
        target, state = spec.split(".", 1)
        el = self.element(target)
        if state == "spikes" and isinstance(el, Population):
            if el.spiking is None:
                raise ValueError(
                    f"record: population {target!r} has no spiking channel."
                )
            return target, "spikes"
        if state not in el.states:
            raise unknown("state", state, [*el.states], f"record {target!r}: ")
        return target, state

    def stimulate(self, target: str, current: Any) -> None:
        """A fixed external current (nA) for every sample: shape `(time,)` (the same
        for every neuron of `target`) or `(time, n)`. Added to `run`'s inputs
        and to earlier stimuli of `target` (the shorter one padded with zeros),
        as jaxley adds stimuli."""
        pop = self.populations.get(target)
        if pop is None:
            raise unknown("population", target, self.populations, "stimulate: ")
        arr = np.asarray(current, dtype=float)
        if arr.ndim == 1:
            arr = np.repeat(arr[:, None], pop.n, axis=1)
        if arr.ndim != 2 or arr.shape[1] != pop.n:
            raise ValueError(
                f"current: expected shape (time,) or (time, {pop.n}), got "
                f"{np.shape(current)}."
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(
                f"current: values for {target!r} must be finite, got NaN or inf."
            )
        old = self.stimuli.get(target)
        if old is not None:
            t = max(len(old), len(arr))
            arr = np.pad(arr, ((0, t - len(arr)), (0, 0))) + np.pad(
                old, ((0, t - len(old)), (0, 0))
            )
        self.stimuli[target] = arr

    # ----------------------------------------------------------------- views
    def describe(self) -> dict:
        """Populations and projections as plain data (for plots and printing)."""
        return {
            "populations": {k: p.n for k, p in self.populations.items()},
            "projections": [
                {
                    "name": p.name,
                    "pre": p.pre,
                    "post": p.post,
                    "synapse": type(p.synapse).__name__,
                    "n_edges": p.n,
                }
                for p in self.projections.values()
            ],
        }

    def copy(self) -> Network:
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        pops = ", ".join(f"{k}({p.n})" for k, p in self.populations.items())
        projs = ", ".join(f"{k}[{p.n}]" for k, p in self.projections.items())
        return f"Network(populations: {pops}; projections: {projs})"


def step_current(
    i_delay: float, i_dur: float, i_amp: float, dt: float, t_max: float
) -> np.ndarray:
    """A current step (nA): `i_amp` from `i_delay` for `i_dur` ms, else 0.

    One sample per step that `run(..., t_max=t_max)` takes, `int(t_max // dt + 1)`,
    with jaxley's window `[int(i_delay / dt), int((i_delay + i_dur) / dt))`
    (jaxley's `step_current` has one more sample, which its `integrate` drops).
    """
    for nm, val in (("dt", dt), ("t_max", t_max)):
        if not (isinstance(val, (int, float)) and math.isfinite(val) and val > 0):
            raise ValueError(f"{nm}: expected a positive number, got {val!r}.")
    current = np.zeros(int(t_max // dt + 1))
    current[int(i_delay / dt) : int((i_delay + i_dur) / dt)] = i_amp
    return current


def as_float(x: Any) -> jax.Array:
    """`x` as JAX's default float type (float32, or float64 with x64 enabled)."""
    return jnp.asarray(x, dtype=jnp.result_type(float))

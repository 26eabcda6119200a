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
from collections.abc import Sequence
from typing import Any

import numpy as np

from .connectivity import AllToAll, EdgeList, OneToOne, Random
from .connectivity import as_connectivity as as_connectivity
from .elements import (
    CABLE_PARAMS,
    POPULATION_PARAMS,
    Population,
    Projection,
    check_cells,
    check_comp,
    check_comps,
    check_defaults,
    check_value,
    edge_sites,
)
from .elements import POSITIVE_PARAMS as POSITIVE_PARAMS
from .elements import Insertion as Insertion
from .elements import positive_keys as positive_keys
from .mechanisms.base import Connectivity
from .mechanisms.jaxley import as_channel, as_synapse
from .morphology import Morphology
from .transforms import Transform, as_transform
from .values import Initializer as Initializer
from .values import as_float as as_float
from .values import normal, uniform, unknown
from .values import step_current as step_current

__all__ = [
    "AllToAll",
    "EdgeList",
    "Network",
    "OneToOne",
    "Random",
    "normal",
    "uniform",
]


class Network:
    """Description of a circuit of cells (point compartments, or cells of
    several compartments with a `Morphology`) joined by synapses.

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
        morphology: Morphology | None = None,
        spike_comp: int | tuple = 0,
    ) -> str:
        """Add `n` cells with `channels`; returns `name`.

        Without `morphology` each cell is one point compartment. With a
        `Morphology`, each cell has its `n_comp` compartments, coupled by the
        cable equation; `v`, `radius`, `length`, `r_a` and `capacitance` then
        hold one value per compartment, flat and cell-major
        (`(n * n_comp,)`; compartment `j` of cell `i` is `i * n_comp + j`),
        defaulting to the morphology's geometry, and `channels` go on every
        compartment (`insert(..., comps=...)` for a subset).

        Args:
            name: population name (no `.`, unique among populations and projections).
            n: number of cells.
            channels: neurosim or jaxley channels (`Leak()`, `Fire()`, `HH()`).
            capacitance: membrane capacitance (µF/cm²; point cells only).
            length: compartment length (µm; area `2 pi r L`; point cells only).
            radius: compartment radius (µm; point cells only).
            v: initial voltage (mV).
            morphology: the cell's branches and compartments (default: a
                point cell).
            spike_comp: the compartment whose voltage and spikes are the
                cell's (presynaptic voltage, `Fire`'s spikes), and where
                `run`'s inputs, stimuli and synapses enter by default
                (default 0, the root compartment; an index, `(branch, j)` or
                `(branch, loc)`).
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
        if morphology is not None and not isinstance(morphology, Morphology):
            raise TypeError(
                f"morphology: expected a neurosim Morphology, got {morphology!r}."
            )
        pop = Population(name, int(n))
        geometry: tuple = (
            ("capacitance", capacitance),
            ("length", length),
            ("radius", radius),
        )
        if morphology is None:
            pop.params.update(POPULATION_PARAMS)
            if spike_comp != 0:
                raise ValueError(
                    f"spike_comp: a point cell has one compartment, got {spike_comp!r}."
                )
        else:
            pop.morphology, pop.n_comp = morphology, morphology.n_comp
            pop.spike_comp = check_comp(
                spike_comp, pop.n_comp, "spike_comp", morphology
            )
            geo = morphology.geometry()
            geometry = tuple((k, np.tile(geo[k], pop.n)) for k in CABLE_PARAMS)
            pop.params.update(dict.fromkeys(CABLE_PARAMS, 1.0))
        pop.sizes.update({k: pop.n * pop.n_comp for k in [*pop.params, "v"]})
        for ch in chans:
            pop.insert(ch, None)
        pop.states["v"] = -70.0
        self.populations[name] = pop
        try:
            for key, value in (*geometry, ("v", v)):
                self.set(name, key, value)
        except (TypeError, ValueError):
            del self.populations[name]  # a refused population is not half-added
            raise
        return name

    def insert(
        self, target: str, channel: Any, cells: Any = None, comps: Any = None
    ) -> None:
        """Insert `channel` on some cells (and compartments) of population `target`.

        Args:
            target: the population.
            channel: a neurosim or jaxley channel (an instance).
            cells: cell indices (default: every cell). The channel's per-element
                parameters and states then hold one value per listed cell, in
                this order (`net.set(target, "HH_gNa", [...])` takes
                `len(cells)` values).
            comps: for cells of several compartments, the compartments of
                each cell: indices within the cell, `(branch, j)` or
                `(branch, loc)` pairs (`Morphology.resolve`); default: every
                compartment.
                Per-element values are then one per carrying compartment,
                cell-major: `len(cells) * len(comps)`.
        """
        pop = self.populations.get(target)
        if pop is None:
            raise unknown("population", target, self.populations, "target: ")
        idx = None if cells is None else check_cells(cells, pop.n)
        comp_idx = (
            None
            if comps is None
            else check_comps(comps, pop.n_comp, "comps", pop.morphology)
        )
        if comp_idx is not None and pop.morphology is None:
            comp_idx = None  # a point cell's one compartment
        pop.insert(as_channel(channel), idx, comp_idx)

    def connect(
        self,
        pre: str,
        post: str,
        synapse: Any,
        connectivity: Any = "all_to_all",
        *,
        name: str | None = None,
        post_comp: Any = None,
    ) -> str:
        """Project `pre` onto `post` through `synapse`; returns the projection name.

        Args:
            pre: presynaptic population name.
            post: postsynaptic population name (equal to `pre` for recurrence).
            synapse: `SpikeSynapse()` or a jaxley synapse (`IonotropicSynapse()`).
            connectivity: `"all_to_all"` (edges pre-major: edge `i * n_post + j`),
                `"one_to_one"`, `Random(p, seed)` or `EdgeList(pre, post)`.
            name: defaults to `"pre->post"`.
            post_comp: for postsynaptic cells of several compartments, the
                compartment that the synaptic current enters and whose voltage
                the synapse sees (default: `post`'s spike compartment): an
                index within the cell, `(branch, j)` or `(branch, loc)` with
                `loc` in [0, 1]; or a list (or array) of one such address per
                edge (an all-to-all projection's as `(n_pre, n_post)`). Edges
                onto different compartments make the projection an edge list
                over the distinct (cell, compartment) sites: its per-edge
                values are then `(n_edges,)` and the synapse's postsynaptic
                states one per site.
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
        post_pop = self.populations[post]
        if post_comp is None:
            post_comp = post_pop.spike_comp
        elif post_pop.morphology is None and not (
            isinstance(post_comp, (int, np.integer))
            and not isinstance(post_comp, bool)
            and post_comp == 0
        ):
            raise ValueError(
                f"post_comp: {post!r} has point cells (one compartment), got "
                f"{post_comp!r}."
            )
        post_comp, sites, wiring = edge_sites(post_pop, wiring, post_comp)
        proj = Projection(
            name, pre, post, synapse, wiring, post_comp=post_comp, sites=sites
        )
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
        store[key] = check_value(el, target, key, value, self.shape(target, key))

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

    def stimulate(
        self, target: str, current: Any, comp: Any = None, cells: Any = None
    ) -> None:
        """A fixed external current (nA) for every sample: shape `(time,)` (the same
        for every stimulated cell of `target`) or `(time, n_cells)`. Added to
        `run`'s inputs and to earlier stimuli of `target` (the shorter one
        padded with zeros), as jaxley adds stimuli. For cells of several
        compartments it enters compartment `comp` of each cell (default: the
        spike compartment; an index within the cell, `(branch, j)` or
        `(branch, loc)`, see `connect`'s `post_comp`); the stored stimulus is
        then per compartment, `(time, n * n_comp)`. `cells` (indices) limits
        it to some cells; `n_cells` is then `len(cells)`, else `n`."""
        pop = self.populations.get(target)
        if pop is None:
            raise unknown("population", target, self.populations, "stimulate: ")
        if pop.morphology is None and comp not in (None, 0):
            raise ValueError(
                f"comp: {target!r} has point cells (one compartment), got {comp!r}."
            )
        comp = pop.spike_comp if comp is None else comp
        comp = check_comp(comp, pop.n_comp, "comp", pop.morphology)
        idx = np.arange(pop.n) if cells is None else check_cells(cells, pop.n)
        arr = np.asarray(current, dtype=float)
        if arr.ndim == 1:
            arr = np.repeat(arr[:, None], idx.size, axis=1)
        if arr.ndim != 2 or arr.shape[1] != idx.size:
            raise ValueError(
                f"current: expected shape (time,) or (time, {idx.size}), got "
                f"{np.shape(current)}."
            )
        if cells is not None:
            full = np.zeros((arr.shape[0], pop.n))
            full[:, idx] = arr
            arr = full
        if not np.all(np.isfinite(arr)):
            raise ValueError(
                f"current: values for {target!r} must be finite, got NaN or inf."
            )
        if pop.morphology is not None:
            flat = np.zeros((arr.shape[0], pop.n * pop.n_comp))
            flat[:, pop.comp_index(comp)] = arr
            arr = flat
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

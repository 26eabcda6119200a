"""What a `Network` holds: populations (with their channel insertions) and
projections, and the checks on the values they take."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .mechanisms.base import Channel, Connectivity, Synapse
from .morphology import Morphology

__all__ = ["Insertion", "Population", "Projection"]

# Geometry and membrane parameters of every population (jaxley's names and defaults).
POPULATION_PARAMS = {"capacitance": 1.0, "length": 10.0, "radius": 1.0}
POSITIVE_PARAMS = ("capacitance", "length", "radius", "r_a")
# Geometry of a population of multi-compartment cells: one value per compartment.
CABLE_PARAMS = ("capacitance", "length", "radius", "r_a")


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


@dataclass(frozen=True, eq=False)
class Insertion:
    """A channel inserted in a population: on every cell (`cells is None`) or on
    the listed cells, and, for cells of several compartments, on every
    compartment (`comps is None`) or on the listed compartments of each cell.
    Its per-element parameters and states hold one value per carrying
    compartment, cell-major (`index`)."""

    channel: Channel
    cells: np.ndarray | None = None
    comps: np.ndarray | None = None
    n: int = 0  # cells in the population (for `index`)
    n_comp: int = 1

    @property
    def index(self) -> np.ndarray | None:
        """Flat indices into the population's `(n * n_comp,)` compartments
        (cell-major), or `None` for all of them."""
        if self.comps is None and (self.cells is None or self.n_comp == 1):
            return self.cells
        cells = np.arange(self.n) if self.cells is None else self.cells
        comps = np.arange(self.n_comp) if self.comps is None else self.comps
        return (cells[:, None] * self.n_comp + comps[None, :]).reshape(-1)

    def size(self, n: int) -> int:
        index = self.index
        return n * self.n_comp if index is None else int(index.size)


@dataclass
class Population:
    """`n` cells of `n_comp` compartments each (a point neuron: one, and no
    `morphology`). Channel parameters and states are laid out per carrying
    compartment (see `Insertion`); `v` and the geometry per compartment,
    flat and cell-major (`(n * n_comp,)`; a point neuron: per cell). A cell's
    spikes, presynaptic voltage and `run`'s input are at `spike_comp`."""

    name: str
    n: int
    insertions: tuple = ()
    params: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)  # key -> number of elements
    n_comp: int = 1
    morphology: Morphology | None = None
    spike_comp: int = 0

    @property
    def spike_index(self) -> np.ndarray | None:
        """Flat index of each cell's spike compartment (`None`: point cells)."""
        if self.morphology is None:
            return None
        return np.arange(self.n, dtype=np.int32) * self.n_comp + self.spike_comp

    def comp_index(self, comp: int) -> np.ndarray | None:
        """Flat index of compartment `comp` of every cell (`None`: point cells)."""
        if self.morphology is None:
            return None
        return np.arange(self.n, dtype=np.int32) * self.n_comp + int(comp)

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

    def insert(
        self,
        ch: Channel,
        cells: np.ndarray | None,
        comps: np.ndarray | None = None,
    ) -> None:
        """Insert channel `ch` on `cells` (and `comps`), or everywhere."""
        pop = self
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
        if ch.takes_input and pop.morphology is not None:
            raise ValueError(
                f"channels: {ch.name!r} takes input, which cells of several "
                "compartments do not support; use a point population."
            )
        ins = Insertion(ch, cells, comps, pop.n, pop.n_comp)
        pop.insertions = (*pop.insertions, ins)
        pop.params.update(ch.channel_params)
        pop.states.update({k: float(v_) for k, v_ in ch.channel_states.items()})
        pop.sizes.update({k: ins.size(pop.n) for k in keys})


@dataclass
class Projection:
    name: str
    pre: str
    post: str
    synapse: Synapse
    conn: Connectivity
    params: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)
    post_comp: int = 0  # the compartment the synapse acts on, within a cell
    # per-edge compartments: the distinct (cell, compartment) sites the edges
    # reach, as flat indices into the postsynaptic population's compartments;
    # `conn`'s postsynaptic indices then count sites (see `edge_sites`)
    sites: np.ndarray | None = None

    def post_index(self, post: Population) -> np.ndarray | None:
        """Flat index (into `post`'s compartments) of the compartment each
        postsynaptic element of `conn` acts on; `None` for point cells."""
        return post.comp_index(self.post_comp) if self.sites is None else self.sites

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


def check_cells(cells: Any, n: int, what: str = "cells") -> np.ndarray:
    """`cells` as distinct int32 indices of a population of `n` cells (or, with
    `what="comps"`, of a cell of `n` compartments)."""
    idx = np.asarray(cells)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(
            f"{what}: expected a non-empty list of indices, got {cells!r}."
        )
    if idx.min() < 0 or idx.max() >= n or np.unique(idx).size != idx.size:
        raise ValueError(
            f"{what}: expected distinct indices in [0, {n}), got {cells!r}."
        )
    return idx.astype(np.int32)


def check_value(
    el: Population | Projection,
    target: str,
    key: str,
    value: Any,
    shape: tuple[int, ...],
) -> Any:
    """`value` for `key` of `el` (`target`), checked: an initialiser as given,
    else a finite real scalar (a float) or an array of `shape` (float); a flat
    pre-major vector of an all-to-all projection is reshaped to its matrix."""
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


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def check_comp(
    comp: Any, n_comp: int, what: str, morphology: Morphology | None = None
) -> int:
    """`comp` as a compartment index within a cell of `n_comp` compartments.

    A compartment is addressed by its index within the cell (an int,
    branch-major), or, for a cell with a `morphology`, by a pair
    `(branch, j)` (compartment `j` of `branch`, an int; negative counts from
    the branch's end) or `(branch, loc)` (a float in [0, 1] along the
    branch: the compartment it falls into, jaxley's `branch(k).loc(loc)`).
    """
    if isinstance(comp, tuple) and morphology is not None:
        return morphology.resolve(comp, what)
    if not _is_int(comp):
        pair = " or (branch, j) / (branch, loc)" if morphology is not None else ""
        raise TypeError(f"{what}: expected a compartment index{pair}, got {comp!r}.")
    if not 0 <= comp < n_comp:
        raise ValueError(
            f"{what}: expected a compartment index in [0, {n_comp}), got {comp!r}."
        )
    return int(comp)


def check_comps(
    comps: Any, n_comp: int, what: str, morphology: Morphology | None = None
) -> np.ndarray:
    """A list of compartment addresses (see `check_comp`) as distinct int32
    indices within a cell."""
    if isinstance(comps, tuple) and morphology is not None and len(comps) == 2:
        if _is_int(comps[0]) and isinstance(comps[1], (float, np.floating)):
            comps = [comps]  # one (branch, loc)
    if isinstance(comps, np.ndarray) or not isinstance(comps, (list, tuple)):
        return check_cells(comps, n_comp, what)
    idx = [check_comp(c, n_comp, what, morphology) for c in comps]
    return check_cells(np.asarray(idx, dtype=np.int64), n_comp, what)


def edge_sites(
    post: Population, conn: Connectivity, post_comp: Any, what: str = "post_comp"
) -> tuple[int, np.ndarray | None, Connectivity]:
    """Resolve a projection's postsynaptic compartment(s).

    `post_comp` is one address for every edge (see `check_comp`) or a list
    or array of one address per edge (an all-to-all projection's may be an
    `(n_pre, n_post)` array). Returns `(comp, sites, conn)`: with one
    compartment for all edges, `(comp, None, conn)`; otherwise the distinct
    flat `(cell, compartment)` sites, sorted, and `conn` rewired onto them (its
    `n_post` the number of sites, not all-to-all), so a synapse's
    postsynaptic states and currents are per site.
    """
    if not isinstance(post_comp, (list, np.ndarray)):
        return check_comp(post_comp, post.n_comp, what, post.morphology), None, conn
    if post.morphology is None:
        raise ValueError(
            f"{what}: {post.name!r} has point cells (one compartment); per-edge "
            "compartments need cells with a morphology."
        )
    if isinstance(post_comp, np.ndarray):
        if post_comp.shape == (conn.n_pre, conn.n_post) and conn.all_to_all:
            post_comp = post_comp.reshape(-1)
        post_comp = list(post_comp)
    if len(post_comp) != conn.n_edges:
        raise ValueError(
            f"{what}: {len(post_comp)} compartments for {conn.n_edges} edges; give "
            "one address per edge (or one for all)."
        )
    comps = np.asarray(
        [check_comp(c, post.n_comp, what, post.morphology) for c in post_comp],
        dtype=np.int64,
    )
    if np.all(comps == comps[0]):
        return int(comps[0]), None, conn
    flat = conn.post_idx.astype(np.int64) * post.n_comp + comps
    sites, site_of_edge = np.unique(flat, return_inverse=True)
    rewired = Connectivity(
        conn.n_pre,
        int(sites.size),
        conn.pre_idx,
        site_of_edge.astype(conn.post_idx.dtype),
        False,
    )
    return 0, sites.astype(np.int32), rewired

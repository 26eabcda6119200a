"""Cell morphologies and the cable equation, discretised as jaxley 0.14 does.

A `Morphology` is a frozen description of one cell: a tree of branches
(`parents[k]` is branch `k`'s parent, `-1` for the root), each split into
`ncomp[k]` compartments. Per-compartment quantities are flat arrays of length
`n_comp` in **branch-major order**, compartment `0` of a branch at its start
(location 0, where it joins its parent) and compartment `ncomp - 1` at its end
(location 1, where its children join): compartment `j` of branch `k` is
`comp_start[k] + j`. This is jaxley's `global_comp_index`.

Units (jaxley's): length and radius µm, axial resistivity `r_a` Ω·cm,
capacitance µF/cm², area µm², resistive load (`∫ dl / (π r²)` over half a
compartment) 1/µm, coupling constants 1/ms.

Discretisation (jaxley 0.14, `jaxley/utils/morph_attributes.py`):

* a hand-built compartment is a cylinder: area `2 π r l`, and each half has
  the resistive load `(l / 2) / (π r²)`; a compartment read from an SWC file
  keeps jaxley's frustum area and its loads integrated along the traced points;
* two neighbouring compartments `i` and `j` of a branch are joined by the two
  half-compartments in series, each with its own radius and resistivity:
  `R_ij = r_a[i] load_out[i] + r_a[j] load_in[j]` (Ω·cm/µm), never an averaged
  radius;
* where a branch has children, a massless branch point joins its last
  compartment (through that compartment's distal half) and each child's first
  compartment (through its proximal half). The branch point carries no current
  of its own, so its voltage is the conductance-weighted mean of its neighbours;
  it is an unknown of the same linear system, not a direct link between
  compartments.

The membrane equation per compartment is `C dv/dt = -a_lin v + b + axial`
(µA/cm² on both sides), so a conductance `G = 1 / R` (S·µm/cm) between
compartment `i` and a neighbour `j` adds
`g_i = G / (area_i C_i) · 1e7` (1/ms) to `dv_i/dt = ... + g_i (v_j - v_i)`:
`1/(Ω·cm/µm) / µm² = S/(cm·µm) = 1e4 S/cm² = 1e7 mS/cm²`, and
`mS/cm² / (µF/cm²) = 1/ms`. External and synaptic currents in nA convert to
µA/cm² with `1e5 / area` (`NA_TO_UA_PER_CM2`).

`solve` takes one backward-Euler step of the whole cell (every
compartment and branch point) for the linearised membrane terms
`dv/dt = -a v + b + axial` (`a` in 1/ms, `b` in mV/ms, both already
divided by the capacitance, as `neurosim.engine.solvers.bwd_euler`).

This module imports nothing from the engine or the network description.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .mechanisms.jaxley import standard_promotion

__all__ = [
    "AXIAL_TO_PER_MS",
    "Coupling",
    "DEFAULTS",
    "Morphology",
    "NA_TO_UA_PER_CM2",
    "areas",
    "coupling",
    "solve",
]

#: jaxley 0.14's compartment defaults (`jaxley/modules/compartment.py`).
DEFAULTS = {
    "length": 10.0,  # µm, per compartment
    "radius": 1.0,  # µm
    "r_a": 5000.0,  # Ω·cm (jaxley's `axial_resistivity`)
    "capacitance": 1.0,  # µF/cm²
}

#: `G / (area · C) · AXIAL_TO_PER_MS` is a coupling in 1/ms for `G` in
#: S·µm/cm, area in µm² and C in µF/cm² (jaxley's `10**7`).
AXIAL_TO_PER_MS = 1e7

#: `i [nA] · NA_TO_UA_PER_CM2 / area [µm²]` is a current density in µA/cm²
#: (jaxley's `convert_point_process_to_distributed`).
NA_TO_UA_PER_CM2 = 1e5

# Above this many elimination levels the solve loops with `fori_loop` rather
# than unrolling (compile time against per-level overhead).
_UNROLL_LEVELS = 24

_GEOMETRY = ("length", "radius", "r_a", "capacitance")


def _frozen(x: Any) -> np.ndarray:
    arr = np.array(x, dtype=float)
    arr.setflags(write=False)
    return arr


@dataclasses.dataclass(frozen=True, eq=False)
class Morphology:
    """One cell's branches and compartments (frozen; hashable by value).

    Build with `branch`, `chain`, `tree` or `from_swc`
    rather than directly. `length` is the length of each *compartment* (µm),
    as jaxley's `length`, not of a branch.

    Attributes:
        parents: parent branch of each branch, `-1` for the root (branch 0).
            A parent precedes its children.
        ncomp: compartments per branch.
        length: `(n_comp,)` compartment length (µm).
        radius: `(n_comp,)` compartment radius (µm).
        r_a: `(n_comp,)` axial resistivity (Ω·cm).
        capacitance: `(n_comp,)` membrane capacitance (µF/cm²).
        area: `(n_comp,)` membrane area (µm²).
        load_in: `(n_comp,)` resistive load of the proximal half of each
            compartment (1/µm).
        load_out: `(n_comp,)` resistive load of the distal half of each
            compartment (1/µm).
        traced: the area and loads come from an SWC tracing (frusta), not from
            the cylinder rules; `coupling` keeps them unless it is given a
            new radius or length, as jaxley does.
        xyzr: per branch, the traced points `(x, y, z, r)` (µm), for plots;
            empty for hand-built cells.
    """

    parents: tuple[int, ...]
    ncomp: tuple[int, ...]
    length: np.ndarray
    radius: np.ndarray
    r_a: np.ndarray
    capacitance: np.ndarray
    area: np.ndarray
    load_in: np.ndarray
    load_out: np.ndarray
    traced: bool = False
    xyzr: tuple[np.ndarray, ...] = ()

    def __post_init__(self) -> None:
        parents = tuple(int(p) for p in self.parents)
        ncomp = tuple(int(n) for n in self.ncomp)
        if not parents or parents[0] != -1:
            raise ValueError("parents[0] must be -1 (branch 0 is the root)")
        for k, p in enumerate(parents[1:], start=1):
            if not 0 <= p < k:
                raise ValueError(
                    f"branch {k}: parent {p} must be an earlier branch (0..{k - 1})"
                )
        if len(ncomp) != len(parents) or min(ncomp) < 1:
            raise ValueError("ncomp needs one count >= 1 per branch")
        object.__setattr__(self, "parents", parents)
        object.__setattr__(self, "ncomp", ncomp)
        n = sum(ncomp)
        for key in (*_GEOMETRY, "area", "load_in", "load_out"):
            arr = _frozen(getattr(self, key))
            if arr.shape != (n,):
                raise ValueError(f"{key} has shape {arr.shape}, expected ({n},)")
            if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise ValueError(f"{key} must be finite and positive")
            object.__setattr__(self, key, arr)
        object.__setattr__(self, "xyzr", tuple(_frozen(x) for x in self.xyzr))

    # -- identity ---------------------------------------------------------------

    @cached_property
    def _key(self) -> tuple:
        arrays = tuple(
            getattr(self, k).tobytes()
            for k in (*_GEOMETRY, "area", "load_in", "load_out")
        )
        return (self.parents, self.ncomp, self.traced, arrays)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Morphology) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        kind = "traced" if self.traced else "cylinders"
        return (
            f"Morphology(n_branches={self.n_branches}, n_comp={self.n_comp}, "
            f"n_branchpoints={self.n_branchpoints}, {kind})"
        )

    # -- constructors -----------------------------------------------------------

    @classmethod
    def tree(
        cls,
        parents: Sequence[int],
        ncomp: int | Sequence[int] = 1,
        length: Any = DEFAULTS["length"],
        radius: Any = DEFAULTS["radius"],
        r_a: Any = DEFAULTS["r_a"],
        capacitance: Any = DEFAULTS["capacitance"],
    ) -> Morphology:
        """A tree of cylindrical branches from a parent list (`-1` for the root).

        `ncomp` is one count for all branches or one per branch. Each of
        `length` (per compartment, µm), `radius` (µm), `r_a` (Ω·cm) and
        `capacitance` (µF/cm²) is a scalar, one value per branch, or one value
        per compartment (branch-major). Defaults are jaxley 0.14's.
        """
        parents = tuple(int(p) for p in parents)
        nb = len(parents)
        counts = (int(ncomp),) * nb if np.ndim(ncomp) == 0 else tuple(ncomp)
        if len(counts) != nb:
            raise ValueError(f"ncomp: {len(counts)} counts for {nb} branches")
        n = sum(counts)

        def per_comp(name: str, value: Any) -> np.ndarray:
            arr = np.asarray(value, dtype=float)
            if arr.ndim == 0:
                return np.full(n, float(arr))
            if arr.shape == (n,):
                return arr.copy()
            if arr.shape == (nb,):
                return np.repeat(arr, counts)
            raise ValueError(
                f"{name}: shape {arr.shape}; give a scalar, ({nb},) per branch "
                f"or ({n},) per compartment"
            )

        geo = {
            "length": per_comp("length", length),
            "radius": per_comp("radius", radius),
            "r_a": per_comp("r_a", r_a),
            "capacitance": per_comp("capacitance", capacitance),
        }
        area, load = _cylinder(np, geo["length"], geo["radius"])
        return cls(
            parents=parents,
            ncomp=counts,
            area=area,
            load_in=load,
            load_out=load,
            **geo,
        )

    @classmethod
    def branch(
        cls,
        ncomp: int = 1,
        length: Any = DEFAULTS["length"],
        radius: Any = DEFAULTS["radius"],
        r_a: Any = DEFAULTS["r_a"],
        capacitance: Any = DEFAULTS["capacitance"],
    ) -> Morphology:
        """One unbranched cable of `ncomp` cylindrical compartments
        (`ncomp = 1`: a point neuron)."""
        return cls.tree([-1], ncomp, length, radius, r_a, capacitance)

    @classmethod
    def chain(
        cls,
        n_branches: int,
        ncomp: int | Sequence[int] = 1,
        length: Any = DEFAULTS["length"],
        radius: Any = DEFAULTS["radius"],
        r_a: Any = DEFAULTS["r_a"],
        capacitance: Any = DEFAULTS["capacitance"],
    ) -> Morphology:
        """`n_branches` branches end to end (parents `-1, 0, 1, ...`), joined
        by branch points; values as in `tree`."""
        parents = list(range(-1, n_branches - 1))
        return cls.tree(parents, ncomp, length, radius, r_a, capacitance)

    @classmethod
    def from_swc(
        cls,
        path: str,
        ncomp: int,
        *,
        min_radius: float | None = None,
        max_branch_len: float | None = None,
        r_a: float = DEFAULTS["r_a"],
        capacitance: float = DEFAULTS["capacitance"],
    ) -> Morphology:
        """Read an SWC file with jaxley 0.14's reader (`jaxley.read_swc`, graph
        backend) and keep its branches, parents, compartment lengths, radii,
        frustum areas and integrated resistive loads, compartment for
        compartment (`global_comp_index` order)."""
        import warnings

        import jaxley as jx

        with warnings.catch_warnings(), standard_promotion():
            warnings.simplefilter("ignore")
            cell = jx.read_swc(
                path, ncomp=ncomp, min_radius=min_radius, max_branch_len=max_branch_len
            )
        nodes = cell.nodes.sort_values("global_comp_index")
        n = len(nodes)
        return cls(
            parents=tuple(int(p) for p in np.asarray(cell.comb_parents)),
            ncomp=tuple(int(c) for c in cell.ncomp_per_branch),
            length=nodes["length"].to_numpy(float),
            radius=nodes["radius"].to_numpy(float),
            r_a=np.full(n, float(r_a)),
            capacitance=np.full(n, float(capacitance)),
            area=nodes["area"].to_numpy(float),
            load_in=nodes["resistive_load_in"].to_numpy(float),
            load_out=nodes["resistive_load_out"].to_numpy(float),
            traced=True,
            xyzr=tuple(np.asarray(x, float) for x in cell.xyzr),
        )

    # -- indexing ---------------------------------------------------------------

    @property
    def n_branches(self) -> int:
        return len(self.parents)

    @property
    def n_comp(self) -> int:
        return int(sum(self.ncomp))

    @cached_property
    def comp_start(self) -> np.ndarray:
        """`(n_branches + 1,)`: branch `k`'s compartments are
        `comp_start[k]:comp_start[k + 1]`."""
        return np.concatenate([[0], np.cumsum(self.ncomp)]).astype(int)

    @cached_property
    def branch_of_comp(self) -> np.ndarray:
        """`(n_comp,)`: the branch of each compartment."""
        return np.repeat(np.arange(self.n_branches), self.ncomp)

    @cached_property
    def branchpoint_parents(self) -> np.ndarray:
        """The branches that have children, one branch point each (jaxley's
        order: by parent branch index)."""
        return np.unique([p for p in self.parents[1:]]).astype(int)

    @property
    def n_branchpoints(self) -> int:
        return len(self.branchpoint_parents)

    def comp(self, branch: int, index: int) -> int:
        """Global index of compartment `index` of `branch` (negative counts
        from the branch's end)."""
        n = self.ncomp[branch]
        if not -n <= index < n:
            raise IndexError(f"branch {branch} has {n} compartments")
        return int(self.comp_start[branch] + (index % n))

    def comp_of(self, branch: int, loc: float) -> int:
        """Global index of the compartment at `loc` (0 = the branch's start,
        1 = its end), as jaxley's `branch(k).loc(loc)`."""
        if not 0 <= branch < self.n_branches:
            raise IndexError(f"no branch {branch} (n_branches={self.n_branches})")
        if not 0.0 <= float(loc) <= 1.0:
            raise ValueError(f"loc must lie in [0, 1], got {loc}")
        n = self.ncomp[branch]
        edges = np.linspace(0, 1 + 1e-10, n + 1)
        return int(self.comp_start[branch] + np.digitize(float(loc), edges) - 1)

    def geometry(self) -> dict[str, np.ndarray]:
        """The four trainable geometry arrays, keyed as `coupling` takes them."""
        return {k: getattr(self, k) for k in _GEOMETRY}

    @cached_property
    def system(self) -> _System:
        """The static structure of the linear system (see `solve`)."""
        return _System.build(self)


def _cylinder(xp: Any, length: Any, radius: Any) -> tuple[Any, Any]:
    """Area `2 π r l` (µm²) and half-compartment load `(l/2) / (π r²)` (1/µm)."""
    return 2.0 * xp.pi * radius * length, (length / 2.0) / radius**2 / xp.pi


def areas(morph: Morphology, radius: Any = None, length: Any = None) -> jax.Array:
    """Membrane area per compartment (µm²), `(..., n_comp)`: the stored area,
    or `2 π r l` once a radius or length is given (jaxley's rule)."""
    if radius is None and length is None:
        return jnp.asarray(morph.area)
    r = morph.radius if radius is None else radius
    ln = morph.length if length is None else length
    return _cylinder(jnp, *jnp.broadcast_arrays(jnp.asarray(ln), jnp.asarray(r)))[0]


# -- the linear system ----------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class _System:
    """Static structure: nodes are the `n_comp` compartments, then one node
    per branch point. The nodes form a tree; `parent[i]` is node `i`'s
    neighbour towards the root (`-1` at the root). `levels[d]` holds the
    nodes at depth `d` (levels[0] = the root)."""

    n_comp: int
    n_nodes: int
    root: int
    parent: np.ndarray
    levels: tuple[np.ndarray, ...]
    # per node i != root: (a, b) for the edge (i, parent[i]) -- which half loads
    # make its resistance (see `coupling`).
    edge_child_comp: np.ndarray  # compartment whose half load lies on the edge, or -1
    edge_child_side: np.ndarray  # 0: load_in, 1: load_out of edge_child_comp
    edge_parent_comp: np.ndarray
    edge_parent_side: np.ndarray
    # (parents, ncomp): the structure depends on nothing else; equal keys give
    # equal systems, so a jitted function does not retrace for an equal cell.
    key: tuple = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _System) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    @classmethod
    def build(cls, m: Morphology) -> _System:
        n_comp, nbp = m.n_comp, m.n_branchpoints
        n_nodes = n_comp + nbp
        bp_of_branch = {int(b): n_comp + i for i, b in enumerate(m.branchpoint_parents)}
        # Undirected edges with the half loads they run through:
        # (u, v, comp_u, side_u, comp_v, side_v); side 0 = load_in, 1 = load_out,
        # comp -1 = a branch point (no load).
        edges = []
        for k in range(m.n_branches):
            s, e = m.comp_start[k], m.comp_start[k + 1]
            for j in range(s, e - 1):
                edges.append((j, j + 1, j, 1, j + 1, 0))
            if k in bp_of_branch:
                edges.append((e - 1, bp_of_branch[k], e - 1, 1, -1, 0))
            if m.parents[k] >= 0:
                edges.append((s, bp_of_branch[m.parents[k]], s, 0, -1, 0))
        adj: list[list[tuple]] = [[] for _ in range(n_nodes)]
        for u, v, cu, su, cv, sv in edges:
            adj[u].append((v, cu, su, cv, sv))
            adj[v].append((u, cv, sv, cu, su))

        def bfs(start: int) -> tuple[np.ndarray, np.ndarray, list]:
            depth = np.full(n_nodes, -1)
            depth[start] = 0
            order, info = [start], [None] * n_nodes
            for u in order:
                for v, cu, su, cv, sv in adj[u]:
                    if depth[v] < 0:
                        depth[v] = depth[u] + 1
                        info[v] = (u, cv, sv, cu, su)  # child v, parent u
                        order.append(v)
            return depth, np.asarray(order), info

        # Root the tree at its centre (the middle of a longest path): it halves
        # the number of sequential elimination levels of a long cable.
        d0, _, _ = bfs(0)
        far = int(np.argmax(d0))
        d1, _, info1 = bfs(far)
        other = int(np.argmax(d1))
        path = [other]
        while path[-1] != far:
            path.append(info1[path[-1]][0])
        root = int(path[len(path) // 2])
        depth, _, info = bfs(root)
        parent = np.full(n_nodes, -1)
        ecc, ecs, epc, eps = (np.full(n_nodes, -1) for _ in range(4))
        for v in range(n_nodes):
            if info[v] is not None:
                parent[v], ecc[v], ecs[v], epc[v], eps[v] = info[v]
        levels = tuple(
            np.flatnonzero(depth == d).astype(np.int32)
            for d in range(int(depth.max()) + 1)
        )
        key = (m.parents, m.ncomp)
        return cls(n_comp, n_nodes, root, parent, levels, ecc, ecs, epc, eps, key)


@jax.tree_util.register_pytree_node_class
class Coupling:
    """The cable coupling of one morphology, ready for `solve`.

    Leaves (each `(..., n_nodes)`, leading axes broadcast against `v`):

    * `lower[i]`: node `i`'s row, the weight of its parent's voltage;
    * `upper[i]`: the parent's row, the weight of node `i`'s voltage;
    * `diag`: `(..., n_comp)`, the summed coupling of each compartment.

    For a compartment row the weights are couplings in 1/ms (`dv_i/dt` gains
    `g (v_j - v_i)`); a branch point's row is its weighted-mean constraint,
    `v_bp = Σ w_k v_k` with `Σ w_k = 1`. The static structure
    (`_System`) rides as auxiliary data.
    """

    def __init__(self, system: _System, lower: Any, upper: Any, diag: Any):
        self.system = system
        self.lower = lower
        self.upper = upper
        self.diag = diag

    def tree_flatten(self):
        return (self.lower, self.upper, self.diag), self.system

    @classmethod
    def tree_unflatten(cls, system, children):
        return cls(system, *children)


def coupling(
    morph: Morphology,
    *,
    radius: Any = None,
    length: Any = None,
    r_a: Any = None,
    capacitance: Any = None,
) -> Coupling:
    """The axial coupling of `morph` as a JAX function of its geometry.

    Each argument overrides the stored per-compartment value with an array of
    shape `(..., n_comp)` (or a scalar); leading axes, e.g. one per cell,
    carry through to the `Coupling`. Giving `radius` or `length`
    recomputes the area and the half loads by the cylinder rules (what jaxley
    does when they are set or trained); otherwise a traced cell keeps its
    frustum area and integrated loads.

    Differentiable in all four arguments.
    """
    sys = morph.system
    if radius is None and length is None:
        area = jnp.asarray(morph.area)
        load_in, load_out = jnp.asarray(morph.load_in), jnp.asarray(morph.load_out)
    else:
        r = jnp.asarray(morph.radius if radius is None else radius)
        ln = jnp.asarray(morph.length if length is None else length)
        area, load = _cylinder(jnp, *jnp.broadcast_arrays(ln, r))
        load_in = load_out = load
    ra = jnp.asarray(morph.r_a if r_a is None else r_a)
    cm = jnp.asarray(morph.capacitance if capacitance is None else capacitance)
    ra, cm, area, load_in, load_out = jnp.broadcast_arrays(
        ra, cm, area, load_in, load_out
    )
    lead = area.shape[:-1]
    if sys.n_nodes == 1:
        zeros = jnp.zeros((*lead, 1), area.dtype)
        return Coupling(sys, zeros, zeros, zeros)

    # Half-compartment resistances (Ω·cm/µm): [..., side, comp].
    half = jnp.stack([ra * load_in, ra * load_out], axis=-2)
    nonroot = np.flatnonzero(sys.parent >= 0)

    def half_r(comps: np.ndarray, sides: np.ndarray) -> jax.Array:
        ok = comps >= 0
        vals = half[..., np.where(ok, sides, 0), np.where(ok, comps, 0)]
        return jnp.where(ok, vals, 0.0)

    child, par = nonroot, sys.parent[nonroot]
    r_edge = half_r(sys.edge_child_comp[child], sys.edge_child_side[child]) + half_r(
        sys.edge_parent_comp[child], sys.edge_parent_side[child]
    )
    g_edge = 1.0 / r_edge  # S·µm/cm, [..., n_edges]

    n_comp, n_nodes = sys.n_comp, sys.n_nodes
    # Normaliser of each branch point's row: the sum of its edge conductances.
    gsum = jnp.zeros((*lead, n_nodes), g_edge.dtype)
    gsum = gsum.at[..., child].add(g_edge).at[..., par].add(g_edge)
    scale = area * cm / AXIAL_TO_PER_MS  # compartment rows: G / scale is 1/ms
    row_scale = jnp.concatenate([scale, gsum[..., n_comp:]], axis=-1)

    lower = jnp.zeros((*lead, n_nodes), g_edge.dtype)
    upper = jnp.zeros((*lead, n_nodes), g_edge.dtype)
    lower = lower.at[..., child].set(g_edge / row_scale[..., child])
    upper = upper.at[..., child].set(g_edge / row_scale[..., par])
    diag = gsum[..., :n_comp] / scale
    return Coupling(sys, lower, upper, diag)


def solve(v: Any, a: Any, b: Any, dt: Any, coupling: Coupling) -> jax.Array:
    """One backward-Euler step of a cable-coupled cell.

    Solves `v' - v = dt (-a v' + b + axial(v'))` for every compartment,
    branch points included (`v, a, b`: `(..., n_comp)`; `a` in 1/ms and
    `b` in mV/ms, both over the capacitance; leading axes are cells or a
    batch, broadcast against the coupling's). With one compartment this is
    `(v + dt b) / (1 + dt a)`, exactly `bwd_euler`.

    Method: Gaussian elimination on the compartment-and-branch-point tree
    (Hines' algorithm, jaxley's DHS ordering by depth), leaves to root and back:
    `O(n_nodes)` work and `2 · depth` sequential vector steps, each
    vectorised over the leading axes; the tree is rooted at its centre, so a
    cable of `n` compartments takes about `n` steps (unrolled up to
    `_UNROLL_LEVELS` levels, a `fori_loop` beyond). No dense matrix is
    formed. Differentiable by reverse mode.
    """
    sys = coupling.system
    v, a, b = jnp.asarray(v), jnp.asarray(a), jnp.asarray(b)
    if sys.n_nodes == 1:
        return (v + dt * b) / (1.0 + dt * a)
    n_comp, n_bp = sys.n_comp, sys.n_nodes - sys.n_comp
    shape = jnp.broadcast_shapes(
        v.shape,
        a.shape,
        b.shape,
        coupling.diag.shape,
        coupling.lower.shape[:-1] + (n_comp,),
    )
    lead = shape[:-1]
    v, a, b = (jnp.broadcast_to(x, shape) for x in (v, a, b))
    comp_diag = 1.0 + dt * (a + jnp.broadcast_to(coupling.diag, shape))
    rhs = v + dt * b
    d = jnp.concatenate(
        [jnp.broadcast_to(comp_diag, shape), jnp.ones((*lead, n_bp), comp_diag.dtype)],
        axis=-1,
    )
    r = jnp.concatenate(
        [jnp.broadcast_to(rhs, shape), jnp.zeros((*lead, n_bp), rhs.dtype)], axis=-1
    )
    # Off-diagonal matrix entries: compartment rows scale with dt, branch-point
    # rows (the weighted-mean constraint) do not.
    row_is_comp = np.arange(sys.n_nodes) < n_comp
    par = np.where(sys.parent >= 0, sys.parent, 0)
    lower_dt = np.where(row_is_comp, 1.0, 0.0)
    upper_dt = np.where(sys.parent >= 0, row_is_comp[par], False).astype(float)
    nodes_shape = (*lead, sys.n_nodes)
    lo_scale = jnp.broadcast_to(lower_dt * dt + (1.0 - lower_dt), nodes_shape)
    up_scale = jnp.broadcast_to(upper_dt * dt + (1.0 - upper_dt), nodes_shape)
    a_lo = -jnp.broadcast_to(coupling.lower, nodes_shape) * lo_scale  # A[i, parent(i)]
    a_up = -jnp.broadcast_to(coupling.upper, nodes_shape) * up_scale  # A[parent(i), i]

    levels = sys.levels[1:]
    parents = [sys.parent[lv] for lv in levels]

    def eliminate(d, r, nodes, pars):
        f = a_up[..., nodes] / d[..., nodes]
        d = d.at[..., pars].add(-f * a_lo[..., nodes])
        r = r.at[..., pars].add(-f * r[..., nodes])
        return d, r

    def substitute(x, d, r, nodes, pars):
        return x.at[..., nodes].set(
            (r[..., nodes] - a_lo[..., nodes] * x[..., pars]) / d[..., nodes]
        )

    if len(levels) <= _UNROLL_LEVELS:
        for nodes, pars in zip(reversed(levels), reversed(parents), strict=True):
            d, r = eliminate(d, r, nodes, pars)
        x = jnp.zeros_like(r).at[..., sys.root].set(r[..., sys.root] / d[..., sys.root])
        for nodes, pars in zip(levels, parents, strict=True):
            x = substitute(x, d, r, nodes, pars)
        return x[..., :n_comp]

    # Many levels: pad each level to one width with a spurious node (index
    # n_nodes: diagonal 1, no coupling) and loop.
    width = max(len(lv) for lv in levels)
    pad = sys.n_nodes
    lv_nodes = np.full((len(levels), width), pad, np.int32)
    lv_pars = np.full((len(levels), width), pad, np.int32)
    for i, (nodes, pars) in enumerate(zip(levels, parents, strict=True)):
        lv_nodes[i, : len(nodes)] = nodes
        lv_pars[i, : len(pars)] = pars
    lv_nodes, lv_pars = jnp.asarray(lv_nodes), jnp.asarray(lv_pars)
    one = jnp.ones((*lead, 1), d.dtype)
    zero = jnp.zeros((*lead, 1), d.dtype)
    d = jnp.concatenate([d, one], axis=-1)
    r = jnp.concatenate([r, zero], axis=-1)
    a_lo = jnp.concatenate([a_lo, zero], axis=-1)
    a_up = jnp.concatenate([a_up, zero], axis=-1)
    n_lv = len(levels)

    def elim_body(i, carry):
        d, r = carry
        k = n_lv - 1 - i
        return eliminate(d, r, lv_nodes[k], lv_pars[k])

    d, r = jax.lax.fori_loop(0, n_lv, elim_body, (d, r))
    x = jnp.zeros_like(r).at[..., sys.root].set(r[..., sys.root] / d[..., sys.root])
    x = jax.lax.fori_loop(
        0, n_lv, lambda i, x: substitute(x, d, r, lv_nodes[i], lv_pars[i]), x
    )
    return x[..., :n_comp]

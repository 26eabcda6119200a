"""The cable equation on a `Morphology`: coupling constants and the implicit solve."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .cell import Morphology, _cylinder
from .system import _System

__all__ = [
    "AXIAL_TO_PER_MS",
    "Coupling",
    "NA_TO_UA_PER_CM2",
    "areas",
    "coupling",
    "solve",
]

#: S·µm/cm, area in µm² and C in µF/cm² (jaxley's `10**7`).
AXIAL_TO_PER_MS = 1e7

#: `i [nA] · NA_TO_UA_PER_CM2 / area [µm²]` is a current density in µA/cm²
#: (jaxley's `convert_point_process_to_distributed`).
NA_TO_UA_PER_CM2 = 1e5

# Above this many elimination levels the solve loops with `fori_loop` rather
# than unrolling (compile time against per-level overhead).
_UNROLL_LEVELS = 24


def areas(morph: Morphology, radius: Any = None, length: Any = None) -> jax.Array:
    """Membrane area per compartment (µm²), `(..., n_comp)`: the stored area,
    or `2 π r l` once a radius or length is given (jaxley's rule)."""
    if radius is None and length is None:
        return jnp.asarray(morph.area)
    r = morph.radius if radius is None else radius
    ln = morph.length if length is None else length
    return _cylinder(jnp, *jnp.broadcast_arrays(jnp.asarray(ln), jnp.asarray(r)))[0]


# -- the linear system ----------------------------------------------------------


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
        return _tree_solve(sys, d, r, a_lo, a_up)[..., :n_comp]

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


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _tree_solve(sys: _System, d: Any, r: Any, a_lo: Any, a_up: Any) -> jax.Array:
    """`x` with `A x = r` on the node tree (all `(..., n_nodes)`): diagonal
    `d`, `A[i, parent(i)] = a_lo[i]`, `A[parent(i), i] = a_up[i]`.

    Its derivative is the implicit one, `ẋ = A⁻¹ (ṙ - Ȧ x)`, with the solve a
    `jax.lax.custom_linear_solve` whose transpose is the transposed system
    solved on the same tree: reverse mode costs one more tree solve per step
    rather than the elimination differentiated step by step."""
    return _solve_by_levels(sys, d, r, a_lo, a_up)


@_tree_solve.defjvp
def _tree_solve_jvp(sys, primals, tangents):
    d, r, a_lo, a_up = primals
    d_dot, r_dot, lo_dot, up_dot = tangents
    x = _solve_by_levels(sys, d, r, a_lo, a_up)

    def matvec(d, a_lo, a_up):
        def mv(y):
            return _tree_matvec(sys, d, a_lo, a_up, y)

        return mv

    rhs = r_dot - _tree_matvec(sys, d_dot, lo_dot, up_dot, x)
    x_dot = jax.lax.custom_linear_solve(
        matvec(d, a_lo, a_up),
        rhs,
        solve=lambda _, b: _solve_by_levels(sys, d, b, a_lo, a_up),
        transpose_solve=lambda _, b: _solve_by_levels(sys, d, b, a_up, a_lo),
    )
    return x, x_dot


def _tree_matvec(sys: _System, d: Any, a_lo: Any, a_up: Any, x: Any) -> jax.Array:
    """`A x` for the node tree of `_tree_solve`."""
    has = sys.parent >= 0
    par = np.where(has, sys.parent, 0)
    zero = jnp.zeros_like(x)
    y = d * x + jnp.where(has, a_lo * x[..., par], zero)
    return y.at[..., par].add(jnp.where(has, a_up * x, zero))


def _solve_by_levels(sys: _System, d: Any, r: Any, a_lo: Any, a_up: Any) -> jax.Array:
    """The elimination of `solve` with each level of the tree its own array:
    the nodes are permuted once into level order (one gather per operand), so
    a level is a static slice, and the sums onto parents and the reads of
    parents are gathers with static indices, never scatters (`_LevelPlan`).
    Returns every node's value, in node order."""
    plan = _LevelPlan.of(sys)
    perm = plan.perm
    d, r, a_lo, a_up = (x[..., perm] for x in (d, r, a_lo, a_up))

    def cut(x):
        return [x[..., a:b] for a, b in plan.bounds]

    d, r, lo, up = cut(d), cut(r), cut(a_lo), cut(a_up)
    for k in range(len(d) - 1, 0, -1):  # leaves to root
        f = up[k] / d[k]
        d[k - 1] = d[k - 1] - plan.onto_parents(k, f * lo[k])
        r[k - 1] = r[k - 1] - plan.onto_parents(k, f * r[k])
    x = [r[0] / d[0]]
    for k in range(1, len(d)):  # root to leaves
        x.append((r[k] - lo[k] * x[k - 1][..., plan.parent_pos[k]]) / d[k])
    return jnp.concatenate(x, axis=-1)[..., plan.node_pos]


@dataclasses.dataclass(frozen=True, eq=False)
class _LevelPlan:
    """Static indices of `_solve_by_levels` for one `_System`.

    `perm`: the nodes in level order; `bounds[k]`: level `k`'s slice of it;
    `parent_pos[k]`: the position of each level-`k` node's parent within
    level `k - 1`; `gathers[k]`: index arrays into level `k` (plus one
    trailing zero) whose gathered sum is, per parent position, the sum over
    its children (one array per child a parent may have); `node_pos`: each
    node's position in level order.
    """

    perm: np.ndarray
    bounds: tuple
    parent_pos: tuple
    gathers: tuple
    node_pos: np.ndarray

    def onto_parents(self, k: int, vals: Any) -> Any:
        """Sum level-`k` values onto their parents' positions in level `k - 1`."""
        padded = jnp.concatenate([vals, jnp.zeros_like(vals[..., :1])], axis=-1)
        total = padded[..., self.gathers[k][0]]
        for idx in self.gathers[k][1:]:
            total = total + padded[..., idx]
        return total

    @staticmethod
    @functools.cache
    def of(sys: _System) -> _LevelPlan:
        levels = [np.asarray(lv) for lv in sys.levels]
        perm = np.concatenate(levels)
        where = np.empty(sys.n_nodes, dtype=np.int64)
        where[perm] = np.arange(sys.n_nodes)
        sizes = [len(lv) for lv in levels]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        bounds = tuple(
            (int(a), int(b)) for a, b in zip(starts[:-1], starts[1:], strict=True)
        )
        parent_pos, gathers = [np.zeros(0, np.int32)], [()]
        for k in range(1, len(levels)):
            pos = where[sys.parent[levels[k]]] - starts[k - 1]
            parent_pos.append(pos.astype(np.int32))
            n_par, n_kid = sizes[k - 1], sizes[k]
            kids: list[list[int]] = [[] for _ in range(n_par)]
            for i, p in enumerate(pos):
                kids[p].append(i)
            width = max(len(c) for c in kids)
            layers = np.full((width, n_par), n_kid, np.int32)  # n_kid: the zero
            for p, c in enumerate(kids):
                layers[: len(c), p] = c
            gathers.append(tuple(layers))
        return _LevelPlan(
            perm.astype(np.int32),
            bounds,
            tuple(parent_pos),
            tuple(gathers),
            where.astype(np.int32),
        )

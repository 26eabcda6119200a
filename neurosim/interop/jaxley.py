"""`from_jaxley`: a jaxley 0.14 `Network` or `Cell` as a neurosim `Network`.

The conversion reads what jaxley itself simulates, so parameters changed with
`.set` come over as they are:

- **cells** (`module.nodes`, one row per compartment): cells with the same
  branch structure, the same channels on the same compartments and the same
  compartment that their outgoing synapses start from become one population.
  A single-compartment cylinder is a point cell; any other cell gets a
  `Morphology` with jaxley's branches and compartment counts. Cylinders (hand
  built) keep one population whatever their radii and lengths: the geometry
  is set per compartment and the engine applies the cylinder rules, as jaxley
  does. A cell read from SWC keeps jaxley's frustum areas and resistive loads
  (a traced `Morphology`), so only cells of identical geometry share a
  population.
- **channels** (`module.channels`): jaxley's own channel objects, inserted on
  the compartments that carry them through the adapter
  (`neurosim.mechanisms.jaxley`); their parameters and initial states are set
  per carrying compartment from the nodes. jaxley's `Fire` on point cells
  becomes neurosim's `Fire` (the same keys), so those cells emit spikes with a
  surrogate derivative (for `SpikeSynapse` projections and training); it
  fires at `v >= vth` where jaxley 0.14's fires at `v > vth`, which differs
  only when a voltage lands exactly on the threshold.
- **synapses** (`module.edges`): one projection per synapse type, presynaptic
  and postsynaptic population and postsynaptic compartment, with an `EdgeList`
  in jaxley's edge order and per-edge parameters (`IonotropicSynapse`,
  `TanhRateSynapse` or any jaxley synapse, through the adapter).
- **stimuli** (`module.externals["i"]`) and **recordings** (`v`, channel and
  synapse states): the same currents into the same compartments, the same
  states recorded. `jaxley_traces(module, recording)` orders a neurosim
  `Recording` as `jx.integrate(module)` returns its traces.

neurosim starts every channel at its steady state at the initial voltage, as
jaxley's `init_states`; so the module's channel states must be that steady
state (call `module.init_states(delta_t=dt)` first). Trainable marks are not
carried over (mark them with `Network.make_trainable`).

Not convertible, each refused with an error naming it: clamps and other
externals than currents, pumps, ion diffusion, per-edge initial synapse states
that differ within a projection, and a cell whose outgoing synapses start from
different compartments (neurosim reads one presynaptic compartment per cell).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..mechanisms.channels import Fire
from ..mechanisms.jaxley import standard_promotion
from ..morphology import Morphology
from ..network import EdgeList, Network
from ._common import shared_or_array

__all__ = ["from_jaxley", "jaxley_traces"]

# Relative tolerance of the cylinder test and of the steady-state check.
_RTOL = 1e-9


@dataclass
class _Group:
    """One population: the jaxley cells it holds and its structure."""

    name: str
    cells: list[int]
    parents: tuple[int, ...]
    ncomp: tuple[int, ...]
    masks: tuple  # per channel: a tuple of bools per compartment
    spike_comp: int
    point: bool
    cylinder: bool

    @property
    def n_comp(self) -> int:
        return int(sum(self.ncomp))


@dataclass
class _Plan:
    """Where each jaxley cell, compartment and edge lands in the Network."""

    groups: list[_Group]
    cell_at: dict[int, tuple[str, int]]  # jaxley cell -> (population, index)
    comp_at: dict[int, tuple[int, int]]  # jaxley node -> (cell, local comp)
    edge_at: dict[tuple[int, int], tuple[str, int]] = field(default_factory=dict)


def _cells_of(module: Any) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Each cell's branch parents and compartments per branch."""
    import jaxley as jx

    if isinstance(module, jx.Network):
        counts = [int(n) for n in module.nbranches_per_cell]
    elif isinstance(module, jx.Cell):
        counts = [int(module.total_nbranches)]
    else:
        raise TypeError(
            f"module: expected a jaxley Network or Cell, got "
            f"{type(module).__name__}; wrap a Compartment or Branch in "
            "jx.Cell([...], parents=[-1])."
        )
    parents = np.asarray(module.comb_parents, dtype=int)
    ncomp = np.asarray(module.ncomp_per_branch, dtype=int)
    out, start = [], 0
    for n in counts:
        local = parents[start : start + n] - start
        local[0] = -1
        out.append(
            (
                tuple(int(x) for x in local),
                tuple(int(x) for x in ncomp[start : start + n]),
            )
        )
        start += n
    return out


def _refuse_unsupported(module: Any) -> None:
    if module.pumps:
        names = [type(p).__name__ for p in module.pumps]
        raise ValueError(f"module: pumps {names} cannot be converted (no ion pools).")
    if module.diffusion_states:
        raise ValueError(
            f"module: ion diffusion {list(module.diffusion_states)} cannot be "
            "converted."
        )
    others = [k for k in module.externals if k != "i"]
    if others:
        raise ValueError(
            f"module: clamps or externals {others} cannot be converted; only "
            "current stimuli ('i', from .stimulate) can."
        )


def _nodes(module: Any) -> Any:
    return module.nodes.sort_values("global_comp_index").reset_index(drop=True)


def _is_cylinder(rows: Any) -> bool:
    r, ln = rows["radius"].to_numpy(float), rows["length"].to_numpy(float)
    load = (ln / 2.0) / r**2 / math.pi
    return (
        np.allclose(rows["area"].to_numpy(float), 2 * math.pi * r * ln, rtol=_RTOL)
        and np.allclose(rows["resistive_load_in"].to_numpy(float), load, rtol=_RTOL)
        and np.allclose(rows["resistive_load_out"].to_numpy(float), load, rtol=_RTOL)
    )


def _spike_comps(module: Any, comp_at: dict) -> dict[int, int]:
    """The compartment each cell's outgoing synapses start from."""
    out: dict[int, set] = {}
    for g in module.edges["pre_index"].to_numpy(int):
        cell, local = comp_at[g]
        out.setdefault(int(cell), set()).add(int(local))
    for cell, comps in out.items():
        if len(comps) > 1:
            raise ValueError(
                f"module: synapses leave cell {cell} from compartments "
                f"{sorted(comps)}; neurosim reads one presynaptic compartment per "
                "cell (its spike_comp)."
            )
    return {c: next(iter(s)) for c, s in out.items()}


def _plan(module: Any) -> _Plan:
    cells = _cells_of(module)
    _refuse_unsupported(module)
    nodes = _nodes(module)
    cell_idx = nodes["global_cell_index"].to_numpy(int)
    starts = np.searchsorted(cell_idx, np.arange(len(cells)))
    # jaxley's edges, stimuli and recordings name nodes by their index in
    # `module.nodes` (branch points are nodes too); compartments are ordered by
    # `global_comp_index`.
    local = np.arange(len(nodes)) - starts[cell_idx]
    comp_at = {
        int(node): (int(c), int(j))
        for node, c, j in zip(
            module.nodes.sort_values("global_comp_index").index,
            cell_idx,
            local,
            strict=True,
        )
    }
    spike = _spike_comps(module, comp_at)
    channel_names = [ch.name for ch in module.channels]
    groups: dict[tuple, _Group] = {}
    cell_at: dict[int, tuple[str, int]] = {}
    for c, (parents, ncomp) in enumerate(cells):
        rows = nodes[cell_idx == c]
        masks = tuple(
            tuple(bool(x) for x in rows[name].fillna(False).to_numpy())
            for name in channel_names
        )
        cylinder = _is_cylinder(rows)
        point = cylinder and ncomp == (1,)
        geometry = (
            None
            if cylinder
            else tuple(
                rows[k].to_numpy(float).tobytes()
                for k in (
                    "length",
                    "radius",
                    "area",
                    "resistive_load_in",
                    "resistive_load_out",
                )
            )
        )
        key = (parents, ncomp, masks, spike.get(c, 0), point, geometry)
        if key not in groups:
            groups[key] = _Group(
                f"cells{len(groups)}",
                [],
                parents,
                ncomp,
                masks,
                spike.get(c, 0),
                point,
                cylinder,
            )
        g = groups[key]
        cell_at[c] = (g.name, len(g.cells))
        g.cells.append(c)
    listed = list(groups.values())
    if len(listed) == 1:
        listed[0].name = "cells"
        cell_at = {c: ("cells", i) for c, (_, i) in cell_at.items()}
    return _Plan(listed, cell_at, comp_at)


def _add_population(
    net: Network, module: Any, nodes: Any, g: _Group, dt: float
) -> None:
    rows = nodes[nodes["global_cell_index"].isin(g.cells)]
    position = {c: i for i, c in enumerate(g.cells)}
    order = np.lexsort(
        (
            rows["global_comp_index"].to_numpy(int),
            rows["global_cell_index"].map(position).to_numpy(int),
        )
    )
    rows = rows.iloc[order]  # cell-major, in the group's cell order
    geo = {
        "capacitance": rows["capacitance"].to_numpy(float),
        "length": rows["length"].to_numpy(float),
        "radius": rows["radius"].to_numpy(float),
        "r_a": rows["axial_resistivity"].to_numpy(float),
    }
    channels = [_channel(ch, g) for ch in module.channels]
    on_all = [ch for ch, m in zip(channels, g.masks, strict=True) if all(m)]
    if g.point:
        net.add_population(g.name, len(g.cells), on_all, v=-70.0)
        for k in ("capacitance", "length", "radius"):
            net.set(g.name, k, shared_or_array(geo[k]))
    else:
        first = {k: v[: g.n_comp] for k, v in geo.items()}
        if g.cylinder:
            morph = Morphology.tree(g.parents, g.ncomp, **first)
        else:
            one = rows.iloc[: g.n_comp]
            morph = Morphology(
                g.parents,
                g.ncomp,
                area=one["area"].to_numpy(float),
                load_in=one["resistive_load_in"].to_numpy(float),
                load_out=one["resistive_load_out"].to_numpy(float),
                traced=True,
                **first,
            )
        net.add_population(
            g.name, len(g.cells), on_all, morphology=morph, spike_comp=g.spike_comp
        )
        keys = ("capacitance", "r_a") if not g.cylinder else tuple(geo)
        for k in keys:
            net.set(g.name, k, shared_or_array(geo[k]))
    net.set(g.name, "v", shared_or_array(rows["v"].to_numpy(float)))
    for ch, mask in zip(channels, g.masks, strict=True):
        if not any(mask):
            continue
        comps = [j for j, m in enumerate(mask) if m]
        if not all(mask):
            net.insert(g.name, ch, comps=comps)
        carrying = rows[rows[ch.name].fillna(False).to_numpy(bool)]
        for key in (*ch.channel_params, *ch.channel_states):
            net.set(g.name, key, shared_or_array(carrying[key].to_numpy(float)))
        _check_steady(ch, carrying, g.name, dt)


def _channel(ch: Any, g: _Group) -> Any:
    """jaxley's `Fire` on point cells becomes neurosim's `Fire` (same keys), so
    the population emits spikes with a surrogate derivative; other channels
    stay jaxley's, through the adapter."""
    from jaxley.channels import Fire as JaxleyFire

    if g.point and isinstance(ch, JaxleyFire):
        return Fire(name=ch.name)
    return ch


def _check_steady(ch: Any, rows: Any, pop: str, dt: float) -> None:
    """The channel's states in the nodes are its steady state at `v`."""
    import jax.numpy as jnp

    states = {k: jnp.asarray(rows[k].to_numpy(float)) for k in ch.channel_states}
    params = {k: jnp.asarray(rows[k].to_numpy(float)) for k in ch.channel_params}
    for k in ("radius", "length", "capacitance"):
        params[k] = jnp.asarray(rows[k].to_numpy(float))
    v = jnp.asarray(rows["v"].to_numpy(float))
    with standard_promotion(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        steady = ch.init_state(states, v, params, dt) or {}
    for key, value in steady.items():
        want = np.broadcast_to(np.asarray(value, float), v.shape)
        have = rows[key].to_numpy(float)
        if not np.allclose(have, want, rtol=_RTOL, atol=1e-12):
            raise ValueError(
                f"module: channel state {key} (population {pop!r}) is not the "
                f"steady state at the initial voltage (got {have[:3]}..., steady "
                f"{want[:3]}...); neurosim starts every channel at its steady "
                f"state: call module.init_states(delta_t={dt}) first."
            )


def _edge_groups(module: Any, plan: _Plan) -> list[tuple]:
    """The projections: `(name, type_ind, pre, post, post_comp, pre_cells,
    post_cells, global edge indices)`, in jaxley's edge order; fills
    `plan.edge_at`."""
    edges = module.edges.sort_values("global_edge_index")
    groups: dict[tuple, list] = {}
    for row in edges.itertuples(index=False):
        pre_cell, _ = plan.comp_at[int(row.pre_index)]
        post_cell, post_local = plan.comp_at[int(row.post_index)]
        pre_pop, i = plan.cell_at[int(pre_cell)]
        post_pop, j = plan.cell_at[int(post_cell)]
        key = (int(row.type_ind), pre_pop, post_pop, int(post_local))
        groups.setdefault(key, []).append(
            (i, j, int(row.global_edge_index), int(row.index_within_type))
        )
    bases = [f"{pre}->{post}" for _, pre, post, _ in groups]
    out = []
    for (type_ind, pre, post, comp), members in groups.items():
        base = f"{pre}->{post}"
        name = (
            base
            if bases.count(base) == 1
            else f"{base}:{module.synapses[type_ind].name}@{comp}"
        )
        for k, m in enumerate(members):
            plan.edge_at[(type_ind, m[3])] = (name, k)
        pre_cells, post_cells, edge_ids, _ = zip(*members, strict=True)
        out.append((name, type_ind, pre, post, comp, pre_cells, post_cells, edge_ids))
    return out


def _add_projections(net: Network, module: Any, plan: _Plan) -> None:
    table = module.edges.set_index("global_edge_index")
    for name, type_ind, pre, post, comp, pre_cells, post_cells, ids in _edge_groups(
        module, plan
    ):
        syn = module.synapses[type_ind]
        net.connect(
            pre,
            post,
            syn,
            EdgeList(list(pre_cells), list(post_cells)),
            name=name,
            post_comp=None if plan_group(plan, post).point else comp,
        )
        rows = table.loc[list(ids)]
        for key in syn.synapse_params:
            net.set(name, key, shared_or_array(rows[key].to_numpy(float)))
        for key in syn.synapse_states:
            value = shared_or_array(rows[key].to_numpy(float))
            if not isinstance(value, float):
                raise ValueError(
                    f"module: synapse state {key} differs between the edges of "
                    f"projection {name!r}; neurosim starts a projection's states "
                    "from one value."
                )
            net.set(name, key, value)


def plan_group(plan: _Plan, name: str) -> _Group:
    return next(g for g in plan.groups if g.name == name)


def _add_stimuli(net: Network, module: Any, plan: _Plan) -> None:
    if "i" not in module.externals:
        return
    currents = np.asarray(module.externals["i"], dtype=float)
    inds = np.asarray(module.external_inds["i"], dtype=int)
    stims: dict[tuple[str, int], np.ndarray] = {}
    for current, g_comp in zip(currents, inds, strict=True):
        cell, local = plan.comp_at[int(g_comp)]
        pop, i = plan.cell_at[int(cell)]
        n = len(plan_group(plan, pop).cells)
        arr = stims.setdefault((pop, int(local)), np.zeros((current.size, n)))
        arr[:, i] += current
    for (pop, comp), arr in stims.items():
        net.stimulate(pop, arr, comp=None if plan_group(plan, pop).point else comp)


def _recorded(module: Any, plan: _Plan) -> list[tuple[str, int]]:
    """For each jaxley recording, the neurosim record key and the flat index
    into its trailing axes."""
    out = []
    syn_states = {k: t for t, s in enumerate(module.synapses) for k in s.synapse_states}
    for rec in module.recordings.itertuples(index=False):
        state, idx = str(rec.state), int(rec.rec_index)
        if state in syn_states:
            proj, k = plan.edge_at[(syn_states[state], idx)]
            out.append((f"{proj}.{state}", k))
            continue
        cell, local = plan.comp_at[idx]
        pop, i = plan.cell_at[int(cell)]
        g = plan_group(plan, pop)
        if state == "v":
            out.append((f"{pop}.v", i * g.n_comp + int(local)))
            continue
        ch = next(
            (
                (c, m)
                for c, m in zip(module.channels, g.masks, strict=True)
                if state in c.channel_states
            ),
            None,
        )
        if ch is None:
            raise ValueError(f"module: recording of {state!r} cannot be converted.")
        comps = [j for j, m in enumerate(ch[1]) if m]
        out.append((f"{pop}.{state}", i * len(comps) + comps.index(int(local))))
    return out


def from_jaxley(module: Any, *, dt: float = 0.025) -> Network:
    """A jaxley 0.14 `Network` or `Cell` as a neurosim `Network`.

    Args:
        module: the jaxley module, as `jx.integrate` would simulate it
            (parameters set with `.set`, stimuli, recordings).
        dt: the step (ms) the model will run at; only used to check that the
            channel states are the steady state `init_states(delta_t=dt)` gives.

    Returns:
        A `Network` with one population per kind of cell (`"cells"` when there
        is one kind, else `"cells0"`, `"cells1"`, ...), one projection per
        synapse type and target compartment, the stimuli and the recordings.
        `jaxley_traces(module, recording)` lists the recorded traces in
        jaxley's order.

    Raises:
        TypeError: `module` is not a jaxley Network or Cell.
        ValueError: the module holds something neurosim cannot express (named
            in the message).
    """
    if not (isinstance(dt, int | float) and not isinstance(dt, bool) and dt > 0):
        raise ValueError(f"dt: expected a positive number of ms, got {dt!r}.")
    plan = _plan(module)
    nodes = _nodes(module)
    net = Network()
    for g in plan.groups:
        _add_population(net, module, nodes, g, float(dt))
    _add_projections(net, module, plan)
    _add_stimuli(net, module, plan)
    for key in dict.fromkeys(k for k, _ in _recorded(module, plan)):
        target, state = key.split(".", 1)
        net.record(target, state)
    return net


def jaxley_traces(module: Any, recording: Any) -> np.ndarray:
    """The traces of a `Recording` of `from_jaxley(module)` in the order
    `jx.integrate(module)` returns them: `(n_recordings, time)` (with a leading
    batch axis if the run had one)."""
    plan = _plan(module)
    _edge_groups(module, plan)
    columns = []
    for key, flat in _recorded(module, plan):
        arr = np.asarray(recording[key])
        pop = key.split(".", 1)[0]
        group = next((g for g in plan.groups if g.name == pop), None)
        if key.endswith(".v") and group is not None and not group.point:
            arr = arr.reshape(*arr.shape[:-2], -1)
        columns.append(arr[..., flat])
    return np.stack(columns, axis=-2)

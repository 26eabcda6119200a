"""NIR export and import: `to_nir` and `from_nir` (needs `pip install neurosim[nir]`).

NIR (the Neuromorphic Intermediate Representation) is the interchange format
of spyx, Norse, snnTorch, Rockpool, Lava and others. What maps:

| neurosim                                         | NIR                         |
|--------------------------------------------------|-----------------------------|
| population with `SpikeSource`                    | `Input`                     |
| point population `Leak` + `Fire`                 | `LIF`                       |
| ... fed through `ExpSynapse` projections         | `CubaLIF`                   |
| point population `Leak` only (a leaky readout)   | `LI` (`CubaLI` through `ExpSynapse`) |
| current-based `SpikeSynapse`, fixed `s_decay·dt = 1` | `Linear` (into `LIF`/`LI`) |
| current-based `ExpSynapse`                       | `Linear` (into `CubaLIF`/`CubaLI`, `tau_syn = tau`) |
| `Delayed(...)`                                   | `Delay` before the `Linear` |
| a population no projection leaves (an output)   | `Output`                    |

Anything else is refused with an error naming it: other channels (`HH`, any
jaxley channel), cells with a morphology, conductance-based synapses,
`AlphaSynapse`, jaxley synapses, and a `SpikeSynapse` whose trace is not the
spike train: its trace is *set* to 1 on a spike and decays, so it saturates
under a burst, which NIR's additive synaptic current cannot express.

**Units.** Times in seconds (NIR's convention, as its reference simulators
use), voltages in mV, currents in nA, so `r` is in MΩ (mV/nA). For a point
compartment of area `A = 2π·radius·length` (µm²), capacitance `C` (µF/cm²),
leak conductance `gLeak` (S/cm²) and reversal `eLeak` (mV), the membrane
equation `C dv/dt = -gLeak (v - eLeak)·1e3 + I·1e5/A` (µA/cm², `I` the inward
synaptic current in nA) is NIR's `tau dv/dt = (v_leak - v) + r I` with

    tau = 1e-3 · C / gLeak  ms  (= 1e-6 · C / gLeak s)
    r   = 100 / (A · gLeak)  MΩ
    v_leak = eLeak,  v_threshold = Fire_vth,  v_reset = Fire_vreset.

On import the compartment gets `C = 1 µF/cm²`, radius 1 µm and the length that
gives `A = 100 / (r · gLeak)`, with `gLeak = 1e-6 / tau[s]`; the initial
voltage is `v_leak` (NIR carries no state). The layer stacks of `lif_stack`
(area 1e5 µm², `C = 1`) have `r = tau / dt` numerically at `dt = 1` ms.

**Sign.** neurosim's synaptic currents are outward-positive, so a positive
current-based weight `gS` inhibits; NIR's weights are excitatory-positive
(`r I` adds to `dv/dt`). The `Linear` weight is `-gSᵀ` (shape `(n_post,
n_pre)`), and import negates it back. `CubaLIF.w_in` is folded into the
weights on import.

**Threshold tie.** neurosim's `Fire` spikes at `v >= vth`; NIR's reference
equations at `v > v_threshold`. They differ only when a voltage lands exactly
on the threshold.

**Discretisation.** NIR is continuous-time; each simulator discretises it its
own way. A neurosim round trip (export, import, same `dt` and solver) gives
the same parameters (to rounding) and the same spike trains. The synaptic
current of `ExpSynapse` jumps by the weight on a spike and decays by
`exp(-dt/tau_syn)` per step; `SpikeSynapse` with `s_decay·dt = 1` is a current
of the weight for the step of the spike.

**Not carried.** NIR holds no state and no surrogate: an exported network's
initial voltage is dropped (imported cells start at `v_leak`, so export a
network that starts at rest for an exact round trip), and imported `Fire`
channels use the default surrogate (`FastSigmoid`).

**Delays.** A `Delayed` projection exports a `Delay` node with one delay per
presynaptic neuron (seconds); shared delays and per-edge delays equal along
each presynaptic neuron's row export, others are refused. On import, a
`Delay` becomes `Delayed(..., max_steps=ceil(max delay / dt))`, which delays
by `round(delay / dt)` steps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..mechanisms.channels import Fire, Leak, SpikeSource
from ..mechanisms.delays import Delayed
from ..mechanisms.kernels import ExpSynapse
from ..mechanisms.synapses import IDENTITY_TOL, SpikeSynapse
from ..network import Network, Population, Projection
from ._common import shared_or_array

__all__ = ["from_nir", "to_nir"]

MS_PER_S = 1e3
# nA · NA_TO_UA / area [µm²] is µA/cm²; over gLeak·1e3 (µA/cm² per mV) gives mV.
_R_NUMERATOR = 100.0


def _nir() -> Any:
    try:
        import nir
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(
            "NIR export and import need the `nir` package: pip install 'neurosim[nir]'."
        ) from err
    return nir


# --------------------------------------------------------------------------- export
class _Values:
    """A parameter of the network, from `params` when given, else as set."""

    def __init__(self, net: Network, params: dict | None):
        self.net, self.params = net, params

    def __call__(self, target: str, key: str, shape: tuple[int, ...]) -> np.ndarray:
        if self.params is not None and key in self.params.get(target, {}):
            value = self.params[target][key]
        else:
            value = self.net.get(target, key)
            if callable(value):
                raise ValueError(
                    f"params: {target}.{key} is drawn by an initialiser; pass the "
                    "drawn values, to_nir(net, dt=..., params=sim.init_params(key))."
                )
        return np.broadcast_to(np.asarray(value, dtype=float), shape).copy()


def _role(name: str, pop: Population) -> str:
    """`"input"`, `"lif"` or `"li"`; anything else is refused."""
    if pop.morphology is not None:
        raise ValueError(
            f"net: population {name!r} has cells with a morphology; NIR holds "
            "point neurons only."
        )
    channels = [ins.channel for ins in pop.insertions]
    partial = [ins.channel.name for ins in pop.insertions if ins.cells is not None]
    if partial:
        raise ValueError(
            f"net: population {name!r} has channels {partial} on some cells only."
        )
    # exact types: a subclass may change the dynamics NIR describes
    kinds = sorted(type(ch).__name__ for ch in channels)
    exact = all(type(ch) in (Leak, Fire, SpikeSource) for ch in channels)
    if exact and kinds == ["SpikeSource"]:
        return "input"
    if exact and kinds == ["Fire", "Leak"]:
        return "lif"
    if exact and kinds == ["Leak"]:
        return "li"
    raise ValueError(
        f"net: population {name!r} has channels {[repr(c) for c in channels]}; "
        "NIR export takes SpikeSource, Leak + Fire, or Leak alone."
    )


def _channel(pop: Population, cls: type) -> Any:
    return next(ins.channel for ins in pop.insertions if type(ins.channel) is cls)


def _synapse_kind(net: Network, name: str, proj: Projection, dt: float) -> str:
    """`"spike"` (the trace is the spike train) or `"exp"`."""
    syn = proj.synapse.synapse if isinstance(proj.synapse, Delayed) else proj.synapse
    label = f"projection {name!r} ({type(syn).__name__})"
    if type(syn) in (ExpSynapse, SpikeSynapse) and syn.conductance:
        raise ValueError(
            f"net: {label} is conductance-based; NIR's synaptic current does not "
            "depend on the postsynaptic voltage."
        )
    if type(syn) is ExpSynapse:
        tau = net.get(name, f"{syn.name}_tau")
        if np.ndim(tau) != 0 or (name, f"{syn.name}_tau") in net.trainable:
            raise ValueError(
                f"net: {label} needs one fixed tau (NIR's tau_syn per neuron)."
            )
        return "exp"
    if type(syn) is SpikeSynapse:
        key = f"{syn.name}_s_decay"
        decay = net.get(name, key)
        fixed = (name, key) not in net.trainable and np.ndim(decay) == 0
        if fixed and abs(float(decay) * dt - 1.0) < IDENTITY_TOL:
            return "spike"
        raise ValueError(
            f"net: {label} has s_decay={decay!r} at dt={dt}: its trace is set to 1 "
            "on a spike and saturates, which NIR's additive synaptic current "
            "cannot express; only s_decay * dt = 1 (the trace is the spike train) "
            "exports. Use ExpSynapse for a decaying current."
        )
    raise ValueError(
        f"net: {label} has no NIR counterpart; export takes current-based "
        "SpikeSynapse (s_decay * dt = 1) and ExpSynapse, optionally Delayed."
    )


def _neuron_node(
    nir: Any, net: Network, name: str, pop: Population, role: str, vals, tau_syn
):
    n = (pop.n,)
    area = 2 * math.pi * vals(name, "radius", n) * vals(name, "length", n)
    cap = vals(name, "capacitance", n)
    leak = _channel(pop, Leak).name
    g = vals(name, f"{leak}_gLeak", n)
    common = {
        "r": _R_NUMERATOR / (area * g),
        "v_leak": vals(name, f"{leak}_eLeak", n),
    }
    tau = 1e-3 * cap / g / MS_PER_S
    if role == "lif":
        fire = _channel(pop, Fire).name
        common["v_threshold"] = vals(name, f"{fire}_vth", n)
        common["v_reset"] = vals(name, f"{fire}_vreset", n)
    if tau_syn is None:
        cls = nir.LIF if role == "lif" else nir.LI
        return cls(tau=tau, **common)
    syn = np.full(n, tau_syn / MS_PER_S)
    cls = nir.CubaLIF if role == "lif" else nir.CubaLI
    return cls(tau_syn=syn, tau_mem=tau, **common)


def _delays(net: Network, name: str, proj: Projection, vals) -> np.ndarray:
    """One delay (s) per presynaptic neuron of a `Delayed` projection."""
    key = proj.synapse.delay_key
    d = vals(name, key, net.shape(name, key)).reshape(-1)
    per_pre = np.zeros(proj.conn.n_pre)
    seen = np.zeros(proj.conn.n_pre, bool)
    d = np.broadcast_to(d, (proj.conn.n_edges,))
    for k, i in enumerate(proj.conn.pre_idx):
        if seen[i] and per_pre[i] != d[k]:
            raise ValueError(
                f"net: projection {name!r} has different delays on edges from "
                f"presynaptic neuron {i}; NIR's Delay holds one per neuron."
            )
        per_pre[i], seen[i] = d[k], True
    return per_pre / MS_PER_S


def to_nir(net: Network, *, dt: float, params: dict | None = None) -> Any:
    """The network as a `nir.NIRGraph` (see the module's table and units).

    Args:
        net: a network of `SpikeSource` inputs, `Leak` + `Fire` populations and
            `Leak` readouts joined by current-based `SpikeSynapse`
            (`s_decay * dt = 1`) or `ExpSynapse` projections, optionally
            `Delayed`.
        dt: the step (ms) the network runs at (decides whether a
            `SpikeSynapse`'s trace is the spike train).
        params: parameter values to export (`{target: {key: array}}`, e.g.
            trained ones from `fit`); default: the values set on `net`.

    Returns:
        A `nir.NIRGraph`. A single input population is the node `"input"` and a
        single output population (one that no projection leaves) feeds `"output"` (the names peers look for);
        with several, `"input_<name>"` / `"output_<name>"`. Populations and
        projections keep their names; `Delay` nodes are `"<projection>:delay"`.
    """
    nir = _nir()
    if not (isinstance(dt, int | float) and not isinstance(dt, bool) and dt > 0):
        raise ValueError(f"dt: expected a positive number of ms, got {dt!r}.")
    if not isinstance(net, Network):
        raise TypeError(f"net: expected a neurosim Network, got {net!r}.")
    vals = _Values(net, params)
    roles = {k: _role(k, p) for k, p in net.populations.items()}
    kinds = {k: _synapse_kind(net, k, p, dt) for k, p in net.projections.items()}
    tau_syn: dict[str, float | None] = {}
    for name, proj in net.projections.items():
        if roles[proj.post] == "input":
            raise ValueError(f"net: projection {name!r} targets an input population.")
        syn = (
            proj.synapse.synapse if isinstance(proj.synapse, Delayed) else proj.synapse
        )
        tau = float(net.get(name, f"{syn.name}_tau")) if kinds[name] == "exp" else None
        if proj.post in tau_syn and tau_syn[proj.post] != tau:
            raise ValueError(
                f"net: population {proj.post!r} receives projections with different "
                "synapses or time constants; a NIR neuron node has one synaptic "
                "current (one tau_syn)."
            )
        tau_syn[proj.post] = tau
    inputs = [k for k, r in roles.items() if r == "input"]
    senders = {p.pre for p in net.projections.values()}
    recorded = [k for k, r in roles.items() if r != "input" and k not in senders]
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    key_of = {}
    for name, pop in net.populations.items():
        if roles[name] == "input":
            key = "input" if len(inputs) == 1 else f"input_{name}"
            nodes[key] = nir.Input(
                input_type={"input": np.array([pop.n])},
                metadata={"population": name},
            )
        else:
            key = name
            nodes[key] = _neuron_node(
                nir, net, name, pop, roles[name], vals, tau_syn.get(name)
            )
        key_of[name] = key
    for name, proj in net.projections.items():
        syn = (
            proj.synapse.synapse if isinstance(proj.synapse, Delayed) else proj.synapse
        )
        gs = vals(name, f"{syn.name}_gS", net.shape(name, f"{syn.name}_gS"))
        w = np.zeros((proj.conn.n_pre, proj.conn.n_post))
        np.add.at(
            w,
            (proj.conn.pre_idx, proj.conn.post_idx),
            np.broadcast_to(gs.reshape(-1), (proj.conn.n_edges,)),
        )
        nodes[name] = nir.Linear(weight=-w.T)
        src = key_of[proj.pre]
        if isinstance(proj.synapse, Delayed):
            delay_key = f"{name}:delay"
            nodes[delay_key] = nir.Delay(delay=_delays(net, name, proj, vals))
            edges.append((src, delay_key))
            src = delay_key
        edges += [(src, name), (name, key_of[proj.post])]
    for name in recorded:
        key = "output" if len(recorded) == 1 else f"output_{name}"
        nodes[key] = nir.Output(
            output_type={"output": np.array([net.populations[name].n])},
            metadata={"population": name},
        )
        edges.append((key_of[name], key))
    return nir.NIRGraph(nodes=nodes, edges=edges)


# --------------------------------------------------------------------------- import
_NEURONS = ("LIF", "CubaLIF", "LI", "CubaLI")


def _population_name(key: str, node: Any) -> str:
    meta = getattr(node, "metadata", None) or {}
    return str(meta.get("population", key))


def _add_neurons(net: Network, name: str, node: Any, kind: str) -> None:
    tau_ms = np.asarray(node.tau if kind in ("LIF", "LI") else node.tau_mem, float)
    tau_ms = tau_ms.reshape(-1) * MS_PER_S
    n = tau_ms.size
    g = 1e-3 / tau_ms  # C = 1 µF/cm²
    area = _R_NUMERATOR / (np.asarray(node.r, float).reshape(-1) * g)
    channels: list = [Leak()]
    if kind in ("LIF", "CubaLIF"):
        channels.append(Fire())
    v_leak = np.broadcast_to(np.asarray(node.v_leak, float).reshape(-1), (n,))
    net.add_population(name, n, channels, radius=1.0, capacitance=1.0)
    values = {"length": area / (2 * math.pi), "Leak_gLeak": g, "Leak_eLeak": v_leak}
    values["v"] = v_leak
    if kind in ("LIF", "CubaLIF"):
        values["Fire_vth"] = np.asarray(node.v_threshold, float).reshape(-1)
        values["Fire_vreset"] = np.asarray(node.v_reset, float).reshape(-1)
    for key, value in values.items():
        net.set(name, key, shared_or_array(np.broadcast_to(value, (n,))))


def from_nir(graph: Any, *, dt: float) -> Network:
    """A `nir.NIRGraph` as a neurosim `Network` (the inverse of `to_nir`).

    Args:
        graph: the NIR graph: `Input`, `LIF`, `CubaLIF`, `LI`, `CubaLI`,
            `Linear`, `Affine` (zero bias), `Delay` and `Output` nodes.
        dt: the step (ms) the network will run at: a `Linear` into `LIF`/`LI`
            becomes a `SpikeSynapse` with `s_decay = 1 / dt`, and a `Delay`'s
            buffer holds `ceil(max delay / dt)` steps.

    Returns:
        A `Network`: one population per neuron or input node (named by the node,
        or by the population it was exported from), one projection per
        `Linear`, each `Output`'s population recorded (`v`, and `spikes` when
        it fires).

    Raises:
        ValueError: a node or a wiring neurosim cannot express, named.
    """
    nir = _nir()
    if not (isinstance(dt, int | float) and not isinstance(dt, bool) and dt > 0):
        raise ValueError(f"dt: expected a positive number of ms, got {dt!r}.")
    if not isinstance(graph, nir.NIRGraph):
        raise TypeError(f"graph: expected a nir.NIRGraph, got {graph!r}.")
    net = Network()
    pop_of: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for key, node in graph.nodes.items():
        kind = type(node).__name__
        kinds[key] = kind
        if kind == "Input":
            name = _population_name(key, node)
            n = int(np.prod(node.input_type["input"]))
            net.add_population(name, n, [SpikeSource()], v=0.0)
            pop_of[key] = name
        elif kind in _NEURONS:
            name = _population_name(key, node)
            _add_neurons(net, name, node, kind)
            pop_of[key] = name
        elif kind == "Affine":
            if np.any(np.asarray(node.bias) != 0):
                raise ValueError(
                    f"graph: node {key!r} (Affine) has a non-zero bias, a constant "
                    "current neurosim's projections do not carry."
                )
        elif kind not in ("Linear", "Delay", "Output"):
            raise ValueError(
                f"graph: node {key!r} is a {kind}, which neurosim does not import "
                f"(it imports Input, {', '.join(_NEURONS)}, Linear, Affine, Delay, "
                "Output)."
            )
    into: dict[str, list[str]] = {}
    out_of: dict[str, list[str]] = {}
    for a, b in graph.edges:
        into.setdefault(b, []).append(a)
        out_of.setdefault(a, []).append(b)
    for key, kind in kinds.items():
        if kind in ("Linear", "Affine"):
            _add_projection(net, graph, key, into, out_of, pop_of, kinds, dt)
        elif kind == "Output":
            (src,) = into.get(key, [None])
            if src not in pop_of:
                raise ValueError(f"graph: output {key!r} is not fed by a population.")
            net.record(pop_of[src], "v")
            if kinds[src] in ("LIF", "CubaLIF"):
                net.record(pop_of[src], "spikes")
    for a, b in graph.edges:
        if a in pop_of and b in pop_of:
            raise ValueError(
                f"graph: edge {a!r} -> {b!r} joins two populations without a "
                "Linear; neurosim projections carry weights."
            )
    return net


def _add_projection(net, graph, key, into, out_of, pop_of, kinds, dt) -> None:
    node = graph.nodes[key]
    sources = into.get(key, [])
    if len(sources) != 1:
        raise ValueError(f"graph: node {key!r} needs one input, got {sources}.")
    src, delay = sources[0], None
    if kinds.get(src) == "Delay":
        delay = np.asarray(graph.nodes[src].delay, float).reshape(-1) * MS_PER_S
        (src,) = into.get(src, [None])
    if src not in pop_of:
        raise ValueError(f"graph: node {key!r} is not fed by a population.")
    targets = out_of.get(key, [])
    for dst in targets:
        if dst not in pop_of or kinds[dst] == "Input":
            raise ValueError(f"graph: node {key!r} feeds {dst!r}, not a neuron node.")
        w = np.asarray(node.weight, float)  # (n_post, n_pre)
        post = graph.nodes[dst]
        cuba = kinds[dst] in ("CubaLIF", "CubaLI")
        if cuba:
            w = w * np.asarray(post.w_in, float).reshape(-1, 1)
            tau_syn = np.asarray(post.tau_syn, float).reshape(-1) * MS_PER_S
            if not np.all(tau_syn == tau_syn[0]):
                raise ValueError(
                    f"graph: node {dst!r} has different tau_syn per neuron; "
                    "neurosim's ExpSynapse has one per projection."
                )
            syn: Any = ExpSynapse(tau=float(tau_syn[0]))
        else:
            syn = SpikeSynapse(s_decay=1.0 / dt)
        if delay is not None:
            steps = int(math.ceil(float(np.max(delay)) / dt - 1e-9))
            syn = Delayed(syn, max_steps=max(steps, 0))
        n_post, n_pre = w.shape
        pre_idx, post_idx = np.meshgrid(
            np.arange(n_pre), np.arange(n_post), indexing="ij"
        )
        name = key if len(targets) == 1 else f"{key}:{dst}"
        net.connect(
            pop_of[src],
            pop_of[dst],
            syn,
            "all_to_all",
            name=name,
        )
        net.set(name, f"{syn.name}_gS", -w.T)
        if delay is not None:
            net.set(name, f"{syn.name}_delay", shared_or_array(delay[pre_idx]))

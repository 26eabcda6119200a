"""Compile a ``Network`` into pure JAX functions and integrate it with one scan.

    sim = ns.compile(net, dt=0.025)                 # ms
    params = sim.init_params(jax.random.key(0))     # {target: {param: array}}
    rec = sim.run(params, {"inp": currents}, t_max=50.0)
    rec["out.v"]                                    # (batch, time, neurons), mV

One step follows jaxley's ``Module.step``: (1) external current; (2) every
channel's state update from the start-of-step voltage (``Fire`` records its spike
and resets ``v``); (3) channel currents at the possibly reset voltage; (4) synapse
states, seeing this step's spikes; (5) synapse currents; (6) one voltage solve.
``run`` takes ``int(t_max // dt + 1)`` steps and returns that many samples plus the
initial state, as ``jaxley.integrate``.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .network import POSITIVE_PARAMS, Network, Projection, as_float, unknown
from .solvers import SOLVERS
from .synapses import is_trace_synapse

__all__ = ["Recording", "Simulator", "compile"]

# nA / µm² -> µA / cm²
NA_PER_UM2 = 1e5
# Dense projections up to this many matrix entries use a matrix product per step;
# larger sparse ones use a segment sum over their edge list.
DENSE_LIMIT = 4_000_000

Params = dict[str, dict[str, Array | np.ndarray | float]]
State = dict[str, dict[str, Array | np.ndarray]]


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=["traces", "final_state", "status"],
    meta_fields=[],
)
@dataclass(frozen=True)
class Recording:
    """What ``Simulator.run`` returns.

    Attributes:
        traces: ``{"target.state": Float[Array, "batch time n"]}``, one sample per
            step plus the initial state (the batch axis only when the inputs had one).
        final_state: the state after the last step (for continuing a run).
        status: 0 if every recorded value and the final state are finite, else 1
            (over the whole batch).
    """

    traces: dict[str, Array]
    final_state: State
    status: Int[Array, "*batch"]

    def __getitem__(self, key: str) -> Array:
        if key not in self.traces:
            raise unknown("recording", key, list(self.traces))
        return self.traces[key]


def _is_concrete(x: Any) -> bool:
    return not isinstance(x, jax.core.Tracer)


def _check_real(name: str, x: Any) -> None:
    dtype = x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype
    if not any(
        jnp.issubdtype(dtype, t) for t in (jnp.floating, jnp.integer, jnp.bool_)
    ):
        raise TypeError(f"{name}: expected real numbers, got dtype {dtype}.")


@jax.jit
def _all_finite(leaves: list) -> Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def _check_finite(named: list[tuple[str, Any]]) -> None:
    """Raise for the first ``(name, value)`` holding NaN or inf. Device arrays are
    reduced in one compiled call (no copies); values being traced are skipped."""
    named = [(n, x) for n, x in named if _is_concrete(x)]
    device = [x for _, x in named if isinstance(x, jax.Array)]
    try:
        fast = not device or bool(_all_finite(device))
    except jax.errors.ConcretizationTypeError:  # constants inside a caller's trace
        fast = False
    for name, x in named:
        if (fast and isinstance(x, jax.Array)) or np.isfinite(np.asarray(x)).all():
            continue
        raise ValueError(f"{name}: contains NaN or inf; expected finite values.")


@dataclass(frozen=True)
class Stage:
    """Populations integrated by one scan, and what flows in and out of it."""

    pops: tuple[str, ...]  # one strongly connected group of populations
    projs: tuple[str, ...]  # projections whose state is stepped here
    hoisted_in: tuple[str, ...]  # trace projections from earlier stages onto pops here
    vpre: tuple[str, ...]  # upstream populations whose voltage edge synapses here read
    v_out: tuple[str, ...]  # populations whose per-step voltage later stages read
    s_out: tuple[str, ...]  # trace projections whose per-step trace later stages read

    @property
    def targets(self) -> tuple[str, ...]:
        return self.pops + self.projs


def plan_stages(net: Network, split: bool = True) -> list[Stage]:
    """Split the network into stages that can be integrated one after another.

    Populations that depend on each other (a cycle of projections, or a population
    onto itself) share a stage; stages are ordered so that every projection runs
    from an earlier stage (or the same one) to a later one. A spike-trace synapse
    between stages is stepped with its presynaptic stage and its current reaches
    the postsynaptic stage as one matrix product over all steps; an edge synapse
    is stepped with its postsynaptic stage, reading the presynaptic voltage.
    The result is the same as one scan over the whole network, step for step.
    With ``split=False`` the whole network is one stage.
    """
    names = list(net.populations)
    index = {n: i for i, n in enumerate(names)}
    reach = np.eye(len(names), dtype=bool)
    for proj in net.projections.values():
        reach[index[proj.pre], index[proj.post]] = True
    for k in range(len(names)):  # transitive closure (few populations)
        reach |= reach[:, k : k + 1] & reach[k : k + 1, :]
    groups: list[list[str]] = []
    for n in names:
        if not any(n in g for g in groups):
            i = index[n]
            groups.append(
                [m for m in names if reach[i, index[m]] and reach[index[m], i]]
            )
    ordered: list[list[str]] = []
    while groups:  # Kahn's order; ties keep the order populations were added
        for g in groups:
            others = [m for h in groups if h is not g for m in h]
            if not any(reach[index[m], index[n]] for m in others for n in g):
                ordered.append(g)
                groups.remove(g)
                break
    if not split:
        ordered = [[n for g in ordered for n in g]]
    stage_of = {n: i for i, g in enumerate(ordered) for n in g}
    stages = []
    for i, g in enumerate(ordered):
        projs, hoisted, vpre, v_out, s_out = [], [], [], [], []
        for q, proj in net.projections.items():
            pre, post = stage_of[proj.pre], stage_of[proj.post]
            if is_trace_synapse(proj.synapse):
                if pre == i:
                    projs.append(q)
                    if post != i:
                        s_out.append(q)
                elif post == i:
                    hoisted.append(q)
            elif post == i:
                projs.append(q)
                if pre != i and proj.pre not in vpre:
                    vpre.append(proj.pre)
            elif pre == i and proj.pre not in v_out:
                v_out.append(proj.pre)
        stages.append(
            Stage(
                tuple(g),
                tuple(projs),
                tuple(hoisted),
                tuple(vpre),
                tuple(v_out),
                tuple(s_out),
            )
        )
    return stages


class Simulator:
    """A compiled network: pure ``init_params``, ``init_state`` and ``run``.

    Create it with :func:`compile`. The network is copied, so later edits to it do
    not change a simulator.
    """

    def __init__(
        self,
        net: Network,
        dt: float,
        solver: str,
        remat: bool,
        split_stages: bool = False,
    ) -> None:
        self.net = net.copy()
        self.dt = float(dt)
        self.solver = solver
        self.remat = remat
        self._step_voltage = SOLVERS[solver]
        self._stages = plan_stages(self.net, split_stages)

    # ------------------------------------------------------------------ parameters
    def init_params(self, key: jax.Array | None = None) -> Params:
        """All parameters as ``{target: {name: array}}``; scalars are shared.

        Initialisers (``ns.normal``, ``ns.uniform``) draw from ``key``: one
        ``key, sub = jax.random.split(key)`` per initialiser, populations first, then
        projections, in the order they were added.
        """
        params: Params = {}
        for target, el in self._elements():
            out = {}
            for name, value in el.params.items():
                per_element = self.net.trainable.get((target, name), (False, None))[0]
                if callable(value):
                    if key is None:
                        raise ValueError(
                            f"key: {target}.{name} has a random initialiser; pass "
                            "init_params(jax.random.key(seed))."
                        )
                    key, sub = jax.random.split(key)
                    arr = value(sub, (el.n,), jnp.result_type(float))
                else:
                    arr = as_float(value)
                    if per_element and arr.ndim == 0:
                        arr = jnp.full((el.n,), arr)
                out[name] = arr
            params[target] = out
        return params

    def init_state(self, params: Params) -> State:
        """The initial state (voltages, channel and synapse states), unbatched."""
        state: State = {}
        for target, el in self._elements():
            dtype = jnp.result_type(float)
            st = {k: np.full((el.n,), v, dtype) for k, v in el.states.items()}
            if isinstance(el, Projection) and is_trace_synapse(el.synapse):
                key = f"{el.synapse.name}_s"
                per_edge = jnp.ndim(params[target][f"{el.synapse.name}_s_decay"]) == 1
                n = el.n if per_edge else self.net.populations[el.pre].n
                st[key] = np.full((n,), el.states[key], dtype)
            state[target] = st
        return state

    def _elements(self):
        yield from self.net.populations.items()
        yield from self.net.projections.items()

    # ------------------------------------------------------------------ run
    def n_steps(self, t_max: float) -> int:
        """Steps taken for ``t_max`` (ms): ``int(t_max // dt + 1)``, as jaxley."""
        return int(t_max // self.dt + 1)

    def times(self, n_samples: int) -> np.ndarray:
        """Time (ms) of each recorded sample: ``0, dt, 2 dt, ...``."""
        return np.arange(n_samples) * self.dt

    def run(
        self,
        params: Params,
        inputs: Mapping[str, Float[Array | np.ndarray, "*batch time _"]] | None = None,
        *,
        t_max: float | None = None,
        record: list[str] | None = None,
        state: State | None = None,
    ) -> Recording:
        """Integrate the network.

        Args:
            params: from ``init_params`` (possibly updated by training).
            inputs: external currents in nA per population, ``(batch, time, n)`` or
                ``(time, n)``; sample ``k`` drives step ``k``. Shorter than the run:
                padded with zeros (as jaxley); longer: an error.
            t_max: duration in ms; default: the length of the inputs.
            record: ``["target.state", ...]``; default: the network's recordings.
            state: initial state (default ``init_state(params)``), unbatched.

        Returns:
            A :class:`Recording`; traces have shape ``(batch, n_steps + 1, n)``
            (no batch axis if the inputs had none).
        """
        if isinstance(record, str):
            raise TypeError(
                f"record: expected a list of 'target.state', got {record!r}; "
                f"pass record=[{record!r}]."
            )
        specs = tuple(record if record is not None else self.net.recordings)
        if not specs:
            raise ValueError(
                "record: nothing to record; call net.record(target, state) or pass "
                "record=['pop.v']."
            )
        resolved = tuple(self.net.check_record(s) for s in specs)
        named: list = []  # (name, value) pairs checked for NaN/inf in one go
        self._check_params(params, named)
        inputs, batch, t_in = self._check_inputs(inputs, named)
        if t_max is None:
            # Fixed stimuli (net.stimulate) are cut to t_max; inputs must fit in it.
            lengths = [x.shape[0] for x in self.net.stimuli.values()]
            if t_in is None and not lengths:
                raise ValueError("t_max: required when there are no inputs or stimuli.")
            n_steps = t_in if t_in is not None else max(lengths)
            if n_steps == 0:
                raise ValueError("inputs: 0 time samples; expected at least one step.")
        else:
            if not (
                isinstance(t_max, numbers.Real)
                and not isinstance(t_max, bool)
                and math.isfinite(t_max)
                and t_max > 0
            ):
                raise ValueError(
                    f"t_max: expected a positive number of ms, got {t_max!r}."
                )
            n_steps = self.n_steps(t_max)
            if t_in is not None and t_in > n_steps:
                raise ValueError(
                    f"inputs: {t_in} time samples but t_max={t_max} ms gives {n_steps} "
                    f"steps of dt={self.dt}; shorten the inputs or raise t_max."
                )
        if state is None:
            state = self.init_state(params)
        else:
            self._check_state(state, params, named)
        _check_finite(named)
        fn = self._compiled(specs, resolved, n_steps, batch is not None)
        return fn(params, inputs, state)

    @functools.lru_cache(maxsize=64)  # noqa: B019 - simulators live as long as users keep them
    def _compiled(self, specs, resolved, n_steps, batched):
        def fn(params, inputs, state):
            if not batched:  # one sample: a batch of one, squeezed at the end
                inputs = {k: x[None] for k, x in inputs.items()}
            rec = self._integrate(params, inputs, state, specs, resolved, n_steps)
            if batched:
                return rec
            squeeze = functools.partial(jax.tree_util.tree_map, lambda x: x[0])
            return Recording(squeeze(rec.traces), squeeze(rec.final_state), rec.status)

        return jax.jit(fn)

    # ------------------------------------------------------------------ checks
    def _check_params(self, params: Any, named: list) -> None:
        if not isinstance(params, Mapping):
            raise TypeError(
                f"params: expected a dict from init_params, got {type(params)}."
            )
        targets = [t for t, _ in self._elements()]
        for target in params:
            if target not in targets:
                raise unknown("population or projection", target, targets, "params: ")
        for target, el in self._elements():
            if target not in params:
                raise ValueError(f"params: missing {target!r}; use sim.init_params().")
            for name in params[target]:
                if name not in el.params:
                    raise unknown(
                        "parameter", name, list(el.params), f"params[{target!r}]: "
                    )
            for name in el.params:
                if name not in params[target]:
                    raise ValueError(f"params[{target!r}]: missing {name!r}.")
                value = params[target][name]
                if jnp.shape(value) not in ((), (el.n,)):
                    raise ValueError(
                        f"params[{target!r}][{name!r}]: expected a scalar or shape "
                        f"({el.n},), got shape {jnp.shape(value)}."
                    )
                _check_real(f"params[{target!r}][{name!r}]", value)
                named.append((f"params[{target!r}][{name!r}]", value))
                if name in POSITIVE_PARAMS and _is_concrete(value):
                    if np.any(np.asarray(value) <= 0):
                        raise ValueError(
                            f"params[{target!r}][{name!r}]: must be positive, got "
                            f"{np.asarray(value)!r}."
                        )

    def _check_inputs(self, inputs: Any, named: list):
        inputs = {} if inputs is None else inputs
        if not isinstance(inputs, Mapping):
            raise TypeError(
                f"inputs: expected a dict {{population: array}}, got {type(inputs)}."
            )
        batch, t_in, out = None, None, {}
        for name, x in inputs.items():
            pop = self.net.populations.get(name)
            if pop is None:
                raise unknown("population", name, self.net.populations, "inputs: ")
            shape = jnp.shape(x)
            if len(shape) not in (2, 3) or shape[-1] != pop.n:
                raise ValueError(
                    f"inputs[{name!r}]: expected shape (batch, time, {pop.n}) or "
                    f"(time, {pop.n}), got {shape}."
                )
            b = shape[0] if len(shape) == 3 else None
            if b == 0:
                raise ValueError(f"inputs[{name!r}]: batch size 0, got shape {shape}.")
            if out and b != batch:
                raise ValueError(
                    f"inputs[{name!r}]: shape {shape} has batch size {b or 'none'}, "
                    f"the other inputs {batch or 'none'}; give every input the same "
                    "batch axis."
                )
            batch = b
            t_in = max(t_in or 0, shape[-2])
            _check_real(f"inputs[{name!r}]", x)
            named.append((f"inputs[{name!r}]", x))
            out[name] = as_float(x)
        return out, batch, t_in

    def _check_state(self, state: Any, params: Params, named: list) -> None:
        ref = self.init_state(params)
        if not isinstance(state, Mapping) or set(state) != set(ref):
            raise ValueError(f"state: expected keys {sorted(ref)}, got {type(state)}.")
        for target, st in ref.items():
            for key, arr in st.items():
                got = (
                    jnp.shape(state[target].get(key)) if key in state[target] else None
                )
                if got != arr.shape:
                    raise ValueError(
                        f"state[{target!r}][{key!r}]: expected shape {arr.shape}, got {got}."
                    )
                named.append((f"state[{target!r}][{key!r}]", state[target][key]))

    # ------------------------------------------------------------------ the engine
    def _prepare(self, params: Params) -> dict:
        """Per-run constants: broadcast parameters, areas, dense weight matrices."""
        prep = {}
        for target, pop in self.net.populations.items():
            p = {
                k: jnp.broadcast_to(as_float(v), (pop.n,))
                for k, v in params[target].items()
            }
            p["area"] = 2.0 * jnp.pi * p["radius"] * p["length"]
            prep[target] = p
        for target, proj in self.net.projections.items():
            raw = params[target]
            p = {k: jnp.broadcast_to(as_float(v), (proj.n,)) for k, v in raw.items()}
            if is_trace_synapse(proj.synapse):
                p.update(self._trace_weights(proj, p, raw))
            prep[target] = p
        return prep

    def _trace_weights(self, proj: Projection, p: dict, raw: dict) -> dict:
        syn = proj.synapse.name
        n_pre = self.net.populations[proj.pre].n
        n_post = self.net.populations[proj.post].n
        out = {
            "per_edge": jnp.ndim(raw[f"{syn}_s_decay"]) == 1,
            "dense": n_pre * n_post <= DENSE_LIMIT,
            "s_decay": raw[f"{syn}_s_decay"],
        }
        if out["per_edge"] or not out["dense"]:
            return out
        weights = {"G": p[f"{syn}_gS"]}
        if proj.synapse.conductance:
            weights["GE"] = p[f"{syn}_gS"] * p[f"{syn}_e_syn"]
        for k, w in weights.items():
            if proj.dense:  # all-to-all: edges are pre-major
                out[k] = w.reshape(n_pre, n_post)
            else:
                out[k] = (
                    jnp.zeros((n_pre, n_post), w.dtype)
                    .at[proj.pre_idx, proj.post_idx]
                    .add(w)
                )
        return out

    def _integrate(self, params, inputs, state, specs, resolved, n_steps):
        """Run the stages in order: one scan over time each, upstream results as
        inputs. Arrays carry a leading batch axis; each step is ``vmap``-ed over it
        inside the scan, and each step reads its input sample straight from the
        batch-major inputs (no padded, time-major copy of them)."""
        prep = self._prepare(params)
        batch = next(iter(inputs.values())).shape[0] if inputs else 1
        ext = {k: as_float(x) for k, x in inputs.items()}
        stim = {k: as_float(x) for k, x in self.net.stimuli.items()}
        state = jax.tree_util.tree_map(
            lambda x: jnp.broadcast_to(x, (batch, *jnp.shape(x))), state
        )

        def external(t):
            """The input samples of step ``t`` (zero past the end), ``(batch, n)``."""
            out = {}
            for name in self.net.populations:
                parts = []
                for src, batched in ((ext, True), (stim, False)):
                    if name in src:
                        x = src[name]
                        last = x.shape[1 if batched else 0] - 1
                        i = jnp.minimum(t, last)
                        xt = jax.lax.dynamic_index_in_dim(
                            x, i, axis=1 if batched else 0, keepdims=False
                        )
                        parts.append(jnp.where(t <= last, xt, 0.0))
                if parts:
                    out[name] = jnp.broadcast_to(
                        sum(parts), (batch, parts[0].shape[-1])
                    )
            return out

        seqs: dict = {}  # per-step results of earlier stages, (n_steps, batch, n)
        final: State = {}
        outs: dict = {}
        for stage in self._stages:
            xs = {
                "t": jnp.arange(n_steps),
                "syn": self._hoisted_currents(stage, seqs, prep),
                "vpre": {p: seqs[("v", p)] for p in stage.vpre},
            }
            want = [r for r in resolved if r[0] in stage.targets]
            keep = [("v", p) for p in stage.v_out] + [("s", q) for q in stage.s_out]

            def one(st, x, stage=stage, want=want, keep=keep):
                new, mids = self._step(stage, st, x, prep)
                rec = tuple(new[t][k] for t, k in want)
                kept = tuple(
                    mids[q] if kind == "v" else new[q][self._trace_key(q)]
                    for kind, q in keep
                )
                return new, (rec, kept)

            def body(st, x, stage=stage, one=one):
                ext_t = {k: v for k, v in external(x["t"]).items() if k in stage.pops}
                x = {"ext": ext_t, "syn": x["syn"], "vpre": x["vpre"]}
                return jax.vmap(one)(st, x)

            step = jax.checkpoint(body) if self.remat else body
            st0 = {t: state[t] for t in stage.targets}
            fin, (rec, kept) = jax.lax.scan(step, st0, xs, length=n_steps)
            final.update(fin)
            outs.update(zip(want, rec, strict=True))
            seqs.update(zip(keep, kept, strict=True))
        traces = {
            spec: jnp.concatenate(
                [
                    state[t][k][:, None].astype(outs[(t, k)].dtype),
                    jnp.swapaxes(outs[(t, k)], 0, 1),
                ],
                axis=1,
            )
            for spec, (t, k) in zip(specs, resolved, strict=True)
        }
        final = {t: final[t] for t in state}
        leaves = jax.tree_util.tree_leaves((traces, final))
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))
        return Recording(traces, final, jnp.where(finite, 0, 1).astype(jnp.int32))

    def _hoisted_currents(self, stage, seqs, prep) -> dict:
        """Currents of trace projections from earlier stages, for all steps at once:
        one large matrix product per projection instead of one per step."""
        out: dict = {}
        for q in stage.hoisted_in:
            proj = self.net.projections[q]
            g, c = self._trace_current(proj, seqs[("s", q)], prep[q])
            g0, c0 = out.get(proj.post, (0.0, 0.0))
            out[proj.post] = (g0 + g, c0 + c)
        return out

    def _trace_key(self, name: str) -> str:
        return f"{self.net.projections[name].synapse.name}_s"

    def _step(self, stage, state: State, x: dict, prep: dict):
        """One step of a stage's populations and the projections it holds."""
        dt = self.dt
        new: State = {t: dict(s) for t, s in state.items()}
        lin, const, mids = {}, {}, {}
        for name in stage.pops:
            pop = self.net.populations[name]
            p, st = prep[name], new[name]
            # (1) external input: spikes of a source, else current (nA -> µA/cm²)
            const[name] = 0.0
            source = next((c for c in pop.channels if hasattr(c, "drive")), None)
            if source is not None and name in x["ext"]:
                st.update(source.drive(st, x["ext"][name]))
            elif name in x["ext"]:
                const[name] = x["ext"][name] * NA_PER_UM2 / p["area"]
            # (2) channel states, all from the start-of-step voltage
            v0, v = st["v"], st["v"]
            for ch in pop.channels:
                upd = ch.update_states(_sub(st, ch.channel_states), dt, v0, _chp(p, ch))
                for k, val in upd.items():
                    if k == "v":
                        v = val
                    else:
                        st[k] = jnp.broadcast_to(val, (pop.n,)).astype(v0.dtype)
            st["v"] = mids[name] = v
            # (3) channel currents at the possibly reset voltage, linearised in v
            lin_ch, const_ch = jnp.zeros_like(v), jnp.zeros_like(v)
            for ch in pop.channels:
                chs, chp = _sub(st, ch.channel_states), _chp(p, ch)
                i0, di = jax.jvp(
                    lambda vv, ch=ch, chs=chs, chp=chp: jnp.broadcast_to(
                        ch.compute_current(chs, vv, chp), vv.shape
                    ),
                    (v,),
                    (jnp.ones_like(v),),
                )
                lin_ch = lin_ch + di
                const_ch = const_ch + di * v - i0
            lin[name] = 1000.0 * lin_ch  # mA/cm² -> µA/cm²
            const[name] = const[name] + 1000.0 * const_ch
        # (4) synapse states, seeing this step's spikes; (5) synapse currents
        contributions = [
            (name, x["syn"][name]) for name in stage.pops if name in x["syn"]
        ]
        for name in stage.projs:
            proj = self.net.projections[name]
            if is_trace_synapse(proj.synapse):
                pre = new[proj.pre]
                s = self._trace_update(proj, new[name], pre, prep[name])
                if proj.post in stage.pops:
                    contributions.append(
                        (proj.post, self._trace_current(proj, s, prep[name]))
                    )
            else:
                v_pre = mids[proj.pre] if proj.pre in mids else x["vpre"][proj.pre]
                gc = self._edge_synapse(
                    proj, new[name], v_pre, mids[proj.post], prep[name]
                )
                contributions.append((proj.post, gc))
        for post, (g, c) in contributions:
            scale = NA_PER_UM2 / prep[post]["area"]
            lin[post] = lin[post] + g * scale
            const[post] = const[post] + c * scale
        # (6) one voltage solve per population
        for name in stage.pops:
            cm = prep[name]["capacitance"]
            new[name]["v"] = self._step_voltage(
                mids[name], lin[name] / cm, const[name] / cm, self.dt
            )
        return new, mids

    def _trace_update(self, proj, st, pre, p):
        """SpikeSynapse: the trace after this step's presynaptic spikes."""
        syn = proj.synapse
        spikes = pre[self.net.populations[proj.pre].spike_key]
        key = f"{syn.name}_s"
        if p["per_edge"]:
            spikes = spikes[proj.pre_idx]
        st[key] = syn.update_trace(st[key], spikes, p["s_decay"], self.dt)
        return st[key]

    def _trace_current(self, proj, s, p):
        """(slope, constant) per postsynaptic neuron in nA of a trace ``s`` with any
        leading axes: ``(..., n_pre)`` or ``(..., n_edges)``."""
        syn = proj.synapse
        n_post = self.net.populations[proj.post].n
        if not p["per_edge"] and p["dense"]:
            g = s @ p["G"]
            c = s @ p["GE"] if syn.conductance else None
        else:
            s_edge = s if p["per_edge"] else s[..., proj.pre_idx]
            w = p[f"{syn.name}_gS"] * s_edge

            def gather(w):  # edges on the last axis -> postsynaptic neurons
                return jax.ops.segment_sum(
                    jnp.moveaxis(w, -1, 0), proj.post_idx, n_post
                )

            g = jnp.moveaxis(gather(w), 0, -1)
            c = (
                jnp.moveaxis(gather(w * p[f"{syn.name}_e_syn"]), 0, -1)
                if syn.conductance
                else None
            )
        if syn.conductance:  # I = g (v - e): slope g, constant g e
            return g, c
        return jnp.zeros_like(g), -g  # I = g: a constant outward current

    def _edge_synapse(self, proj, st, v_pre_all, v_post_all, p):
        """A jaxley synapse, per edge: update states, linearise the current."""
        syn = proj.synapse
        n_post = self.net.populations[proj.post].n
        v_pre, v_post = v_pre_all[proj.pre_idx], v_post_all[proj.post_idx]
        sp = {k: p[k] for k in syn.synapse_params}
        upd = syn.update_states(
            _sub(st, syn.synapse_states), self.dt, v_pre, v_post, sp
        )
        st.update(upd)
        ss = _sub(st, syn.synapse_states)
        i0, di = jax.jvp(
            lambda a, b: jnp.broadcast_to(syn.compute_current(ss, a, b, sp), a.shape),
            (v_pre, v_post),
            (jnp.ones_like(v_pre), jnp.ones_like(v_post)),
        )
        g = jax.ops.segment_sum(di, proj.post_idx, n_post)
        c = jax.ops.segment_sum(di * v_post - i0, proj.post_idx, n_post)
        return g, c


def _sub(d: Mapping, keys) -> dict:
    return {k: d[k] for k in keys}


def _chp(p: dict, ch: Any) -> dict:
    out = {k: p[k] for k in ch.channel_params}
    for k in ("radius", "length", "capacitance"):
        out[k] = p[k]
    return out


def compile(  # noqa: A001 - the design's verb
    net: Network,
    dt: float = 0.025,
    *,
    solver: str = "bwd_euler",
    remat: bool = False,
    split_stages: bool = False,
) -> Simulator:
    """Compile ``net`` into a :class:`Simulator`.

    Args:
        net: the network description.
        dt: time step in ms (> 0).
        solver: ``"bwd_euler"`` (default, as jaxley), ``"fwd_euler"``, ``"exp_euler"``.
        remat: recompute each step in the backward pass (``jax.checkpoint``) so
            memory grows slowly with the number of steps.
        split_stages: integrate each group of mutually dependent populations with
            its own scan, in dependency order (:func:`plan_stages`); spike-trace
            currents between groups become one matrix product over all steps.
            Same results; on a CPU the extra loops usually cost more than the
            hoisting saves, so it is off by default.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net: expected a neurosim Network, got {type(net)}.")
    if (
        isinstance(dt, bool)
        or not isinstance(dt, numbers.Real)
        or not (math.isfinite(dt) and dt > 0)
    ):
        raise ValueError(f"dt: expected a positive number of ms, got {dt!r}.")
    for name, flag in (("remat", remat), ("split_stages", split_stages)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name}: expected True or False, got {flag!r}.")
    if solver not in SOLVERS:
        raise unknown("solver", str(solver), list(SOLVERS), "solver: ")
    if not net.populations:
        raise ValueError("net: the network has no populations.")
    return Simulator(net, dt, solver, remat, split_stages)

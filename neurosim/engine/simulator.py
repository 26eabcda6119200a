"""Compile a `Network` into pure JAX functions: `prepare`, `step`, `run`.

    sim = ns.compile(net, dt=0.025)                 # ms
    params = sim.init_params(jax.random.key(0))     # {target: {param: array}}
    state = sim.init_state(params, batch=8)         # steady state
    prep = sim.prepare(params)                      # per-run constants
    state, obs = sim.step(prep, state, {"inp": x_t})
    rec = sim.run(params, {"inp": currents}, t_max=50.0)   # prepare + lax.scan(step)
    rec["out.v"]                                    # (batch, time, neurons), mV
                                                    # (batch, time, cells, n_comp)
                                                    # for cells with a morphology

One step follows jaxley's `Module.step`: (1) external current; (2) every
channel's state from the start-of-step voltage (a spiking channel records its
spikes and resets `v`); (3) channel currents at the possibly reset voltage,
linearised in `v`; (4) synapse states, seeing this step's spikes; (5) synapse
currents; (6) one voltage solve per population. `run` takes
`int(t_max // dt + 1)` steps and returns that many samples plus the initial
state, as `jaxley.integrate`.

The engine calls mechanisms only through their contract
(`neurosim.mechanisms.base`); it knows no mechanism by name.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..mechanisms.base import Presynaptic
from ..morphology import solve
from ..network import POPULATION_PARAMS, Insertion, Network, as_float
from . import checks
from ._index import _add_at, _at, _draw, _set_at
from .cells import _per_comp, _prepare_cells
from .scan import integrate
from .solvers import AFFINE, COEFFICIENTS, SOLVERS
from .types import Observations, Params, Recording, State, StepHook

__all__ = ["Simulator"]

# nA / µm² -> µA / cm²
NA_PER_UM2 = 1e5


@dataclass(frozen=True, eq=False)
class Simulator:
    """A compiled network: pure `init_params`, `init_state`, `prepare`,
    `step` and `run`. Create it with `compile`; it holds a copy of the
    network, so later edits to the network do not change it.

    Attributes:
        net: the network (a private copy).
        dt: step (ms).
        solver: the voltage update (a key of `SOLVERS`, e.g. `"bwd_euler"`).
        remat: recompute steps in the backward pass.
        layouts: per projection, where each synapse state lives
            (`{state: location}`).
        fixed: `{(target, name): value}` of the non-trainable parameters the
            layouts relied on.
        shared: `{(projection, state): (owner, state)}`: presynaptic states
            stored once, under their owner (`Synapse.shared_states`).
    """

    net: Network
    dt: float
    solver: str
    remat: bool
    layouts: dict
    fixed: dict  # {(target, key): value} that layouts relied on
    shared: dict = field(default_factory=dict)
    _compiled: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ parameters
    def init_params(self, key: jax.Array | None = None) -> Params:
        """All parameters as `{target: {name: array}}`; scalars are shared,
        per-element values have `Network.shape` (`(n_pre, n_post)` for an
        all-to-all projection).

        Initialisers (`ns.normal`, `ns.uniform`) draw from `key`: one
        `key, sub = jax.random.split(key)` per initialiser, populations first, then
        projections, in the order they were added.
        """
        params: Params = {}
        for target, el in self._elements():
            out = {}
            for name, value in el.params.items():
                per_element = self.net.trainable.get((target, name), (False, None))[0]
                shape = self.net.shape(target, name)
                if callable(value):
                    if key is None:
                        raise ValueError(
                            f"key: {target}.{name} has a random initialiser; pass "
                            "init_params(jax.random.key(seed))."
                        )
                    key, sub = jax.random.split(key)
                    arr = _draw(value, sub, shape, f"{target}.{name}")
                else:
                    arr = as_float(value)
                    if per_element and arr.ndim == 0:
                        arr = jnp.full(shape, arr)
                out[name] = arr
            params[target] = out
        return params

    def _elements(self):
        yield from self.net.populations.items()
        yield from self.net.projections.items()

    # ------------------------------------------------------------------ state
    def init_state(self, params: Params, batch: int | None = None) -> State:
        """The initial state: voltages and defaults as set on the network, then
        every channel's steady state at that voltage (jaxley's `init_states`).

        Args:
            params: from `init_params`.
            batch: a leading batch axis of this size (default: none).
        """
        dtype = jnp.result_type(float)
        state: State = {}
        for name, pop in self.net.populations.items():
            st = {
                k: jnp.broadcast_to(as_float(v), (self.net.size(name, k),)).astype(
                    dtype
                )
                for k, v in pop.states.items()
            }
            for ins in pop.insertions:
                ch = ins.channel
                chs = {k: st[k] for k in ch.channel_states}
                v = _at(st["v"], ins.index)
                new = ch.init_state(
                    chs, v, self._channel_params(params, name, ins), self.dt
                )
                for k, val in new.items():
                    st[k] = jnp.broadcast_to(val, v.shape).astype(dtype)
            state[name] = st
        for name, proj in self.net.projections.items():
            state[name] = {
                k: jnp.full((proj.conn.size(where),), proj.states[k], dtype)
                for k, where in self.layouts[name].items()
                if (name, k) not in self.shared
            }
        if batch is not None:
            if isinstance(batch, bool) or not isinstance(batch, int) or batch <= 0:
                raise ValueError(f"batch: expected a positive integer, got {batch!r}.")
            state = jax.tree_util.tree_map(
                lambda x: jnp.broadcast_to(x, (batch, *x.shape)), state
            )
        return state

    def _channel_params(self, params: Params, pop: str, ins: Insertion) -> dict:
        p = params[pop]
        out = {k: p[k] for k in ins.channel.channel_params}
        el = self.net.populations[pop]
        for k in POPULATION_PARAMS:
            size = (el.n * el.n_comp,)
            out[k] = _at(jnp.broadcast_to(as_float(p[k]), size), ins.index)
        return out

    # ------------------------------------------------------------------ one step
    def prepare(self, params: Params) -> dict:
        """Per-run constants: areas, capacitances, channel parameters and each
        synapse's `prepare` (dense weight
        matrices, say). Computed once per `run`, outside the scan."""
        prep: dict = {}
        for name, pop in self.net.populations.items():
            p = params[name]
            if pop.morphology is not None:
                prep[name] = _prepare_cells(self.net, pop, p)
            else:
                geo = {
                    k: jnp.broadcast_to(as_float(p[k]), (pop.n,))
                    for k in POPULATION_PARAMS
                }
                prep[name] = {
                    "area": 2.0 * jnp.pi * geo["radius"] * geo["length"],
                    "capacitance": geo["capacitance"],
                }
            prep[name] = {
                **prep[name],
                "channels": {
                    ins.channel.name: self._channel_params(params, name, ins)
                    for ins in pop.insertions
                },
            }
            linear = self._linear(pop, prep[name])
            if linear is not None:
                prep[name]["linear"] = linear
        for name, proj in self.net.projections.items():
            # per-edge values reach the synapse flat (an all-to-all matrix, pre-major)
            raw = {
                k: jnp.reshape(as_float(v), (-1,)) if jnp.ndim(v) == 2 else as_float(v)
                for k, v in params[name].items()
            }
            prep[name] = proj.synapse.prepare(raw, proj.conn, self.layouts[name])
        return prep

    def _linear(self, pop, prep: dict) -> dict | None:
        """Per-run constants of a population whose channel currents are all
        linear (`Channel.linear`): the summed slope `lin` (µA/cm² per mV) and
        offset `const` (µA/cm²) per compartment, and for point cells the
        solver's coefficients for the slope `lin / capacitance`; `None` when a
        channel's current is not linear or the solver keeps its per-step
        arithmetic (`bwd_euler`)."""
        if self.solver not in COEFFICIENTS:
            return None
        cm = prep["capacitance"]
        g, c = jnp.zeros_like(cm), jnp.zeros_like(cm)
        for ins in pop.insertions:
            form = ins.channel.linear(prep["channels"][ins.channel.name])
            if form is None:
                return None
            shape = _at(cm, ins.index).shape
            g_i, c_i = (jnp.broadcast_to(as_float(x), shape) for x in form)
            g, c = _add_at(g, ins.index, g_i), _add_at(c, ins.index, c_i)
        out = {"lin": 1000.0 * g, "const": 1000.0 * c}  # mA/cm² -> µA/cm²
        if pop.morphology is None:
            out["coef"] = COEFFICIENTS[self.solver](out["lin"] / cm, self.dt)
        return out

    def step(
        self, prepared: dict, state: State, inputs_t: Mapping[str, Array]
    ) -> tuple[State, Observations]:
        """One step of the whole network: pure, jit- and grad-able.

        Args:
            prepared: `prepare(params)`.
            state: `init_state(params, batch)` or a previous step's state, with
                or without a leading batch axis.
            inputs_t: this step's input per population, `(n,)` or `(batch, n)`:
                current in nA, or spikes for a population whose channel takes
                input. (`run` adds `net.stimulate` currents; `stimulus` gives
                them.) Cells with a morphology take `(n,)` into each cell's
                spike compartment or `(n * n_comp,)` per compartment.

        Returns:
            `(state, observations)`: the new state and `Observations`, batched
            as `state` was. A batch is `jax.vmap`-ed, so mechanisms always see
            one sample.
        """
        first = next(iter(self.net.populations))
        if jnp.ndim(state[first]["v"]) == 1:
            return self._step(prepared, state, inputs_t)
        return jax.vmap(self._step, in_axes=(None, 0, 0))(prepared, state, inputs_t)

    def _step(
        self,
        prepared: dict,
        state: State,
        inputs_t: Mapping[str, Array],
        given: Mapping[str, tuple] | None = None,
    ):
        """One sample's step; `given` holds this step's `(g, c)` of projections
        whose current was computed for the whole run beforehand
        (`Synapse.spike_current`)."""
        dt = self.dt
        given = {} if given is None else given
        new: State = {t: dict(s) for t, s in state.items()}
        lin, const, mid = {}, {}, {}
        obs = Observations({}, {}, {}, {}, {})
        for name, pop in self.net.populations.items():
            p, st = prepared[name], new[name]
            x = inputs_t.get(name)
            # (1) external input: a current (nA -> µA/cm²) unless a channel takes it
            const_ext = 0.0
            if x is not None and pop.input_channel is None:
                x = _per_comp(pop, x)
                const_ext = x * NA_PER_UM2 / p["area"]
            # (2) channel states, all from the start-of-step voltage
            v0 = v = st["v"]
            for ins in pop.insertions:
                ch = ins.channel
                vs = _at(v0, ins.index)
                out = ch.update(
                    {k: st[k] for k in ch.channel_states},
                    vs,
                    p["channels"][ch.name],
                    dt,
                    x if ch.takes_input else None,
                )
                for k, val in out.states.items():
                    st[k] = jnp.broadcast_to(val, vs.shape).astype(v0.dtype)
                if out.v is not None:
                    v = _set_at(v, ins.index, out.v)
                if out.spikes is not None:  # a cell's spikes: at its spike compartment
                    obs.spikes[name] = _at(
                        _set_at(jnp.zeros_like(v0), ins.index, out.spikes),
                        pop.spike_index,
                    )
                if out.surrogate_grad is not None:
                    obs.surrogate_grad[name] = _at(
                        _set_at(jnp.zeros_like(v0), ins.index, out.surrogate_grad),
                        pop.spike_index,
                    )
            st["v"] = mid[name] = v
            if "linear" in p:  # (3) linear currents: per-run slope and offset
                lin[name] = None  # no slope but the per-run one (so far)
                const[name] = const_ext + p["linear"]["const"]
                continue
            # (3) channel currents at the possibly reset voltage, linearised in v
            lin_ch, const_ch = jnp.zeros_like(v), jnp.zeros_like(v)
            for ins in pop.insertions:
                ch = ins.channel
                chs, chp = {k: st[k] for k in ch.channel_states}, p["channels"][ch.name]
                vs = _at(v, ins.index)
                i0, di = jax.jvp(
                    lambda vv, ch=ch, chs=chs, chp=chp: jnp.broadcast_to(
                        ch.current(chs, vv, chp), vv.shape
                    ),
                    (vs,),
                    (jnp.ones_like(vs),),
                )
                lin_ch = _add_at(lin_ch, ins.index, di)
                const_ch = _add_at(const_ch, ins.index, di * vs - i0)
            lin[name] = 1000.0 * lin_ch  # mA/cm² -> µA/cm²
            const[name] = const_ext + 1000.0 * const_ch
        # (4) synapse states, seeing this step's spikes; (5) synapse currents
        for name, proj in self.net.projections.items():
            syn, conn = proj.synapse, proj.conn
            pre_pop = self.net.populations[proj.pre]
            post_pop = self.net.populations[proj.post]
            pre = Presynaptic(
                obs.spikes.get(proj.pre), _at(mid[proj.pre], pre_pop.spike_index)
            )
            # the postsynaptic compartment of each cell (a point cell: the cell)
            post_at = proj.post_index(post_pop)
            v_post = _at(mid[proj.post], post_at)
            # a shared state: the owner's stored copy, as it was at the start of
            # the step (the owner stores its update; this one's is the same)
            own = {
                k: state[o][ok]
                for (p_, k), (o, ok) in self.shared.items()
                if p_ == name
            }
            states = {**new[name], **own}
            if name in given:  # computed for the whole run, outside the scan
                g, c = given[name]
            else:
                states = {
                    **states,
                    **syn.step(states, pre, v_post, prepared[name], conn, dt),
                }
                g, c = syn.current(states, pre, v_post, prepared[name], conn)
            new[name] = {k: v for k, v in states.items() if k not in own}
            obs.pre[name] = syn.activity(states, pre)
            i_syn = jnp.zeros_like(v_post)  # I = g v - c, outward-positive
            if g is not None:
                i_syn = i_syn + g * v_post
            if c is not None:
                i_syn = i_syn - c
            obs.current[name] = i_syn
            scale = NA_PER_UM2 / _at(prepared[proj.post]["area"], post_at)
            if g is not None:
                if lin[proj.post] is None:  # the per-run slope, per sample
                    base = prepared[proj.post]["linear"]["lin"]
                    lin[proj.post] = jnp.broadcast_to(base, mid[proj.post].shape)
                lin[proj.post] = _add_at(lin[proj.post], post_at, g * scale)
            if c is not None:
                const[proj.post] = _add_at(const[proj.post], post_at, c * scale)
        # (6) one voltage solve per population
        step_v = SOLVERS[self.solver]
        for name, pop in self.net.populations.items():
            cm = prepared[name]["capacitance"]
            b = const[name] / cm
            if lin[name] is None and pop.morphology is None:  # per-run coefficients
                coef = prepared[name]["linear"]["coef"]
                v_new = AFFINE[self.solver](mid[name], b, coef, dt)
                new[name]["v"] = obs.v[name] = v_new
                continue
            if lin[name] is None:
                lin[name] = prepared[name]["linear"]["lin"]
            a = lin[name] / cm
            if pop.morphology is None:
                v_new = step_v(mid[name], a, b, dt)
            else:  # the cable: one implicit solve per cell, (n, n_comp)
                cells = (pop.n, pop.n_comp)
                v_new = solve(
                    mid[name].reshape(cells),
                    jnp.reshape(a, cells),
                    jnp.reshape(b, cells),
                    dt,
                    prepared[name]["coupling"],
                ).reshape(-1)
            new[name]["v"] = obs.v[name] = v_new
        return new, obs

    def per_comp(self, pop: str, x: Array) -> Array:
        """Input `(..., n)` of population `pop` placed at each cell's spike
        compartment, `(..., n * n_comp)`; unchanged for point cells or input
        already per compartment."""
        return _per_comp(self.net.populations[pop], x)

    def stimulus(self, t: Any) -> dict:
        """The `net.stimulate` currents of step `t` (zero past their end),
        `{population: (n,)}` in nA (`(n * n_comp,)`, per compartment, for
        cells of several compartments)."""
        out = {}
        for name, x in self.net.stimuli.items():
            x = as_float(x)
            last = x.shape[0] - 1
            xt = jax.lax.dynamic_index_in_dim(
                x, jnp.minimum(t, last), 0, keepdims=False
            )
            out[name] = jnp.where(t <= last, xt, 0.0)
        return out

    # ------------------------------------------------------------------ run
    def n_steps(self, t_max: float) -> int:
        """Steps taken for `t_max` (ms): `int(t_max // dt + 1)`, as jaxley."""
        return int(t_max // self.dt + 1)

    def times(self, n_samples: int) -> np.ndarray:
        """Time (ms) of each recorded sample: `0, dt, 2 dt, ...`."""
        return np.arange(n_samples) * self.dt

    def run(
        self,
        params: Params,
        inputs: Mapping[str, Float[Array | np.ndarray, "*batch time _"]] | None = None,
        *,
        t_max: float | None = None,
        record: list[str] | None = None,
        state: State | None = None,
        hook: StepHook | None = None,
    ) -> Recording:
        """Integrate the network: `prepare` then one `lax.scan` over `step`.

        Args:
            params: from `init_params` (possibly updated by training).
            inputs: per population, `(batch, time, n)` or `(time, n)`: current
                in nA (or spikes for a spike source); sample `k` drives step
                `k`. Shorter than the run: padded with zeros (as jaxley);
                longer: an error.
            t_max: duration in ms (`n_steps(t_max)` steps); default: one step
                per input sample, or per sample of the longest stimulus when
                there are no inputs.
            record: `["target.state", ...]`; default: the network's recordings
                (`[]` with a `hook`: nothing but its carry).
            state: initial state (default `init_state(params)`, the steady
                state), unbatched or with the inputs' batch axis.
            hook: a `StepHook` whose carry rides along the scan; its final
                value is `Recording.hook_state`.

        Returns:
            A `Recording`; traces have shape `(batch, n_steps + 1, n)`
            (no batch axis if the inputs had none); `v` of cells with a
            morphology: `(batch, n_steps + 1, n, n_comp)`.
        """
        if isinstance(record, str):
            raise TypeError(
                f"record: expected a list of 'target.state', got {record!r}; "
                f"pass record=[{record!r}]."
            )
        specs = tuple(record if record is not None else self.net.recordings)
        if not specs and hook is None:  # with a hook, its carry is the result
            raise ValueError(
                "record: nothing to record; call net.record(target, state) or pass "
                "record=['pop.v']."
            )
        resolved = tuple(self._resolve(s) for s in specs)
        if hook is not None and not isinstance(hook, StepHook):
            raise TypeError(f"hook: expected a StepHook(init, update), got {hook!r}.")
        named: list = []  # (name, value) pairs checked for NaN/inf in one go
        checks.check_params(self.net, params, self.fixed, named)
        inputs, batch, t_in = checks.check_inputs(self.net, inputs, named)
        n_steps = checks.check_n_steps(self.net, self.dt, t_max, t_in)
        if state is not None:
            ref = jax.eval_shape(self.init_state, params)
            shapes = jax.tree_util.tree_map(lambda s: s.shape, ref)
            checks.check_state(state, shapes, batch, named)
        checks.check_finite(named)
        key = (specs, resolved, n_steps, batch is not None, hook, state is None)
        if key not in self._compiled:
            self._compiled[key] = jax.jit(
                functools.partial(
                    integrate, self, resolved, n_steps, batch is not None, hook
                )
            )
        return self._compiled[key](params, inputs, state)

    def _resolve(self, spec: str) -> tuple[str, str, str]:
        """`(target, key, label)`: where the recorded value is stored, and the
        name it is recorded under."""
        target, key = self.net.check_record(spec)
        if (target, key) in self.shared:  # stored once, under its owner
            return (*self.shared[(target, key)], f"{target}.{key}")
        if target in self.net.projections and key not in self.layouts[target]:
            raise ValueError(
                f"record {spec!r}: this synapse stores no {key!r} here (with these "
                "parameters it equals the presynaptic spikes); record "
                f"'{self.net.projections[target].pre}.spikes' instead."
            )
        return target, key, f"{target}.{key}"

"""`run`'s integration loop: one `jax.lax.scan` over the public step."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array

from ..network import as_float
from .types import Observations, Recording, State, StepContext

__all__ = ["input_currents", "integrate"]


def integrate(sim, resolved, n_steps, batched, hook, params, inputs, state):
    """`run`'s body under `jit`: `prepare`, the initial state, one `lax.scan` over
    the batch-vmapped step, the recorded traces and the finiteness status."""
    if not batched:  # one sample: a batch of one, squeezed at the end
        inputs = {k: x[None] for k, x in inputs.items()}
    batch = next(iter(inputs.values())).shape[0] if inputs else 1
    prep = sim.prepare(params)
    if state is None:
        state = sim.init_state(params, batch=batch)
    else:
        ref = sim.init_state(params)
        state = jax.tree_util.tree_map(
            lambda x, r: jnp.broadcast_to(as_float(x), (batch, *r.shape)),
            state,
            ref,
        )
    carry0 = (state, None if hook is None else hook.init(prep, state))

    def inputs_at(t):
        """Step `t`'s inputs (zero past their end) plus stimuli, `(batch, n)`."""
        out = dict(sim.stimulus(t))
        for name, x in inputs.items():
            last = x.shape[1] - 1
            xt = jax.lax.dynamic_index_in_dim(
                x, jnp.minimum(t, last), axis=1, keepdims=False
            )
            xt = jnp.where(t <= last, xt, 0.0)
            if name in out:  # a stimulus (n,) under this input (batch, n)
                xt = sim.per_comp(name, xt)
                xt = xt + jnp.broadcast_to(out[name], xt.shape)
            out[name] = xt
        return {k: jnp.broadcast_to(x, (batch, x.shape[-1])) for k, x in out.items()}

    # each step is vmapped over the batch (the same numbers, sample by sample,
    # as an unbatched run; XLA batches the matrix products)
    step_batch = jax.vmap(sim._step, in_axes=(None, 0, 0, 0))

    def body(carry, xs):
        t, given_t = xs
        st, h = carry
        x_t = inputs_at(t)
        st, obs = step_batch(prep, st, x_t, given_t)
        if hook is not None:
            h = hook.update(h, StepContext(t, x_t, st, obs, prep))
        return (st, h), tuple(_pick(st, obs, r) for r in resolved)

    step = jax.checkpoint(body) if sim.remat else body
    # a (time, batch, n) product outside the scan is memory remat exists to
    # save: with remat the input projections stay inside each step
    given = {} if sim.remat else input_currents(sim, prep, inputs, n_steps)
    (final, h), outs = jax.lax.scan(step, carry0, (jnp.arange(n_steps), given))
    traces = {}
    for r, out in zip(resolved, outs, strict=True):
        first = _pick(state, None, r) if r[1] != "spikes" else jnp.zeros_like(out[0])
        trace = jnp.concatenate(
            [first[:, None].astype(out.dtype), jnp.swapaxes(out, 0, 1)], axis=1
        )
        pop = sim.net.populations.get(r[0])
        if r[1] == "v" and pop is not None and pop.morphology is not None:
            trace = trace.reshape(*trace.shape[:2], pop.n, pop.n_comp)
        traces[r[2]] = trace
    leaves = jax.tree_util.tree_leaves((traces, final))
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))
    status = jnp.where(finite, 0, 1).astype(jnp.int32)
    if not batched:
        squeeze = functools.partial(jax.tree_util.tree_map, lambda x: x[0])
        traces, final = squeeze(traces), squeeze(final)
    return Recording(traces, final, status, h)


def input_currents(sim, prep: dict, inputs: dict, n_steps: int) -> dict:
    """`{projection: (g, c)}`, time-major `(n_steps, batch, n_post)`, of the
    projections whose current follows from `run`'s inputs alone: from a
    population of point cells whose spikes are its input
    (`Channel.spikes_are_input`, on every cell, no stimulus), through a
    synapse that gives its current for a whole spike sequence
    (`Synapse.spike_current`). Each is one large product, outside the scan."""
    out = {}
    for name, proj in sim.net.projections.items():
        pop = sim.net.populations[proj.pre]
        src = pop.spiking
        if (
            src is None
            or not (src.channel.takes_input and src.channel.spikes_are_input)
            or src.index is not None
            or pop.morphology is not None
            or proj.pre not in inputs
            or proj.pre in sim.net.stimuli
        ):
            continue
        x = inputs[proj.pre]  # (batch, time, n_pre); zero past its end
        x = jnp.pad(x, ((0, 0), (0, n_steps - x.shape[1]), (0, 0)))
        cur = proj.synapse.spike_current(x, prep[name], proj.conn)
        if cur is not None:
            out[name] = tuple(None if c is None else jnp.swapaxes(c, 0, 1) for c in cur)
    return out


def _pick(
    state: State, obs: Observations | None, resolved: tuple[str, str, str]
) -> Array:
    """The value `resolved = (target, key, label)` names, from the state or,
    for spikes, the observations."""
    target, key = resolved[:2]
    if key == "spikes" and obs is not None:
        return obs.spikes[target]
    return state[target][key]

"""`run`'s integration loop: one `jax.lax.scan` over the public step."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array

from ..network import as_float
from .types import Observations, Recording, State, StepContext

__all__ = ["integrate"]


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
    step_batch = jax.vmap(sim._step, in_axes=(None, 0, 0))

    def body(carry, t):
        st, h = carry
        x_t = inputs_at(t)
        st, obs = step_batch(prep, st, x_t)
        if hook is not None:
            h = hook.update(h, StepContext(t, x_t, st, obs, prep))
        return (st, h), tuple(_pick(st, obs, r) for r in resolved)

    step = jax.checkpoint(body) if sim.remat else body
    (final, h), outs = jax.lax.scan(step, carry0, jnp.arange(n_steps))
    traces = {}
    for r, out in zip(resolved, outs, strict=True):
        first = _pick(state, None, r) if r[1] != "spikes" else jnp.zeros_like(out[0])
        trace = jnp.concatenate(
            [first[:, None].astype(out.dtype), jnp.swapaxes(out, 0, 1)], axis=1
        )
        pop = sim.net.populations.get(r[0])
        if r[1] == "v" and pop is not None and pop.morphology is not None:
            trace = trace.reshape(*trace.shape[:2], pop.n, pop.n_comp)
        traces[f"{r[0]}.{r[1]}"] = trace
    leaves = jax.tree_util.tree_leaves((traces, final))
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))
    status = jnp.where(finite, 0, 1).astype(jnp.int32)
    if not batched:
        squeeze = functools.partial(jax.tree_util.tree_map, lambda x: x[0])
        traces, final = squeeze(traces), squeeze(final)
    return Recording(traces, final, status, h)


def _pick(state: State, obs: Observations | None, resolved: tuple[str, str]) -> Array:
    target, key = resolved
    if key == "spikes" and obs is not None:
        return obs.spikes[target]
    return state[target][key]

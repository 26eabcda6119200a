"""Synaptic delays: `Delayed`, a wrapper around any spike-driven synapse.

A spike emitted at step `t` reaches the wrapped synapse at step
`t + round(delay / dt)`. The wrapper keeps the last `max_steps` steps of
presynaptic spikes as its own states (a shift register of `max_steps` slots, one
value per presynaptic cell each) and hands the wrapped synapse the spikes of
`round(delay / dt)` steps ago in place of this step's; nothing else changes, so
the wrapped synapse keeps its layout, its dense matrix product and its
parameters. The delay is a parameter like any other: shared (one per
projection) or one per edge, set with `net.set`, drawn by an initialiser or
marked trainable; `max_steps` is static, so changing the delay never recompiles.

**The buffer.** The contract stores a synapse state as one value per
presynaptic cell, edge or postsynaptic cell, so the buffer is `max_steps`
states located `PRE` (`<name>_buffer1` ... `<name>_buffer<max_steps>`: slot
`j` holds the spikes of `j - 1` steps before the current one once the step is
taken), plus one state `<name>_delayed` holding the spikes handed on this step
(per presynaptic cell, or per edge with per-edge delays), which `current` and
`activity` read because they get no `dt`. Memory is `max_steps + 1` values per
presynaptic cell (per edge for `<name>_delayed` with per-edge delays), times
the batch.

**Shared and per-edge delays.** With a shared delay the wrapped synapse sees
one spike vector `(n_pre,)`, so a dense projection stays one matrix product per
step. With one delay per edge each edge gathers its own slot; the wrapped
synapse then sees a projection whose presynaptic cells are the edges (edge `k`
driven by its own delayed spike train, a state per presynaptic cell of the
wrapped synapse becomes one per edge) and sums over the edge list.

**Learnable delays.** `round` has no useful derivative. With
`fractional=True` the delay is relaxed by linear interpolation between the two
neighbouring slots: with `k = delay / dt`, the synapse sees
`(1 - f) * s[t - floor(k)] + f * s[t - floor(k) - 1]`, `f = k - floor(k)`, so
the handed-on spikes, and everything downstream, are piecewise linear in the
delay and `jax.grad` with respect to it exists (`1 / dt` times the difference
of the two neighbouring slots). At a delay that is a whole number of steps the
interpolation weight is exactly zero, so the forward pass is the integer delay.
Linear interpolation is chosen over a Gaussian kernel over slots (as in DCLS)
because it needs no width schedule, reads two slots instead of all of them and
is exact at whole steps; its gradient only sees the neighbouring slots, so a
delay moves a step at a time during training. The interpolation's derivative is
written by hand (`jax.custom_vjp`): the backward pass keeps the buffer and
gathers the two slots again, rather than keeping both gathered slots per edge
and step (`max_steps + 1` values per presynaptic cell instead of two per edge;
`python -m neurosim.bench.delays` prints a training step's temporaries).

Delays are clipped to `[0, max_steps * dt]`: a larger one acts as the maximum
(and a trained delay outside that range gets no gradient).
Only spikes are delayed; the presynaptic voltage handed on is this step's.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .base import EDGE, POST, PRE, Connectivity, Prepared, Presynaptic, Synapse

__all__ = ["Delayed"]


@dataclass(frozen=True, eq=False)
class _EdgeConnectivity(Connectivity):
    """A projection seen per edge: presynaptic cell `k` is edge `k` (no dense
    matrix: the edges are summed onto the postsynaptic cells)."""

    @property
    def fits_dense(self) -> bool:
        return False


def _per_edge(conn: Connectivity) -> Connectivity:
    """`conn` with one presynaptic cell per edge (edge `k` from cell `k`)."""
    return _EdgeConnectivity(
        n_pre=conn.n_edges,
        n_post=conn.n_post,
        pre_idx=np.arange(conn.n_edges),
        post_idx=conn.post_idx,
        all_to_all=False,
    )


def _interpolated(history: Any, steps: Any, cells: Any, max_steps: int) -> Any:
    """`(1 - f) * history[lo, cells] + f * history[hi, cells]` with
    `lo = floor(steps)`, `f = steps - lo`, `hi = min(lo + 1, max_steps)`.

    Its derivative is written by hand so that the backward pass keeps the
    buffer (`max_steps + 1` values per presynaptic cell) rather than the two
    gathered slots (two values per edge for per-edge delays) and gathers them
    again when it needs them.
    """

    def parts(steps):
        lo = jnp.floor(steps)
        frac = steps - lo
        lo = lo.astype(jnp.int32)
        return lo, jnp.minimum(lo + 1, max_steps), frac

    @jax.custom_vjp
    def read(history, steps):
        lo, hi, frac = parts(steps)
        return (1.0 - frac) * history[lo, cells] + frac * history[hi, cells]

    def forward(history, steps):
        return read(history, steps), (history, steps)

    def backward(saved, ct):
        history, steps = saved
        lo, hi, frac = parts(steps)
        d_history = (
            jnp.zeros_like(history)
            .at[lo, cells]
            .add((1.0 - frac) * ct)
            .at[hi, cells]
            .add(frac * ct)
        )
        d_steps = ct * (history[hi, cells] - history[lo, cells])
        if jnp.ndim(steps) == 0:
            d_steps = jnp.sum(d_steps)
        return d_history, d_steps.astype(steps.dtype)

    read.defvjp(forward, backward)
    return read(history, steps)


@dataclass(frozen=True)
class Delayed(Synapse):
    """A spike-driven synapse whose presynaptic spikes arrive `delay` ms late.

    ```python
    syn = ns.Delayed(ns.ExpSynapse(tau=5.0), max_steps=25, delay=1.0)
    net.connect("inp", "hid", syn)
    net.set("inp->hid", "ExpSynapse_delay", delays)  # per edge, in ms
    ```

    The parameters are the wrapped synapse's plus `<name>_delay`; the states
    the wrapped synapse's plus the spike buffer (`<name>_buffer1` ...
    `<name>_buffer<max_steps>`, per presynaptic cell) and `<name>_delayed` (the
    spikes handed on this step). `<name>` is the wrapped synapse's name.

    | parameter      | default | unit | meaning                                 |
    |----------------|---------|------|-----------------------------------------|
    | `<name>_delay` | 0.0     | ms   | delay, shared or one per edge           |

    A delay of 0 gives the wrapped synapse's traces bit for bit.

    Attributes:
        synapse: the wrapped synapse; it must be spike-driven (`needs_spikes`).
        max_steps: the longest delay in steps (static: the buffer's length);
            delays are clipped to `[0, max_steps * dt]`.
        delay: default delay (ms).
        fractional: relax the delay by linear interpolation between the two
            neighbouring buffer slots (for a learnable delay); else the delay is
            `round(delay / dt)` steps.
    """

    needs_spikes = True

    synapse: Synapse
    max_steps: int = 0
    delay: float = 0.0
    fractional: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.synapse, Synapse):
            raise TypeError(
                f"synapse: expected a neurosim synapse (ns.SpikeSynapse(), ...), "
                f"got {self.synapse!r}."
            )
        if not self.synapse.needs_spikes:
            raise TypeError(
                f"synapse: Delayed wraps a spike-driven synapse; "
                f"{type(self.synapse).__name__} does not take spikes."
            )
        if isinstance(self.max_steps, bool) or not isinstance(
            self.max_steps, numbers.Integral
        ):
            raise TypeError(
                f"max_steps: expected a whole number of steps, got {self.max_steps!r}."
            )
        if self.max_steps < 0:
            raise ValueError(f"max_steps: expected >= 0, got {self.max_steps!r}.")
        if not isinstance(self.delay, numbers.Real) or not self.delay >= 0:
            raise ValueError(
                f"delay: expected a number of ms >= 0, got {self.delay!r}."
            )
        if not isinstance(self.fractional, bool):
            raise TypeError(
                f"fractional: expected True or False, got {self.fractional!r}."
            )

    @property
    def name(self) -> str:  # type: ignore[override]
        """The wrapped synapse's name (the prefix of every key)."""
        return self.synapse.name

    def change_name(self, name: str) -> Delayed:
        """A copy whose wrapped synapse is renamed (every key follows)."""
        return dataclasses.replace(self, synapse=self.synapse.change_name(name))

    @property
    def delay_key(self) -> str:
        return f"{self.name}_delay"

    @property
    def delayed_key(self) -> str:
        return f"{self.name}_delayed"

    @property
    def buffer_keys(self) -> tuple[str, ...]:
        """The buffer's slots, newest first."""
        return tuple(f"{self.name}_buffer{j}" for j in range(1, self.max_steps + 1))

    @property
    def synapse_params(self) -> dict[str, float]:
        return {**self.synapse.synapse_params, self.delay_key: self.delay}

    @property
    def synapse_states(self) -> dict[str, float]:
        own = dict.fromkeys((self.delayed_key, *self.buffer_keys), 0.0)
        return {**self.synapse.synapse_states, **own}

    @property
    def positive_params(self) -> tuple[str, ...]:
        """The wrapped synapse's (a delay may be 0)."""
        return self.synapse.positive_params

    def layout(self, conn, per_element, fixed, dt):
        """The wrapped synapse's layout (on the per-edge projection when the
        delay is per edge, its per-cell states then per edge), the buffer per
        presynaptic cell and the handed-on spikes per cell or per edge."""
        per_edge = per_element[self.delay_key]
        inner_per_element = {
            k: v for k, v in per_element.items() if k != self.delay_key
        }
        inner = self.synapse.layout(
            _per_edge(conn) if per_edge else conn, inner_per_element, fixed, dt
        )
        if per_edge:
            inner = {k: POST if w == POST else EDGE for k, w in inner.items()}
        return {
            **inner,
            self.delayed_key: EDGE if per_edge else PRE,
            **dict.fromkeys(self.buffer_keys, PRE),
        }

    def prepare(self, params, conn: Connectivity, layout) -> Prepared:
        per_edge = layout[self.delayed_key] == EDGE
        inner_keys = self.synapse.synapse_states
        inner = self.synapse.prepare(
            {k: v for k, v in params.items() if k != self.delay_key},
            _per_edge(conn) if per_edge else conn,
            {k: w for k, w in layout.items() if k in inner_keys},
        )
        return Prepared(
            {"delay": params[self.delay_key], "inner": inner},
            (("per_edge", per_edge),),
        )

    def _inner(self, states: dict, pre: Presynaptic, prepared, conn):
        """The wrapped synapse's states, its presynaptic view and wiring."""
        inner_states = {
            k: states[k] for k in self.synapse.synapse_states if k in states
        }
        spikes = states[self.delayed_key]
        if prepared.flag("per_edge"):
            return (
                inner_states,
                Presynaptic(spikes, pre.v[conn.pre_idx]),
                _per_edge(conn),
            )
        return inner_states, Presynaptic(spikes, pre.v), conn

    def delayed_spikes(
        self,
        states: dict,
        spikes: Any,
        prepared: Prepared,
        conn: Connectivity,
        dt: float,
    ) -> tuple[Any, dict]:
        """This step's handed-on spikes and the shifted buffer.

        Args:
            states: the wrapper's states before the step.
            spikes: this step's presynaptic spikes `(n_pre,)`.
            prepared: from `prepare`.
            conn: the wiring.
            dt: step (ms).

        Returns:
            The pair `(delayed, buffer)`: the spikes `(n_pre,)` (or
            `(n_edges,)` with per-edge delays) and the buffer's new slots.
        """
        slots = (spikes, *(states[k] for k in self.buffer_keys))
        history = jnp.stack(slots)  # (max_steps + 1, n_pre), newest first
        steps = jnp.clip(prepared["delay"] / dt, 0.0, float(self.max_steps))
        per_edge = prepared.flag("per_edge")
        cells = conn.pre_idx if per_edge else slice(None)
        if self.fractional:
            delayed = _interpolated(history, steps, cells, self.max_steps)
        else:
            delayed = history[jnp.round(steps).astype(jnp.int32), cells]
        return delayed, dict(zip(self.buffer_keys, slots[:-1], strict=True))

    def step(self, states, pre: Presynaptic, v_post, prepared, conn, dt):
        delayed, buffer = self.delayed_spikes(states, pre.spikes, prepared, conn, dt)
        own = {**states, self.delayed_key: delayed}
        inner_states, inner_pre, inner_conn = self._inner(own, pre, prepared, conn)
        new = self.synapse.step(
            inner_states, inner_pre, v_post, prepared["inner"], inner_conn, dt
        )
        return {**new, self.delayed_key: delayed, **buffer}

    def current(self, states, pre, v_post, prepared, conn):
        inner_states, inner_pre, inner_conn = self._inner(states, pre, prepared, conn)
        return self.synapse.current(
            inner_states, inner_pre, v_post, prepared["inner"], inner_conn
        )

    def activity(self, states, pre):
        """The wrapped synapse's activity on the delayed spikes (per edge with
        per-edge delays)."""
        inner_states = {
            k: states[k] for k in self.synapse.synapse_states if k in states
        }
        return self.synapse.activity(
            inner_states, Presynaptic(states[self.delayed_key], pre.v)
        )

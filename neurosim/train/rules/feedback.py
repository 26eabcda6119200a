"""Seed 001's two random-feedback rules for a feed-forward `lif_stack` with a
spiking readout: the error of the output firing rate is sent straight to every
hidden layer through a fixed random matrix (direct feedback alignment), and
the weights move by the error times what each synapse remembers of the run.

- `eligibility_feedback` (the seed's `random_bp_step_eligibility`): every
  synapse keeps an eligibility trace through the run,
  `e_ij,t = gamma e_ij,t-1 + psi_j,t x_i,t` (`gamma = exp(-dt / tau_trace)`,
  `psi` the postsynaptic surrogate derivative, `x` the presynaptic spikes);
  at the end, with the error `err = rate - onehot` (`rate`: the readout's
  spikes per step over the whole run), the readout's update is
  `err_k e_jk,T` and a hidden layer's `(err B^T)_j e_ij,T`.
- `last_window_feedback` (the seed's `random_bp_step`): no per-synapse trace;
  over the last `window` steps each layer keeps the mean presynaptic spikes
  and the mean surrogate derivative, the error is the readout's rate over that
  window minus the one-hot target, `delta = err * mean psi_out`, the readout's
  update `delta_k mean x_j` and a hidden layer's
  `(mean psi_j) (delta B^T)_j mean x_i`.

Both updates are averaged over the batch and expressed in the engine's units
(times `-gain k`, the change of a neuron's voltage per unit of presynaptic
activity and weight: a positive weight inhibits), so they point along the
weights' loss gradient as `jax.grad`'s would. The traces are carried, never
stored per step: memory does not grow with the number of steps. The loss
reported is the cross-entropy of the readout's spike counts (`spike_count`,
the objective `fit` validates with); the updates follow the seed's error.

Differences from the seed's PyTorch code: the engine's synapse trace is set
to 1 by a spike and decays with `tau_syn` (the seed adds `W x` to a decaying
current), the reset is to 0 mV (the seed subtracts the threshold, twice in
its eligibility layer), a spike is decided from the voltage at the start of
the step, and the surrogate derivative is taken before the reset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ...engine.simulator import Simulator
from ...engine.types import StepContext, StepHook
from ..objective import Objective
from .base import WEIGHT, OnlineRule, RuleState, accuracy, check_stack

__all__ = ["FeedbackRule", "eligibility_feedback", "last_window_feedback"]


@dataclass(frozen=True, eq=False)
class FeedbackRule(OnlineRule):
    """Seed 001's random-feedback rules (see the module); build one with
    `eligibility_feedback` or `last_window_feedback`.

    Attributes:
        window: `None` for the eligibility-trace rule, else the number of last
            steps the last-window rule learns from.
        tau_trace: the eligibility trace's time constant (ms).
    """

    window: int | None = None
    tau_trace: float = 20.0

    objective = Objective("spike_count")

    def _pre_pop(self, proj: str) -> str:
        return self.sim.net.projections[proj].pre

    def hook(self, labels: Any, n_steps: int | None = None) -> StepHook:
        """The `StepHook` for `run(..., hook=...)`.

        Args:
            labels: integer classes `(batch,)` of the run's inputs.
            n_steps: the run's number of steps (the last-window rule needs it).

        Returns:
            A `StepHook` whose final carry is a `RuleState` for `finish`.
        """
        if self.window is not None and n_steps is None:
            raise ValueError("n_steps: the last-window rule needs the run's length.")
        del labels
        layers = (*self.hidden, self.readout)
        gamma = math.exp(-self.sim.dt / self.tau_trace)

        def init(prep, state):
            v = state[self.readout]["v"]
            batch, dtype = v.shape[0], v.dtype
            traces: dict = {"gain": {}}
            for pop in layers:
                traces["gain"][pop] = -self.membrane(prep, pop)[1].astype(dtype)
                n_post = self.size(pop)
                if self.window is not None:
                    traces[pop] = jnp.zeros((batch, n_post), dtype)
                for proj in self.incoming(pop):
                    n_pre = self.size(self._pre_pop(proj))
                    shape = (batch, n_pre) + (() if self.window else (n_post,))
                    traces[proj] = jnp.zeros(shape, dtype)
            if self.window is not None:
                traces["window"] = jnp.zeros((batch, self.size(self.readout)), dtype)
            return RuleState(
                traces,
                self.zeros(dtype),
                jnp.zeros((), dtype),
                jnp.zeros((batch, self.size(self.readout)), dtype),
            )

        def update(carry: RuleState, ctx: StepContext) -> RuleState:
            obs = ctx.obs
            traces = dict(carry.traces)
            out = obs.spikes[self.readout]
            if self.window is None:
                for pop in layers:
                    psi = obs.surrogate_grad[pop]
                    for proj in self.incoming(pop):
                        x = obs.spikes[self._pre_pop(proj)]
                        traces[proj] = (
                            gamma * traces[proj] + x[:, :, None] * psi[:, None, :]
                        )
            else:
                w = (ctx.t >= n_steps - self.window).astype(out.dtype)
                traces["window"] = traces["window"] + w * out
                for pop in layers:
                    traces[pop] = traces[pop] + w * obs.surrogate_grad[pop]
                    for proj in self.incoming(pop):
                        x = obs.spikes[self._pre_pop(proj)]
                        traces[proj] = traces[proj] + w * x
            return carry._replace(traces=traces, score=carry.score + out)

        return StepHook(init, update)

    def finish(self, carry: RuleState, labels: Any, n_steps: int):
        """`(grads, loss, accuracy)` at the end of the run: the error times the
        traces (see the module), the spike-count cross-entropy and accuracy."""
        tr, score = carry.traces, carry.score
        batch, n_out = score.shape
        onehot = jax.nn.one_hot(labels, n_out, dtype=score.dtype)
        loss = -jnp.sum(onehot * jax.nn.log_softmax(score, axis=-1)) / batch
        grads = {}
        if self.window is None:
            err = score / n_steps - onehot
            for pop in (*self.hidden, self.readout):
                signal = err if pop == self.readout else err @ self.feedback[pop].T
                for proj in self.incoming(pop):
                    g = jnp.einsum("bj,bij->ij", signal, tr[proj]) / batch
                    grads[proj] = {WEIGHT: g * tr["gain"][pop][None, :]}
        else:
            m = min(self.window, n_steps)
            delta = (tr["window"] / m - onehot) * tr[self.readout] / m
            for pop in (*self.hidden, self.readout):
                signal = delta
                if pop != self.readout:
                    signal = tr[pop] / m * (delta @ self.feedback[pop].T)
                for proj in self.incoming(pop):
                    g = jnp.einsum("bj,bi->ij", signal, tr[proj] / m) / batch
                    grads[proj] = {WEIGHT: g * tr["gain"][pop][None, :]}
        return grads, loss, accuracy(score, labels)


def _feedback(sim, key, readout, scale):
    hidden = check_stack(sim, readout, {"Leak", "Fire"})
    for name, proj in sim.net.projections.items():
        if proj.pre == proj.post:
            raise ValueError(
                f"{name}: seed 001's rules are for feed-forward stacks; use "
                "random_feedback (e-prop) for a recurrent one."
            )
    if not isinstance(key, jax.Array):
        raise TypeError(f"key: expected a JAX random key, got {key!r}.")
    n_out = sim.net.populations[readout].n
    feedback = {}
    for pop in hidden:
        key, sub = jax.random.split(key)
        n = sim.net.populations[pop].n
        feedback[pop] = scale * jax.random.normal(sub, (n, n_out))
    return hidden, feedback


def eligibility_feedback(
    sim: Simulator,
    key: jax.Array,
    *,
    readout: str = "out",
    tau_trace: float = 20.0,
    scale: float = 0.1,
) -> FeedbackRule:
    """Seed 001's eligibility-trace rule (`random_bp_step_eligibility`): every
    synapse's trace of surrogate derivative times presynaptic spikes, times
    the output rate's error sent through a fixed random matrix (see the module).

    Args:
        sim: a compiled feed-forward `lif_stack(..., readout="spiking")`.
        key: a JAX random key for the feedback matrices.
        readout: the spiking readout population.
        tau_trace: the eligibility trace's time constant (ms; the seed's 20).
        scale: `B ~ N(0, scale^2)`, `(n_hidden, n_out)` per hidden layer (the
            seed's 0.1).

    Returns:
        A `FeedbackRule`.

    Examples:
        >>> import jax, neurosim as ns
        >>> sim = ns.compile(ns.lif_stack([4, 8, 2], readout="spiking"), dt=1.0)
        >>> eligibility_feedback(sim, jax.random.key(0)).trained()
        ['in->h1', 'h1->out']
    """
    if not (isinstance(tau_trace, int | float) and tau_trace > 0):
        raise ValueError(f"tau_trace: expected a positive number, got {tau_trace!r}.")
    hidden, feedback = _feedback(sim, key, readout, scale)
    return FeedbackRule(sim, hidden, readout, feedback, None, float(tau_trace))


def last_window_feedback(
    sim: Simulator,
    key: jax.Array,
    *,
    readout: str = "out",
    window: int = 15,
    scale: float = 0.1,
) -> FeedbackRule:
    """Seed 001's last-window rule (`random_bp_step`): the readout's rate
    error over the last `window` steps, times the window's mean surrogate
    derivatives and presynaptic spikes, sent to the hidden layers through a
    fixed random matrix (see the module).

    Args:
        sim: a compiled feed-forward `lif_stack(..., readout="spiking")`.
        key: a JAX random key for the feedback matrices.
        readout: the spiking readout population.
        window: the number of last steps learnt from (the seed's 15).
        scale: `B ~ N(0, scale^2)`, `(n_hidden, n_out)` per hidden layer.

    Returns:
        A `FeedbackRule`.
    """
    if isinstance(window, bool) or not isinstance(window, int | np.integer):
        raise TypeError(f"window: expected a positive integer, got {window!r}.")
    if window < 1:
        raise ValueError(f"window: expected a positive integer, got {window!r}.")
    hidden, feedback = _feedback(sim, key, readout, scale)
    return FeedbackRule(sim, hidden, readout, feedback, int(window))

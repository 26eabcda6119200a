"""e-prop (Bellec et al. 2020) for `lif_stack`s with a leaky readout, with
symmetric (`eprop`) or random (`random_feedback`) feedback.

A rule rides along `Simulator.run`'s scan as a `StepHook`: at every step it
reads what the public `step` exposes (`Observations`: voltages, spikes,
surrogate derivatives, presynaptic activity) and keeps, per synapse, an
eligibility trace; it never stores the history, so its memory does not grow
with the number of steps. At the end of the run, `Recording.hook_state.grads`
holds a gradient estimate shaped like the trainable weights
(`{projection: {"SpikeSynapse_gS": (n_pre, n_post)}}`), which any optax
optimiser takes as it takes `jax.grad`'s output (`fit(..., rule=...)` does so).

The rules are written for the stacks `lif_stack` builds: a spike source,
hidden layers of `Leak` + `Fire` neurons, a leaky readout (`Leak` only), joined
by current-based `SpikeSynapse` projections (optionally recurrent). The loss is
the per-step softmax cross-entropy of the readout voltages, summed over steps
and averaged over samples and steps:
`E = mean_b (1/T) sum_t CE(softmax(y_t), label)`.

For a hidden neuron `j` with presynaptic activity `x_i` (the projection's
trace, `Observations.pre`), one step of the engine is (`bwd_euler`; the other
solvers change only `alpha` and `gain`)

    z_t = H(v_{t-1} - vth)                      (psi_t: its surrogate derivative)
    m_t = v_{t-1} + z_t (vreset - v_{t-1})      (the reset)
    v_t = alpha m_t - gain k sum_i W_ij x_i,t   (a positive weight inhibits)
    s_t = z_t + (1 - z_t) d s_{t-1}             (the outgoing trace, d = 1 - s_decay dt)

and the rule carries the forward derivatives of the neuron's own state,
`ev = dv_j/dW_ij` and `es = ds_j/dW_ij` (Bellec et al. 2020's eligibility
vector; for a current-based LIF both the membrane and the synaptic filter,
and through the reset with the surrogate derivative, as `jax.grad` does):

    dz = psi_t ev_{t-1}
    ev_t = alpha (ev_{t-1} (1 - z_t) + (vreset - v_{t-1}) dz) - gain k x_i,t
    es_t = dz (1 - d s_{t-1}) + (1 - z_t) d es_{t-1}

The eligibility trace is low-pass filtered with the readout's decay `kappa`
(`F_kappa`), `ebar_t = kappa ebar_{t-1} + es_t`, and the update accumulates
`L_j,t ebar_ij,t` with the learning signal
`L_j,t = sum_k B_jk c_k (softmax(y_t) - onehot)_k`, `c_k = -gain_k k_k` the
readout's input gain (negative: outward-positive currents). With symmetric
feedback (`eprop`) `B` is the readout weights `W_out`; with random feedback
(`random_feedback`) a fixed random matrix per hidden layer, sent straight from
the output to every hidden layer (direct feedback alignment, as seed 001's
eligibility rule and "random e-prop"). The readout weights get the exact
gradient (their eligibility `dy_k/dW_jk` is exact: the readout does not fire).

For one non-recurrent hidden layer with symmetric feedback the update is the
BPTT gradient of `E` (through `jax.grad` of `run`) to rounding; with recurrent
or stacked hidden layers it is e-prop's approximation (the paths through other
hidden neurons are dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ...engine.simulator import Simulator
from ...engine.types import StepContext, StepHook
from .base import WEIGHT, OnlineRule, RuleState, accuracy, check_stack

__all__ = ["EProp", "eprop", "random_feedback"]


@dataclass(frozen=True, eq=False)
class EProp(OnlineRule):
    """e-prop on a `lif_stack` with a leaky readout (see the module); build
    one with `eprop` or `random_feedback`."""

    def _decay(self, prep: dict, proj: str):
        """`d = 1 - s_decay dt` of a projection's trace (0: the spikes)."""
        return 1.0 - prep[proj]["s_decay"] * self.sim.dt

    # ------------------------------------------------------------ the hook
    def hook(self, labels: Any, n_steps: int | None = None) -> StepHook:
        """The `StepHook` for `run(..., hook=...)` on a batch with these labels.

        Args:
            labels: integer classes `(batch,)` of the run's inputs.
            n_steps: unused (the update accumulates step by step).

        Returns:
            A `StepHook` whose final carry is a `RuleState`.
        """
        del n_steps
        n_out = self.size(self.readout)
        onehot = jax.nn.one_hot(jnp.asarray(labels), n_out)

        def init(prep, state):
            del prep
            batch = state[self.readout]["v"].shape[0]
            dtype = state[self.readout]["v"].dtype
            traces: dict = {}
            grads: dict = {}
            for pop in (*self.hidden, self.readout):
                n_post = self.size(pop)
                for proj in self.incoming(pop):
                    n_pre = self.size(self.sim.net.projections[proj].pre)
                    zero = jnp.zeros((batch, n_pre, n_post), dtype)
                    names = ("ev", "es", "ebar") if pop != self.readout else ("ev",)
                    traces[proj] = {k: zero for k in names}
                    grads[proj] = {WEIGHT: jnp.zeros((n_pre, n_post), dtype)}
            for pop in self.hidden:
                out = self.outgoing(pop)
                n = self.size(pop)
                s0 = state[out].get("SpikeSynapse_s", jnp.zeros((batch, n), dtype))
                traces[pop] = {"v": state[pop]["v"], "s": s0}
            return RuleState(
                traces, grads, jnp.zeros((), dtype), jnp.zeros((batch, n_out), dtype)
            )

        def update(carry: RuleState, ctx: StepContext) -> RuleState:
            prep, obs = ctx.prepared, ctx.obs
            traces = {k: dict(v) for k, v in carry.traces.items()}
            grads = {k: dict(v) for k, v in carry.grads.items()}
            y = obs.v[self.readout]
            batch = y.shape[0]
            logp = jax.nn.log_softmax(y, axis=-1)
            loss = carry.loss - jnp.sum(onehot * logp) / batch
            delta = (jnp.exp(logp) - onehot) / batch  # dE_t/dy_t
            alpha_o, gk_o = self.membrane(prep, self.readout)
            kappa = jnp.mean(alpha_o)
            for proj in self.incoming(self.readout):  # exact readout gradient
                x = obs.pre[proj]
                ev = alpha_o[None, None, :] * traces[proj]["ev"] - (
                    gk_o[None, None, :] * x[:, :, None]
                )
                traces[proj]["ev"] = ev
                grads[proj][WEIGHT] += jnp.einsum("bk,bjk->jk", delta, ev)
            signal = delta * (-gk_o)[None, :]  # dE_t / d(sum_j W_jk s_j) per output
            for pop in self.hidden:
                if self.feedback is None:
                    b = prep[self.outgoing(pop)]["G"].reshape(-1, y.shape[-1])
                else:
                    b = self.feedback[pop]
                learn = signal @ b.T  # (batch, n_hidden)
                alpha, gk = self.membrane(prep, pop)
                n = y.shape[:1] + alpha.shape
                vreset = jnp.broadcast_to(
                    prep[pop]["channels"]["Fire"]["Fire_vreset"], n
                )
                d = self._decay(prep, self.outgoing(pop))
                z, psi = obs.spikes[pop], obs.surrogate_grad[pop]
                v_prev, s_prev = traces[pop]["v"], traces[pop]["s"]
                for proj in self.incoming(pop):
                    tr = traces[proj]
                    dz = psi[:, None, :] * tr["ev"]
                    mid = (
                        tr["ev"] * (1.0 - z)[:, None, :]
                        + (vreset - v_prev)[:, None, :] * dz
                    )
                    ev = alpha[None, None, :] * mid - (
                        gk[None, None, :] * obs.pre[proj][:, :, None]
                    )
                    es = (
                        dz * (1.0 - d * s_prev)[:, None, :]
                        + ((1.0 - z) * d)[:, None, :] * tr["es"]
                    )
                    ebar = kappa * tr["ebar"] + es
                    traces[proj] = {"ev": ev, "es": es, "ebar": ebar}
                    grads[proj][WEIGHT] += jnp.einsum("bj,bij->ij", learn, ebar)
                traces[pop] = {"v": obs.v[pop], "s": obs.pre[self.outgoing(pop)]}
            return RuleState(traces, grads, loss, carry.score + y)

        return StepHook(init, update)

    def finish(self, carry: RuleState, labels: Any, n_steps: int):
        """`(grads, loss, accuracy)`: the accumulated update and the summed loss
        divided by the number of steps (the gradient of `E`), and the accuracy
        of the time-summed readout voltage."""
        grads = jax.tree_util.tree_map(lambda g: g / n_steps, carry.grads)
        return grads, carry.loss / n_steps, accuracy(carry.score, labels)


def eprop(sim: Simulator, *, readout: str = "out") -> OnlineRule:
    """e-prop with symmetric feedback (Bellec et al. 2020): the learning signal
    of the hidden layer goes back through the readout weights themselves.

    Args:
        sim: a compiled `lif_stack` with one hidden layer (feed-forward or
            recurrent); deeper stacks need `random_feedback`.
        readout: the readout population.

    Returns:
        An `EProp` rule.

    Examples:
        >>> import neurosim as ns
        >>> sim = ns.compile(ns.lif_stack([4, 8, 2]), dt=1.0)
        >>> eprop(sim).trained()
        ['in->h1', 'h1->out']
    """
    hidden = check_stack(sim, readout, {"Leak"})
    rule = EProp(sim, hidden, readout)
    for pop in hidden:
        if sim.net.projections[rule.outgoing(pop)].post != readout:
            raise ValueError(
                f"{pop}: symmetric feedback needs a projection onto {readout!r}; "
                "use random_feedback for stacked hidden layers."
            )
    return rule


def random_feedback(
    sim: Simulator, key: jax.Array, *, readout: str = "out", scale: float = 1.0
) -> OnlineRule:
    """e-prop with fixed random feedback: the output error reaches every hidden
    layer straight through its own random matrix (direct feedback alignment;
    seed 001's eligibility rule, "random e-prop").

    Args:
        sim: a compiled `lif_stack` (any depth, feed-forward or recurrent).
        key: a JAX random key for the feedback matrices.
        readout: the readout population.
        scale: `B ~ N(0, (scale / sqrt(n_hidden))^2)`, the scale of `lif_stack`'s
            readout weights.

    Returns:
        An `EProp` rule whose `feedback` holds the matrices.
    """
    hidden = check_stack(sim, readout, {"Leak"})
    n_out = sim.net.populations[readout].n
    feedback = {}
    for pop in hidden:
        key, sub = jax.random.split(key)
        n = sim.net.populations[pop].n
        feedback[pop] = scale / np.sqrt(n) * jax.random.normal(sub, (n, n_out))
    return EProp(sim, hidden, readout, feedback)

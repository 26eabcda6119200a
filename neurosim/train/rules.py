"""Online learning rules: e-prop and random feedback, without backpropagation
through time.

A rule rides along `Simulator.run`'s scan as a `StepHook`: at every step it
reads what the public `step` exposes (`Observations`: voltages, spikes,
surrogate derivatives, presynaptic activity) and keeps, per synapse, an
eligibility trace; it never stores the history, so its memory does not grow
with the number of steps. At the end of the run, `Recording.hook_state.grads`
holds a gradient estimate shaped like the trainable weights
(`{projection: {"SpikeSynapse_gS": (n_pre, n_post)}}`), which any optax
optimiser takes as it takes `jax.grad`'s output (`fit_online` does so).

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

import functools
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..engine.simulator import NA_PER_UM2, Simulator
from ..engine.solvers import SOLVERS
from ..engine.types import StepContext, StepHook
from ..mechanisms.base import EDGE
from ..mechanisms.jaxley import standard_promotion
from ..mechanisms.synapses import SpikeSynapse

__all__ = [
    "OnlineRule",
    "RuleState",
    "eprop",
    "fit_online",
    "random_feedback",
]

WEIGHT = "SpikeSynapse_gS"


class RuleState(NamedTuple):
    """The carry of a rule's `StepHook` (`Recording.hook_state`).

    Attributes:
        traces: the eligibility vectors and the neurons' previous values.
        grads: `{projection: {"SpikeSynapse_gS": (n_pre, n_post)}}`, the
            accumulated gradient estimate of the summed loss (divide by the
            number of steps for `E`; `OnlineRule.gradients` does).
        loss: the summed per-step cross-entropy, averaged over the batch.
    """

    traces: dict
    grads: dict
    loss: Any


def _channels(sim: Simulator, pop: str) -> set[str]:
    return {type(ins.channel).__name__ for ins in sim.net.populations[pop].insertions}


@dataclass(frozen=True, eq=False)
class OnlineRule:
    """An online learning rule for a compiled `lif_stack` (see the module).

    Build one with `eprop` or `random_feedback`. `hook(labels)` is the
    `StepHook` for `run`; `gradients(params, inputs, labels)` runs once and
    returns the update and the loss.

    Attributes:
        sim: the compiled stack.
        hidden: the hidden (`Leak` + `Fire`) populations, input side first.
        readout: the readout population (`Leak` only).
        feedback: `{hidden population: B (n_hidden, n_out)}` for random
            feedback, or `None` for symmetric feedback (`B = W_out`).
    """

    sim: Simulator
    hidden: tuple[str, ...]
    readout: str
    feedback: dict | None = None

    # ------------------------------------------------------------ structure
    def incoming(self, pop: str) -> list[str]:
        """The projections onto `pop`, in the order they were added."""
        return [n for n, p in self.sim.net.projections.items() if p.post == pop]

    def outgoing(self, pop: str) -> str:
        """The projection carrying `pop`'s learning signal: onto the readout
        if there is one, else the first onto another population."""
        projs = self.sim.net.projections
        onto = [n for n, p in projs.items() if p.pre == pop and p.post != pop]
        direct = [n for n in onto if projs[n].post == self.readout]
        return (direct or onto)[0]

    def trained(self) -> list[str]:
        """Every projection whose weights the rule updates."""
        return [n for pop in (*self.hidden, self.readout) for n in self.incoming(pop)]

    # ------------------------------------------------------------ numbers
    def _membrane(self, prep: dict, pop: str):
        """`(alpha, gain * k)` per neuron: the voltage's decay per step and the
        factor from a presynaptic activity times weight (nA) to the voltage."""
        p = prep[pop]
        n = self.sim.net.populations[pop].n
        cm = jnp.broadcast_to(p["capacitance"], (n,))
        a = 1000.0 * jnp.broadcast_to(p["channels"]["Leak"]["Leak_gLeak"], (n,)) / cm
        solve = SOLVERS[self.sim.solver]
        dt = self.sim.dt
        alpha = solve(jnp.ones_like(a), a, jnp.zeros_like(a), dt)
        gain = solve(jnp.zeros_like(a), a, jnp.ones_like(a), dt)
        k = NA_PER_UM2 / jnp.broadcast_to(p["area"], (n,)) / cm
        return alpha, gain * k

    def _decay(self, prep: dict, proj: str):
        """`d = 1 - s_decay dt` of a projection's trace (0: the spikes)."""
        return 1.0 - prep[proj]["s_decay"] * self.sim.dt

    # ------------------------------------------------------------ the hook
    def hook(self, labels: Any) -> StepHook:
        """The `StepHook` for `run(..., hook=...)` on a batch with these labels.

        Args:
            labels: integer classes `(batch,)` of the run's inputs.

        Returns:
            A `StepHook` whose final carry is a `RuleState`.
        """
        n_out = self.sim.net.populations[self.readout].n
        onehot = jax.nn.one_hot(jnp.asarray(labels), n_out)

        def init(prep, state):
            del prep
            batch = state[self.readout]["v"].shape[0]
            dtype = state[self.readout]["v"].dtype
            traces: dict = {}
            grads: dict = {}
            for pop in (*self.hidden, self.readout):
                n_post = self.sim.net.populations[pop].n
                for proj in self.incoming(pop):
                    n_pre = self.sim.net.populations[
                        self.sim.net.projections[proj].pre
                    ].n
                    zero = jnp.zeros((batch, n_pre, n_post), dtype)
                    names = ("ev", "es", "ebar") if pop != self.readout else ("ev",)
                    traces[proj] = {k: zero for k in names}
                    grads[proj] = {WEIGHT: jnp.zeros((n_pre, n_post), dtype)}
            for pop in self.hidden:
                out = self.outgoing(pop)
                n = self.sim.net.populations[pop].n
                s0 = state[out].get("SpikeSynapse_s", jnp.zeros((batch, n), dtype))
                traces[pop] = {"v": state[pop]["v"], "s": s0}
            return RuleState(traces, grads, jnp.zeros((), dtype))

        def update(carry: RuleState, ctx: StepContext) -> RuleState:
            prep, obs = ctx.prepared, ctx.obs
            traces = {k: dict(v) for k, v in carry.traces.items()}
            grads = {k: dict(v) for k, v in carry.grads.items()}
            y = obs.v[self.readout]
            batch = y.shape[0]
            logp = jax.nn.log_softmax(y, axis=-1)
            loss = carry.loss - jnp.sum(onehot * logp) / batch
            delta = (jnp.exp(logp) - onehot) / batch  # dE_t/dy_t
            alpha_o, gk_o = self._membrane(prep, self.readout)
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
                alpha, gk = self._membrane(prep, pop)
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
            return RuleState(traces, grads, loss)

        return StepHook(init, update)

    def gradients(self, params: dict, inputs: dict, labels: Any) -> tuple[dict, Any]:
        """One run with the rule: the update and the loss `E` (jitted).

        Args:
            params: the stack's parameters.
            inputs: `run`'s inputs, `{population: (batch, time, n)}`.
            labels: integer classes `(batch,)`.

        Returns:
            `(grads, loss)`: `{projection: {"SpikeSynapse_gS": (n_pre, n_post)}}`
            (a gradient of `E`, to be descended) and `E`.
        """
        return _gradients(self, params, inputs, labels)


@functools.partial(jax.jit, static_argnums=0)
def _gradients(rule: OnlineRule, params, inputs, labels):
    rec = rule.sim.run(params, inputs, hook=rule.hook(labels))
    n_steps = next(iter(inputs.values())).shape[1]
    out: RuleState = rec.hook_state
    grads = jax.tree_util.tree_map(lambda g: g / n_steps, out.grads)
    return grads, out.loss / n_steps


def _check_stack(sim: Simulator, readout: str) -> tuple[str, ...]:
    if not isinstance(sim, Simulator):
        raise TypeError(f"sim: expected a compiled Simulator, got {sim!r}.")
    pops = sim.net.populations
    if readout not in pops or _channels(sim, readout) != {"Leak"}:
        raise ValueError(
            f"readout: expected a population with a Leak channel only (a leaky "
            f"readout), got {readout!r}."
        )
    hidden = tuple(n for n in pops if _channels(sim, n) == {"Leak", "Fire"})
    if not hidden:
        raise ValueError("sim: no hidden Leak + Fire population to train.")
    for name, proj in sim.net.projections.items():
        syn = proj.synapse
        if not isinstance(syn, SpikeSynapse) or syn.conductance:
            raise ValueError(
                f"{name}: the online rules need current-based SpikeSynapse "
                f"projections, got {syn!r}."
            )
        if sim.layouts[name].get("SpikeSynapse_s") == EDGE:
            raise ValueError(f"{name}: a per-edge s_decay is not supported.")
        if proj.post not in (*hidden, readout):
            raise ValueError(f"{name}: projects onto {proj.post!r}, not a layer.")
    return hidden


def eprop(sim: Simulator, *, readout: str = "out") -> OnlineRule:
    """e-prop with symmetric feedback (Bellec et al. 2020): the learning signal
    of the hidden layer goes back through the readout weights themselves.

    Args:
        sim: a compiled `lif_stack` with one hidden layer (feed-forward or
            recurrent); deeper stacks need `random_feedback`.
        readout: the readout population.

    Returns:
        An `OnlineRule`.

    Examples:
        >>> import neurosim as ns
        >>> sim = ns.compile(ns.lif_stack([4, 8, 2]), dt=1.0)
        >>> eprop(sim).trained()
        ['in->h1', 'h1->out']
    """
    hidden = _check_stack(sim, readout)
    rule = OnlineRule(sim, hidden, readout)
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
        An `OnlineRule` whose `feedback` holds the matrices.
    """
    hidden = _check_stack(sim, readout)
    n_out = sim.net.populations[readout].n
    feedback = {}
    for pop in hidden:
        key, sub = jax.random.split(key)
        n = sim.net.populations[pop].n
        feedback[pop] = scale / np.sqrt(n) * jax.random.normal(sub, (n, n_out))
    return OnlineRule(sim, hidden, readout, feedback)


def fit_online(
    rule: OnlineRule,
    params: dict,
    x: Any,
    y: Any,
    optimizer: optax.GradientTransformation,
    *,
    input: str = "in",
    epochs: int = 1,
    batch_size: int = 32,
    seed: int = 0,
) -> tuple[dict, list[float]]:
    """Train the weights `rule` updates, one `run` with the rule per batch.

    Each mini-batch is one `sim.run(..., hook=rule.hook(labels))`; the rule's
    update goes through `optimizer` as a gradient would. Only the weights of
    `rule.trained()` change (the time constants stay).

    Args:
        rule: from `eprop` or `random_feedback`.
        params: the stack's parameters.
        x: inputs `(samples, time, n_input)` for population `input`.
        y: integer labels `(samples,)`.
        optimizer: any optax `GradientTransformation`.
        input: the population `x` drives.
        epochs: passes over the data.
        batch_size: samples per batch (reshuffled every epoch from `seed`; a
            last partial batch is dropped).
        seed: the shuffles' seed.

    Returns:
        `(params, losses)`: the trained parameters and each batch's loss `E`.
    """
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim != 3 or y.shape != x.shape[:1]:
        raise ValueError(
            f"x, y: expected (samples, time, n) and (samples,), got {x.shape} and "
            f"{y.shape}."
        )
    n_batches = x.shape[0] // batch_size
    if n_batches == 0:
        raise ValueError(f"batch_size: {batch_size} exceeds the {x.shape[0]} samples.")
    names = rule.trained()
    theta = {n: {WEIGHT: params[n][WEIGHT]} for n in names}
    with standard_promotion():
        opt_state = optimizer.init(theta)

    @jax.jit
    def step(params, theta, opt_state, xb, yb):
        full = {**params, **{n: {**params[n], **theta[n]} for n in names}}
        grads, loss = rule.gradients(full, {input: xb}, yb)
        with standard_promotion():  # optax's code needs standard promotion
            updates, opt_state = optimizer.update(grads, opt_state, theta)
            theta = optax.apply_updates(theta, updates)
        return theta, opt_state, loss

    rng = np.random.default_rng(seed)
    losses: list[float] = []
    for _ in range(epochs):
        order = rng.permutation(x.shape[0])
        for b in range(n_batches):
            idx = order[b * batch_size : (b + 1) * batch_size]
            theta, opt_state, loss = step(params, theta, opt_state, x[idx], y[idx])
            losses.append(float(loss))
    out = {k: dict(v) for k, v in params.items()}
    for n in names:
        out[n][WEIGHT] = theta[n][WEIGHT]
    return out, losses

"""What every online rule shares: the `OnlineRule` base (the network's layers,
their membrane constants, one jitted run with the rule), its `RuleState`, and
the check that a compiled network is a stack the rules can train.

A rule is an optax-like pair riding inside `run`'s scan: `hook(labels,
n_steps)` is a `StepHook` (`init`, `update`) whose carry holds the rule's
traces, and `finish(carry, labels, n_steps)` turns the final carry into
`(grads, loss, accuracy)`, the grads shaped like the trained weights
(`{projection: {"SpikeSynapse_gS": (n_pre, n_post)}}`), so any optax
optimiser applies them as it applies `jax.grad`'s output.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from ...engine.simulator import NA_PER_UM2, Simulator
from ...engine.solvers import SOLVERS
from ...engine.types import StepHook
from ...mechanisms.base import EDGE
from ...mechanisms.synapses import SpikeSynapse
from ..objective import Objective

__all__ = ["WEIGHT", "OnlineRule", "RuleState", "check_stack"]

WEIGHT = "SpikeSynapse_gS"


class RuleState(NamedTuple):
    """The carry of a rule's `StepHook` (`Recording.hook_state`).

    Attributes:
        traces: the rule's per-synapse or per-neuron traces.
        grads: `{projection: {"SpikeSynapse_gS": (n_pre, n_post)}}`, the
            update accumulated so far (e-prop), or zeros until `finish`
            (rules whose error is known only at the end of the run).
        loss: the summed per-step loss, averaged over the batch (e-prop), or 0.
        score: `(batch, n_out)`, the readout summed over the steps (voltages,
            or spike counts): the decoded class is its argmax.
    """

    traces: dict
    grads: dict
    loss: Any
    score: Any


def channels(sim: Simulator, pop: str) -> set[str]:
    """The channel class names of population `pop`."""
    return {type(ins.channel).__name__ for ins in sim.net.populations[pop].insertions}


@dataclass(frozen=True, eq=False)
class OnlineRule:
    """An online learning rule for a compiled `lif_stack` (see the package).

    Attributes:
        sim: the compiled stack.
        hidden: the hidden (`Leak` + `Fire`) populations, input side first.
        readout: the readout population.
        feedback: `{hidden population: B (n_hidden, n_out)}` for random
            feedback, or `None` for symmetric feedback (`B = W_out`).
    """

    sim: Simulator
    hidden: tuple[str, ...]
    readout: str
    feedback: dict | None = None

    # what `evaluate` and `fit`'s validation decode the readout with
    objective = Objective("sum_voltage")

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

    def size(self, pop: str) -> int:
        return self.sim.net.populations[pop].n

    def check_trainable(self, sim: Simulator, trainable: dict) -> None:
        """Raise `ValueError` unless this rule was built for `sim` and updates
        every trainable parameter of `trainable` (`{target: {key: value}}`)."""
        if sim is not self.sim:
            raise ValueError(
                "rule: built for another compiled network; build it from this sim."
            )
        weights = set(self.trained())
        other = [
            f"{target}/{key}"
            for target, keys in trainable.items()
            for key in keys
            if target not in weights or key != WEIGHT
        ]
        if other:
            raise ValueError(
                f"rule: {type(self).__name__} updates the weights of "
                f"{sorted(weights)} only, not the trainable {other}; build the "
                "stack with train_tau=False (and train_vth=False)."
            )

    # ------------------------------------------------------------ numbers
    def membrane(self, prep: dict, pop: str):
        """`(alpha, gain * k)` per neuron: the voltage's decay per step and the
        factor from a presynaptic activity times weight (nA) to the voltage."""
        p = prep[pop]
        n = self.size(pop)
        cm = jnp.broadcast_to(p["capacitance"], (n,))
        a = 1000.0 * jnp.broadcast_to(p["channels"]["Leak"]["Leak_gLeak"], (n,)) / cm
        solve = SOLVERS[self.sim.solver]
        dt = self.sim.dt
        alpha = solve(jnp.ones_like(a), a, jnp.zeros_like(a), dt)
        gain = solve(jnp.zeros_like(a), a, jnp.ones_like(a), dt)
        k = NA_PER_UM2 / jnp.broadcast_to(p["area"], (n,)) / cm
        return alpha, gain * k

    def zeros(self, dtype) -> dict:
        """`{projection: {WEIGHT: zeros (n_pre, n_post)}}` for every trained one."""
        return {
            proj: {
                WEIGHT: jnp.zeros(
                    (
                        self.size(self.sim.net.projections[proj].pre),
                        self.size(self.sim.net.projections[proj].post),
                    ),
                    dtype,
                )
            }
            for proj in self.trained()
        }

    # ------------------------------------------------------------ the rule
    def hook(self, labels: Any, n_steps: int | None = None) -> StepHook:
        """The `StepHook` for `run(..., hook=...)` on a batch with these labels
        and this many steps."""
        raise NotImplementedError

    def finish(
        self, carry: RuleState, labels: Any, n_steps: int
    ) -> tuple[dict, Any, Any]:
        """`(grads, loss, accuracy)` from the hook's final carry."""
        raise NotImplementedError

    def gradients(self, params: dict, inputs: dict, labels: Any) -> tuple[Any, ...]:
        """One run with the rule: the update, the loss and the accuracy (jitted).

        Args:
            params: the stack's parameters.
            inputs: `run`'s inputs, `{population: (batch, time, n)}`.
            labels: integer classes `(batch,)`.

        Returns:
            `(grads, loss, accuracy)`: `{projection: {"SpikeSynapse_gS":
            (n_pre, n_post)}}` (an estimate of the loss's gradient, to be
            descended), the batch's loss and its accuracy.
        """
        return _gradients(self, params, inputs, labels)


@functools.partial(jax.jit, static_argnums=0)
def _gradients(rule: OnlineRule, params, inputs, labels):
    n_steps = next(iter(inputs.values())).shape[1]
    rec = rule.sim.run(params, inputs, record=[], hook=rule.hook(labels, n_steps))
    return rule.finish(rec.hook_state, labels, n_steps)


def accuracy(score, labels):
    """The fraction of samples whose `score` peaks at their label."""
    return jnp.mean((jnp.argmax(score, axis=-1) == labels).astype(score.dtype))


def check_stack(
    sim: Simulator, readout: str, readout_channels: set[str]
) -> tuple[str, ...]:
    """The hidden populations of a stack the rules can train, or an error
    naming what is not: current-based `SpikeSynapse` projections with a
    shared trace, onto `Leak` + `Fire` layers or the readout (whose channels
    must be `readout_channels`)."""
    if not isinstance(sim, Simulator):
        raise TypeError(f"sim: expected a compiled Simulator, got {sim!r}.")
    pops = sim.net.populations
    if readout not in pops or channels(sim, readout) != readout_channels:
        kind = "Leak channel only (a leaky readout)"
        if readout_channels != {"Leak"}:
            kind = "Leak and a Fire channel (a spiking readout)"
        raise ValueError(
            f"readout: expected a population with a {kind}, got {readout!r}."
        )
    hidden = tuple(
        n for n in pops if n != readout and channels(sim, n) == {"Leak", "Fire"}
    )
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

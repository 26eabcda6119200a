"""The pure training step: `make_train_step` and its `StepResult`, and the
optimiser's flat view of the trainable parameters (`flat_view`, `shaped_view`).

`train_step(theta, opt_state, frozen, x, y, apply)` is pure and jitted. It
checks the loss, the gradients and the updated parameters for NaN and
infinities in one compiled reduction; an update that is not finite is not
applied.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ..engine import Simulator
from ..mechanisms.jaxley import standard_promotion
from . import _inputs as checks
from .objective import Objective
from .trainable import get_trainable, set_trainable

__all__ = ["StepResult", "flat_view", "make_train_step", "shaped_view", "step_memory"]


class StepResult(NamedTuple):
    """What `train_step` returns.

    Attributes:
        theta: the trainable parameters, updated, or unchanged when `finite`
            or `apply` is False.
        opt_state: the optimiser state, updated or unchanged as `theta`.
        loss: the batch's loss, before the update.
        accuracy: the batch's accuracy, before the update.
        finite: scalar bool: loss, gradients and updated parameters are all finite.
        finite_leaves: `{"loss": bool, "grads": tree, "params": tree}`, one
            bool per leaf, for naming the culprits.
    """

    theta: Any
    opt_state: Any
    loss: Any
    accuracy: Any
    finite: Any
    finite_leaves: Any


def flat_view(theta: dict) -> dict:
    """The optimiser's view of `theta`: every leaf as a vector (a weight matrix
    pre-major), so optimiser states and the update arithmetic do not depend on
    how a parameter is laid out in `params`."""
    return jax.tree_util.tree_map(lambda v: jnp.reshape(v, (-1,)), theta)


def shaped_view(sim: Simulator, theta: dict) -> dict:
    """`theta` from `flat_view` back in the shapes of `params`."""
    out: dict = {}
    for (target, key), (per_element, _) in sim.net.trainable.items():
        shape = sim.net.shape(target, key) if per_element else None
        v = theta[target][key]
        if shape is None:
            shape = () if jnp.size(v) == 1 else sim.net.shape(target, key)
        out.setdefault(target, {})[key] = jnp.reshape(v, shape)
    return out


def _loss_fn(sim, objective, input_name, t_max, regularizer):
    def loss_fn(theta, frozen, x, y):
        params = set_trainable(sim, frozen, shaped_view(sim, theta))
        rec = sim.run(
            params,
            {input_name: x},
            t_max=t_max,
            record=_records(objective, regularizer),
        )
        loss, acc = objective(rec, y)
        if regularizer is not None:
            loss = loss + regularizer(params, rec)
        return loss, acc

    return loss_fn


def _rule_fn(sim, rule, input_name, t_max):
    """`loss_fn`'s counterpart for an online rule: `((loss, acc), grads)` with
    the rule's update in place of `jax.grad`'s (only `theta`'s leaves)."""

    def rule_fn(theta, frozen, x, y):
        params = set_trainable(sim, frozen, shaped_view(sim, theta))
        if t_max is not None:  # as `run`: zeros after the inputs' end
            x = jnp.pad(
                x, ((0, 0), (0, max(0, sim.n_steps(t_max) - x.shape[1])), (0, 0))
            )
        grads, loss, acc = rule.gradients(params, {input_name: x}, y)
        flat = {
            t: {k: jnp.reshape(grads[t][k], (-1,)) for k in leaves}
            for t, leaves in theta.items()
        }
        return (loss, acc), flat

    return rule_fn


def _records(objective, regularizer):
    extra = list(getattr(regularizer, "records", ()))
    return [objective.record, *[r for r in extra if r != objective.record]]


def make_train_step(
    sim: Simulator,
    optimizer: optax.GradientTransformation,
    objective: Objective,
    *,
    input: str = "in",
    t_max: float | None = None,
    regularizer: Callable | None = None,
    rule: Any = None,
) -> Callable[..., StepResult]:
    """The pure, jitted `train_step(theta, opt_state, frozen, x, y, apply=True)`.

    With an online `rule` (`neurosim.train.rules`), the rule's update of the
    trained weights replaces the BPTT gradient of `objective`'s loss.

    The update is applied only where `apply` is true and the loss, every
    gradient and every updated parameter are finite (one fused reduction, no
    host round trip); otherwise `theta` and `opt_state` come back unchanged.

    Returns:
        `train_step` returning a `StepResult`.
    """
    if rule is None:
        grad_fn = jax.value_and_grad(
            _loss_fn(sim, objective, input, t_max, regularizer), has_aux=True
        )
    else:
        grad_fn = _rule_fn(sim, rule, input, t_max)

    @jax.jit
    def train_step(theta, opt_state, frozen, x, y, apply=True):
        (loss, acc), grads = grad_fn(theta, frozen, x, y)
        with standard_promotion():  # optax's code needs standard promotion
            updates, new_opt_state = optimizer.update(grads, opt_state, theta)
            new_theta = optax.apply_updates(theta, updates)
        leaves = {
            "loss": jnp.isfinite(loss),
            "grads": checks.all_finite(grads),
            "params": checks.all_finite(new_theta),
        }
        finite = jnp.all(jnp.stack(jax.tree_util.tree_leaves(leaves)))
        keep = jnp.logical_and(finite, apply)

        def choose(new, old):
            return jax.tree_util.tree_map(lambda n, o: jnp.where(keep, n, o), new, old)

        return StepResult(
            choose(new_theta, theta),
            choose(new_opt_state, opt_state),
            loss,
            acc,
            finite,
            leaves,
        )

    return train_step


@functools.lru_cache(maxsize=16)
def _cached_train_step(sim, optimizer, objective, input, t_max, regularizer, rule):
    """One compiled step per (simulator, optimizer, objective, ...): a second
    `fit` with the same objects, such as a resume, does not compile again."""
    return make_train_step(
        sim,
        optimizer,
        objective,
        input=input,
        t_max=t_max,
        regularizer=regularizer,
        rule=rule,
    )


def cached_train_step(sim, optimizer, objective, input, t_max, regularizer, rule=None):
    """`make_train_step`'s step, compiled once per hashable set of arguments
    (without the cache when one of them cannot be hashed)."""
    key = (sim, optimizer, objective, input, t_max, regularizer, rule)
    try:
        return _cached_train_step(*key)
    except TypeError:  # something unhashable (a regularizer object): no cache
        return _cached_train_step.__wrapped__(*key)


def leaf_names(leaves: dict) -> list[str]:
    names = [] if bool(leaves["loss"]) else ["loss"]
    for part in ("grads", "params"):
        flat = jax.tree_util.tree_flatten_with_path(leaves[part])[0]
        for path, ok in flat:
            if not bool(ok):
                keys = "/".join(str(getattr(k, "key", k)) for k in path)
                names.append(f"{part}/{keys}")
    return names


def step_memory(
    sim: Simulator,
    params: dict,
    x: Any,
    y: Any,
    *,
    optimizer: optax.GradientTransformation,
    objective: Objective,
    input: str = "in",
    rule: Any = None,
) -> int:
    """The temporary memory (bytes) of `fit`'s compiled training step on a batch
    `(x, y)`: `compiled.memory_analysis().temp_size_in_bytes`, which counts
    neither the arguments (the inputs, the parameters) nor the outputs. With an
    online `rule` it does not grow with the number of steps; under BPTT it does.
    Compiles the step for this batch's shape; runs nothing."""
    step = make_train_step(sim, optimizer, objective, input=input, rule=rule)
    theta = flat_view(get_trainable(sim, params))
    with standard_promotion():
        opt_state = optimizer.init(theta)
    args = (theta, opt_state, params, jnp.asarray(x), jnp.asarray(y), True)
    return int(step.lower(*args).compile().memory_analysis().temp_size_in_bytes)

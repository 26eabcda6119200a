"""`fit`: train the trainable parameters of a compiled network with optax.

    result = ns.fit(sim, params, x_train, y_train, input="in",
                    objective=ns.Objective("max_voltage"),
                    optimizer=optax.adam(1e-3), epochs=10, batch_size=64)
    result.params, result.history["loss"], result.history["val_accuracy"]

`train_step(theta, opt_state, frozen, x, y, apply)` (`neurosim.train.step`) is
pure and jitted; `fit` is the loop around it: shuffled mini-batches (by
`seed`), an optional validation set or split with early stopping, a tqdm
progress bar, a per-epoch history, and atomic, resumable, pickle-free
checkpoints (`neurosim.train.resume` says what is saved and checked). The same
seed gives the same history on the CPU.

Every step checks the loss, the gradients and the updated parameters for NaN
and infinities in one compiled reduction; an update that is not finite is not
applied. `fit` then stops with a `NonFiniteError` (the default) or,
with `on_nonfinite="skip"`, skips that batch and counts it.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from ..datasets._common import check_positive_int, check_seed
from ..engine import Simulator
from ..io import data_fingerprint, save_checkpoint
from ..mechanisms.jaxley import standard_promotion
from . import _inputs as checks
from .evaluate import DEFAULT_OBJECTIVE as DEFAULT_OBJECTIVE
from .evaluate import evaluate, evaluate_batched
from .objective import Objective
from .parallel import fit_devices
from .resume import CHECKPOINT_NAME, HISTORY, expected_meta, resume_from, saved_state
from .resume import LEGACY_CHECKPOINT_NAME as LEGACY_CHECKPOINT_NAME
from .rules import OnlineRule
from .step import StepResult, cached_train_step, flat_view, leaf_names, shaped_view
from .step import make_train_step as make_train_step
from .trainable import count_trainable, get_trainable, set_trainable

__all__ = [
    "FitResult",
    "NonFiniteError",
    "StepResult",
    "evaluate",
    "fit",
    "make_train_step",
]


class NonFiniteError(FloatingPointError):
    """Training produced NaN or an infinity, and `fit` stopped.

    Attributes:
        epoch: the epoch (from 0) of the first non-finite step.
        batch: the batch (from 0) within that epoch.
        leaves: the non-finite quantities: `"loss"`, `"grads/target/key"`,
            `"params/target/key"`.
        params: the last finite parameters (before that batch), full pytree.
        checkpoint: the last good checkpoint (left untouched), or None.
    """

    def __init__(self, message, *, epoch, batch, leaves, params, checkpoint):
        super().__init__(message)
        self.epoch, self.batch, self.leaves = epoch, batch, leaves
        self.params, self.checkpoint = params, checkpoint


@dataclass
class FitResult:
    """What `fit` returns.

    Attributes:
        params: the trained parameters (the best epoch's with `patience`).
        history: one entry per epoch: `loss` and `accuracy` (means over the
            applied batches), `val_loss`/`val_accuracy` with validation,
            `seconds`, `skipped` (batches skipped as non-finite) and
            `diverged` (see `fit`).
        opt_state: the final optimiser state.
        best_epoch: the epoch with the best monitored loss.
    """

    params: dict
    history: dict[str, list]
    opt_state: Any
    best_epoch: int


def _nonfinite_message(epoch, batch, names, ckpt) -> str:
    where = (
        f"the last good checkpoint, {str(ckpt)!r}, is unchanged"
        if ckpt is not None and ckpt.exists()
        else "no checkpoint was written (pass checkpoint_dir= to keep one)"
    )
    return (
        f"fit: non-finite values in epoch {epoch}, batch {batch}: "
        f"{', '.join(names)}. The update was not applied and training stopped; "
        f"{where}; the error's .params holds the last finite parameters. Lower the "
        "learning rate, clip gradients (optax.clip_by_global_norm), check the "
        "inputs, or pass on_nonfinite='skip'."
    )


def fit(
    sim: Simulator,
    params: dict,
    x: Any,
    y: Any,
    *,
    input: str = "in",
    objective: Objective | str = "max_voltage",
    optimizer: optax.GradientTransformation | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    seed: int = 0,
    validation: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    patience: int | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = True,
    t_max: float | None = None,
    regularizer: Callable | None = None,
    max_batches: int | None = None,
    on_nonfinite: str = "raise",
    config: dict | None = None,
    progress: bool = True,
    rule: OnlineRule | None = None,
) -> FitResult:
    """Train `sim`'s trainable parameters (`net.make_trainable`) on `(x, y)`.

    Args:
        sim: a compiled network.
        params: its parameters (`sim.init_params`).
        x: inputs `(samples, time, n_input)` for population `input`
            (currents in nA, or spikes for a `SpikeSource`); real and finite.
        y: integer labels `(samples,)` in `[0, n_classes)`, or per-step
            targets `(samples, time)` for the `per_step` loss.
        input: the population that `x` drives.
        objective: an `Objective` or a loss name (`"max_voltage"`, ...).
        optimizer: any optax `GradientTransformation`; default `adam(1e-3)`.
        epochs: passes over the training data.
        batch_size: samples per mini-batch; mini-batches are reshuffled every
            epoch from `seed`, and a last partial batch is dropped (one
            compiled shape). With more than one visible device each batch
            is split over all of them (`neurosim.train.parallel`: data
            parallel, parameters replicated), so it must be a multiple of
            the device count (else a ValueError).
        seed: a non-negative integer for the shuffles and the split.
        validation: `(x_val, y_val)`, evaluated after every epoch.
        validation_split: instead of `validation`, the fraction of `(x, y)`
            (after one seeded shuffle) held out.
        patience: stop after this many epochs without a better validation loss
            (training loss without validation) and return the best parameters.
        checkpoint_dir: write `checkpoint.npz` there after every epoch
            (atomically, never unpickled: see `neurosim.io`). With
            `resume` an existing one is continued, after checking that it was
            made with the same trainable parameters and optimiser-state
            structure, data (a fingerprint of `x`, `y` and `validation`),
            seed, objective, batch size, validation split, `max_batches`,
            `input`, `t_max` and `config`; any difference raises a
            `CheckpointError` naming it. A non-finite step
            never overwrites it.
        resume: continue from an existing checkpoint (default); False starts over.
        t_max: duration of each run in ms; default: the length of the inputs.
        regularizer: `f(params, recording) -> scalar` added to the loss; may have
            a `records` attribute listing the extra traces it needs.
        max_batches: at most this many batches per epoch (smoke tests).
        on_nonfinite: `"raise"` (default): on the first step whose loss,
            gradients or updated parameters hold NaN or an infinity, stop with
            `NonFiniteError` naming the epoch, the batch and the leaves;
            `"skip"`: leave parameters and optimiser state unchanged for that
            batch, go on, and count it in `history["skipped"]`.
        config: what else defines the run, as a JSON-serialisable dict (learning
            rate, optimiser name, ...). An optax optimiser is a closure: two
            learning rates cannot be told apart from it or from its state, so a
            resume with another learning rate is caught only through `config`.
        progress: show a progress bar.
        rule: an online rule (`neurosim.train.rules`) whose update replaces the
            BPTT gradient (default: BPTT of `objective`'s loss). The trainable
            parameters must be the weights it updates; the history's `loss`
            and `accuracy` are the rule's, validation uses `objective` (pass
            `rule.objective` to decode as the rule does).

    Returns:
        A `FitResult`. `history["diverged"][e]` is True when epoch
        `e`'s loss is finite but above `DIVERGENCE_FACTOR` (1000) times
        `max(|first epoch's loss|, 1)`; a `RuntimeWarning` says so once.

    Raises:
        TypeError: an argument of the wrong type, named in the message.
        ValueError: a bad argument value, named in the message.
        NonFiniteError: a non-finite step with `on_nonfinite="raise"`.
        CheckpointError: a checkpoint in `checkpoint_dir` that cannot be
            resumed (a pickle, damaged, or from another run).
    """
    objective = checks.check_objective(objective)
    optimizer = optax.adam(1e-3) if optimizer is None else optimizer
    optimizer = checks.check_optimizer(optimizer)
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    seed = check_seed("seed", seed)
    validation_split = checks.check_fraction("validation_split", validation_split)
    patience = checks.check_optional_positive_int("patience", patience)
    max_batches = checks.check_optional_positive_int("max_batches", max_batches)
    on_nonfinite = checks.check_choice(
        "on_nonfinite", on_nonfinite, checks.ON_NONFINITE
    )
    config = checks.check_config(config)
    x, y = checks.check_data(x, y, "x, y")
    validation = checks.check_validation(validation)
    kw = dict(input=input, objective=objective, t_max=t_max)
    checks.check_labels(sim, params, x, y, name="y", **kw)
    if validation is not None:
        checks.check_labels(sim, params, *validation, name="validation[1]", **kw)
    fingerprint = data_fingerprint(x, y, *(validation or (None, None)))

    rng = np.random.default_rng(seed)
    if validation is None and validation_split > 0:
        order = rng.permutation(len(x))
        n_val = max(1, int(round(validation_split * len(x))))
        if n_val >= len(x):
            raise ValueError(
                f"validation_split: {validation_split!r} of {len(x)} samples leaves "
                "none for training."
            )
        validation = (x[order[-n_val:]], y[order[-n_val:]])
        x, y = x[order[:-n_val]], y[order[:-n_val]]
    batch_size = min(batch_size, len(x))
    parallel = fit_devices(batch_size)
    n_batches = len(x) // batch_size
    if max_batches is not None:
        n_batches = min(n_batches, max_batches)

    # On the device once; a single full batch is used in its given order (the
    # order of samples does not change a full-batch gradient).
    x_dev, y_dev = jnp.asarray(x), jnp.asarray(y)
    full_batch = n_batches == 1 and batch_size == len(x)
    theta = flat_view(get_trainable(sim, params))
    if count_trainable(theta) == 0:
        raise ValueError("params: nothing is trainable; call net.make_trainable first.")
    if rule is not None:
        if not isinstance(rule, OnlineRule):
            raise TypeError(f"rule: expected an online rule or None, got {rule!r}.")
        rule.check_trainable(sim, theta)
        if regularizer is not None:
            raise ValueError(
                "regularizer: an online rule's update has no regulariser term; "
                "pass regularizer=None with rule=."
            )
    frozen = params
    with standard_promotion():
        opt_state = optimizer.init(theta)
    history: dict[str, list] = {k: [] for k in ("loss", "accuracy", "seconds")}
    history.update(skipped=[], diverged=[])
    if validation is not None:
        history.update(val_loss=[], val_accuracy=[])
    start_epoch, best = 0, (math.inf, 0, theta)
    ckpt = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir else None
    expect = expected_meta(
        seed=seed,
        fingerprint=fingerprint,
        objective=objective,
        batch_size=batch_size,
        validation_split=validation_split,
        max_batches=max_batches,
        input=input,
        t_max=t_max,
        regularizer=regularizer is not None,
        config=config,
    )
    if rule is not None:  # a checkpoint of another rule is not continued
        expect["training"]["rule"] = type(rule).__name__
    if ckpt is not None and resume:
        saved = resume_from(ckpt, theta, opt_state, history, expect, rng)
        if saved is not None:
            theta, opt_state, history, best, start_epoch = saved

    if parallel is not None:  # a copy on every device; batches are split below
        theta, opt_state, frozen = parallel.replicate((theta, opt_state, frozen))
    train_step = cached_train_step(
        sim, optimizer, objective, input, t_max, regularizer, rule
    )
    always = jnp.asarray(True)
    bar = tqdm(
        range(start_epoch, epochs),
        desc="training",
        disable=not progress,
        initial=start_epoch,
        total=epochs,
    )
    for epoch in bar:
        t0 = time.perf_counter()
        order = rng.permutation(len(x))
        steps = []
        apply = always
        for b in range(n_batches):
            if full_batch:  # the same samples every epoch: no copy, no transfer
                xb, yb = x_dev, y_dev
            else:
                idx = jnp.asarray(order[b * batch_size : (b + 1) * batch_size])
                xb, yb = x_dev[idx], y_dev[idx]
            if parallel is not None:
                xb, yb = parallel.shard_batch(xb, yb)
            step = train_step(theta, opt_state, frozen, xb, yb, apply)
            theta, opt_state = step.theta, step.opt_state
            if on_nonfinite == "raise":  # after a bad step, nothing more is applied
                apply = jnp.logical_and(apply, step.finite)
            steps.append(step)
        losses, accs, finite = (
            np.asarray(jax.device_get([getattr(s, k) for s in steps]))
            for k in ("loss", "accuracy", "finite")
        )
        if not finite.all() and on_nonfinite == "raise":
            b = int(np.argmin(finite))
            names = leaf_names(jax.device_get(steps[b].finite_leaves))
            raise NonFiniteError(
                _nonfinite_message(epoch, b, names, ckpt),
                epoch=epoch,
                batch=b,
                leaves=names,
                params=set_trainable(sim, frozen, shaped_view(sim, theta)),
                checkpoint=ckpt if ckpt is not None and ckpt.exists() else None,
            )
        loss = float(np.mean(losses[finite])) if finite.any() else math.nan
        acc = float(np.mean(accs[finite])) if finite.any() else math.nan
        history["loss"].append(loss)
        history["accuracy"].append(acc)
        history["skipped"].append(int(np.sum(~finite)))
        diverged = checks.diverging(loss, history["loss"][0])
        if diverged and not any(history["diverged"]):
            warnings.warn(
                f"fit: the loss diverges: {loss:.4g} in epoch {epoch}, more than "
                f"{checks.DIVERGENCE_FACTOR:g} x max(|first epoch's loss "
                f"{history['loss'][0]:.4g}|, 1). Lower the learning rate.",
                RuntimeWarning,
                stacklevel=2,
            )
        history["diverged"].append(diverged)
        monitor = loss
        if validation is not None:
            ev = evaluate_batched(
                sim,
                set_trainable(sim, frozen, shaped_view(sim, theta)),
                *validation,
                batch_size=max(batch_size, 256),
                **kw,
            )
            history["val_loss"].append(ev["loss"])
            history["val_accuracy"].append(ev["accuracy"])
            monitor = ev["loss"]
        history["seconds"].append(time.perf_counter() - t0)
        if monitor < best[0]:
            best = (monitor, epoch, theta)
        bar.set_postfix(
            {
                k: f"{v[-1]:.4f}"
                for k, v in history.items()
                if HISTORY[k] is float and k != "seconds"
            }
        )
        if ckpt is not None:
            save_checkpoint(
                ckpt,
                saved_state(theta, opt_state, history, best),
                meta=dict(expect, epoch=epoch, rng=rng.bit_generator.state),
            )
        if patience is not None and epoch - best[1] >= patience:
            break
    bar.close()
    if patience is not None:
        theta = best[2]
    return FitResult(
        set_trainable(sim, frozen, shaped_view(sim, theta)), history, opt_state, best[1]
    )

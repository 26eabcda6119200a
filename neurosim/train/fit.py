"""``fit``: train the trainable parameters of a compiled network with optax.

    result = ns.fit(sim, params, x_train, y_train, input="in",
                    objective=ns.Objective("max_voltage"),
                    optimizer=optax.adam(1e-3), epochs=10, batch_size=64)
    result.params, result.history["loss"], result.history["val_accuracy"]

``train_step(theta, opt_state, frozen, x, y)`` is pure and jitted; ``fit`` is the
loop around it: shuffled mini-batches (by ``seed``), an optional validation set
or split with early stopping, a tqdm progress bar, a per-epoch history, and
atomic, resumable checkpoints. The same seed gives the same history on the CPU.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from ..io import load_checkpoint, save_checkpoint
from ..params import count_trainable, get_trainable, set_trainable
from .objective import Objective

__all__ = ["FitResult", "evaluate", "fit", "make_train_step"]

CHECKPOINT_NAME = "checkpoint.pkl"
DEFAULT_OBJECTIVE = Objective()


@dataclass
class FitResult:
    """What :func:`fit` returns: trained ``params``, the per-epoch ``history``
    (``loss``, ``accuracy``, and ``val_loss``/``val_accuracy`` with validation,
    ``seconds``), the final optimiser state and the best epoch."""

    params: dict
    history: dict[str, list[float]]
    opt_state: Any
    best_epoch: int


def _loss_fn(sim, objective, input_name, t_max, regularizer):
    def loss_fn(theta, frozen, x, y):
        params = set_trainable(sim, frozen, theta)
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


def _records(objective, regularizer):
    extra = list(getattr(regularizer, "records", ()))
    return [objective.record, *[r for r in extra if r != objective.record]]


def make_train_step(
    sim: Any,
    optimizer: optax.GradientTransformation,
    objective: Objective,
    *,
    input: str = "in",
    t_max: float | None = None,
    regularizer: Callable | None = None,
):
    """The pure, jitted ``train_step(theta, opt_state, frozen, x, y)`` ->
    ``(theta, opt_state, loss, accuracy)``."""
    loss_fn = _loss_fn(sim, objective, input, t_max, regularizer)

    @jax.jit
    def train_step(theta, opt_state, frozen, x, y):
        (loss, acc), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            theta, frozen, x, y
        )
        updates, opt_state = optimizer.update(grads, opt_state, theta)
        return optax.apply_updates(theta, updates), opt_state, loss, acc

    return train_step


def evaluate(
    sim: Any,
    params: dict,
    x: Any,
    y: Any,
    *,
    input: str = "in",
    objective: Objective | None = None,
    batch_size: int = 256,
    t_max: float | None = None,
) -> dict[str, Any]:
    """Mean loss and accuracy over ``(x, y)`` in batches, and the predictions."""
    objective = objective or DEFAULT_OBJECTIVE
    batch_eval = _batch_eval(sim, objective, input, t_max)
    n = len(x)
    tot_loss = tot_acc = 0.0
    preds = []
    for start in range(0, n, batch_size):
        xb, yb = (
            jnp.asarray(x[start : start + batch_size]),
            jnp.asarray(y[start : start + batch_size]),
        )
        loss, acc, pred = batch_eval(params, xb, yb)
        tot_loss += float(loss) * len(xb)
        tot_acc += float(acc) * len(xb)
        preds.append(np.asarray(pred))
    return {
        "loss": tot_loss / n,
        "accuracy": tot_acc / n,
        "predictions": np.concatenate(preds),
    }


@functools.lru_cache(maxsize=32)
def _batch_eval(sim: Any, objective: Objective, input: str, t_max: float | None):
    """One compiled evaluation per (simulator, objective, input, t_max)."""

    @jax.jit
    def batch_eval(p, xb, yb):
        rec = sim.run(p, {input: xb}, t_max=t_max, record=[objective.record])
        loss, acc = objective(rec, yb)
        return loss, acc, objective.predict(rec)

    return batch_eval


def _check_data(x: Any, y: Any, name: str) -> None:
    if len(x) != len(y):
        raise ValueError(f"{name}: x has {len(x)} samples but y has {len(y)}.")
    if len(x) == 0:
        raise ValueError(f"{name}: no samples.")


def fit(
    sim: Any,
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
    progress: bool = True,
) -> FitResult:
    """Train ``sim``'s trainable parameters (``net.make_trainable``) on ``(x, y)``.

    Args:
        sim: a compiled network. params: its parameters (``sim.init_params``).
        x: inputs ``(samples, time, n_input)`` for population ``input``
            (currents in nA, or spikes for a ``SpikeSource``). y: labels
            ``(samples,)`` or per-step targets ``(samples, time)``.
        objective: an :class:`Objective` or a loss name (``"max_voltage"``, ...).
        optimizer: any optax ``GradientTransformation``; default ``adam(1e-3)``.
        epochs, batch_size: mini-batches are reshuffled every epoch from ``seed``;
            a last partial batch is dropped (one compiled shape).
        validation: ``(x_val, y_val)``; or ``validation_split``: the fraction of
            ``(x, y)`` (after one seeded shuffle) held out.
        patience: stop after this many epochs without a better validation loss
            (training loss without validation) and return the best parameters.
        checkpoint_dir: write ``checkpoint.pkl`` there after every epoch
            (atomically); with ``resume`` an existing one is continued.
        regularizer: ``f(params, recording) -> scalar`` added to the loss; may have
            a ``records`` attribute listing the extra traces it needs.
        max_batches: at most this many batches per epoch (smoke tests).

    Returns:
        A :class:`FitResult`.
    """
    objective = Objective(objective) if isinstance(objective, str) else objective
    optimizer = optax.adam(1e-3) if optimizer is None else optimizer
    _check_data(x, y, "x, y")
    if not (isinstance(epochs, int) and epochs >= 1):
        raise ValueError(f"epochs: expected a positive integer, got {epochs!r}.")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(
            f"validation_split: expected [0, 1), got {validation_split!r}."
        )
    x, y = np.asarray(x), np.asarray(y)
    if not np.all(np.isfinite(x)):
        raise ValueError("x: contains NaN or inf; expected finite inputs.")
    rng = np.random.default_rng(seed)
    if validation is None and validation_split > 0:
        order = rng.permutation(len(x))
        n_val = max(1, int(round(validation_split * len(x))))
        validation = (x[order[-n_val:]], y[order[-n_val:]])
        x, y = x[order[:-n_val]], y[order[:-n_val]]
    if validation is not None:
        _check_data(*validation, "validation")
    batch_size = min(int(batch_size), len(x))
    if batch_size < 1:
        raise ValueError(
            f"batch_size: expected a positive integer, got {batch_size!r}."
        )
    n_batches = len(x) // batch_size
    if max_batches is not None:
        n_batches = max(1, min(n_batches, int(max_batches)))

    # On the device once; a single full batch is used in its given order (the
    # order of samples does not change a full-batch gradient).
    x_dev, y_dev = jnp.asarray(x), jnp.asarray(y)
    full_batch = n_batches == 1 and batch_size == len(x)
    theta = get_trainable(sim, params)
    if count_trainable(theta) == 0:
        raise ValueError("params: nothing is trainable; call net.make_trainable first.")
    frozen = params
    opt_state = optimizer.init(theta)
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "seconds": []}
    if validation is not None:
        history.update(val_loss=[], val_accuracy=[])
    start_epoch, best = 0, (math.inf, 0, theta)
    ckpt = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir else None
    if ckpt is not None and resume and ckpt.exists():
        saved = load_checkpoint(ckpt)

        def shapes(tree):
            leaves, treedef = jax.tree_util.tree_flatten(tree)
            return treedef, [np.shape(v) for v in leaves]

        if shapes(saved["theta"]) != shapes(theta):
            raise ValueError(
                f"checkpoint_dir: {str(ckpt)!r} holds other trainable parameters; "
                "use another directory or resume=False."
            )
        theta, opt_state = saved["theta"], saved["opt_state"]
        history, start_epoch = saved["history"], saved["epoch"] + 1
        best = (saved["best_loss"], saved["best_epoch"], saved["best_theta"])
        rng.bit_generator.state = saved["rng"]

    train_step = make_train_step(
        sim, optimizer, objective, input=input, t_max=t_max, regularizer=regularizer
    )
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
        losses, accs = [], []
        for b in range(n_batches):
            if full_batch:  # the same samples every epoch: no copy, no transfer
                xb, yb = x_dev, y_dev
            else:
                idx = jnp.asarray(order[b * batch_size : (b + 1) * batch_size])
                xb, yb = x_dev[idx], y_dev[idx]
            theta, opt_state, loss, acc = train_step(theta, opt_state, frozen, xb, yb)
            losses.append(loss)
            accs.append(acc)
        loss, acc = (
            float(np.mean(jax.device_get(losses))),
            float(np.mean(jax.device_get(accs))),
        )
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"fit: the loss became {loss} in epoch {epoch}; the last good state is "
                f"{'in ' + str(ckpt) if ckpt else 'lost (no checkpoint_dir)'}. Lower the "
                "learning rate or check the inputs."
            )
        history["loss"].append(loss)
        history["accuracy"].append(acc)
        monitor = loss
        if validation is not None:
            ev = evaluate(
                sim,
                set_trainable(sim, frozen, theta),
                *validation,
                input=input,
                objective=objective,
                batch_size=max(batch_size, 256),
                t_max=t_max,
            )
            history["val_loss"].append(ev["loss"])
            history["val_accuracy"].append(ev["accuracy"])
            monitor = ev["loss"]
        history["seconds"].append(time.perf_counter() - t0)
        if monitor < best[0]:
            best = (monitor, epoch, theta)
        bar.set_postfix(
            {k: f"{v[-1]:.4f}" for k, v in history.items() if k != "seconds"}
        )
        if ckpt is not None:
            save_checkpoint(
                ckpt,
                {
                    "theta": theta,
                    "opt_state": opt_state,
                    "epoch": epoch,
                    "history": history,
                    "rng": rng.bit_generator.state,
                    "best_loss": best[0],
                    "best_epoch": best[1],
                    "best_theta": best[2],
                },
            )
        if patience is not None and epoch - best[1] >= patience:
            break
    bar.close()
    if patience is not None:
        theta = best[2]
    return FitResult(set_trainable(sim, frozen, theta), history, opt_state, best[1])

"""`evaluate`: mean loss, accuracy and predictions of a compiled network over
a data set, in batches, with one compiled evaluation per (simulator,
objective, input, duration)."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..datasets._common import check_positive_int
from ..engine import Simulator
from . import _inputs as checks
from .objective import Objective

__all__ = ["evaluate"]

DEFAULT_OBJECTIVE = Objective()


def evaluate(
    sim: Simulator,
    params: dict,
    x: Any,
    y: Any,
    *,
    input: str = "in",
    objective: Objective | str | None = None,
    batch_size: int = 256,
    t_max: float | None = None,
) -> dict[str, Any]:
    """Mean loss and accuracy over `(x, y)` in batches, and the predictions.

    Args:
        sim: a compiled network.
        params: its parameters.
        x: inputs `(samples, time, n_input)`.
        y: integer labels `(samples,)` (or `(samples, time)` for `per_step`)
            in `[0, n_classes)`.
        input: the input population.
        objective: an `Objective` or loss name (default `max_voltage`).
        batch_size: samples per batch, a positive integer (a last partial
            batch is evaluated too).
        t_max: duration of each run in ms; default: the length of the inputs.

    Returns:
        `{"loss": float, "accuracy": float, "predictions": array}`.

    Raises:
        TypeError: an argument of the wrong type, named in the message.
        ValueError: a bad argument value, named in the message.
    """
    objective = DEFAULT_OBJECTIVE if objective is None else objective
    objective = checks.check_objective(objective)
    batch_size = check_positive_int("batch_size", batch_size)
    x, y = checks.check_data(x, y, "x, y")
    kw = dict(input=input, objective=objective, t_max=t_max)
    checks.check_labels(sim, params, x, y, name="y", **kw)
    return evaluate_batched(sim, params, x, y, batch_size=batch_size, **kw)


def evaluate_batched(sim, params, x, y, *, input, objective, batch_size, t_max):
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
def _batch_eval(sim: Simulator, objective: Objective, input: str, t_max: float | None):
    """One compiled evaluation per (simulator, objective, input, t_max)."""

    @jax.jit
    def batch_eval(p, xb, yb):
        rec = sim.run(p, {input: xb}, t_max=t_max, record=[objective.record])
        loss, acc = objective(rec, yb)
        return loss, acc, objective.predict(rec)

    return batch_eval

"""What a network is trained on: which trace, which loss, which decoding.

An `Objective` turns a `Recording` and labels into a
loss and an accuracy. It is a frozen value, so it can be printed and saved.

| loss           | trace        | labels          | decoding      |
|----------------|--------------|-----------------|---------------|
| `max_voltage`  | `out.v`      | `(batch,)`      | max over time |
| `sum_voltage`  | `out.v`      | `(batch,)`      | sum over time |
| `last_voltage` | `out.v`      | `(batch,)`      | last sample   |
| `spike_count`  | `out.spikes` | `(batch,)`      | spike count   |
| `per_step`     | `out.v`      | `(batch, time)` | every step    |

For `max`/`sum`/`last`/`count` the whole trace is used (initial sample
included, as in jaxley). For `per_step`, recorded sample `k + 1` (after step
`k`) is compared with target `k`; `eval_steps` (a boolean `(time,)` mask)
selects the steps that count for the accuracy (and, with `mask_loss=True`, for
the loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp

from . import losses

__all__ = ["LOSSES", "Objective"]

LOSSES = {
    "max_voltage": ("max", losses.max_voltage_ce),
    "sum_voltage": ("sum", losses.sum_voltage_ce),
    "last_voltage": ("last", losses.last_voltage_ce),
    "spike_count": ("count", losses.spike_count_ce),
    "per_step": (None, losses.per_step_ce),
}


@dataclass(frozen=True, eq=False)
class Objective:
    """Loss and accuracy of a recording.

    Args:
        loss: one of `LOSSES`.
        trace: the recorded `"target.state"` to decode (default `out.v`, or
            `out.spikes` for `spike_count`).
        label_smoothing: for `sum_voltage` (seed 004 uses 0.3).
        eval_steps: for `per_step`: boolean `(time,)` mask of scored steps.
        mask_loss: for `per_step`: also restrict the loss to `eval_steps`.
    """

    loss: str = "max_voltage"
    trace: str | None = None
    label_smoothing: float = 0.0
    eval_steps: Any = None
    mask_loss: bool = False

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(
                f"loss: unknown {self.loss!r}; expected one of {sorted(LOSSES)}."
            )
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(
                f"label_smoothing: expected a value in [0, 1), got {self.label_smoothing!r}."
            )

    @property
    def record(self) -> str:
        if self.trace is not None:
            return self.trace
        return "out.spikes" if self.loss == "spike_count" else "out.v"

    def __call__(self, rec: Any, labels: Any) -> tuple[Any, Any]:
        """`(loss, accuracy)` of a recording against labels."""
        x = rec[self.record]
        kind, fn = LOSSES[self.loss]
        if kind is None:
            steps = jnp.shape(labels)[-1] if jnp.ndim(labels) == 2 else x.shape[1] - 1
            v = x[:, 1 : 1 + steps]
            mask = None if self.eval_steps is None else jnp.asarray(self.eval_steps)
            loss = fn(v, labels, mask if self.mask_loss else None)
            return loss, losses.per_step_accuracy(v, labels, mask)
        if self.loss == "sum_voltage":
            loss = fn(x, labels, label_smoothing=self.label_smoothing)
        else:
            loss = fn(x, labels)
        return loss, losses.accuracy(losses.decode(x, kind), labels)

    def predict(self, rec: Any) -> Any:
        """Predicted classes: `(batch,)`, or `(batch, time)` for `per_step`."""
        x = rec[self.record]
        kind, _ = LOSSES[self.loss]
        if kind is None:
            return jnp.argmax(x[:, 1:], axis=-1)
        return jnp.argmax(losses.decode(x, kind), axis=-1)

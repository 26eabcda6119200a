"""Classification losses, decoders, accuracies and regularisers.

All arrays are batch-major, as everywhere in neurosim:

- readout voltages `v`: `(batch, time, classes)`, in mV;
- spikes: `(batch, time, neurons)`, 0/1 per step;
- labels: integer class indices `(batch,)`, or per-step targets `(batch, time)`.

A *decoder* turns a readout trace into logits `(batch, classes)`:

| kind | logits | used by |
|---|---|---|
| `"max"` | `max_t v[b, t, c]` | `max_voltage_ce` (seed 003) |
| `"count"` | `Σ_t spikes[b, t, c]` | `spike_count_ce` |
| `"sum"` | `Σ_t v[b, t, c]` | `sum_voltage_ce` (spyx's "integral", seed 004) |
| `"last"` | `v[b, T-1, c]` | `last_voltage_ce` |

and each `*_ce` loss is the mean softmax cross-entropy of those logits,
`L = -(1/B) Σ_b log softmax(logits_b)[y_b]`. Shapes and dtypes are checked in
Python, so a mistake raises a `ValueError` naming the argument when the
function is called or traced, not a silent broadcast. Every function returns a
scalar and can be used under `jax.jit`, `jax.grad` and `jax.vmap`.

The package: `decoding` (decoders and accuracies), `cross_entropy` (the
losses), `regularisers` (penalties on rates and decay factors) and `_checks`
(the argument checks they share).

Examples:
    >>> import jax.numpy as jnp
    >>> from neurosim.train.losses import accuracy, decode, max_voltage_ce
    >>> v = jnp.zeros((2, 5, 3)).at[0, 2, 1].set(4.0).at[1, 4, 2].set(4.0)
    >>> labels = jnp.array([1, 2])
    >>> round(float(max_voltage_ce(v, labels)), 3)  # log(1 + 2 e^-4)
    0.036
    >>> float(accuracy(decode(v, "max"), labels))
    1.0
"""

from __future__ import annotations

from .cross_entropy import last_voltage_ce as last_voltage_ce
from .cross_entropy import max_voltage_ce as max_voltage_ce
from .cross_entropy import per_step_ce as per_step_ce
from .cross_entropy import spike_count_ce as spike_count_ce
from .cross_entropy import sum_voltage_ce as sum_voltage_ce
from .decoding import DECODE_KINDS as DECODE_KINDS
from .decoding import accuracy as accuracy
from .decoding import decode as decode
from .decoding import per_step_accuracy as per_step_accuracy
from .regularisers import firing_rate_reg as firing_rate_reg
from .regularisers import spread_penalty as spread_penalty

__all__ = [
    "DECODE_KINDS",
    "accuracy",
    "decode",
    "firing_rate_reg",
    "last_voltage_ce",
    "max_voltage_ce",
    "per_step_accuracy",
    "per_step_ce",
    "spike_count_ce",
    "spread_penalty",
    "sum_voltage_ce",
]

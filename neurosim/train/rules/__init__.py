"""Online learning rules: training a `lif_stack` without backpropagation
through time.

A rule rides along `Simulator.run`'s scan as a `StepHook` (an optax-like
`init`/`update` pair): at every step it reads what the public `step` exposes
(`Observations`: voltages, spikes, surrogate derivatives, presynaptic
activity) and updates its own traces; it never stores the history, so its
memory does not grow with the number of steps. `rule.gradients(params,
inputs, labels)` runs once and returns `(grads, loss, accuracy)`, the grads
shaped like the trained weights, and `fit(..., rule=rule)` trains with them
through any optax optimiser (checkpoints, non-finite checks and history as
with BPTT).

| rule | network | feedback | module |
|---|---|---|---|
| `eprop` | leaky readout, one hidden layer (feed-forward or recurrent) | symmetric: the readout weights | `eprop.py` |
| `random_feedback` | leaky readout, any depth | fixed random per hidden layer (random e-prop) | `eprop.py` |
| `eligibility_feedback` | spiking readout, feed-forward | seed 001's eligibility traces, rate error through fixed random matrices | `feedback.py` |
| `last_window_feedback` | spiking readout, feed-forward | seed 001's last-window rule | `feedback.py` |

`base.py` holds what they share (`OnlineRule`, `RuleState`, the network check).
"""

from .base import OnlineRule as OnlineRule
from .base import RuleState as RuleState
from .eprop import EProp as EProp
from .eprop import eprop as eprop
from .eprop import random_feedback as random_feedback
from .feedback import FeedbackRule as FeedbackRule
from .feedback import eligibility_feedback as eligibility_feedback
from .feedback import last_window_feedback as last_window_feedback

__all__ = [
    "EProp",
    "FeedbackRule",
    "OnlineRule",
    "RuleState",
    "eligibility_feedback",
    "eprop",
    "last_window_feedback",
    "random_feedback",
]

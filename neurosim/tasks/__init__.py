"""The tasks behind `neurosim train TASK`: one file per task, its data, network
and defaults.

`TASKS` maps each name to a `Task` whose `defaults` is a typed,
frozen config (`neurosim.tasks.config`) that checks its own fields;
`run_task` applies overrides through the same checks, trains, scores the
test split and writes `metrics.json`, `training_curve.png` and
`params.npz`. `quick=True` is one set of overrides
(`quick`): one epoch of `QUICK_BATCHES` batches,
scored on `QUICK_SAMPLES` test samples.

| file | task |
|---|---|
| `toy.py` | seed 003 (the demo's circuit and training) |
| `mts_xor.py` | MTS-XOR (seed 000) |
| `yinyang.py`, `digits.py`, `mnist.py` | static data, rate-coded |
| `shd.py` | the Spiking Heidelberg Digits (seed 004) |
| `delay_lag.py` | delay-lag, generated (learnable delays), and its no-delay control |
| `snn.py` | the LIF-stack network, optimiser and training they share |
| `online.py` | `rule=`: seed 001's network trained by an online rule or BPTT (mnist) |
| `config.py` | the typed settings and quick mode |

Examples:
    >>> from neurosim.tasks import TASKS
    >>> sorted(TASKS)
    ['delay-lag', 'delay-lag-no-delays', 'digits', 'mnist', 'mts-xor', 'shd', 'toy', 'yinyang']
    >>> TASKS["shd"].defaults.optimizer
    'lion'
    >>> TASKS["shd"].configure({"batch_size": 0})
    Traceback (most recent call last):
    ...
    ValueError: batch_size: expected an integer >= 1, got 0.
"""

from .config import QUICK_BATCHES as QUICK_BATCHES
from .config import QUICK_SAMPLES as QUICK_SAMPLES
from .config import SnnConfig as SnnConfig
from .config import StaticConfig as StaticConfig
from .config import TaskConfig as TaskConfig
from .mts_xor import MtsXorConfig as MtsXorConfig
from .registry import TASKS as TASKS
from .registry import Task as Task
from .run import run_task as run_task
from .shd import ShdConfig as ShdConfig
from .snn import TaskData as TaskData
from .snn import TaskDataError as TaskDataError
from .snn import TaskDependencyError as TaskDependencyError
from .toy import ToyConfig as ToyConfig

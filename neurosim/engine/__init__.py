"""The engine: `compile` a Network into a `Simulator` (`prepare`, `step`, `run`),
the voltage solvers and the argument checks."""

from .compile import compile as compile
from .simulator import Simulator as Simulator
from .types import Observations as Observations
from .types import Recording as Recording
from .types import StepContext as StepContext
from .types import StepHook as StepHook

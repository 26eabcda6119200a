"""The engine: `compile` a Network into a `Simulator` (`prepare`,
`step`, `run`), the voltage solvers and the argument checks."""

from .simulator import Observations as Observations
from .simulator import Recording as Recording
from .simulator import Simulator as Simulator
from .simulator import StepContext as StepContext
from .simulator import StepHook as StepHook
from .simulator import compile as compile

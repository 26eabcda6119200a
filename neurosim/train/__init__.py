"""Training: losses, objectives and the optax `fit` loop."""

from . import losses as losses
from . import rules as rules
from .fit import FitResult as FitResult
from .fit import NonFiniteError as NonFiniteError
from .fit import StepResult as StepResult
from .fit import evaluate as evaluate
from .fit import fit as fit
from .fit import make_train_step as make_train_step
from .objective import LOSSES as LOSSES
from .objective import Objective as Objective
from .rules import eligibility_feedback as eligibility_feedback
from .rules import eprop as eprop
from .rules import last_window_feedback as last_window_feedback
from .rules import random_feedback as random_feedback
from .step import step_memory as step_memory
from .traces import TraceLoss as TraceLoss
from .traces import fit_traces as fit_traces
from .traces import spike_stats as spike_stats

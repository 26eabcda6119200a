"""neurosim: biophysical compartment simulator with a differentiable spiking layer.

Describe a `Network`, `compile` it, then `init_params` / `run`.
Units: mV, ms, µF/cm², S/cm² (channels), µS (synapses), nA, µm.
"""

from . import datasets as datasets
from .__about__ import __version__ as __version__
from .engine import Observations as Observations
from .engine import Recording as Recording
from .engine import Simulator as Simulator
from .engine import StepContext as StepContext
from .engine import StepHook as StepHook
from .engine import compile as compile
from .interop import from_jaxley as from_jaxley
from .interop import from_nir as from_nir
from .interop import to_nir as to_nir
from .io import CheckpointError as CheckpointError
from .io import checkpoint_meta as checkpoint_meta
from .io import load_checkpoint as load_checkpoint
from .io import load_params as load_params
from .io import save_checkpoint as save_checkpoint
from .io import save_params as save_params
from .layers import lif_stack as lif_stack
from .mechanisms.base import Channel as Channel
from .mechanisms.base import ChannelStep as ChannelStep
from .mechanisms.base import Presynaptic as Presynaptic
from .mechanisms.base import Synapse as Synapse
from .mechanisms.channels import Fire as Fire
from .mechanisms.channels import Leak as Leak
from .mechanisms.channels import SpikeSource as SpikeSource
from .mechanisms.channels import gleak_to_tau as gleak_to_tau
from .mechanisms.channels import tau_to_gleak as tau_to_gleak
from .mechanisms.delays import Delayed as Delayed
from .mechanisms.kernels import AlphaSynapse as AlphaSynapse
from .mechanisms.kernels import ExpSynapse as ExpSynapse
from .mechanisms.surrogate import ArcTan as ArcTan
from .mechanisms.surrogate import Boxcar as Boxcar
from .mechanisms.surrogate import FastSigmoid as FastSigmoid
from .mechanisms.surrogate import Gaussian as Gaussian
from .mechanisms.surrogate import Sigmoid as Sigmoid
from .mechanisms.surrogate import Triangle as Triangle
from .mechanisms.synapses import SpikeSynapse as SpikeSynapse
from .network import AllToAll as AllToAll
from .network import EdgeList as EdgeList
from .network import Network as Network
from .network import OneToOne as OneToOne
from .network import Random as Random
from .network import normal as normal
from .network import step_current as step_current
from .network import uniform as uniform
from .train import NonFiniteError as NonFiniteError
from .train import Objective as Objective
from .train import TraceLoss as TraceLoss
from .train import evaluate as evaluate
from .train import fit as fit
from .train import fit_traces as fit_traces
from .train.trainable import count_trainable as count_trainable
from .train.trainable import get_trainable as get_trainable
from .train.trainable import set_trainable as set_trainable
from .train.trainable import trainable_mask as trainable_mask

"""neurosim: biophysical compartment simulator with a differentiable spiking layer.

Describe a :class:`Network`, :func:`compile` it, then ``init_params`` / ``run``.
Units: mV, ms, µF/cm², S/cm² (channels), µS (synapses), nA, µm.
"""

from . import datasets as datasets
from .__about__ import __version__ as __version__
from .channels import Fire as Fire
from .channels import Leak as Leak
from .channels import SpikeSource as SpikeSource
from .channels import gleak_to_tau as gleak_to_tau
from .channels import tau_to_gleak as tau_to_gleak
from .io import CheckpointError as CheckpointError
from .io import checkpoint_meta as checkpoint_meta
from .io import load_checkpoint as load_checkpoint
from .io import load_params as load_params
from .io import save_checkpoint as save_checkpoint
from .io import save_params as save_params
from .layers import lif_stack as lif_stack
from .network import AllToAll as AllToAll
from .network import EdgeList as EdgeList
from .network import Network as Network
from .network import OneToOne as OneToOne
from .network import Random as Random
from .network import normal as normal
from .network import step_current as step_current
from .network import uniform as uniform
from .params import count_trainable as count_trainable
from .params import get_trainable as get_trainable
from .params import set_trainable as set_trainable
from .params import trainable_mask as trainable_mask
from .simulate import Recording as Recording
from .simulate import Simulator as Simulator
from .simulate import compile as compile
from .surrogate import ArcTan as ArcTan
from .surrogate import Boxcar as Boxcar
from .surrogate import FastSigmoid as FastSigmoid
from .surrogate import Gaussian as Gaussian
from .surrogate import Sigmoid as Sigmoid
from .surrogate import Triangle as Triangle
from .synapses import SpikeSynapse as SpikeSynapse
from .train import NonFiniteError as NonFiniteError
from .train import Objective as Objective
from .train import evaluate as evaluate
from .train import fit as fit

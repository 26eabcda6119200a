"""Test session setup: float64 by default, a headless plot backend, small networks.

Tests that need float32 switch x64 off locally with ``jax.enable_x64(False)``.
"""

import os

import jax
import matplotlib
import numpy as np
import pytest
from hypothesis import settings

import neurosim as ns
from neurosim.examples import seed003_network

matplotlib.use("Agg")
jax.config.update("jax_enable_x64", True)
# Strict promotion: a silent float32/float64 mix or an implicit rank broadcast in
# neurosim's code is an error. jaxley's own code needs standard promotion; tests
# that run it opt out with @pytest.mark.standard_promotion (the fixture below).
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture(autouse=True)
def _promotion(request):
    if request.node.get_closest_marker("standard_promotion") is None:
        yield
        return
    with jax.numpy_dtype_promotion("standard"), jax.numpy_rank_promotion("allow"):
        yield


# With radius 1 µm this length gives an area 2 pi r L of 1e5 µm², so 1 nA of
# current is 1 µA/cm² (the seed's units).
SEED_LENGTH = 1.0 / (2 * np.pi * 1e-5)


def _lif(vth: float = 1.0) -> list:
    return [ns.Leak(gLeak=0.01, eLeak=0.0), ns.Fire(vth=vth, vreset=0.0)]


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    """The dtype under test; float32 switches x64 off for the test only."""
    with jax.enable_x64(request.param == "float64"):
        yield jax.numpy.dtype(request.param)


@pytest.fixture
def tiny_net() -> ns.Network:
    """inp (3, LIF) -> hid (2, LIF) -> out (2, Leak), gS = -20 µS (excitatory).

    Seed units (area 1e5 µm², vth = 1 mV); records out.v.
    """
    net = ns.Network()
    net.add_population("inp", 3, _lif(), length=SEED_LENGTH, v=0.0)
    net.add_population("hid", 2, _lif(), length=SEED_LENGTH, v=0.0)
    net.add_population(
        "out", 2, [ns.Leak(gLeak=0.01, eLeak=0.0)], length=SEED_LENGTH, v=0.0
    )
    net.connect("inp", "hid", ns.SpikeSynapse(gS=-20.0))
    net.connect("hid", "out", ns.SpikeSynapse(gS=-20.0))
    net.record("out", "v")
    return net


@pytest.fixture
def seed_net() -> ns.Network:
    """The seed-003 network: 100 LIF inputs onto 2 leaky outputs, gS ~ N(0, 10)."""
    return _seed_net()


@pytest.fixture(scope="module")
def seed_sim() -> ns.Simulator:
    """``seed_net`` compiled at dt = 0.01 ms, shared by a module's tests so that its
    jitted runs compile once (a Simulator copies its network: it cannot be edited)."""
    return ns.compile(_seed_net(), dt=0.01)


def _seed_net() -> ns.Network:
    return seed003_network(n_hidden=0, trainable=False)


# Hypothesis: a quick profile by default; `HYPOTHESIS_PROFILE=ci` runs longer.
settings.register_profile("quick", max_examples=15, deadline=None, derandomize=True)
settings.register_profile("ci", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))

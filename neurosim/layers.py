"""SNN layer stacks as ordinary Networks (sugar; no stepping code of its own).

`lif_stack([784, 128, 10])` builds populations `in` (spike source),
`h1` ... (Leak + Fire) and `out` (leaky readout, or spiking), joined by
all-to-all `SpikeSynapse` projections (optionally recurrent). It returns a
`Network`; compile and run it like any other.

In these stacks every compartment has area 1e5 µm² (so 1 nA is 1 µA/cm²),
capacitance 1 µF/cm², rest and reset at 0 mV, and the synaptic trace lasts
`tau_syn` (default: one step, `s_decay = 1/dt`, so the trace equals the
presynaptic spikes). A weight `gS` [µS] is a current-based synapse:
positive values inhibit, negative values excite.

Examples:
    >>> import neurosim as ns
    >>> net = ns.lif_stack([20, 16, 3], recurrent=True, dt=1.0)
    >>> sorted(net.populations)
    ['h1', 'in', 'out']
    >>> [p for p in net.projections]
    ['in->h1', 'h1->h1', 'h1->out']
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from .mechanisms.channels import Fire, Leak, SpikeSource, tau_to_gleak
from .mechanisms.surrogate import FastSigmoid
from .mechanisms.synapses import SpikeSynapse
from .network import Network, normal
from .transforms import DecayFactor, Softplus

__all__ = ["LENGTH_UNIT_AREA", "lif_stack"]

# Compartment length (µm) giving area 2 pi r L = 1e5 µm² at radius 1 µm.
LENGTH_UNIT_AREA = 1.0 / (2.0 * math.pi * 1e-5)


def lif_stack(
    sizes: Sequence[int],
    *,
    dt: float = 1.0,
    recurrent: bool = False,
    tau_mem: float = 20.0,
    tau_out: float | None = None,
    tau_syn: float | None = None,
    vth: float = 1.0,
    readout: str = "leaky",
    train_tau: bool = True,
    train_vth: bool = False,
    per_neuron: bool = True,
    init_gain: float = 1.0,
    recurrent_gain: float = 0.5,
    surrogate: Any = None,
) -> Network:
    """A feed-forward or recurrent stack of LIF layers.

    Args:
        sizes: `[n_in, n_hidden_1, ..., n_out]` (at least input and output).
        dt: the step (ms) the stack will be compiled with (the default
            `tau_syn`).
        recurrent: add an all-to-all projection from each hidden layer onto itself.
        tau_mem: hidden membrane time constant (ms).
        tau_out: the readout's membrane time constant (ms; default `tau_mem`).
        tau_syn: synaptic trace time constant (ms; default `dt`: the trace is
            the spike train); every projection gets `s_decay = 1 / tau_syn`.
        vth: threshold (mV); reset and rest are 0 mV.
        readout: `"leaky"` (Leak only, read its voltage) or `"spiking"`.
        train_tau: make `Leak_gLeak` trainable in decay form
            (`alpha = exp(-dt / tau)`).
        train_vth: make `Fire_vth` trainable (softplus form) in every layer
            that fires.
        per_neuron: one tau / threshold per neuron (else one per layer).
        init_gain: feed-forward weights `gS ~ N(0, (init_gain / sqrt(fan_in))^2)`
            µS.
        recurrent_gain: the same for the recurrent weights (fan-in: the layer's
            size).
        surrogate: the Fire surrogate (default `FastSigmoid(slope=10)`).

    Returns:
        A Network recording `out.v` (and `out.spikes` for a spiking readout).
    """
    try:
        listed = list(sizes)
    except TypeError:
        listed = None
    if listed is None or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in listed
    ):
        raise TypeError(f"sizes: expected a list of layer sizes, got {sizes!r}.")
    sizes = [int(s) for s in listed]
    if len(sizes) < 2 or any(s <= 0 for s in sizes):
        raise ValueError(f"sizes: expected >= 2 positive layer sizes, got {sizes}.")
    if readout not in ("leaky", "spiking"):
        raise ValueError(f"readout: expected 'leaky' or 'spiking', got {readout!r}.")
    for name, value in (
        ("dt", dt),
        ("tau_mem", tau_mem),
        ("tau_out", tau_out),
        ("tau_syn", tau_syn),
        ("vth", vth),
        ("init_gain", init_gain),
        ("recurrent_gain", recurrent_gain),
    ):
        if value is None and name in ("tau_out", "tau_syn"):
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not (math.isfinite(value) and value > 0)
        ):
            raise ValueError(
                f"{name}: expected a positive finite number, got {value!r}."
            )
    surrogate = FastSigmoid() if surrogate is None else surrogate
    s_decay = 1.0 / (dt if tau_syn is None else tau_syn)
    fire = Fire(vth=vth, vreset=0.0, surrogate=surrogate)
    net = Network()
    geometry = {"length": LENGTH_UNIT_AREA, "radius": 1.0, "v": 0.0}
    net.add_population("in", sizes[0], [SpikeSource()], **geometry)
    names = [f"h{i}" for i in range(1, len(sizes) - 1)] + ["out"]
    pre = "in"
    for i, (name, n) in enumerate(zip(names, sizes[1:], strict=True)):
        is_out = name == "out"
        tau = (tau_out or tau_mem) if is_out else tau_mem
        channels = [Leak(gLeak=tau_to_gleak(tau), eLeak=0.0)]
        if not is_out or readout == "spiking":
            channels.append(fire)
        net.add_population(name, n, channels, **geometry)
        proj = net.connect(pre, name, SpikeSynapse(s_decay=s_decay))
        net.set(proj, "SpikeSynapse_gS", normal(0.0, init_gain / math.sqrt(sizes[i])))
        net.make_trainable(proj, "SpikeSynapse_gS", per_element=True)
        if recurrent and not is_out:
            rec = net.connect(name, name, SpikeSynapse(s_decay=s_decay))
            net.set(rec, "SpikeSynapse_gS", normal(0.0, recurrent_gain / math.sqrt(n)))
            net.make_trainable(rec, "SpikeSynapse_gS", per_element=True)
        if train_tau:
            net.make_trainable(
                name, "Leak_gLeak", per_element=per_neuron, transform=DecayFactor()
            )
        if train_vth and len(channels) > 1:
            net.make_trainable(
                name, "Fire_vth", per_element=per_neuron, transform=Softplus()
            )
        pre = name
    net.record("out", "v")
    if readout == "spiking":
        net.record("out", "spikes")
    return net

# %% [markdown]
# # 1. Build a circuit
#
# A neurosim `Network` is a plain description: **populations** of point
# compartments, each with its channels, joined by **projections**, each with its
# synapse. `ns.compile` turns it into pure JAX functions; `sim.run` integrates it.
#
# Here three Hodgkin-Huxley neurons (jaxley's `HH` channel, inserted unchanged)
# drive five leaky integrate-and-fire (LIF) neurons through jaxley's
# conductance-based `IonotropicSynapse`; those drive two more LIF neurons through
# neurosim's `SpikeSynapse`. Units are jaxley's: mV, ms, µF/cm², S/cm² for
# channels, µS for synapses, nA for currents.
#
# Run it as a script (`python tutorials/01_build_a_circuit.py [--quick] [--out DIR]`)
# or open it as a notebook with jupytext.

# %%
import argparse
from pathlib import Path

import jax
import matplotlib.pyplot as plt
import numpy as np
from jaxley.channels import HH
from jaxley.synapses import IonotropicSynapse

import neurosim as ns
from neurosim import plot

HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()
parser = argparse.ArgumentParser(description="Build, run and plot a small circuit.")
parser.add_argument("--out", type=Path, default=HERE / "out", help="figure folder")
parser.add_argument("--quick", action="store_true", help="a shorter simulation")
parser.add_argument("--figures", type=Path, help="also write voltage_traces.png here")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments
args.out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## Membrane time constant and leak conductance
#
# A LIF neuron is a `Leak` channel plus a `Fire` channel (threshold and reset).
# `Leak` takes a conductance, not a time constant; the two are related by
# τ_m [ms] = 1e-3 · C [µF/cm²] / gLeak [S/cm²], which `ns.tau_to_gleak` and
# `ns.gleak_to_tau` compute (capacitance defaults to 1 µF/cm²).

# %%
g_fast, g_slow = ns.tau_to_gleak(10.0), ns.tau_to_gleak(20.0)  # S/cm²
print(f"tau_m = 10 ms <-> gLeak = {g_fast:g} S/cm²; back: {ns.gleak_to_tau(g_fast)} ms")


def lif(g_leak):
    return [ns.Leak(gLeak=g_leak, eLeak=-70.0), ns.Fire(vth=-55.0, vreset=-70.0)]


# %% [markdown]
# ## Populations and projections
#
# `ns.uniform(low, high)` draws one value per edge in `sim.init_params(key)`.
# `SpikeSynapse` is current-based (I = gS · s, outward-positive), so a
# **negative** gS excites; `IonotropicSynapse` is conductance-based with reversal
# `e_syn` = 0 mV, so a positive gS excites.

# %%
net = ns.Network()
net.add_population("hh", 3, [HH()])
net.add_population("lif", 5, lif(g_fast))
net.add_population("out", 2, lif(g_slow))
net.connect("hh", "lif", IonotropicSynapse())
net.set("hh->lif", "IonotropicSynapse_gS", ns.uniform(0.0, 2e-5))  # µS
net.connect("lif", "out", ns.SpikeSynapse(s_decay=0.2))  # trace decays in 5 ms
net.set("lif->out", "SpikeSynapse_gS", ns.uniform(-1.5e-3, 0.0))  # µS
for pop in ("hh", "lif", "out"):
    net.record(pop, "v")
for pop in ("lif", "out"):
    net.record(pop, "spikes")
print(net)
ax = plot.network_diagram(net)
plot.save(ax, args.out / "01_network.png")

# %% [markdown]
# ## Stimulation
#
# Inputs to `sim.run` are external currents in nA, shaped `(batch, time, n)`:
# here two samples, each giving the three HH neurons a step of a different
# amplitude. `net.stimulate` adds a fixed current, the same for every sample
# (here a small constant bias onto the LIF neurons).

# %%
dt = 0.025  # ms
t_max = 40.0 if args.quick else 100.0  # ms
step = ns.step_current(i_delay=5.0, i_dur=t_max - 10.0, i_amp=1.0, dt=dt, t_max=t_max)
amps = np.array([[0.004, 0.008, 0.012], [0.006, 0.010, 0.014]])  # nA, (batch, n)
currents = step[None, :, None] * amps[:, None, :]  # (batch, time, n) nA
net.stimulate("lif", np.full(len(step), 2e-4))  # nA, shape (time,)
print("inputs:", currents.shape)

# %% [markdown]
# ## Compile and run
#
# `run` returns a `Recording`; `rec["pop.v"]` is `(batch, time, n)` in mV, with
# one sample per step plus the initial state. Without `t_max`, the run lasts as
# long as the inputs.

# %%
sim = ns.compile(net, dt=dt)
params = sim.init_params(jax.random.key(0))
rec = sim.run(params, {"hh": currents})
for key, trace in rec.traces.items():
    print(f"{key:12s} {trace.shape}")
spikes = {pop: rec[f"{pop}.spikes"] for pop in ("lif", "out")}
print("LIF spike counts, sample 0:", np.asarray(spikes["lif"][0].sum(0)))

# %% [markdown]
# ## Voltage traces and rasters


# %%
def traces_figure():
    fig, axes = plt.subplots(3, 1, figsize=(7, 8), sharex=True, layout="constrained")
    plot.voltage_traces(rec["hh.v"], dt=dt, sample=0, ax=axes[0])
    axes[0].set_title("HH neurons (jaxley's HH channel), steps of 4, 8, 12 pA")
    plot.voltage_traces(
        rec["lif.v"], dt=dt, sample=0, neurons=[0, 1, 2], vth=-55.0,
        spikes=rec["lif.spikes"], ax=axes[1],
    )  # fmt: skip
    axes[1].set_title("LIF neurons (Leak + Fire) driven by them, 3 of 5")
    plot.voltage_traces(
        rec["out.v"], dt=dt, sample=0, vth=-55.0, spikes=rec["out.spikes"], ax=axes[2]
    )
    axes[2].set_title("output LIF neurons (SpikeSynapse input)")
    for ax in axes[:2]:
        ax.set_xlabel("")
    return fig


plot.save(traces_figure(), args.out / "01_voltage_traces.png")
if args.figures is not None:  # the copy shown in the README
    plot.save(traces_figure(), args.figures / "voltage_traces.png", dpi=90)

ax = plot.rasters(spikes, dt=dt, sample=0)
ax.set_title("spikes of sample 0")
plot.save(ax, args.out / "01_rasters.png")
print("figures written to", args.out)

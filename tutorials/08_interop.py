# %% [markdown]
# # 8. Interoperability: jaxley models in, NIR graphs out and in
#
# neurosim sits between biophysical simulators (jaxley) and neuromorphic
# machine learning (spyx, Norse, snnTorch, ... which share the NIR format).
# This tutorial brings a jaxley network over with `ns.from_jaxley`, exports a
# LIF network to NIR with `ns.to_nir`, reads it back with `ns.from_nir`, and,
# when spyx is installed, runs the same NIR graph in spyx.
#
# `python tutorials/08_interop.py [--quick] [--out DIR]` (needs
# `pip install 'neurosim[nir]'`; the spyx cell runs when `spyx` is installed)

# %%
import argparse
import importlib.util
import warnings
from pathlib import Path

import jax
import jaxley as jx
import matplotlib.pyplot as plt
import nir
import numpy as np
from jaxley.channels import HH, Leak
from jaxley.synapses import IonotropicSynapse

import neurosim as ns
from neurosim import plot
from neurosim.interop import jaxley_traces
from neurosim.mechanisms.jaxley import standard_promotion

jax.config.update("jax_enable_x64", True)  # float64, to compare traces closely
warnings.simplefilter("ignore")  # jaxley's notes on stimulate and record
HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()
parser = argparse.ArgumentParser(description="from_jaxley, NIR export/import.")
parser.add_argument("--out", type=Path, default=HERE / "out", help="figure folder")
parser.add_argument("--quick", action="store_true", help="shorter runs")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments
args.out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## A jaxley network, converted
#
# Built with jaxley's own API: three cells, each an HH soma and two passive
# dendrites, a synapse from each soma onto a dendrite of the next cell, one
# conductance changed with `.set`, a current step into the first soma, the
# somata recorded. `from_jaxley` reads what jaxley would simulate (the
# `nodes` and `edges` tables, stimuli, recordings); `jaxley_traces` lists the
# recorded traces in `jx.integrate`'s order.

# %%
DT, T_MAX = 0.025, 20.0 if args.quick else 50.0
with standard_promotion():
    comp = jx.Compartment()
    cell = jx.Cell([jx.Branch(comp, 1), jx.Branch(comp, 3), jx.Branch(comp, 3)],
                   parents=[-1, 0, 0])  # fmt: skip
    cell.set("axial_resistivity", 100.0)
    cell.branch(0).set("radius", 10.0)
    cell.insert(Leak())
    cell.branch(0).insert(HH())
    module = jx.Network([cell] * 3)
    for i in range(2):
        jx.connect(module.cell(i).branch(0).comp(0),
                   module.cell(i + 1).branch(1).comp(2), IonotropicSynapse())  # fmt: skip
    module.set("IonotropicSynapse_gS", 0.05)
    module.cell(2).branch(0).set("HH_gK", 0.03)
    module.init_states(delta_t=DT)
    module.cell(0).branch(0).comp(0).stimulate(
        jx.step_current(2.0, 40.0, 0.5, DT, T_MAX)
    )
    module.cell("all").branch(0).comp(0).record("v")
    want = np.asarray(jx.integrate(module, delta_t=DT, t_max=T_MAX))

    net = ns.from_jaxley(module, dt=DT)
    print(net)
    sim = ns.compile(net, dt=DT)
    got = jaxley_traces(module, sim.run(sim.init_params(), t_max=T_MAX))
print(f"from_jaxley: max |v_neurosim - v_jaxley| = {np.max(np.abs(got - want)):.2e} mV")

t = np.arange(want.shape[1]) * DT
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
for i in range(3):
    ax.plot(t, want[i], lw=3, alpha=0.35, color=f"C{i}", label=f"jaxley, soma {i}")
    ax.plot(t, got[i], lw=1, color=f"C{i}", ls="--", label=f"neurosim, soma {i}")
ax.set(xlabel="time (ms)", ylabel="v (mV)", title="jaxley network, run by both")
ax.legend(fontsize=7, ncol=3)
plot.save(fig, args.out / "08_from_jaxley.png")

# %% [markdown]
# ## NIR export and import
#
# A LIF stack (20 inputs, 16 LIF, 4 spiking outputs) exports to a NIR graph:
# `Input -> Linear -> LIF -> Linear -> LIF -> Output`. Units: time constants in
# seconds, voltages in mV, `r` in MΩ; the weights are `-gSᵀ` (NIR's weights are
# excitatory-positive, neurosim's currents outward-positive). The graph is
# written to a file with `nir.write`, read back and imported: the re-imported
# network gives the same spikes.

# %%
NIR_DT = 1.0
stack = ns.lif_stack([20, 16, 4], dt=NIR_DT, readout="spiking", init_gain=3.0)
stack.record("h1", "spikes")
sim = ns.compile(stack, dt=NIR_DT)
params = sim.init_params(jax.random.key(0))
graph = ns.to_nir(stack, dt=NIR_DT, params=params)
print({k: type(v).__name__ for k, v in graph.nodes.items()})
nir.write(args.out / "08_lif_stack.nir", graph)
back = ns.from_nir(nir.read(args.out / "08_lif_stack.nir"), dt=NIR_DT)
back.record("h1", "spikes")

steps = 60 if args.quick else 200
x = (np.random.default_rng(0).random((8, steps, 20)) < 0.1).astype(float)
a = sim.run(params, {"in": x})
sim_back = ns.compile(back, dt=NIR_DT)
b = sim_back.run(sim_back.init_params(), {"in": x})
same = all(np.array_equal(np.asarray(a[k]), np.asarray(b[k]))
           for k in ("h1.spikes", "out.spikes"))  # fmt: skip
print(f"round trip: identical spike trains in h1 and out: {same}")

fig, axes = plt.subplots(1, 2, figsize=(8, 3), sharey=True, layout="constrained")
for ax, rec, title in ((axes[0], a, "exported"), (axes[1], b, "re-imported")):
    plot.raster(np.asarray(rec["h1.spikes"])[:, 1:], dt=NIR_DT, sample=0, ax=ax)
    ax.set(title=f"h1 spikes, {title}")
plot.save(fig, args.out / "08_nir_round_trip.png")

# %% [markdown]
# ## The same graph in spyx
#
# spyx 1.0 imports NIR's LIF as `V <- beta V + W s - z thr` with
# `beta = 1 - dt/tau`: it ignores `r` (here `r = tau/dt`, so the input scale
# agrees), `v_leak` (0 here) and `v_reset`, and resets by subtracting the
# threshold where neurosim resets to `v_reset`. Run with the forward-Euler
# solver, neurosim does the same arithmetic until a neuron's first spike;
# after it, spyx's voltage carries the subtracted reset's remainder, so the
# spike counts differ (`tests/test_interop_spyx.py` predicts the difference
# step by step and checks it).

# %%
if importlib.util.find_spec("spyx") is None:
    print("spyx is not installed: pip install spyx (skipping the cross-check)")
else:
    import spyx.nir

    sim_fe = ns.compile(stack, dt=NIR_DT, solver="fwd_euler")
    counts_ns = np.asarray(sim_fe.run(params, {"in": x})["out.spikes"]).sum(axis=1)
    with standard_promotion():
        _, out = spyx.nir.from_nir(graph, np.swapaxes(x, 0, 1), dt=NIR_DT * 1e-3)
    counts_spyx = np.asarray(out).sum(axis=0)
    print(
        "output spike counts, sample 0: neurosim", counts_ns[0], "spyx", counts_spyx[0]
    )
    fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
    ax.scatter(counts_ns.ravel(), counts_spyx.ravel(), s=12)
    top = max(counts_ns.max(), counts_spyx.max()) + 1
    ax.plot([0, top], [0, top], color="grey", lw=0.8)
    ax.set(xlabel="neurosim (reset to 0)", ylabel="spyx (subtract threshold)",
           title="output spike counts per neuron and sample")  # fmt: skip
    plot.save(fig, args.out / "08_spyx_counts.png")

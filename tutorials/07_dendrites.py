# %% [markdown]
# # 7. A cell with dendrites, fitted to its voltage traces
#
# A Hodgkin-Huxley soma with a branched dendritic tree, coupled by the cable
# equation (jaxley 0.14's discretisation, one implicit solve per cell). We draw
# the cell, look at how a somatic spike reaches a dendritic tip and how a
# dendritic input reaches the soma, and then do what jaxley is mostly used
# for: recover hidden conductances from recorded voltage traces by gradient
# descent through the whole simulation.
#
# The "recording" is simulated here with hidden values of six conductances
# (gNa, gK and gLeak of the HH channels, in the soma and in the dendrites);
# `ns.fit_traces` starts from other values and finds them again.
#
# `python tutorials/07_dendrites.py [--quick] [--out DIR]`

# %%
import argparse
import time
from pathlib import Path

import jax
import matplotlib.pyplot as plt
import numpy as np
import optax
from jaxley.channels import HH

import neurosim as ns
from neurosim import plot
from neurosim.morphology import Morphology

jax.config.update("jax_enable_x64", True)  # gradients through 800 steps of HH

HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()
parser = argparse.ArgumentParser(description="A dendritic cell, fitted to traces.")
parser.add_argument("--out", type=Path, default=HERE / "out", help="figure folder")
parser.add_argument("--quick", action="store_true", help="fewer fitting steps")
parser.add_argument("--figures", type=Path, help="also write the README's figures here")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments
args.out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## The cell
#
# `Morphology.tree` takes a parent list: branch 0 is the soma (one compartment,
# 20 µm long, radius 10 µm); branches 1 and 2 leave it, and each forks once
# more. Every dendritic compartment is 40 µm long; radii shrink from 1 µm to
# 0.5 µm; the axial resistivity is 100 Ω·cm. A location along a branch is
# `(branch, loc)` with `loc` in [0, 1] (jaxley's `branch(k).loc(x)`).

# %%
DT, T_MAX = 0.025, 20.0  # ms
PARENTS = [-1, 0, 0, 1, 1, 2, 2]
NCOMP = [1, 3, 3, 2, 2, 2, 2]
morph = Morphology.tree(
    PARENTS,
    NCOMP,
    length=[20.0] + [40.0] * 6,
    radius=[10.0, 1.0, 1.0, 0.5, 0.5, 0.6, 0.6],
    r_a=100.0,
)
SOMA = 0
DEND = list(range(1, morph.n_comp))
TIP = morph.resolve((3, 1.0))  # the far end of branch 3
print(morph, "| soma", SOMA, "| tip", TIP)

# the hidden truth: HH in the soma, weaker HH ("HHd") in the dendrites
TRUE = {
    "HH_gNa": 0.12, "HH_gK": 0.036, "HH_gLeak": 3e-4,
    "HHd_gNa": 0.03, "HHd_gK": 0.01, "HHd_gLeak": 1e-4,
}  # fmt: skip


def build(values, trainable=False):
    net = ns.Network()
    net.add_population("cell", 1, [], morphology=morph, v=-65.0)
    net.insert("cell", HH(), comps=[SOMA])
    dend = HH()
    dend.change_name("HHd")
    net.insert("cell", dend, comps=DEND)
    for key, value in values.items():
        net.set("cell", key, value)
        if trainable:  # positive by transform: the optimiser sees log(g)
            net.make_trainable("cell", key, transform="log")
    net.record("cell", "v")
    return ns.compile(net, dt=DT)


sim_true = build(TRUE)
fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
plot.morphology(
    morph, values=np.log10(morph.radius), label="log10 radius (µm)",
    marks={"soma": SOMA, "tip (3, 1.0)": TIP}, ax=ax,
)  # fmt: skip
ax.set_title(f"{morph.n_branches} branches, {morph.n_comp} compartments")
plot.save(fig, args.out / "07_morphology.png")

# %% [markdown]
# ## The recording
#
# Four protocols, one sample each: steps of 0.3, 0.05 and -0.1 nA into the
# soma, and 0.1 nA into the tip, from 2 to 18 ms. Inputs of shape
# `(batch, time, n_comp)` go into each compartment (`(batch, time, 1)` would
# go into the spike compartment, the soma). We record the soma and the tip
# and add 0.5 mV of white noise, as an amplifier would.

# %%
n_steps = sim_true.n_steps(T_MAX)
x = np.zeros((4, n_steps, morph.n_comp))
on = slice(int(2.0 / DT), int(18.0 / DT))
x[0, on, SOMA], x[1, on, SOMA], x[2, on, SOMA] = 0.3, 0.05, -0.1
x[3, on, TIP] = 0.1
PROTOCOLS = ["soma 0.3 nA", "soma 0.05 nA", "soma -0.1 nA", "tip 0.1 nA"]
rec = sim_true.run(sim_true.init_params(), {"cell": x})
v_true = np.asarray(rec["cell.v"])  # (batch, time, cell, comp)
# a recording is noisy: 0.5 mV of white noise on every sample
noise = np.random.default_rng(0).normal(0.0, 0.5, v_true[..., [SOMA, TIP]].shape)
target = v_true[..., [SOMA, TIP]] + noise
times = sim_true.times(v_true.shape[1])

fig, axes = plt.subplots(2, 2, figsize=(9, 5.5), sharex=True, layout="constrained")
for b, ax in enumerate(axes.flat):
    ax.plot(times, v_true[b, :, 0, SOMA], label="soma")
    ax.plot(times, v_true[b, :, 0, TIP], label="tip (3, 1.0)")
    ax.set_title(PROTOCOLS[b], fontsize=10)
    ax.set_ylabel("v (mV)")
for ax in axes[1]:
    ax.set_xlabel("time (ms)")
axes[0, 0].legend(fontsize=8)
plot.save(fig, args.out / "07_traces.png")

# %% [markdown]
# ## Fitting the hidden conductances
#
# We start from values 20-40 % off. Six parameters and a least-squares loss
# call for Levenberg-Marquardt (`method="lm"`): each step takes one
# forward-mode Jacobian of the residuals (six tangents through the same
# simulation) and a damped Gauss-Newton step in `log g` (the `"log"`
# transform keeps every conductance positive). Plain gradient descent
# (`method="gradient"` with any optax optimiser, the default, for many
# parameters) gets there too, but crawls along the narrow valley where gNa
# and gK trade off (the full run prints where Adam stands after 300 steps). The
# loss is the mean squared difference at the soma and the tip
# after the first 0.5 ms; `TraceLoss` can add the spike count and the
# first-spike time (`spike_count=`, `first_spike=`) through differentiable
# surrogates.

# %%
START = {
    "HH_gNa": 0.09, "HH_gK": 0.05, "HH_gLeak": 4e-4,
    "HHd_gNa": 0.04, "HHd_gK": 0.007, "HHd_gLeak": 1.3e-4,
}  # fmt: skip
steps = 12 if args.quick else 40
sim = build(START, trainable=True)
loss = ns.TraceLoss("cell.v", comps=[SOMA, (3, 1.0)], windows=[(0.5, T_MAX + DT)])
t0 = time.perf_counter()
result = ns.fit_traces(
    sim, sim.init_params(), target, loss=loss, inputs=x,
    method="lm", steps=steps, progress=not args.quick,
)  # fmt: skip
seconds = time.perf_counter() - t0
hist = result.history
print(
    f"{len(hist['loss'])} steps in {seconds:.0f} s: loss {hist['loss'][0]:.3g} -> "
    f"{hist['loss'][result.best_epoch]:.3g} mV², rms error "
    f"{hist['rmse'][result.best_epoch]:.3g} mV"
)
worst = 0.0
print(f"{'parameter':<10} {'true':>9} {'start':>9} {'recovered':>10} {'error':>7}")
for key, true in TRUE.items():
    got = float(np.asarray(result.params["cell"][key]))
    err = abs(got / true - 1)
    worst = max(worst, err)
    print(f"{key:<10} {true:>9.3g} {START[key]:>9.3g} {got:>10.5g} {100 * err:>6.3f}%")
print(f"largest relative error: {100 * worst:.3f}%")

# %% [markdown]
# For comparison (full run only): Adam on the same loss from the same start.

# %%
if not args.quick:
    adam = ns.fit_traces(
        build(START, trainable=True), sim.init_params(), target, loss=loss,
        inputs=x, optimizer=optax.adam(0.02), steps=300,
    )  # fmt: skip
    errs = [
        abs(float(np.asarray(adam.params["cell"][k])) / v - 1) for k, v in TRUE.items()
    ]
    print(
        f"Adam(0.02), 300 steps: loss {adam.history['loss'][adam.best_epoch]:.3g} "
        f"mV², largest relative error {100 * max(errs):.1f}%"
    )

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
ax0.semilogy(hist["loss"], "o-")
ax0.set_xlabel("step")
ax0.set_ylabel("loss (mV²)")
ax0.set_title("trace loss")
for i, key in enumerate(TRUE):
    path = [float(np.asarray(v["cell"][key])) / TRUE[key] for v in hist["values"]]
    ax1.plot(path, color=f"C{i}", label=key)
ax1.axhline(1.0, color="k", lw=0.8, ls="--")
ax1.set_xlabel("step")
ax1.set_ylabel("value / true value")
ax1.set_title("the six conductances")
ax1.legend(fontsize=8, ncol=2)
plot.save(fig, args.out / "07_fit.png")

fitted = sim.run(result.params, {"cell": x})["cell.v"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True, layout="constrained")
for ax, (b, comp, where) in zip(
    axes, [(0, SOMA, "soma"), (3, TIP, "tip")], strict=True
):
    col = [SOMA, TIP].index(comp)
    ax.plot(times, target[b, :, 0, col], lw=2, alpha=0.35, color="k", label="target")
    ax.plot(times, np.asarray(fitted)[b, :, 0, comp], color="C3", label="fitted")
    ax.set_title(f"{PROTOCOLS[b]}: {where}", fontsize=10)
    ax.set_xlabel("time (ms)")
axes[0].set_ylabel("v (mV)")
axes[0].legend(fontsize=8)
plot.save(fig, args.out / "07_fitted_traces.png")
if args.figures is not None:  # the copies shown in the README
    import shutil

    args.figures.mkdir(parents=True, exist_ok=True)
    for name in ("07_morphology", "07_traces", "07_fit"):
        shutil.copy(
            args.out / f"{name}.png", args.figures / f"dendrites_{name[3:]}.png"
        )
print("figures written to", args.out)

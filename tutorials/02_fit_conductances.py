# %% [markdown]
# # 2. Fit synaptic conductances by gradient descent
#
# The jaxley SNN tutorial (seed 003), in neurosim: 100 LIF inputs driven by
# Poisson-like currents, 4 hidden LIF neurons and 2 leaky outputs, joined
# all-to-all by `SpikeSynapse`. The 408 synaptic conductances are trained with
# Adam(0.1) so that the output neuron with the larger peak voltage names the
# class. The labels are random, so the network memorises one batch of 256.
#
# The spike is a step function; `Fire` uses a surrogate derivative in the
# backward pass (jaxley's fast sigmoid by default), so `jax.grad` flows through
# the whole simulation. As the seed, everything runs in float64; with the seed's
# random draws 500 epochs end at accuracy 0.883 and loss 0.262.
#
# `python tutorials/02_fit_conductances.py [--quick] [--out DIR]`

# %%
import argparse
from pathlib import Path

import jax
import numpy as np
import optax

import neurosim as ns
from neurosim import datasets, plot
from neurosim.examples import (
    SEED003_DT,
    SEED003_SEED,
    SEED003_T_MAX,
    seed003_network,
)

jax.config.update("jax_enable_x64", True)  # the seed ran in float64

HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()
parser = argparse.ArgumentParser(description="Seed 003: fit the conductances.")
parser.add_argument("--out", type=Path, default=HERE / "out", help="figure folder")
parser.add_argument("--quick", action="store_true", help="5 epochs instead of 500")
parser.add_argument("--figures", type=Path, help="also write training.png here")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments
args.out.mkdir(parents=True, exist_ok=True)
epochs = 5 if args.quick else 500

# %% [markdown]
# ## The network
#
# The seed's units: each compartment has area 2πrL = 1e5 µm² (so 1 nA is
# 1 µA/cm²), gLeak = 0.01 S/cm² (τ_m = 0.1 ms), threshold 1 mV, reset and rest
# 0 mV. Weights start as gS ~ N(0, 10) µS, one per edge, and are trainable.
# `neurosim.examples.seed003_network` builds it (read its source: a dozen lines
# of `Network.add_population`, `connect`, `set` and `make_trainable`); the demo,
# the tests and the benchmarks use the same builder.

# %%
DT, T_MAX, SEED = SEED003_DT, SEED003_T_MAX, SEED003_SEED  # 1e-3 ms, 0.2 ms, 1701
net = seed003_network(n_input=100, n_hidden=4, n_output=2)
sim = ns.compile(net, dt=DT)
params = sim.init_params(jax.random.key(SEED))
print(net, "| trainable:", ns.count_trainable(ns.get_trainable(sim, params)))

# %% [markdown]
# ## The data
#
# `datasets.toy` reproduces the seed's draws: Poisson spikes at 5 Hz, each turned
# into a two-sample current pulse of 508 nA, and random binary labels.

# %%
task = datasets.toy(seed=SEED)
x, y = np.asarray(task.currents), np.asarray(task.labels)
print("currents", x.shape, "nA; labels", y.shape, "class 1:", int(y.sum()))

# %% [markdown]
# ## Training
#
# `ns.fit` runs the optax loop; one epoch is one full batch, as in the seed. The
# `max_voltage` objective takes each output's peak voltage as a logit.

# %%
objective = ns.Objective("max_voltage")
result = ns.fit(
    sim, params, x, y, input="inp", objective=objective,
    optimizer=optax.adam(0.1), epochs=epochs, batch_size=len(x), t_max=T_MAX,
    progress=not args.quick,
)  # fmt: skip
rec = sim.run(result.params, {"inp": x}, t_max=T_MAX)  # all 256 samples at once
loss, accuracy = objective(rec, y)
hist = result.history  # the loss of each epoch is taken before its update
print(f"loss in the first epoch {hist['loss'][0]:.4f}, the last {hist['loss'][-1]:.4f}")
print(f"after {epochs} epochs: loss {loss:.4f}, accuracy {accuracy:.3f}")
if not args.quick:
    print("the seed (jaxley): last-epoch loss 0.2618, accuracy after it 0.883")

# %%
fig = plot.training_curves(result.history)
fig.suptitle(f"seed 003: Adam(0.1), full batch of {len(x)}, {epochs} epochs")
if args.figures is not None:  # the copy shown in the README
    args.figures.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figures / "training.png", dpi=90)
plot.save(fig, args.out / "02_training.png")

# %% [markdown]
# ## Output voltages after training
#
# Each panel is one sample (from the run above): the voltage of the two output
# neurons. The class is the neuron whose voltage peaks higher: its trace is
# thick and its peak starred; the title gives the label and the prediction.

# %%
pred = np.asarray(objective.predict(rec))
fig = plot.output_panels(rec["out.v"][:4], y[:4], pred[:4], dt=DT)
plot.save(fig, args.out / "02_output_voltages.png")
print("figures written to", args.out)

# %% [markdown]
# # 5. Online learning without backpropagation through time (MNIST)
#
# Backpropagation through time (BPTT) stores every step of the forward run and
# walks it backwards: its memory grows with the number of steps T. Online rules
# instead keep, for every synapse, an *eligibility trace* updated as the run goes
# and combine it with a learning signal; nothing is stored per step, so memory
# stays flat in T. This tutorial trains seed 001's feed-forward network three
# ways and compares them:
#
# - **BPTT** (`jax.grad` through the run);
# - **random-feedback eligibility learning** (seed 001's
#   `random_bp_step_eligibility`, `ns.train.eligibility_feedback`): each synapse
#   keeps a trace of surrogate derivative × presynaptic spikes; at the end the
#   error of the output firing rate reaches the hidden layer through a fixed
#   random matrix, and the update is error × trace;
# - **e-prop** (Bellec et al. 2020, `ns.train.eprop`): exact eligibility vectors
#   of each neuron's own state, filtered by the readout's decay, times a learning
#   signal sent back through the readout weights, at every step.
#
# The network: 784 inputs, a hidden layer of current-based LIF neurons (τ_mem 20
# ms, τ_syn 5 ms, threshold 1 mV, dt 1 ms) and 10 outputs; only weights are
# trained. Seed 001's readout spikes and is decoded by spike count; e-prop's is
# a leaky (non-spiking) readout decoded by its summed voltage, so e-prop runs
# on the same hidden layer with that readout.
#
# Data: the bundled 10,000-digit MNIST subset (8000 train / 2000 test; not
# MNIST's official test split), pixel intensities given at each of T = 20 steps.
#
# `python tutorials/05_online_learning.py [--quick] [--out DIR]`

# %%
import argparse
from pathlib import Path

import jax
import matplotlib.pyplot as plt
import numpy as np
import optax

import neurosim as ns
from neurosim import datasets, plot

HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()
parser = argparse.ArgumentParser(description="Online learning rules against BPTT.")
parser.add_argument("--out", type=Path, default=HERE / "out", help="figure folder")
parser.add_argument("--quick", action="store_true", help="a few batches only")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments
args.out.mkdir(parents=True, exist_ok=True)
n_train, n_test, epochs, hidden = (
    (128, 128, 2, 32) if args.quick else (8000, 2000, 5, 128)
)

# %% [markdown]
# ## Data
#
# The rate code of seed 001: each pixel's intensity in [0, 1] is the input
# at every one of the T = 20 steps.

# %%
T = 20
mnist = datasets.load_mnist_npz()
x_train = np.asarray(datasets.rate(mnist.x_train[:n_train], T))
x_test = np.asarray(datasets.rate(mnist.x_test[:n_test], T))
y_train, y_test = mnist.y_train[:n_train], mnist.y_test[:n_test]
print("train", x_train.shape, "test", x_test.shape)

# %% [markdown]
# ## The network and the three learners
#
# `ns.lif_stack(..., readout="spiking")` is seed 001's network;
# `train_tau=False` leaves the time constants fixed (the rules update weights
# only). The surrogate derivative 1/(1 + slope |v - v_th|)² is not part of the
# forward run, only of learning: seed 001's rule uses its slope 0.03 (nearly
# flat), BPTT and e-prop, which do not learn with so flat a surrogate, slope 1.
# A rule is an ordinary argument of `ns.fit`: the same loop, checkpoints and
# non-finite checks as BPTT.


# %%
def network(readout, slope):
    net = ns.lif_stack(
        [784, hidden, 10], tau_mem=20.0, tau_syn=5.0, readout=readout,
        train_tau=False, init_gain=1.0, surrogate=ns.FastSigmoid(slope=slope),
    )  # fmt: skip
    return ns.compile(net, dt=1.0, solver="exp_euler")


flat, leaky = network("spiking", 0.03), network("leaky", 1.0)
bptt = network("spiking", 1.0)
learners = {  # name: (network, rule, objective, learning rate)
    "BPTT": (bptt, None, ns.Objective("spike_count"), 2e-3),
    "random feedback (eligibility)": (
        flat,
        ns.train.eligibility_feedback(flat, jax.random.key(1)),
        ns.Objective("spike_count"),
        5e-3,
    ),
    "e-prop (leaky readout)": (
        leaky,
        ns.train.eprop(leaky),
        ns.Objective("sum_voltage"),
        2e-3,
    ),  # fmt: skip
}

# %% [markdown]
# ## Training
#
# Adam with a cosine decay, batches of 64; the "validation" curves are the test
# digits scored after every epoch.

# %%
histories = {}
for name, (sim, rule, objective, lr) in learners.items():
    steps = epochs * max(1, n_train // 64)
    result = ns.fit(
        sim, sim.init_params(jax.random.key(0)), x_train, y_train, rule=rule,
        objective=objective, epochs=epochs, batch_size=64,
        optimizer=optax.adam(optax.cosine_decay_schedule(lr, steps, alpha=0.01)),
        validation=(x_test, y_test), progress=not args.quick,
    )  # fmt: skip
    histories[name] = result.history
    print(f"{name}: test accuracy {result.history['val_accuracy'][-1]:.4f}")

# %% [markdown]
# ## Memory of a training step against T
#
# `ns.train.step_memory` compiles `fit`'s training step for a batch and reads
# the compiler's temporary-memory figure (everything but the arguments, so not
# the input array). BPTT keeps every step for the backward pass; the rules keep
# only their traces.

# %%
lengths = [25, 100, 400] if args.quick else [50, 100, 200, 500, 1000]
memory = {name: [] for name in learners}
for t in lengths:
    xb = np.zeros((16, t, 784), np.float32)
    yb = np.zeros(16, np.int32)
    for name, (sim, rule, objective, _) in learners.items():
        mib = ns.train.step_memory(
            sim, sim.init_params(jax.random.key(0)), xb, yb,
            optimizer=optax.adam(1e-3), objective=objective, rule=rule,
        ) / 2**20  # fmt: skip
        memory[name].append(mib)
for name, mib in memory.items():
    print(f"{name}: {' '.join(f'{m:.2f}' for m in mib)} MiB at T = {lengths}")

# %% [markdown]
# ## Accuracy and memory, side by side

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for name, history in histories.items():
    epochs_axis = np.arange(1, len(history["val_accuracy"]) + 1)
    left.plot(epochs_axis, 100 * np.asarray(history["val_accuracy"]), "o-", label=name)
left.set(xlabel="epoch", ylabel="test accuracy (%)", title="MNIST 10k, test digits")
left.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
left.grid(alpha=0.3)
left.legend()
for name, mib in memory.items():
    right.plot(lengths, mib, "o-", label=name)
right.set(
    xlabel="time steps T", ylabel="training step, temporary memory (MiB)",
    title="memory of one training step (batch 16)", xscale="log", yscale="log",
)  # fmt: skip
right.set_xticks(lengths, [str(t) for t in lengths])
right.yaxis.set_major_formatter(plt.FormatStrFormatter("%g"))
right.grid(alpha=0.3, which="both")
right.legend()
fig.suptitle(f"784-{hidden}-10 LIF network: BPTT against online rules")
plot.save(fig, args.out / "05_online_learning.png")
print("figures written to", args.out)

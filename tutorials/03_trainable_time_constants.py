# %% [markdown]
# # 3. Trainable time constants and thresholds (MNIST)
#
# Neuron parameters such as the membrane time constant τ_m and the firing
# threshold v_th are usually fixed by hand. In neurosim they are parameters like
# any other: mark them trainable and the optimiser moves them along with the
# weights. This follows the Norse tutorial on parameter learning (seed 002): one
# recurrent layer of 100 LIF neurons on MNIST, each neuron starting with its
# own τ_m (1/τ_m ~ 100 ± 20 1/s, so τ_m ≈ 10 ms) and v_th (0.5 ± 0.1 mV).
#
# Data: the bundled 10,000-digit MNIST subset (`neurosim/data/mnist10k.npz`, 8000
# train / 2000 test; not MNIST's official test split).
#
# `python tutorials/03_trainable_time_constants.py [--quick] [--out DIR]`

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
parser = argparse.ArgumentParser(description="MNIST with trainable tau and v_th.")
parser.add_argument("--out", type=Path, default=HERE / "out", help="figure folder")
parser.add_argument("--quick", action="store_true", help="a few batches only")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments
args.out.mkdir(parents=True, exist_ok=True)
n_train, n_test, epochs = (128, 128, 2) if args.quick else (8000, 2000, 5)

# %% [markdown]
# ## Data: pixels to spike trains
#
# Each pixel intensity p ∈ [0, 1] becomes a Bernoulli spike train over T = 32
# steps of 1 ms, spiking with probability 0.5·p per step. The trains are stored
# as uint8 to keep the 8000 × 32 × 784 array small.

# %%
T, DT = 32, 1.0  # steps, ms
mnist = datasets.load_mnist_npz()


def encode(images, seed):
    key, out = jax.random.key(seed), []
    for start in range(0, len(images), 1000):  # in chunks, to bound the memory
        key, sub = jax.random.split(key)
        spikes = datasets.poisson(images[start : start + 1000], T, sub, max_rate=0.5)
        out.append(np.asarray(spikes, dtype=np.uint8))
    return np.concatenate(out)


x_train, y_train = encode(mnist.x_train[:n_train], 0), mnist.y_train[:n_train]
x_test, y_test = encode(mnist.x_test[:n_test], 1), mnist.y_test[:n_test]
print("train spikes", x_train.shape, "test spikes", x_test.shape)

# %% [markdown]
# ## The network
#
# `ns.lif_stack([784, 100, 10], recurrent=True, ...)` builds a spike-source
# input `in`, a recurrent LIF layer `h1` and a leaky readout `out`.
# `train_tau=True` trains each neuron's leak conductance (through its decay
# factor α = exp(-dt/τ_m), which keeps τ_m positive); `train_vth=True` trains
# each threshold (through a softplus, which keeps it positive). We then give
# every hidden neuron its own initial τ_m and v_th; `ns.tau_to_gleak` turns
# time constants (ms) into leak conductances (S/cm²).

# %%
rng = np.random.default_rng(0)
tau0 = 1e3 / (100.0 + 20.0 * rng.standard_normal(100))  # ms
vth0 = 0.5 + 0.1 * rng.standard_normal(100)  # mV
net = ns.lif_stack(
    [784, 100, 10], recurrent=True, train_tau=True, train_vth=True, dt=DT,
    tau_mem=10.0, vth=0.5,
)  # fmt: skip
net.set("h1", "Leak_gLeak", ns.tau_to_gleak(tau0))
net.set("h1", "Fire_vth", vth0)
sim = ns.compile(net, dt=DT)
params = sim.init_params(jax.random.key(0))
print(net, "| trainable:", ns.count_trainable(ns.get_trainable(sim, params)))

# %% [markdown]
# ## Training
#
# As in the seed: the peak voltage of each readout neuron is its logit, and
# Adam with learning rate 2e-3 trains weights, τ_m and v_th together. The
# "validation" curves are the 2000 test digits, scored after every epoch.

# %%
result = ns.fit(
    sim, params, x_train, y_train, objective="max_voltage",
    optimizer=optax.adam(2e-3), epochs=epochs, batch_size=64 if args.quick else 128,
    validation=(x_test, y_test), progress=not args.quick,
)  # fmt: skip
print(f"test accuracy after {epochs} epochs: {result.history['val_accuracy'][-1]:.3f}")
plot.save(plot.training_curves(result.history), args.out / "03_training.png")

# %% [markdown]
# ## τ_m and v_th before and after training
#
# `ns.gleak_to_tau` turns the trained leak conductances back into time
# constants in ms.

# %%
tau1 = ns.gleak_to_tau(np.asarray(result.params["h1"]["Leak_gLeak"]))
vth1 = np.asarray(result.params["h1"]["Fire_vth"])
print(f"tau_m: {tau0.mean():.2f} -> {tau1.mean():.2f} ms (mean)")
print(f"v_th:  {vth0.mean():.3f} -> {vth1.mean():.3f} mV (mean)")
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
plot.param_distribution(tau0, tau1, name=r"membrane time constant $\tau_m$", unit="ms",
                        ax=axes[0])  # fmt: skip
plot.param_distribution(vth0, vth1, name="threshold $v_{th}$", unit="mV", ax=axes[1])
fig.suptitle(f"hidden layer (100 recurrent LIF neurons), {epochs} epochs on MNIST")
plot.save(fig, args.out / "03_tau_vth.png")
print("figures written to", args.out)

# %% [markdown]
# # 6. A recurrent SNN on spoken digits (SHD)
#
# The spyx SHD tutorial (seed 004) in neurosim: the Spiking Heidelberg Digits
# binned into 128 steps of 7.8 ms on 256 channels, two recurrent layers of 128
# LIF neurons and 20 leaky readouts, the arctan surrogate, and a cross-entropy
# on the time-summed readout voltage with label smoothing 0.3.
#
# With `--data DIR` holding `shd_train.h5` and `shd_test.h5` (from
# https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/) it trains on
# SHD. Without it, it trains on a small generated stand-in of the same shape,
# so the tutorial runs anywhere; accuracies on the stand-in say nothing about SHD.
#
# `python tutorials/06_recurrent_shd.py [--data DIR] [--quick] [--out DIR]`

# %%
import argparse
from pathlib import Path

import jax
import numpy as np
import optax

import neurosim as ns
from neurosim import datasets, plot

HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()
parser = argparse.ArgumentParser(description="Recurrent SNN on SHD (seed 004).")
parser.add_argument("--out", type=Path, default=HERE / "out", help="figure folder")
parser.add_argument("--data", type=Path, help="folder with shd_train.h5, shd_test.h5")
parser.add_argument("--quick", action="store_true", help="a few small batches only")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments
args.out.mkdir(parents=True, exist_ok=True)
T, CHANNELS, CLASSES = 128, 256, 20
DT = 1000.0 / T  # ms: 1 s in 128 bins

# %% [markdown]
# ## Data
#
# `datasets.load_shd` bins the spike times (binary, as spyx's loader). The
# stand-in gives each class a "formant": a band of channels whose centre moves
# along a class-specific line in time, with jitter, random shifts and noise.


# %%
def stand_in(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n).astype(np.int32)
    start, end = np.linspace(30, 220, CLASSES), np.linspace(220, 30, CLASSES)[::-1]
    end = np.roll(end, 7)  # classes differ in start and slope
    t = np.arange(T)[None, :] + rng.integers(-15, 15, (n, 1))  # time shift
    frac = np.clip(t / T, 0, 1)
    centre = start[y][:, None] + (end[y] - start[y])[:, None] * frac  # (n, T)
    dist = np.arange(CHANNELS)[None, None, :] - centre[:, :, None]
    p = 0.2 * np.exp(-0.5 * (dist / 8.0) ** 2) * (frac > 0.1)[:, :, None] + 0.01
    return (rng.random((n, T, CHANNELS)) < p).astype(np.uint8), y


def load_shd(split, n):
    s = datasets.load_shd(args.data, split, n_bins=T, t_max=1.0, n_channels=CHANNELS,
                          binary=True)  # fmt: skip
    return s.x[:n].astype(np.uint8), s.y[:n]


n_train, n_test = (128, 64) if args.quick else (None, None)
if args.data is not None and (args.data / "shd_train.h5").is_file():
    print(f"DATA: the Spiking Heidelberg Digits from {args.data}")
    (x_train, y_train), (x_test, y_test) = (
        load_shd("train", n_train),
        load_shd("test", n_test),
    )
    source = "SHD"
else:
    print("DATA: a generated stand-in with SHD's shapes (pass --data DIR for SHD)")
    x_train, y_train = stand_in(n_train or 2048, seed=0)
    x_test, y_test = stand_in(n_test or 512, seed=1)
    source = "generated stand-in for SHD"
print("train", x_train.shape, "test", x_test.shape, "mean rate per bin:",
      round(float(x_train.mean()), 4))  # fmt: skip

# %% [markdown]
# ## The network
#
# `lif_stack` with two hidden layers and `recurrent=True` gives each hidden
# layer an all-to-all projection onto itself, like spyx's `RLIF` layers between
# `Linear` layers. The decays start near spyx's (α ≈ 0.6 hidden, 0.8 readout)
# and train per neuron; the surrogate is `ns.ArcTan()`. A weight gS (µS) is a
# current held for a whole step, so its effect grows with the step: `init_gain`
# scales the initial weights so that one input spike moves the membrane by about
# 1/sqrt(fan-in) of the 1 mV threshold. The exponential-Euler solver makes the
# decay per step exactly exp(-dt/τ_m).

# %%
TAU = 15.0  # ms; exp(-DT / TAU) = 0.59
gain = 1.0 / (TAU * -np.expm1(-DT / TAU))  # a unit input held one step: +1 mV
net = ns.lif_stack(
    [CHANNELS, 128, 128, CLASSES], dt=DT, recurrent=True, tau_mem=TAU,
    tau_out=35.0, train_tau=True, surrogate=ns.ArcTan(), init_gain=gain,
    recurrent_gain=0.5 * gain,
)  # fmt: skip
net.record("h1", "spikes")
net.record("h2", "spikes")
sim = ns.compile(net, dt=DT, solver="exp_euler")
params = sim.init_params(jax.random.key(0))
print(net, "| trainable:", ns.count_trainable(ns.get_trainable(sim, params)))

# %% [markdown]
# ## Training
#
# `Objective("sum_voltage", label_smoothing=0.3)` is spyx's
# `integral_crossentropy`. The seed trains with Lion and gradient centralisation
# for 1500 epochs on a GPU; here, for a few epochs on a CPU, Adam with a learning
# rate decaying from 2e-3 (cosine) and gradients clipped to norm 1, which keeps
# the recurrent layers from blowing up.

# %%
objective = ns.Objective("sum_voltage", label_smoothing=0.3)
epochs, batch = (2, 64) if args.quick else (10, 64)
lr = optax.cosine_decay_schedule(2e-3, epochs * (len(x_train) // batch))
result = ns.fit(
    sim, params, x_train, y_train, objective=objective,
    optimizer=optax.chain(optax.clip_by_global_norm(1.0), optax.adam(lr)),
    epochs=epochs, batch_size=batch, validation=(x_test, y_test),
    progress=not args.quick,
)  # fmt: skip
ev = ns.evaluate(sim, result.params, x_test, y_test, objective=objective)
print(f"{source}: test accuracy {ev['accuracy']:.3f} (chance {1 / CLASSES:.2f})")
fig = plot.training_curves(result.history)
fig.suptitle(f"{source}: 2 x 128 recurrent LIF, Adam (cosine from 2e-3)")
plot.save(fig, args.out / "06_training.png")

# %% [markdown]
# ## Spikes and confusion matrix

# %%
rec = sim.run(result.params, {"in": x_test[:1]}, record=["h1.spikes", "h2.spikes"])
spikes = {
    "input": x_test[:1],
    "h1": rec["h1.spikes"][:, 1:],
    "h2": rec["h2.spikes"][:, 1:],
}
ax = plot.rasters(spikes, dt=DT, sample=0)
ax.set_title(f"test sample 0 (class {y_test[0]}): spikes per layer")
plot.save(ax, args.out / "06_rasters.png")
ax = plot.confusion_matrix(y_test, ev["predictions"], n_classes=CLASSES, normalize=True)
ax.set_title(f"{source}: test accuracy {ev['accuracy']:.2f}")
plot.save(ax, args.out / "06_confusion.png")
print("figures written to", args.out)

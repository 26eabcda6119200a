"""The LIF-stack tasks' shared pieces: network, optimiser, training and scoring."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import datasets
from ..engine import Simulator, compile
from ..layers import lif_stack
from ..mechanisms.channels import gleak_to_tau
from ..mechanisms.surrogate import ArcTan, FastSigmoid
from ..network import Network
from ..train import Objective, evaluate, fit
from ..train.data_init import data_init
from ..train.transforms import cap_decay, centralize_gradients, scale_by_key
from ..transforms import DecayFactor
from .config import SnnConfig, TaskConfig

__all__ = [
    "TaskData",
    "TaskDataError",
    "TaskDependencyError",
    "static_data",
    "train_snn",
]


class TaskDataError(FileNotFoundError):
    """A task's data files are missing; the message says where to get them."""


class TaskDependencyError(ImportError):
    """A task needs an optional package; the message says what to install."""


class TaskData(NamedTuple):
    """Inputs `(samples, time, n_in)` and labels `(samples,)` (or
    `(samples, time)`) of both splits, and what the objective needs.

    Attributes:
        n_classes: number of classes (outputs).
        eval_steps: for per-step targets, the `(time,)` mask of scored steps.
        split: how the splits were made, in words.
        n_original: leading training samples that are not augmented copies
            (scored as the training accuracy); `None`: all.
    """

    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    n_classes: int
    eval_steps: Any = None
    split: str = ""
    n_original: int | None = None


def subset(x: Any, y: Any, n: int | None) -> tuple[Any, Any]:
    """The first `n` samples (all when `n` is None)."""
    return (x, y) if n is None else (x[:n], y[:n])


def static_data(ds: datasets.Dataset, cfg: TaskConfig) -> TaskData:
    """A static data set (`(n, features)` in [0, 1]) as sequences: the first
    `n_train` / `n_test` samples, augmented as `cfg.augment` says (the
    copies follow the originals), encoded with `cfg.encoder` over
    `cfg.n_steps` steps (Poisson draws from `cfg.seed` and `cfg.seed + 1`)."""
    x_tr, y_tr = subset(ds.x_train, ds.y_train, cfg.n_train)
    n_original = len(x_tr)
    if cfg.augment == "shift":
        x_tr, y_tr = datasets.shifted_copies(np.asarray(x_tr), np.asarray(y_tr))
    x_te, y_te = subset(ds.x_test, ds.y_test, cfg.n_test)

    def encode(x, seed):
        key = jax.random.key(seed)
        return np.asarray(datasets.encode(x, cfg.encoder, cfg.n_steps, key=key))

    return TaskData(
        encode(np.asarray(x_tr, np.float32), cfg.seed),
        np.asarray(y_tr),
        encode(np.asarray(x_te, np.float32), cfg.seed + 1),
        np.asarray(y_te),
        ds.n_classes,
        split=ds.split
        + (", with 1-pixel shifted copies" if n_original < len(x_tr) else ""),
        n_original=n_original,
    )


def init_gain(cfg: SnnConfig) -> float:
    # "gain": the jump of v (mV, threshold 1 mV) per unit input, times sqrt(fan_in).
    # An input s held for one step moves v by gS * tau * (1 - alpha) (exp Euler).
    return cfg.gain / (cfg.tau_mem * -math.expm1(-cfg.dt / cfg.tau_mem))


def network(cfg: SnnConfig, n_in: int, n_out: int):
    """The LIF stack `n_in -> hidden -> n_out` that `cfg` describes."""
    net = lif_stack(
        [n_in, *cfg.hidden, n_out],
        dt=cfg.dt,
        recurrent=cfg.recurrent,
        tau_mem=cfg.tau_mem,
        tau_out=cfg.tau_out,
        train_tau=True,
        train_vth=cfg.train_vth,
        per_neuron=True,
        init_gain=init_gain(cfg),
        surrogate=ArcTan() if cfg.surrogate == "arctan" else FastSigmoid(),
    )
    if cfg.train_rest:
        # A trained resting potential per neuron is a bias: v relaxes to eLeak.
        for name in net.populations:
            if name != "in":
                net.make_trainable(name, "Leak_eLeak", per_element=True)
    return net


def optimizer(
    cfg: SnnConfig, sim: Simulator, steps: int
) -> optax.GradientTransformation:
    """The optax chain `cfg` names, for `steps` updates in all."""
    lr: Any = cfg.lr
    if cfg.schedule == "cosine":
        lr = optax.cosine_decay_schedule(cfg.lr, max(steps, 1), alpha=0.01)
    parts = []
    if cfg.optimizer == "lion":
        shapes = {
            name: {"SpikeSynapse_gS": (sim.net.size(p.pre), sim.net.size(p.post))}
            for name, p in sim.net.projections.items()
            if p.dense
        }
        parts += [centralize_gradients(shapes), optax.lion(lr)]
    else:
        parts.append(optax.adam(lr))
    if cfg.lr_scale:
        parts.append(scale_by_key(cfg.lr_scale))
    if cfg.tau_max is not None:
        decay = {
            k for k, (_, tr) in sim.net.trainable.items() if isinstance(tr, DecayFactor)
        }
        parts.append(cap_decay(math.exp(-sim.dt / cfg.tau_max), decay))
    return optax.chain(*parts)


def _objective(cfg: SnnConfig, data: TaskData) -> Objective:
    if cfg.loss == "per_step":
        return Objective(
            "per_step", eval_steps=data.eval_steps, mask_loss=cfg.mask_loss
        )
    return Objective(cfg.loss, label_smoothing=cfg.label_smoothing)


def fit_config(cfg: TaskConfig) -> dict:
    """What a checkpoint of `cfg`'s run must match to be continued: every
    setting but `epochs` (a resumed run may train longer), unless a schedule
    depends on the number of epochs."""
    out = cfg.to_dict()
    if getattr(cfg, "schedule", "constant") == "constant":
        out.pop("epochs")
    return out


def train_snn(
    cfg: SnnConfig,
    data: TaskData,
    progress: bool,
    checkpoint_dir: Any = None,
    build: Callable[[Any, int, int], Network] = network,
) -> dict:
    """Fit an LIF stack to `data` as `cfg` says; score both splits.

    With `checkpoint_dir`, `fit` checkpoints every epoch there and continues
    a checkpoint it finds there that was made with the same settings.
    `build(cfg, n_in, n_out)` makes the network (default `network`).

    Returns:
        `train_accuracy` / `test_accuracy`, losses and sample counts, the
        `network` in words, each trained layer's mean membrane time constant
        `tau_mean_ms`, the trained `params` and the `history`.
    """
    net = build(cfg, data.x_train.shape[-1], data.n_classes)
    sim = compile(net, dt=cfg.dt, solver="exp_euler")
    params = sim.init_params(jax.random.key(cfg.seed))
    if cfg.data_init:
        params = data_init(sim, params, data.x_train[: cfg.batch_size], cfg.init_std)
    objective = _objective(cfg, data)
    n_batches = max(1, len(data.x_train) // cfg.batch_size)
    result = fit(
        sim,
        params,
        data.x_train,
        data.y_train,
        input="in",
        objective=objective,
        optimizer=optimizer(cfg, sim, n_batches * cfg.epochs),
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        checkpoint_dir=checkpoint_dir,
        config=fit_config(cfg),
        progress=progress,
    )
    scores = {}
    for split, (x, y) in (
        ("train", subset(data.x_train, data.y_train, data.n_original)),
        ("test", (data.x_test, data.y_test)),
    ):
        ev = evaluate(sim, result.params, x, y, input="in", objective=objective)
        scores[f"{split}_accuracy"] = ev["accuracy"]
        scores[f"{split}_loss"] = ev["loss"]
        scores[f"n_{split}"] = len(x)
    tau = {
        target: float(jnp.mean(gleak_to_tau(p["Leak_gLeak"], p["capacitance"])))
        for target, p in result.params.items()
        if (target, "Leak_gLeak") in sim.net.trainable
    }
    kind = "recurrent LIF" if cfg.recurrent else "feed-forward LIF"
    sizes = [data.x_train.shape[-1], *cfg.hidden, data.n_classes]
    return {
        **scores,
        "network": f"{'-'.join(map(str, sizes))} {kind}, leaky readout",
        "tau_mean_ms": tau,
        "params": result.params,
        "history": result.history,
    }

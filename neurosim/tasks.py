"""The tasks behind ``neurosim train TASK``: data, network, training, outputs.

Each task in ``TASKS`` has a default configuration (network, time step,
optimiser, epochs); ``run_task`` overrides any of it, trains, evaluates on the
test split and writes to ``out``:

- ``metrics.json``: ``train_accuracy``, ``test_accuracy``, ``epochs``,
  ``wall_seconds``, the ``config`` and task-specific numbers (the mean trained
  membrane time constant of each layer, ``tau_mean_ms``; for MNIST the
  accuracy of a plain ANN on the same split, ``ann_test_accuracy``);
- ``training_curve.png``: loss and accuracy per epoch;
- ``params.npz``: the trained parameters (``neurosim.io.load_params``).

``quick=True`` is a smoke run: one epoch of ``QUICK_BATCHES`` batches, scored
on ``QUICK_SAMPLES`` training and test samples.

The settings of the LIF-stack tasks (``neurosim tasks --all`` prints the
defaults; ``neurosim train TASK --set KEY=VALUE`` changes any of them):

| setting | meaning |
|---|---|
| ``hidden``, ``recurrent`` | hidden layer sizes; all-to-all recurrence in each |
| ``dt`` | step (ms); static inputs last ``n_steps`` steps |
| ``tau_mem``, ``tau_out`` | initial membrane time constants (ms), trained per neuron |
| ``tau_max`` | cap on the trained time constants (ms), or None |
| ``train_vth`` | train each neuron's threshold |
| ``train_rest`` | train each neuron's resting potential ``eLeak`` (a bias) |
| ``gain`` | initial weights: ``v`` moves by ``gain / sqrt(fan_in)`` mV per input unit |
| ``data_init``, ``init_std`` | rescale weights and rests on a batch (:func:`data_init`) |
| ``encoder``, ``n_steps`` | static data: ``rate`` / ``poisson`` / ``latency`` code |
| ``augment`` | ``"shift"``: add the images moved by one pixel (4 copies) |
| ``loss``, ``label_smoothing`` | an :class:`~neurosim.Objective` loss |
| ``surrogate`` | ``fast_sigmoid`` (slope 10) or ``arctan`` |
| ``optimizer``, ``lr``, ``schedule`` | ``adam`` or ``lion`` (after gradient |
| | centralisation); ``constant`` or ``cosine`` decay to 1 % |
| ``lr_scale`` | ``{parameter name: factor}`` on its updates |
| ``epochs``, ``batch_size``, ``seed`` | as :func:`~neurosim.fit`; the seed also draws the weights |

Example:
    >>> from neurosim.tasks import TASKS
    >>> sorted(TASKS)
    ['digits', 'mnist', 'mts-xor', 'shd', 'toy', 'yinyang']
    >>> TASKS["shd"].defaults["optimizer"]
    'lion'
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import datasets
from .datasets.mts_xor import STEP_MS as MTS_XOR_BIN_MS
from .engine import compile
from .io import save_params
from .layers import lif_stack
from .mechanisms.channels import gleak_to_tau
from .mechanisms.surrogate import ArcTan, FastSigmoid
from .train import Objective, evaluate, fit

__all__ = [
    "QUICK_BATCHES",
    "QUICK_SAMPLES",
    "TASKS",
    "Task",
    "TaskDataError",
    "cap_decay",
    "centralize_gradients",
    "data_init",
    "run_task",
    "scale_by_key",
]

QUICK_BATCHES = 3
QUICK_SAMPLES = 128


class TaskDataError(FileNotFoundError):
    """A task's data files are missing; the message says where to get them."""


class TaskData(NamedTuple):
    """Inputs ``(samples, time, n_in)`` and labels ``(samples,)`` (or
    ``(samples, time)``) of both splits, and what the objective needs."""

    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    n_classes: int
    eval_steps: Any = None
    split: str = ""
    n_original: int | None = None  # leading training samples that are not copies


@dataclass(frozen=True)
class Task:
    """One entry of ``TASKS``.

    Attributes:
        name: the CLI name. title: one line naming the data and the source.
        defaults: the default configuration; ``run_task`` accepts overrides of
            exactly these keys.
        load: ``load(config, data_dir, quick) -> TaskData``.
        train: ``train(config, data, quick, progress) -> dict`` (with
            ``params``, ``history`` and metrics); default: an LIF stack
            (:func:`train_snn`).
    """

    name: str
    title: str
    defaults: Mapping[str, Any]
    load: Callable[..., Any]
    train: Callable[..., dict] | None = None

    def describe(self) -> str:
        """One line: the data, the default network, optimiser and epochs."""
        c = self.defaults
        if "n_input" in c:  # the seed-003 circuit
            net = f"{c['n_input']}-{'-'.join(map(str, c['hidden']))}-2 LIF"
        else:
            kind = "recurrent " if c["recurrent"] else ""
            net = f"{kind}LIF {'-'.join(map(str, c['hidden']))}"
        return (
            f"{self.title}; {net}, {c['optimizer']}(lr={c['lr']:g}), "
            f"{c['epochs']} epochs of batch {c['batch_size']}"
        )


# ----------------------------------------------------------------------------
# optimisers
# ----------------------------------------------------------------------------


def centralize_gradients(
    shapes: Mapping[str, Mapping[str, tuple[int, ...]]] | None = None,
) -> optax.GradientTransformation:
    """Gradient centralisation (Yong et al. 2020, arXiv:2004.01461).

    Every gradient with two or more axes loses its mean over all axes but the
    last: ``g <- g - mean(g, axes[:-1])``, so for a weight matrix
    ``(n_pre, n_post)`` the gradient of each postsynaptic neuron's incoming
    weights sums to zero. One-axis gradients pass unchanged.

    Args:
        shapes: ``{target: {key: shape}}``: view these (flat) leaves in this
            shape first. neurosim keeps all-to-all weights flat, pre-major, so
            a projection's ``SpikeSynapse_gS`` is ``(n_pre, n_post)``.

    Returns:
        A stateless ``optax.GradientTransformation``.
    """
    shapes = {t: dict(v) for t, v in (shapes or {}).items()}

    def one(g, shape):
        m = g.reshape(shape) if shape is not None else g
        if m.ndim < 2:
            return g
        m = m - jnp.mean(m, axis=tuple(range(m.ndim - 1)), keepdims=True)
        return m.reshape(g.shape)

    def update(updates, state, params=None):
        del params
        out = {
            t: {k: one(g, shapes.get(t, {}).get(k)) for k, g in leaves.items()}
            for t, leaves in updates.items()
        }
        return out, state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def cap_decay(
    alpha_max: float, keys: set[tuple[str, str]]
) -> optax.GradientTransformation:
    """Keep trained decay factors ``alpha = exp(-dt / tau)`` at or below ``alpha_max``.

    Place it last in a chain: it shrinks the update of each leaf in ``keys``
    (``(target, key)`` pairs trained with ``transform="decay"``) so that
    ``alpha + update <= alpha_max`` (seed 000 clips at 0.98).
    """

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("cap_decay: needs params; call update(g, state, params).")
        out = {
            t: {
                k: jnp.minimum(u, alpha_max - params[t][k]) if (t, k) in keys else u
                for k, u in leaves.items()
            }
            for t, leaves in updates.items()
        }
        return out, state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def scale_by_key(factors: Mapping[str, float]) -> optax.GradientTransformation:
    """Multiply the updates of every parameter named in ``factors`` (e.g.
    ``{"Leak_eLeak": 20.0}``) by its factor: a learning rate per kind of
    parameter, for parameters in different units."""

    def update(updates, state, params=None):
        del params
        out = {
            t: {k: u * factors[k] if k in factors else u for k, u in leaves.items()}
            for t, leaves in updates.items()
        }
        return out, state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def _optimizer(cfg: Mapping[str, Any], sim: Any, steps: int):
    lr: Any = cfg["lr"]
    if cfg.get("schedule", "constant") == "cosine":
        lr = optax.cosine_decay_schedule(cfg["lr"], max(steps, 1), alpha=0.01)
    parts = []
    if cfg["optimizer"] == "lion":
        shapes: dict = {}
        for name, proj in sim.net.projections.items():
            n_pre, n_post = (sim.net.size(p) for p in (proj.pre, proj.post))
            if proj.dense:
                shapes[name] = {"SpikeSynapse_gS": (n_pre, n_post)}
        parts += [centralize_gradients(shapes), optax.lion(lr)]
    elif cfg["optimizer"] == "adam":
        parts.append(optax.adam(lr))
    else:
        raise ValueError(
            f"optimizer: expected 'adam' or 'lion', got {cfg['optimizer']!r}."
        )
    if cfg.get("lr_scale"):
        parts.append(scale_by_key(cfg["lr_scale"]))
    if cfg.get("tau_max") is not None:
        decay = {k for k, (_, tr) in sim.net.trainable.items() if tr == "decay"}
        parts.append(cap_decay(math.exp(-sim.dt / cfg["tau_max"]), decay))
    return optax.chain(*parts)


# ----------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------


def _init_gain(cfg: Mapping[str, Any]) -> float:
    # "gain": the jump of v (mV, threshold 1 mV) per unit input, times sqrt(fan_in).
    # An input s held for one step moves v by gS * tau * (1 - alpha) (exp Euler).
    tau, dt = cfg["tau_mem"], cfg["dt"]
    return cfg["gain"] / (tau * -math.expm1(-dt / tau))


def _network(cfg: Mapping[str, Any], n_in: int, n_out: int):
    net = lif_stack(
        [n_in, *cfg["hidden"], n_out],
        dt=cfg["dt"],
        recurrent=cfg["recurrent"],
        tau_mem=cfg["tau_mem"],
        tau_out=cfg["tau_out"],
        train_tau=True,
        train_vth=cfg["train_vth"],
        per_neuron=True,
        init_gain=_init_gain(cfg),
        surrogate=ArcTan() if cfg["surrogate"] == "arctan" else FastSigmoid(),
    )
    if cfg["train_rest"]:
        # A trained resting potential per neuron is a bias: v relaxes to eLeak.
        for name in net.populations:
            if name != "in":
                net.make_trainable(name, "Leak_eLeak", per_element=True)
    return net


def data_init(sim: Any, params: dict, x: Any, std: float) -> dict:
    """Data-dependent initialisation of a feed-forward LIF stack with trained
    resting potentials (``train_rest``), layer after layer on the batch ``x``.

    A neuron with decay ``alpha = exp(-dt / tau)`` integrates per step
    ``u = (1 - alpha) tau I`` (mV) of its synaptic current ``I``; its incoming
    weights are scaled so that over ``x`` (samples and steps) ``u`` has standard
    deviation ``std`` mV (``(1 - alpha) std`` for the readout), and its resting
    potential is set so that the mean is cancelled:
    ``(1 - alpha) eLeak = -mean(u)``. This stands in for seed 000's
    normalisation of every layer's input current per batch, which a causal,
    one-scan simulator cannot do during training.
    """
    params = {t: dict(p) for t, p in params.items()}
    pops = [p for p in sim.net.populations if p != "in"]
    record = [f"{p}.Fire_spikes" for p in pops if p != "out"]
    x = jnp.asarray(x, jnp.float32)
    pre = "in"
    for post in pops:
        if pre == "in":
            s = x
        else:
            s = sim.run(params, {"in": x}, record=record)[f"{pre}.Fire_spikes"][:, 1:]
        proj = f"{pre}->{post}"
        n_pre, n_post = sim.net.size(pre), sim.net.size(post)
        g = jnp.reshape(params[proj]["SpikeSynapse_gS"], (n_pre, n_post))
        p = params[post]
        tau = gleak_to_tau(p["Leak_gLeak"], p["capacitance"])
        decay = -jnp.expm1(-sim.dt / tau)  # 1 - alpha
        u = decay * tau * -(s @ g)  # current-based synapse: I = -gS s
        target = std * (decay if post == "out" else 1.0)
        k = target / jnp.maximum(jnp.std(u, axis=(0, 1)), 1e-6)
        params[proj]["SpikeSynapse_gS"] = (g * k).reshape(-1)
        p["Leak_eLeak"] = -jnp.mean(u, axis=(0, 1)) * k / decay
        pre = post
    return params


def _objective(cfg: Mapping[str, Any], data: TaskData) -> Objective:
    if cfg["loss"] == "per_step":
        return Objective("per_step", eval_steps=data.eval_steps)
    return Objective(cfg["loss"], label_smoothing=cfg.get("label_smoothing", 0.0))


def _subset(x: Any, y: Any, n: int | None) -> tuple[Any, Any]:
    return (x, y) if n is None else (x[:n], y[:n])


def train_snn(cfg: dict, data: TaskData, quick: bool, progress: bool) -> dict:
    """Fit an LIF stack (:func:`neurosim.lif_stack`) to ``data`` as ``cfg`` says."""
    net = _network(cfg, data.x_train.shape[-1], data.n_classes)
    sim = compile(net, dt=cfg["dt"], solver="exp_euler")
    params = sim.init_params(jax.random.key(cfg["seed"]))
    if cfg.get("data_init"):
        params = data_init(
            sim, params, data.x_train[: cfg["batch_size"]], cfg["init_std"]
        )
    objective = _objective(cfg, data)
    n_batches = QUICK_BATCHES if quick else len(data.x_train) // cfg["batch_size"]
    optimizer = _optimizer(cfg, sim, n_batches * cfg["epochs"])
    result = fit(
        sim,
        params,
        data.x_train,
        data.y_train,
        input="in",
        objective=objective,
        optimizer=optimizer,
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        seed=cfg["seed"],
        max_batches=QUICK_BATCHES if quick else None,
        progress=progress,
    )
    n_eval = QUICK_SAMPLES if quick else None
    n_train = data.n_original or len(data.x_train)  # scored without the copies
    n_train = min(n_train, n_eval or n_train)
    scores = {}
    for split, (x, y) in (
        ("train", _subset(data.x_train, data.y_train, n_train)),
        ("test", _subset(data.x_test, data.y_test, n_eval)),
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
    kind = "recurrent LIF" if cfg["recurrent"] else "feed-forward LIF"
    sizes = [data.x_train.shape[-1], *cfg["hidden"], data.n_classes]
    return {
        **scores,
        "network": f"{'-'.join(map(str, sizes))} {kind}, leaky readout",
        "tau_mean_ms": tau,
        "params": result.params,
        "history": result.history,
    }


def train_mlp(cfg: dict, data: TaskData, quick: bool) -> float:
    """Test accuracy of a plain ReLU MLP (``ann_hidden``, e.g. ``784-128-10``) on
    static ``data`` (the first time step of the inputs: the pixels, for the
    rate code), trained with Adam on softmax cross-entropy."""
    x_tr, x_te = (np.asarray(x[:, 0], np.float32) for x in (data.x_train, data.x_test))
    sizes = [x_tr.shape[1], *cfg["ann_hidden"], data.n_classes]
    keys = jax.random.split(jax.random.key(cfg["seed"]), len(sizes) - 1)
    params = [
        (jax.random.normal(k, (a, b)) * math.sqrt(2.0 / a), jnp.zeros(b))
        for k, a, b in zip(keys, sizes[:-1], sizes[1:], strict=True)
    ]

    def logits(params, x):
        for w, b in params[:-1]:
            x = jax.nn.relu(x @ w + b)
        return x @ params[-1][0] + params[-1][1]

    def loss(params, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(
            logits(params, x), y
        ).mean()

    opt = optax.adam(cfg["ann_lr"])

    @jax.jit
    def step(params, state, x, y):
        grads = jax.grad(loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    state, rng, bs = opt.init(params), np.random.default_rng(cfg["seed"]), 128
    for _ in range(1 if quick else cfg["ann_epochs"]):
        order = rng.permutation(len(x_tr))
        n = QUICK_BATCHES if quick else len(order) // bs
        for b in range(n):
            idx = order[b * bs : (b + 1) * bs]
            params, state = step(params, state, x_tr[idx], data.y_train[idx])
    pred = np.argmax(np.asarray(logits(params, x_te)), axis=-1)
    return float(np.mean(pred == np.asarray(data.y_test)))


def _train_mnist(cfg: dict, data: TaskData, quick: bool, progress: bool) -> dict:
    out = train_snn(cfg, data, quick, progress)
    out["ann_test_accuracy"] = train_mlp(cfg, data, quick)
    out["ann_network"] = "-".join(map(str, [784, *cfg["ann_hidden"], data.n_classes]))
    return out


def _train_toy(cfg: dict, data: TaskData, quick: bool, progress: bool) -> dict:
    from .demo import T_MAX, build_seed003

    with jax.enable_x64(True):
        sim = build_seed003(cfg["n_input"], cfg["hidden"][0], 2)
        params = sim.init_params(jax.random.key(cfg["seed"]))
        objective = Objective("max_voltage")
        result = fit(
            sim,
            params,
            data.x_train,
            data.y_train,
            input="inp",
            objective=objective,
            optimizer=optax.adam(cfg["lr"]),
            epochs=cfg["epochs"],
            batch_size=cfg["batch_size"],
            t_max=T_MAX,
            progress=progress,
        )
        out: dict = {
            "params": result.params,
            "history": result.history,
            "network": f"{cfg['n_input']}-{cfg['hidden'][0]}-2 LIF, leaky readout "
            "(seed 003; only the weights are trained)",
        }
        for split, x, y in (
            ("train", data.x_train, data.y_train),
            ("test", data.x_test, data.y_test),
        ):
            ev = evaluate(sim, result.params, x, y, input="inp", t_max=T_MAX)
            out[f"{split}_accuracy"], out[f"{split}_loss"] = ev["accuracy"], ev["loss"]
            out[f"n_{split}"] = len(x)
    return out


# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------


def _encode(x: np.ndarray, cfg: Mapping[str, Any], key: int) -> np.ndarray:
    """Static inputs ``(n, features)`` in [0, 1] -> sequences ``(n, n_steps, features)``.

    ``rate``: the value at every step, as ``neurosim.datasets.rate`` (here a
    read-only numpy view: no copy per step); ``poisson`` / ``latency``: spikes
    from ``neurosim.datasets``, stored as uint8.
    """
    n_steps, enc = cfg["n_steps"], cfg["encoder"]
    x = np.asarray(x, np.float32)
    if enc == "rate":
        return np.broadcast_to(x[:, None, :], (len(x), n_steps, x.shape[1]))
    if enc == "poisson":
        spikes = datasets.poisson(x, n_steps, jax.random.key(key))
    elif enc == "latency":
        spikes = datasets.latency(x, n_steps)
    else:
        raise ValueError(
            f"encoder: expected 'rate', 'poisson' or 'latency', got {enc!r}."
        )
    return np.asarray(spikes, np.uint8)


def shifted_copies(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Square images ``(n, side * side)`` and the four copies moved by one pixel
    (up, down, left, right; zeros shifted in): 5 n samples."""
    side = math.isqrt(x.shape[1])
    if side * side != x.shape[1]:
        raise ValueError(
            f"augment: 'shift' needs square images, got {x.shape[1]} pixels."
        )
    img = x.reshape(-1, side, side)
    copies = [img]
    for axis in (1, 2):
        for step in (-1, 1):
            moved = np.roll(img, step, axis=axis)
            edge = [slice(None)] * 3
            edge[axis] = 0 if step == 1 else -1
            moved[tuple(edge)] = 0.0
            copies.append(moved)
    return np.concatenate(copies).reshape(-1, side * side), np.tile(y, len(copies))


def _static(ds: Any, cfg: Mapping[str, Any], quick: bool) -> TaskData:
    n_tr = QUICK_BATCHES * cfg["batch_size"] if quick else None
    x_tr, y_tr = _subset(ds.x_train, ds.y_train, n_tr)
    n_original = len(x_tr)
    if cfg.get("augment") == "shift":
        x_tr, y_tr = shifted_copies(np.asarray(x_tr), np.asarray(y_tr))
    x_te, y_te = _subset(ds.x_test, ds.y_test, QUICK_SAMPLES if quick else None)
    return TaskData(
        _encode(x_tr, cfg, cfg["seed"]),
        np.asarray(y_tr),
        _encode(x_te, cfg, cfg["seed"] + 1),
        np.asarray(y_te),
        ds.n_classes,
        split=ds.split
        + (", with 1-pixel shifted copies" if n_original < len(x_tr) else ""),
        n_original=n_original,
    )


def _load_toy(cfg, data_dir, quick) -> TaskData:
    del data_dir, quick
    with jax.enable_x64(True):
        train = datasets.toy(seed=cfg["seed"], n_input=cfg["n_input"])
        test = datasets.toy(seed=cfg["seed"] + 1, n_input=cfg["n_input"])
        arrays = [np.asarray(a) for a in (train.currents, train.labels)]
        arrays += [np.asarray(a) for a in (test.currents, test.labels)]
    return TaskData(
        *arrays,
        2,
        split="seed-003 batch of 256 (random labels); test: a fresh batch (seed + 1)",
    )


def _load_mts_xor(cfg, data_dir, quick) -> TaskData:
    """MTS-XOR on a step of ``dt`` ms, scored ``latency`` steps late.

    Each 10 ms bin of the data set becomes ``k = 10 / dt`` steps, its spikes on
    the first, its target on all ``k``. Each LIF layer passes its spikes on one
    step later (the engine's step order, as jaxley's), so the readout of ``n``
    hidden layers sees step ``t``'s input at step ``t + n`` at the earliest:
    the target sequence is delayed by ``latency`` steps (the inputs padded with
    as many silent steps), and the accuracy is scored on the last step of each
    of the 60 cue bins, that much later.
    """
    del data_dir
    k = round(MTS_XOR_BIN_MS / cfg["dt"])
    if k < 1 or not math.isclose(k * cfg["dt"], MTS_XOR_BIN_MS):
        raise ValueError(
            f"dt: must divide the 10 ms bins of MTS-XOR, got {cfg['dt']!r}."
        )
    lat = int(cfg["latency"])
    n_train = QUICK_BATCHES * cfg["batch_size"] if quick else cfg["n_train"]
    n_test = QUICK_SAMPLES if quick else cfg["n_test"]
    ds = datasets.mts_xor_splits(cfg["seed"], n_train=n_train, n_test=n_test)

    def spikes(x):
        out = np.zeros((x.shape[0], x.shape[1] * k + lat, x.shape[2]), np.uint8)
        out[:, : x.shape[1] * k : k] = x
        return out

    def targets(y):
        # before the first target: class 0, as on the seed's first 10 steps
        return np.pad(np.repeat(y, k, axis=1), ((0, 0), (lat, 0)))

    scored = np.zeros(len(ds.eval_steps) * k + lat, bool)
    scored[lat + k - 1 :: k] = ds.eval_steps
    return TaskData(
        spikes(ds.x_train),
        targets(ds.y_train),
        spikes(ds.x_test),
        targets(ds.y_test),
        2,
        scored,
        f"{ds.split}; {k} step(s) of {cfg['dt']:g} ms per 10 ms bin, scored "
        f"{lat} step(s) late",
    )


def _load_yinyang(cfg, data_dir, quick) -> TaskData:
    del data_dir
    return _static(datasets.yinyang_splits(), cfg, quick)


def _load_digits(cfg, data_dir, quick) -> TaskData:
    del data_dir
    return _static(datasets.digits(seed=0), cfg, quick)


def _load_mnist(cfg, data_dir, quick) -> TaskData:
    try:
        if (
            data_dir is not None
            and not (Path(data_dir) / datasets.mnist.MNIST_NPZ).exists()
        ):
            ds = datasets.load_mnist_idx(data_dir)
        else:
            ds = datasets.load_mnist_npz(data_dir)
    except FileNotFoundError as err:
        raise TaskDataError(str(err)) from err
    return _static(ds, cfg, quick)


def _load_shd(cfg, data_dir, quick) -> TaskData:
    if data_dir is None:
        raise TaskDataError(
            "needs --data DIR, a folder holding shd_train.h5 and shd_test.h5 "
            f"(from {datasets.shd.SHD_PAGE}; neurosim.datasets.download_shd(DIR) "
            "fetches them)."
        )
    kw = {
        "n_bins": cfg["n_steps"],
        "t_max": cfg["t_max_s"],
        "n_channels": cfg["channels"],
    }
    try:
        train = datasets.load_shd(data_dir, "train", **kw)
        test = datasets.load_shd(data_dir, "test", **kw)
    except FileNotFoundError as err:
        raise TaskDataError(str(err)) from err
    n_tr = QUICK_BATCHES * cfg["batch_size"] if quick else None
    x_tr, y_tr = _subset(train.x, train.y, n_tr)
    x_te, y_te = _subset(test.x, test.y, QUICK_SAMPLES if quick else None)
    return TaskData(x_tr, y_tr, x_te, y_te, 20, split="shd_train.h5 / shd_test.h5")


# ----------------------------------------------------------------------------
# the registry
# ----------------------------------------------------------------------------

_SNN = {
    "recurrent": False,
    "train_vth": False,
    "train_rest": False,
    "surrogate": "fast_sigmoid",
    "optimizer": "adam",
    "schedule": "constant",
    "tau_max": None,
    "lr_scale": None,
    "seed": 0,
}

TASKS: dict[str, Task] = {
    "toy": Task(
        "toy",
        "seed 003: memorise 256 Poisson samples with random labels (as `neurosim demo`)",
        {
            "n_input": 100,
            "hidden": [4],
            "optimizer": "adam",
            "lr": 0.1,
            "epochs": 500,
            "batch_size": 256,
            "seed": 1701,
        },
        _load_toy,
        _train_toy,
    ),
    "mts-xor": Task(
        "mts-xor",
        "MTS-XOR (seed 000), per-step XOR of a held cue with six later cues",
        {
            **_SNN,
            "hidden": [32, 32, 32],
            "dt": 10.0,
            "latency": 3,
            "tau_mem": 200.0,
            "tau_out": 50.0,
            "tau_max": 495.0,  # ms: seed 000's alpha <= 0.98 at its 10 ms step
            "gain": 1.0,
            "train_rest": True,
            "data_init": True,
            "init_std": 1.0,
            "loss": "per_step",
            "lr": 2e-3,
            "schedule": "cosine",
            "epochs": 100,
            "batch_size": 128,
            "n_train": 10240,
            "n_test": 2048,
        },
        _load_mts_xor,
    ),
    "yinyang": Task(
        "yinyang",
        "Yin-Yang, 4 rate-coded inputs, 3 classes",
        {
            **_SNN,
            "hidden": [64],
            "encoder": "rate",
            "n_steps": 20,
            "dt": 1.0,
            "tau_mem": 10.0,
            "tau_out": 10.0,
            "gain": 1.0,
            "loss": "sum_voltage",
            "lr": 1e-2,
            "schedule": "cosine",
            "epochs": 30,
            "batch_size": 50,
        },
        _load_yinyang,
    ),
    "digits": Task(
        "digits",
        "scikit-learn 8x8 digits, rate-coded pixels",
        {
            **_SNN,
            "hidden": [128],
            "encoder": "rate",
            "n_steps": 20,
            "dt": 1.0,
            "tau_mem": 10.0,
            "tau_out": 10.0,
            "gain": 1.0,
            "loss": "sum_voltage",
            "lr": 5e-3,
            "schedule": "cosine",
            "epochs": 40,
            "batch_size": 32,
        },
        _load_digits,
    ),
    "mnist": Task(
        "mnist",
        "MNIST 10k subset (8000 / 2000; seed 002), rate-coded pixels",
        {
            **_SNN,
            "hidden": [100],
            "recurrent": True,
            "train_vth": True,
            "encoder": "rate",
            "n_steps": 25,
            "dt": 1.0,
            "tau_mem": 10.0,
            "tau_out": 10.0,
            "gain": 0.5,
            "loss": "max_voltage",
            "lr": 2e-3,
            "schedule": "cosine",
            "epochs": 6,
            "batch_size": 256,
            "augment": "shift",
            "ann_hidden": [128],
            "ann_lr": 1e-3,
            "ann_epochs": 20,
        },
        _load_mnist,
        _train_mnist,
    ),
    "shd": Task(
        "shd",
        "Spiking Heidelberg Digits (seed 004), 128 bins x 256 channels, needs --data",
        {
            **_SNN,
            "hidden": [128, 128],
            "recurrent": True,
            "surrogate": "arctan",
            "n_steps": 128,
            "t_max_s": 1.0,
            "channels": 256,
            "dt": 1000.0 / 128,
            "tau_mem": 20.0,
            "tau_out": 20.0,
            "gain": 1.0,
            "loss": "sum_voltage",
            "label_smoothing": 0.3,
            "optimizer": "lion",
            "lr": 1e-4,
            "epochs": 50,
            "batch_size": 256,
        },
        _load_shd,
    ),
}


# ----------------------------------------------------------------------------
# run
# ----------------------------------------------------------------------------


def _config(task: Task, overrides: Mapping[str, Any] | None) -> dict:
    cfg = {k: (list(v) if isinstance(v, list) else v) for k, v in task.defaults.items()}
    for key, value in (overrides or {}).items():
        if key not in cfg:
            raise ValueError(
                f"overrides: task {task.name!r} has no setting {key!r}; "
                f"its settings are {sorted(cfg)}."
            )
        cfg[key] = list(value) if isinstance(value, tuple) else value
    return cfg


def _json(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _json(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json(v) for v in x]
    if isinstance(x, np.generic | jax.Array):
        return np.asarray(x).item()
    return x


def run_task(
    name: str,
    *,
    out: str | Path,
    quick: bool = False,
    data: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> dict:
    """Train task ``name`` and write its metrics, curve and parameters to ``out``.

    Args:
        name: a key of ``TASKS``.
        out: output folder (created).
        quick: a smoke run (one epoch of ``QUICK_BATCHES`` batches).
        data: folder with the data files (SHD's ``.h5``; MNIST's npz or IDX).
        overrides: settings replacing the task's defaults (``epochs``, ``lr``,
            ``hidden``, ...; ``TASKS[name].defaults`` lists them).
        progress: show a progress bar.

    Returns:
        The metrics written to ``out/metrics.json``.

    Raises:
        TaskDataError: the task's data files are missing.
        ValueError: unknown task or setting.
    """
    from . import plot  # matplotlib only when figures are written

    if name not in TASKS:
        raise ValueError(
            f"name: unknown task {name!r}; expected one of {sorted(TASKS)}."
        )
    task = TASKS[name]
    cfg = _config(task, overrides)
    if quick:
        cfg["epochs"] = 1
    t0 = time.perf_counter()
    # One dtype whatever the caller's jax config: float32, except the seed-003
    # circuit, which runs in float64 as the seed did.
    with jax.enable_x64(False):
        loaded = task.load(cfg, data, quick)
        result = (task.train or train_snn)(cfg, loaded, quick, progress)
    wall = time.perf_counter() - t0
    params, history = result.pop("params"), result.pop("history")
    metrics = {
        "task": name,
        "train_accuracy": result.pop("train_accuracy"),
        "test_accuracy": result.pop("test_accuracy"),
        "epochs": len(history["loss"]),
        "wall_seconds": round(wall, 2),
        **result,
        "quick": quick,
        "split": loaded.split,
        "history": {k: v for k, v in history.items() if k != "seconds"},
        "config": cfg,
    }
    metrics = _json(metrics)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    plot.save(plot.training_curves(history), out / "training_curve.png")
    save_params(out / "params.npz", params)
    return metrics

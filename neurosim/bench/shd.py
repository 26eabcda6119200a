"""The SHD-shape training step: neurosim vs spyx 1.0 (and sparxml, jaxpike),
side by side, and against the machine's own matrix-product rate.

The network of seed 004 and of the `shd` task: 256 input channels -> 128
recurrent LIF -> 128 recurrent LIF -> 20 leaky readout, batch 256, 128 steps,
summed-voltage cross-entropy with label smoothing 0.3, one Adam(1e-3) update.
neurosim's side is built by `neurosim.tasks.snn.network` from the `shd`
task's defaults (`lif_stack`, exp-Euler, trained per-neuron time constants)
and stepped by `make_train_step`, the step `fit` runs (with its finiteness
checks). spyx's side is seed 004's model in spyx 1.0's flax.nnx API: the
input projection applied to the whole sequence, then `RLIF`, `Linear`,
`RLIF`, `Linear`, `LI` under `spyx.nn.run`, loss `spyx.fn.integral_crossentropy`.
jaxpike's side is its `Graph` with the same wiring (`Dense`, `LIF`, feedback
edges, `LeakyIntegrator`) under `jaxpike.unroll`. Inputs are Bernoulli
spikes (p = 0.05) in float32. All steps run interleaved in one process after
four warm-up calls each. The allocator matters on the CPU (large per-call
temporaries: glibc returns them to the system and faults them in again), so
neurosim and spyx are also compared in a fresh process under the other
setting (glibc's defaults, or `_common.RETAINING_MALLOC` when this process
runs with defaults).

FLOPs are counted from the shapes: the forward pass's matrix products
(`2 · batch · steps · Σ n_pre · n_post`), the same again for the weight
gradients, and again for the gradients of each layer's input except the
first (the data needs none); elementwise work is not counted.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..engine import compile
from ..tasks.shd import DEFAULTS
from ..tasks.snn import network
from ..train.objective import Objective
from ..train.step import _loss_fn, flat_view, make_train_step
from ..train.trainable import get_trainable
from ._common import (
    interleaved,
    matmul_rate,
    missing_row,
    other_allocator,
    row,
    run_child,
    seconds,
)

N_OUT = 20
SMOOTHING = 0.3
LR = 1e-3
P_SPIKE = 0.05


@dataclasses.dataclass(frozen=True)
class Shape:
    n_in: int
    hidden: tuple[int, int]
    n_out: int
    batch: int
    steps: int

    def sizes(self) -> str:
        return "-".join(map(str, (self.n_in, *self.hidden, self.n_out)))

    def flops(self) -> float:
        """Matrix-product FLOPs of one training step (see the module's note)."""
        h1, h2 = self.hidden
        pairs = [(self.n_in, h1), (h1, h1), (h1, h2), (h2, h2), (h2, self.n_out)]
        fwd = 2.0 * self.batch * self.steps * sum(a * b for a, b in pairs)
        first = 2.0 * self.batch * self.steps * self.n_in * h1
        return 3.0 * fwd - first


FULL = Shape(256, (128, 128), N_OUT, batch=256, steps=128)
QUICK = Shape(32, (16, 16), 4, batch=8, steps=16)


class Built(NamedTuple):
    """A training step, its arguments, and the loss of its trained values
    (`loss(trained)`) with those values, for listing the saved residuals."""

    step: Callable
    args: tuple
    loss: Callable
    trained: Any


def residual_bytes(built: Built) -> int:
    """What the backward pass keeps from the forward pass, bytes
    (`jax.ad_checkpoint`'s saved residuals of the loss)."""
    from jax._src.ad_checkpoint import saved_residuals  # print_saved_residuals' data

    res = saved_residuals(built.loss, built.trained)
    return sum(int(np.prod(aval.shape)) * aval.dtype.itemsize for aval, _ in res)


def data(shape: Shape) -> tuple[jax.Array, jax.Array]:
    rng = np.random.default_rng(0)
    x = rng.random((shape.batch, shape.steps, shape.n_in)) < P_SPIKE
    y = rng.integers(0, shape.n_out, shape.batch)
    return jnp.asarray(x, jnp.float32), jnp.asarray(y)


def neurosim_step(shape: Shape, x, y, remat: bool = False) -> Built:
    """The `shd` task's network and `fit`'s training step, Adam."""
    cfg = dataclasses.replace(DEFAULTS, hidden=shape.hidden, channels=shape.n_in)
    net = network(cfg, shape.n_in, shape.n_out)
    sim = compile(net, dt=cfg.dt, solver="exp_euler", remat=remat)
    params = sim.init_params(jax.random.key(0))
    opt = optax.adam(LR)
    objective = Objective("sum_voltage", label_smoothing=SMOOTHING)
    step = make_train_step(sim, opt, objective, input="in")
    theta = flat_view(get_trainable(sim, params))
    loss = _loss_fn(sim, objective, "in", None, None)
    return Built(
        step,
        (theta, opt.init(theta), params, x, y),
        lambda th: loss(th, params, x, y)[0],
        theta,
    )


def spyx_step(shape: Shape, x, y) -> Built:
    """Seed 004's model in spyx 1.0 (flax.nnx), Adam."""
    import spyx
    from flax import nnx

    rngs = nnx.Rngs(0)
    h1, h2 = shape.hidden
    act = spyx.axn.arctan()
    first = nnx.Linear(shape.n_in, h1, use_bias=False, rngs=rngs)
    core = spyx.nn.Sequential(
        spyx.nn.RLIF((h1,), activation=act, rngs=rngs),
        nnx.Linear(h1, h2, use_bias=False, rngs=rngs),
        spyx.nn.RLIF((h2,), activation=act, rngs=rngs),
        nnx.Linear(h2, shape.n_out, use_bias=False, rngs=rngs),
        spyx.nn.LI((shape.n_out,), rngs=rngs),
    )
    graphdef, params = nnx.split(nnx.List([first, core]))
    loss = spyx.fn.integral_crossentropy(smoothing=SMOOTHING, time_axis=1)
    opt = optax.adam(LR)

    def loss_fn(params, x, y):
        first, core = nnx.merge(graphdef, params)
        traces, _ = spyx.nn.run(core, first(x), batch_major=True)
        return loss(traces, y)

    @jax.jit
    def step(params, opt_state, x, y):
        value, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    return Built(
        step, (params, opt.init(params), x, y), lambda p: loss_fn(p, x, y), params
    )


def jaxpike_step(shape: Shape, x, y) -> Built:
    """The same wiring as a jaxpike `Graph` (feedback edges for the recurrent
    weights, per-neuron time constants), `jaxpike.make_step` with Adam."""
    import equinox as eqx
    import jaxpike as jp

    h1, h2 = shape.hidden
    dt, tau = DEFAULTS.dt, DEFAULTS.tau_mem
    keys = jax.random.split(jax.random.key(0), 5)
    dense = dict(use_bias=False)
    net = jp.Graph(
        nodes={
            "w_in": jp.Dense(shape.n_in, h1, key=keys[0], **dense),
            "h1": jp.LIF(jnp.full((h1,), tau), dt=dt, surrogate=jp.ATan()),
            "w_rec1": jp.Dense(h1, h1, key=keys[1], **dense),
            "w_12": jp.Dense(h1, h2, key=keys[2], **dense),
            "h2": jp.LIF(jnp.full((h2,), tau), dt=dt, surrogate=jp.ATan()),
            "w_rec2": jp.Dense(h2, h2, key=keys[3], **dense),
            "w_out": jp.Dense(h2, shape.n_out, key=keys[4], **dense),
            "out": jp.LeakyIntegrator(jnp.full((shape.n_out,), tau), dt=dt),
        },
        edges=[
            ("input", "w_in"),
            ("w_in", "h1"),
            ("h1", "w_rec1"),
            ("w_rec1", "h1"),
            ("h1", "w_12"),
            ("w_12", "h2"),
            ("h2", "w_rec2"),
            ("w_rec2", "h2"),
            ("h2", "w_out"),
            ("w_out", "out"),
        ],
        output="out",
    )
    opt = optax.adam(LR)

    def loss_fn(model, xs, labels):
        ys, _ = jp.unroll(model, xs)  # time-major
        logits = jnp.sum(ys, axis=0)
        target = optax.smooth_labels(jax.nn.one_hot(labels, shape.n_out), SMOOTHING)
        return jnp.mean(optax.softmax_cross_entropy(logits, target)), None

    step = jp.make_step(loss_fn, opt)
    opt_state = opt.init(eqx.filter(net, eqx.is_inexact_array))
    xs = jnp.swapaxes(x, 0, 1)
    params, static = eqx.partition(net, eqx.is_inexact_array)

    def loss(params):
        return loss_fn(eqx.combine(params, static), xs, y)[0]

    return Built(step, (net, opt_state, xs, y), loss, params)


# The peers: (module to import, version it was written for, builder, what
# to say when it is missing).
INSTALL = "pip install 'neurosim[bench]'"
PEERS = {
    "spyx": ("spyx", "1.0", spyx_step, f"{INSTALL}; spyx needs Python >= 3.11"),
    "jaxpike": ("jaxpike", "0.1", jaxpike_step, INSTALL),
    "sparxml": ("sparxml", "0.1", None, f"{INSTALL}; sparxml needs Python >= 3.12"),
}


def versus_spyx(quick: bool) -> dict[str, float]:
    """Median seconds per step of neurosim and spyx, interleaved in this
    process (without spyx: neurosim only)."""
    shape = QUICK if quick else FULL
    x, y = data(shape)
    built = {"neurosim": neurosim_step(shape, x, y)}
    if _installed("spyx"):
        built["spyx"] = spyx_step(shape, x, y)
    calls = {k: (b.step, b.args) for k, b in built.items()}
    times = interleaved(calls, repeats=2 if quick else 10, warmup=4)
    return {k: t.wall for k, t in times.items()}


def _allocator_row(quick: bool, ns_wall: float, spyx_wall: float | None) -> dict:
    """The same comparison in a fresh process under the other allocator
    setting (glibc defaults <-> large mmap and trim thresholds)."""
    env, words = other_allocator()
    label = "shd step: neurosim vs spyx, other allocator"
    got = run_child(__name__, [str(int(quick))], timeout=300 if quick else 900, env=env)
    if isinstance(got, str):
        return missing_row(label, "x", "", f"under {words}: {got}")
    here = f"here: neurosim {seconds(ns_wall)}" + (
        f", spyx {seconds(spyx_wall)}" if spyx_wall is not None else ""
    )
    if "spyx" not in got:
        return missing_row(
            label,
            "x",
            "",
            f"under {words}: neurosim {seconds(got['neurosim'])}/step; spyx is not "
            f"installed; {here}",
        )
    return row(
        label,
        got["spyx"] / got["neurosim"],
        "x",
        "",
        f"under {words}: neurosim {seconds(got['neurosim'])}, spyx "
        f"{seconds(got['spyx'])} "
        f"per step; {here}",
    )


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def rows(quick: bool) -> list[dict]:
    """neurosim's SHD-shape training step against each peer that is installed
    (`pip install "neurosim[bench]"`), and the fraction of the machine's
    sustained float32 matmul rate it reaches."""
    shape = QUICK if quick else FULL
    repeats, warmup = (2, 4) if quick else (10, 4)
    x, y = data(shape)
    built = {"neurosim": neurosim_step(shape, x, y)}
    missing = {}
    for name, (module, version, build, hint) in PEERS.items():
        if not _installed(module):
            missing[name] = f"{name} is not installed ({hint})"
        elif build is None:
            missing[name] = f"{name} installs, but has no builder for this shape here"
        else:
            try:
                built[name] = build(shape, x, y)
            except Exception as err:  # a peer's API drift is reported, not fatal
                missing[name] = f"{name} {version}: {type(err).__name__}: {err}"[:200]
    calls = {k: (b.step, b.args) for k, b in built.items()}
    times = interleaved(calls, repeats=repeats, warmup=warmup)
    residuals = {k: residual_bytes(b) / 2**20 for k, b in built.items()}
    rate = matmul_rate(256 if quick else 2048, repeats=3 if quick else 10)
    ns_t = times["neurosim"]
    what = (
        f"{shape.sizes()} recurrent LIF, batch {shape.batch}, {shape.steps} steps, "
        "summed-voltage cross-entropy, Adam"
    )
    out = [
        row(
            "shd step: neurosim",
            ns_t.wall,
            "s",
            "",
            f"{what}; median of {repeats} (process cpu {seconds(ns_t.cpu)})",
        )
    ]
    goal = ">= 1.5x"
    for name in PEERS:
        label = f"shd step: neurosim vs {name}"
        if name in missing:
            out.append(
                missing_row(label, "x", goal if name == "spyx" else "", missing[name])
            )
            continue
        t = times[name]
        out.append(
            row(
                label,
                t.wall / ns_t.wall,
                "x",
                goal if name == "spyx" else "",
                f"{name} {seconds(t.wall)}/step vs neurosim {seconds(ns_t.wall)} "
                "(>1: neurosim faster)",
            )
        )
    out.append(
        row(
            "shd step: backward residuals, neurosim",
            residuals["neurosim"],
            "MiB",
            "",
            "what the backward pass keeps (jax.ad_checkpoint saved residuals of "
            "the loss); "
            + ", ".join(
                f"{k} {v:.3g} MiB" for k, v in residuals.items() if k != "neurosim"
            ),
        )
    )
    spyx_wall = times["spyx"].wall if "spyx" in times else None
    out.append(_allocator_row(quick, ns_t.wall, spyx_wall))
    flops = shape.flops()
    out.append(
        row("f32 matmul rate", rate / 1e9, "GFLOP/s", "", "sustained, (n,n)@(n,n)")
    )
    out.append(
        row(
            "shd step: fraction of matmul rate",
            100.0 * flops / ns_t.wall / rate,
            "%",
            ">= 60 %",
            f"{flops / 1e9:.3g} GFLOP counted from the shapes per step",
        )
    )
    return out


if __name__ == "__main__":  # python -m neurosim.bench.shd QUICK
    print(json.dumps(versus_spyx(bool(int(sys.argv[1])))))

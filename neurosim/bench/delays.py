"""The cost of synaptic delays (`neurosim.Delayed`) on the SHD-shape network.

The network is the `shd` task's (256 inputs -> 128 recurrent LIF -> 128
recurrent LIF -> 20 leaky readout, batch 256, 128 steps; `quick`: 32 -> 16 ->
16 -> 4, batch 8, 32 steps). Every feed-forward projection (`in->h1`,
`h1->h2`, `h2->out`) gets delays of up to `MAX_DELAY` steps; the recurrent
ones stay undelayed. A row is the time of one training step (`fit`'s jitted
step: the loss, its gradient through the whole run, an Adam update) with
delays over the same step without, measured side by side: every variant is
compiled and warmed up first, then the variants are timed in turn, `reps`
rounds, and each keeps its fastest round.

- one fixed delay per projection: the buffer of presynaptic spikes is read
  at one slot, and the projection stays one matrix product per step;
- fixed per-edge delays: each edge reads its own slot (a gather of
  `batch x n_edges` values per step and projection), and the edges are
  summed onto the postsynaptic cells;
- learnable per-edge delays: the same with the linear interpolation between
  two slots (two gathers) and their gradients.

Per-edge delays turn a dense matrix product (a few flops per byte, in the
BLAS kernel) into a gather and a scatter-sum over every edge at every step
(memory-bound; the backward pass scatters into the buffer), which is what
limits them.

Two more rows compare ways of computing one dense projection with per-edge
delays (the `in->h1` shape), each against the undelayed matrix product in
the same scan: gather-then-contract (each edge reads its slot of the
buffer, then one sum over the presynaptic cells: what `Delayed` does) and
group-by-delay (one masked weight matrix per delay, one contraction over
delays and presynaptic cells, `(max_delay + 1)` times the matrix product's
flops).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..engine import compile
from ..mechanisms.base import Connectivity, edges_to_post
from ..mechanisms.delays import Delayed
from ..network import Network
from ..tasks import shd
from ..tasks.snn import network
from ..train import Objective
from ..train.step import flat_view, make_train_step
from ..train.trainable import get_trainable
from ..values import uniform

__all__ = ["MAX_DELAY", "rows"]

MAX_DELAY = 25  # steps (quick: 4)
FEED_FORWARD = ("in->h1", "h1->h2", "h2->out")
SHAPES = {
    False: {
        "n_in": 256,
        "hidden": (128, 128),
        "n_out": 20,
        "batch": 256,
        "T": 128,
        "max_delay": MAX_DELAY,
    },
    True: {
        "n_in": 16,
        "hidden": (8, 8),
        "n_out": 4,
        "batch": 4,
        "T": 12,
        "max_delay": 4,
    },
}
VARIANTS = {
    "none": "no delays",
    "shared": "one fixed delay per projection",
    "per_edge": "fixed per-edge delays",
    "learnable": "learnable per-edge delays",
}
GOALS = {"shared": 1.2, "per_edge": 1.5, "learnable": 3.0}


def _with_delays(
    net: Network, variant: str, dt: float, max_delay: int, seed: int
) -> Network:
    """`net` with the feed-forward projections' synapses wrapped in `Delayed`."""
    rng = np.random.default_rng(seed)
    for name in FEED_FORWARD:
        proj = net.projections[name]
        syn = Delayed(
            proj.synapse, max_steps=max_delay, fractional=variant == "learnable"
        )
        proj.synapse = syn
        proj.params[syn.delay_key] = syn.delay
        proj.states.update(
            {k: float(v) for k, v in syn.synapse_states.items() if k not in proj.states}
        )
        if variant == "shared":
            net.set(name, syn.delay_key, float(rng.integers(1, max_delay + 1)) * dt)
        else:
            net.set(name, syn.delay_key, uniform(0.0, max_delay * dt))
        if variant == "learnable":
            net.make_trainable(name, syn.delay_key, per_element=True)
    return net


def _memory_limit() -> float:
    """Bytes one step's temporaries may take: the device's limit, or half the
    host memory available now (a CPU shares it)."""
    stats = jax.devices()[0].memory_stats() or {}
    if "bytes_limit" in stats:
        return float(stats["bytes_limit"])
    return 0.5 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def _train_step(
    variant: str, shape: dict, seed: int
) -> tuple[Callable[[], Any] | None, float]:
    """A warmed-up call of one training step of the variant's network (`None`
    when its temporaries do not fit `_memory_limit`) and their size (bytes)."""
    cfg = dataclasses.replace(
        shd.DEFAULTS, hidden=shape["hidden"], channels=shape["n_in"], n_steps=shape["T"]
    )
    net = network(cfg, shape["n_in"], shape["n_out"])
    if variant != "none":
        net = _with_delays(net, variant, cfg.dt, shape["max_delay"], seed)
    sim = compile(net, dt=cfg.dt, solver="exp_euler")
    params = sim.init_params(jax.random.key(seed))
    theta = flat_view(get_trainable(sim, params))
    opt = optax.adam(1e-4)
    step = make_train_step(sim, opt, Objective("sum_voltage"), input="in")
    rng = np.random.default_rng(seed)
    x = jnp.asarray(
        rng.random((shape["batch"], shape["T"], shape["n_in"])) < 0.05, jnp.float32
    )
    y = jnp.asarray(rng.integers(0, shape["n_out"], shape["batch"]), jnp.int32)
    args = (theta, opt.init(theta), params, x, y)
    compiled = step.lower(*args).compile()
    memory = compiled.memory_analysis()
    temp = float(memory.temp_size_in_bytes) if memory is not None else 0.0
    if temp > _memory_limit():
        return None, temp

    def call():
        out = compiled(*args)
        jax.block_until_ready(out.theta)
        if not bool(out.finite):
            raise FloatingPointError(f"{variant}: the training step is not finite")
        return out

    call()
    return call, temp


def _dense_strategies(shape: dict, seed: int) -> dict[str, Callable[[], Any]]:
    """Warmed-up forward-and-backward scans of one dense projection with
    per-edge delays, computed three ways (and undelayed)."""
    batch, n_pre, n_post = shape["batch"], shape["n_in"], shape["hidden"][0]
    max_delay = shape["max_delay"]
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.random((shape["T"], batch, n_pre)) < 0.05, jnp.float32)
    g = jnp.asarray(rng.normal(0.0, 1.0 / math.sqrt(n_pre), (n_pre, n_post)))
    g = g.astype(jnp.float32)
    delay = jnp.asarray(rng.integers(0, max_delay + 1, (n_pre, n_post)))
    conn = Connectivity(
        n_pre,
        n_post,
        np.repeat(np.arange(n_pre), n_post),
        np.tile(np.arange(n_post), n_pre),
        all_to_all=True,
    )

    def undelayed(history, w):
        return history[0] @ w

    def gather_contract(history, w):  # each edge's slot, then a sum over edges
        spikes = history[delay.reshape(-1), :, conn.pre_idx].T  # (batch, n_edges)
        return edges_to_post(w.reshape(-1)[None, :] * spikes, conn)

    def group_by_delay(history, w):
        masked = jax.nn.one_hot(delay, max_delay + 1, axis=0, dtype=w.dtype) * w[None]
        return jnp.einsum("dbi,dij->bj", history, masked)

    def scan(current):
        def loss(w):
            def body(history, s):
                history = jnp.concatenate([s[None], history[:-1]])
                return history, current(history, w)

            init = jnp.zeros((max_delay + 1, batch, n_pre), jnp.float32)
            _, out = jax.lax.scan(body, init, x)
            return jnp.sum(jnp.tanh(out))

        f = jax.jit(jax.value_and_grad(loss))

        def call():
            return jax.block_until_ready(f(g))

        call()
        return call

    calls = {
        "undelayed": scan(undelayed),
        "gather_contract": scan(gather_contract),
        "group_by_delay": scan(group_by_delay),
    }
    values = {k: float(c()[0]) for k, c in calls.items() if k != "undelayed"}
    if not math.isclose(*values.values(), rel_tol=1e-4):
        raise AssertionError(f"the two strategies disagree: {values}")
    return calls


def _fastest(calls: dict[str, Callable[[], Any]], reps: int) -> dict[str, float]:
    """Each call's fastest of `reps` interleaved rounds (s)."""
    best = dict.fromkeys(calls, math.inf)
    for _ in range(reps):
        for name, call in calls.items():
            t0 = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def rows(quick: bool, batch: int | None = None) -> list[dict]:
    """The delay-cost rows of `neurosim bench`: each a ratio of step times,
    in float32 whatever the caller's jax config.

    Args:
        quick: the small network (seconds), not the SHD shape.
        batch: another batch size than the shape's (256; quick: 4).

    Returns:
        Dicts with `name`, `value`, `unit`, `goal` and `note`. A variant
        whose training step needs more memory for its temporaries than the
        device has (`_memory_limit`) is not run: its value is None and its
        note says how much it needs.
    """
    with jax.enable_x64(False):
        return _rows(quick, batch)


def _rows(quick: bool, batch: int | None) -> list[dict]:
    shape = dict(SHAPES[quick])
    if batch is not None:
        shape["batch"] = batch
    reps = 3 if quick else 2
    built = {v: _train_step(v, shape, seed=0) for v in VARIANTS}
    if built["none"][0] is None:
        raise MemoryError(f"the undelayed network does not fit: {built['none'][1]}")
    t = _fastest({v: c for v, (c, _) in built.items() if c is not None}, reps)
    size = (
        f"{shape['n_in']}-{'-'.join(map(str, shape['hidden']))}-{shape['n_out']}, "
        f"batch {shape['batch']}, {shape['T']} steps"
    )
    out = []
    for v, what in VARIANTS.items():
        if v == "none":
            continue
        gb = built[v][1] / 1e9
        note = (
            f"{what} (up to {shape['max_delay']} steps) on the feed-forward "
            f"projections / none; training step of the SHD-shape network ({size}); "
        )
        if v in t:
            note += f"{t[v] * 1e3:.3g} ms vs {t['none'] * 1e3:.3g} ms; "
        else:
            note += "not run: its temporaries do not fit this device; "
        note += f"temporaries {gb:.3g} GB vs {built['none'][1] / 1e9:.3g} GB"
        if v != "shared":
            note += (
                "; limited by the per-edge gather and scatter-sum at every step "
                "(memory-bound) and the per-edge values kept for the backward pass"
            )
        out.append(
            {
                "name": f"delays: {what}",
                "value": t[v] / t["none"] if v in t else None,
                "unit": "x",
                "goal": f"<= {GOALS[v]:g}",
                "note": note,
            }
        )
    dense = _fastest(_dense_strategies(shape, seed=0), reps)
    proj = (
        f"{shape['n_in']}->{shape['hidden'][0]}, batch {shape['batch']}, "
        f"{shape['T']} steps, delays 0-{shape['max_delay']}"
    )
    for k, what in (
        ("gather_contract", "gather-then-contract (Delayed's)"),
        ("group_by_delay", "group-by-delay"),
    ):
        out.append(
            {
                "name": f"dense per-edge delays: {what}",
                "value": dense[k] / dense["undelayed"],
                "unit": "x",
                "goal": "",
                "note": (
                    f"one dense projection ({proj}), forward and backward / "
                    f"the undelayed matrix product; {dense[k] * 1e3:.3g} ms vs "
                    f"{dense['undelayed'] * 1e3:.3g} ms"
                ),
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """`python -m neurosim.bench.delays [--quick]`: print the rows as a table."""
    import argparse

    parser = argparse.ArgumentParser(description="the cost of synaptic delays")
    parser.add_argument("--quick", action="store_true", help="the small network")
    parser.add_argument("--batch", type=int, default=None, help="batch size")
    args = parser.parse_args(argv)
    print("| name | value | goal | note |\n|---|---|---|---|")
    for row in rows(args.quick, args.batch):
        value = f"{row['value']:.2f} {row['unit']}"
        print(f"| {row['name']} | {value} | {row['goal']} | {row['note']} |")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

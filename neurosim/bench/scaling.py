"""Time per step as the network grows: no cliff past a size.

One population of `N` LIF neurons (`Leak` + `Fire`, τ_m = 20 ms, exp-Euler,
dt = 1 ms) with a recurrent `SpikeSynapse` projection (trace = spikes, as
`lif_stack` builds them), driven by a random current; batch 1, the forward
pass (`Simulator.run`, jitted, warm), median time per step:

- all-to-all, N = 100 … 6400 (doubling) and 8000 (1e4 … 6.4e7 synapses);
- 1 % sparse, N = 1000 … 64000 (doubling) and 100000 (1e4 … 1e8 synapses): each
  neuron receives `N / 100` presynaptic cells drawn at random (an `EdgeList`,
  so the sampler is not what is timed; `build` times `Random`).

The exponent is the least-squares slope of log(time) on log(synapses); the
goal is that no doubling of the synapses costs more than 2.5x (the worst
ratio between neighbouring sizes, per doubling). The dense and sparse series
share synapse counts (N_sparse = 10 N_dense); at the largest two shared counts
their ratio is given.
"""

from __future__ import annotations

import gc
import math
import time

import jax
import numpy as np

from ..connectivity import AllToAll, EdgeList
from ..engine import Simulator, compile
from ..mechanisms.channels import Fire, Leak, tau_to_gleak
from ..mechanisms.synapses import SpikeSynapse
from ..network import Network
from ..values import normal
from ._common import fit_exponent, missing_row, row, time_call, too_big

LENGTH_UNIT_AREA = 1.0 / (2 * math.pi * 1e-5)  # µm: area 1e5 µm² at r = 1 µm
DT = 1.0  # ms


def recurrent_lif(n: int, conn, *, fan_in: float) -> Network:
    """`n` LIF neurons with one recurrent `SpikeSynapse` projection `conn`,
    weights N(0, 1 / fan_in) µS."""
    net = Network()
    geometry = {"length": LENGTH_UNIT_AREA, "radius": 1.0, "v": 0.0}
    channels = [Leak(gLeak=tau_to_gleak(20.0), eLeak=0.0), Fire(vth=1.0, vreset=0.0)]
    net.add_population("cells", n, channels, **geometry)
    proj = net.connect("cells", "cells", SpikeSynapse(s_decay=1.0 / DT), conn)
    net.set(proj, "SpikeSynapse_gS", normal(0.0, 1.0 / math.sqrt(max(fan_in, 1.0))))
    net.record("cells", "spikes")
    return net


def sparse_edges(n: int, p: float, seed: int = 0) -> EdgeList:
    """About `p · n²` edges: each neuron receives `round(p · n)` presynaptic
    cells drawn uniformly (with replacement), drawn without an `n × n` array."""
    k = max(1, round(p * n))
    rng = np.random.default_rng(seed)
    pre = rng.integers(0, n, size=n * k, dtype=np.int32)
    post = np.repeat(np.arange(n, dtype=np.int32), k)
    return EdgeList(pre, post)


def per_step(sim: Simulator, n: int, steps: int, repeats: int) -> float:
    """Median seconds per step of the jitted forward pass, batch 1."""
    params = sim.init_params(jax.random.key(0))
    rng = np.random.default_rng(1)
    current = rng.uniform(0.0, 0.1, (1, steps, n)).astype(np.float32)  # nA

    def forward(params, current):
        return sim.run(params, {"cells": current})["cells.spikes"]

    return time_call(forward, params, current, repeats=repeats, warmup=2).wall / steps


def series(
    sizes, make_conn, synapses, steps: int, repeats: int, budget: float
) -> tuple[list, list, str]:
    """`(synapse counts, seconds per step, why it stopped early or "")`."""
    syn, secs = [], []
    for n in sizes:
        why = too_big(synapses(n))
        if why:
            return syn, secs, f"N = {n} {why}"
        t0 = time.perf_counter()
        try:
            conn, fan_in = make_conn(n)
            sim = compile(
                recurrent_lif(n, conn, fan_in=fan_in), dt=DT, solver="exp_euler"
            )
            secs.append(per_step(sim, n, steps, repeats))
        except MemoryError as err:
            return syn, secs, f"N = {n}: MemoryError ({err})"[:160]
        finally:  # free this size's arrays and executables before the next
            conn = sim = None
            gc.collect()
            jax.clear_caches()
        syn.append(synapses(n))
        if time.perf_counter() - t0 > budget and n != sizes[-1]:
            return syn, secs, f"stopped after N = {n}: it took over {budget:g} s"
    return syn, secs, ""


def _worst_doubling(syn: list, secs: list) -> float:
    return max(
        (secs[i + 1] / secs[i]) ** (1.0 / math.log2(syn[i + 1] / syn[i]))
        for i in range(len(syn) - 1)
    )


def rows(quick: bool) -> list[dict]:
    if quick:
        dense_sizes, sparse_sizes, p = [50, 100], [500, 1000], 0.01
        steps, repeats, budget = 5, 2, 30.0
    else:
        dense_sizes = [100 * 2**k for k in range(7)] + [8000]  # 100 … 6400, 8000
        sparse_sizes = [1000 * 2**k for k in range(7)] + [100_000]  # … 64000, 1e5
        p, steps, repeats, budget = 0.01, 10, 3, 180.0
    out = []
    results = {}
    for kind, sizes, make_conn, synapses in (
        ("all-to-all", dense_sizes, lambda n: (AllToAll(), n), lambda n: n * n),
        (
            "1 % sparse",
            sparse_sizes,
            lambda n: (sparse_edges(n, p), max(1, round(p * n))),
            lambda n: n * max(1, round(p * n)),
        ),
    ):
        syn, secs, stop = series(sizes, make_conn, synapses, steps, repeats, budget)
        results[kind] = dict(zip(syn, secs, strict=True))
        for n, s, t in zip(sizes, syn, secs, strict=False):
            out.append(
                row(
                    f"scaling {kind}: N = {n}",
                    1e6 * t,
                    "µs/step",
                    "",
                    f"{s:.3g} synapses",
                )
            )
        label = f"scaling {kind}: worst cost per doubling of synapses"
        if len(secs) < 2:
            out.append(
                missing_row(label, "x", "<= 2.5x", stop or "fewer than two sizes")
            )
            continue
        out.append(
            row(
                label,
                _worst_doubling(syn, secs),
                "x",
                "<= 2.5x",
                f"fitted exponent {fit_exponent(syn, secs):.2f} (time ~ synapses^k) "
                f"over {syn[0]:.3g} … {syn[-1]:.3g} synapses, batch 1, {steps} steps"
                + (f"; {stop}" if stop else ""),
            )
        )
    dense, sparse = results["all-to-all"], results["1 % sparse"]
    for s in sorted(set(dense) & set(sparse))[-2:]:
        out.append(
            row(
                f"scaling sparse / dense at {s:.3g} synapses",
                sparse[s] / dense[s],
                "x",
                "",
                "time per step of the 1 % sparse projection over the all-to-all one",
            )
        )
    return out

"""Build and compile large sparse circuits: time and peak memory.

`N` LIF neurons (`scaling.recurrent_lif`) with a recurrent projection of
`ns.Random(p = 100 / N)` (100 random synapses per neuron on average), for
N = 10³ … 10⁶ (10⁵ … 10⁸ synapses). Each size runs in a fresh process
(`python -m neurosim.bench.build neurosim N K`), which reports:

- build: `Network` + `connect` + `compile` + `init_params`, s;
- first run: the first call of `run` over one step (trace, XLA compile, run), s;
- memory: the process's peak resident set size above its size right after
  the imports, as a multiple of the edge arrays (`int32` pre and post and a
  `float32` weight per synapse, 12 bytes).

The goal: 10⁷ synapses built and compiled in under 20 s, memory within 3x of
the edge arrays. jaxley 0.14 builds the same network (`jx.Network` of
point compartments with `Leak` and `Fire`, `jx.sparse_connect` with the
seed-003 benchmark's spike-detecting synapse, one jitted `jx.integrate`
step) at growing sizes until one does not finish in the time left of a
5-minute budget.
"""

from __future__ import annotations

import json
import sys
import time

from ._common import max_rss_bytes, missing_row, row, rss_bytes, run_child, too_big

EDGE_BYTES = 12  # int32 pre, int32 post, float32 weight


def _neurosim(n: int, k: int) -> dict:
    import jax
    import numpy as np

    from ..connectivity import Random
    from ..engine import compile
    from .scaling import DT, recurrent_lif

    base = rss_bytes()
    t0 = time.perf_counter()
    net = recurrent_lif(n, Random(k / n, seed=0), fan_in=k)
    sim = compile(net, dt=DT, solver="exp_euler")
    params = sim.init_params(jax.random.key(0))
    edges = int(np.size(params["cells->cells"]["SpikeSynapse_gS"]))
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    current = np.full((1, 1, n), 0.05, np.float32)
    jax.block_until_ready(sim.run(params, {"cells": current})["cells.spikes"])
    first = time.perf_counter() - t0
    return {"build": build, "first": first, "edges": edges, "base": base}


def _jaxley(n: int, k: int) -> dict:
    import jax
    import jaxley as jx
    import numpy as np
    from jaxley.channels import Leak

    from ..mechanisms.jaxley import standard_promotion
    from .seed003 import SpikeDetectSynapse

    base = rss_bytes()
    np.random.seed(0)  # noqa: NPY002 - jaxley's sparse_connect draws from the global one
    t0 = time.perf_counter()
    with standard_promotion():
        from jaxley.channels import Fire

        net = jx.Network([jx.Compartment() for _ in range(n)])
        net.insert(Leak())
        net.insert(Fire())
        jx.sparse_connect(net.cell("all"), net.cell("all"), SpikeDetectSynapse(), k / n)
        net.cell(0).record("v", verbose=False)
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        run = jax.jit(lambda: jx.integrate(net, delta_t=1.0, t_max=1.0))
        jax.block_until_ready(run())
        first = time.perf_counter() - t0
    return {"build": build, "first": first, "edges": len(net.edges), "base": base}


def child(engine: str, n: int, k: int) -> dict:
    """One size in this (fresh) process; the peak RSS is read at the end."""
    import warnings

    warnings.simplefilter("ignore")  # jaxley's Fire: no surrogate gradient
    out = (_neurosim if engine == "neurosim" else _jaxley)(n, k)
    out["peak"] = max_rss_bytes()
    return out


def _size(n: int) -> str:
    return f"1e{len(str(n)) - 1}" if str(n).strip("0") == "1" else str(n)


def rows(quick: bool) -> list[dict]:
    if quick:
        sizes, jx_sizes, k, timeout, jx_budget = [200], [20], 5, 120.0, 60.0
    else:
        sizes, k, timeout, jx_budget = (
            [1000, 10_000, 100_000, 1_000_000],
            100,
            600.0,
            300.0,
        )
        jx_sizes = sizes
    out = []
    module = __name__
    for n in sizes:
        name = f"build neurosim: {_size(n)} neurons x {k} synapses"
        goal = "< 20 s" if n * k == 10**7 else ""
        why = too_big(n * k)
        got = why or run_child(module, ["neurosim", str(n), str(k)], timeout)
        if isinstance(got, str):
            out.append(missing_row(name, "s", goal, got))
            continue
        extra = (got["peak"] - got["base"]) / (got["edges"] * EDGE_BYTES)
        out.append(
            row(
                name,
                got["build"] + got["first"],
                "s",
                goal,
                f"{got['edges']:.3g} synapses: build {got['build']:.2f} s + first run "
                f"{got['first']:.2f} s; peak RSS {got['peak'] / 2**20:.0f} MiB",
            )
        )
        out.append(
            row(
                f"build neurosim memory: {_size(n)} neurons",
                extra,
                "x edges",
                "<= 3x" if n * k >= 10**7 else "",
                f"peak RSS above the imports {(got['peak'] - got['base']) / 2**20:.0f} MiB"
                f" vs edge arrays {got['edges'] * EDGE_BYTES / 2**20:.0f} MiB",
            )
        )
    left = jx_budget
    for n in jx_sizes:
        name = f"build jaxley 0.14: {_size(n)} neurons x {k} synapses"
        if left <= 0:
            out.append(missing_row(name, "s", "", "the 5-minute budget is spent"))
            break
        t0 = time.perf_counter()
        got = run_child(module, ["jaxley", str(n), str(k)], left)
        left -= time.perf_counter() - t0
        if isinstance(got, str):
            out.append(missing_row(name, "s", "", f"{got} (budget {jx_budget:g} s)"))
            break
        out.append(
            row(
                name,
                got["build"] + got["first"],
                "s",
                "",
                f"{got['edges']:.3g} synapses: build {got['build']:.2f} s + first run "
                f"{got['first']:.2f} s; peak RSS {got['peak'] / 2**20:.0f} MiB",
            )
        )
    return out


if __name__ == "__main__":  # python -m neurosim.bench.build ENGINE N K
    engine, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(child(engine, n, k)))

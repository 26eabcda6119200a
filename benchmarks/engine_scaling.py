"""Per-step cost of a recurrent LIF population as its synapses grow: all-to-all
N -> N for N = 1000 ... 8000 (a matrix product at every size), and a sparse
`Random` projection against an all-to-all one with the same number of edges.

Forward runs (`Simulator.run`, jitted, warm, median of repeats), float32,
on this machine's CPU. Prints seconds per step and, for all-to-all, the cost
ratio per doubling of synapses (goal: <= 2.5x).

    python benchmarks/engine_scaling.py
    python benchmarks/engine_scaling.py --batch 16 --steps 20
    python benchmarks/engine_scaling.py --build 100000   # 10^5 cells x 100 synapses

`--build N` instead times building and compiling (plus one 10-step run) of N
LIF cells with 100 `Random` synapses each and prints the peak memory of the
process beside the size of the edge index arrays.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import time

import jax
import jax.numpy as jnp

import neurosim as ns


def _net(n_pre, n_post, conn):
    net = ns.Network()
    net.add_population("in", n_pre, [ns.SpikeSource()])
    net.add_population("a", n_post, [ns.Leak(), ns.Fire()])
    net.connect("in", "a", ns.SpikeSynapse(), conn)
    net.connect(
        "a", "a", ns.SpikeSynapse(gS=1e-5), conn if n_pre == n_post else "all_to_all"
    )
    net.record("a", "v")
    return net


def per_step(net, batch, steps, repeats):
    sim = ns.compile(net, dt=0.1)
    params = sim.init_params()
    n_in = net.populations["in"].n
    key = jax.random.key(0)
    x = (jax.random.uniform(key, (batch, steps, n_in)) < 0.05).astype(jnp.float32)
    run = lambda: sim.run(params, {"in": x}, record=["a.v"])["a.v"]  # noqa: E731
    jax.block_until_ready(run())
    jax.block_until_ready(run())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(run())
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / steps


def build(n: int) -> None:
    t0 = time.perf_counter()
    net = ns.Network()
    net.add_population("a", n, [ns.Leak(), ns.Fire()])
    net.connect("a", "a", ns.SpikeSynapse(), ns.Random(100 / n, seed=0))
    t1 = time.perf_counter()
    sim = ns.compile(net, dt=0.1)
    rec = sim.run(sim.init_params(), {"a": jnp.zeros((10, n))}, record=["a.v"])
    jax.block_until_ready(rec["a.v"])
    t2 = time.perf_counter()
    edges = net.projections["a->a"].conn.n_edges
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"n={n} edges={edges}: build {t1 - t0:.2f} s, compile + first run "
        f"{t2 - t1:.2f} s, peak RSS {rss:.0f} MiB, edge index arrays "
        f"{edges * 8 / 2**20:.0f} MiB"
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sizes", default="1000,2000,4000,8000")
    ap.add_argument("--build", type=int, default=None)
    args = ap.parse_args(argv)
    if args.build:
        build(args.build)
        return
    print(f"batch {args.batch}, {args.steps} steps, {jnp.result_type(float)}")
    prev = None
    for n in (int(s) for s in args.sizes.split(",")):
        t = per_step(_net(n, n, "all_to_all"), args.batch, args.steps, args.repeats)
        per_doubling = (
            ""
            if prev is None
            else f"  per doubling of synapses x{math.sqrt(t / prev):.2f}"
        )
        print(
            f"all-to-all N={n:5d} ({2 * n * n:.1e} synapses): {t * 1e3:8.3f} ms/step{per_doubling}"
        )
        prev = t
    for n_dense, n_sparse in ((300, 3000), (1000, 10000)):
        edges = n_dense * n_dense
        dense = per_step(
            _net(n_dense, n_dense, "all_to_all"), args.batch, args.steps, args.repeats
        )
        sparse = per_step(
            _net(n_sparse, n_sparse, ns.Random(edges / n_sparse**2, seed=0)),
            args.batch,
            args.steps,
            args.repeats,
        )
        print(
            f"{2 * edges:.1e} synapses: all-to-all {n_dense} -> {n_dense} {dense * 1e3:8.3f} ms/step, "
            f"Random {n_sparse} -> {n_sparse} {sparse * 1e3:8.3f} ms/step, sparse/dense x{sparse / dense:.1f}"
        )


if __name__ == "__main__":
    main()

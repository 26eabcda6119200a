"""Online rules against BPTT on the same network: training-step cost and memory.

For seed 001's feed-forward MNIST network (784-H-10 current-based LIF, tau_mem
20 ms, tau_syn 5 ms, threshold 1 mV, dt 1 ms), the training step `fit` runs
(`neurosim.train.make_train_step`: one run, the update, the optimiser) with

- the eligibility-trace random-feedback rule (`random-feedback`, spiking
  readout), the last-window rule (`last-window`) and BPTT of the spike-count
  loss on the same network;
- e-prop (`eprop`, leaky readout) and BPTT of the summed-voltage loss on
  the same network with the leaky readout;

and prints

(a) the step time of each rule over its BPTT step at `--steps` (default
    1000) steps: every step compiled and warmed up first, then timed
    interleaved (rule, BPTT, rule, ...), the median of `--repeats` runs;
(b) the compiled step's temporary memory (`compiled.memory_analysis()`:
    temp bytes, i.e. everything but the arguments, so not the input array)
    at T = 100 and T = 1000: flat for the online rules, growing with T under
    BPTT.

    python benchmarks/online.py                 # H 128, batch 16, T 1000
    python benchmarks/online.py --hidden 64 --steps 300 --repeats 3   # quicker
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import neurosim as ns
from neurosim.train import Objective, make_train_step, step_memory
from neurosim.train.rules import eligibility_feedback, eprop, last_window_feedback
from neurosim.train.step import flat_view


def _network(hidden: int, readout: str):
    net = ns.lif_stack(
        [784, hidden, 10],
        tau_mem=20.0,
        tau_syn=5.0,
        readout=readout,
        train_tau=False,
        init_gain=2.0,
        surrogate=ns.FastSigmoid(slope=0.03),
    )
    return ns.compile(net, dt=1.0, solver="exp_euler")


def _steps(hidden: int):
    """`{name: (sim, rule or None for BPTT, objective)}`."""
    spiking, leaky = _network(hidden, "spiking"), _network(hidden, "leaky")
    count, summed = Objective("spike_count"), Objective("sum_voltage")
    key = jax.random.key(1)
    return {
        "random-feedback": (spiking, eligibility_feedback(spiking, key), count),
        "last-window": (spiking, last_window_feedback(spiking, key), count),
        "bptt (spiking readout)": (spiking, None, count),
        "eprop": (leaky, eprop(leaky), summed),
        "bptt (leaky readout)": (leaky, None, summed),
    }


def _batch(batch: int, steps: int):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.random((batch, steps, 784)) < 0.2, jnp.float32)
    return x, jnp.asarray(rng.integers(0, 10, batch))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=1000, help="T for the timing")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", False)
    steps = _steps(args.hidden)
    names = list(steps)
    opt = optax.adam(1e-3)
    params = {n: sim.init_params(jax.random.key(0)) for n, (sim, *_) in steps.items()}

    print(
        f"784-{args.hidden}-10 feed-forward LIF, batch {args.batch}, float32, "
        f"{jax.devices()[0].platform}, jax {jax.__version__}"
    )
    print("\n(b) compiled training step, temporary memory (MiB, inputs excluded)")
    print("| step | T = 100 | T = 1000 | T=1000 / T=100 |")
    print("|---|---|---|---|")
    for name in names:
        sim, rule, objective = steps[name]
        mem = [
            step_memory(
                sim,
                params[name],
                *_batch(args.batch, t),
                optimizer=opt,
                objective=objective,
                rule=rule,
            )
            / 2**20
            for t in (100, 1000)
        ]
        print(f"| {name} | {mem[0]:.2f} | {mem[1]:.2f} | {mem[1] / mem[0]:.3f} |")

    print(f"\n(a) training step time at T = {args.steps} (median of {args.repeats})")
    fns, inputs = {}, {}
    for n, (sim, rule, objective) in steps.items():
        fns[n] = make_train_step(sim, opt, objective, rule=rule)
        theta = flat_view(ns.get_trainable(sim, params[n]))
        with ns.mechanisms.jaxley.standard_promotion():
            state = opt.init(theta)
        x, y = _batch(args.batch, args.steps)
        inputs[n] = (theta, state, params[n], x, y, jnp.asarray(True))
    for n in names:  # compile and warm up
        jax.block_until_ready(fns[n](*inputs[n]))
    times: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(args.repeats):
        for n in names:  # interleaved
            t0 = time.perf_counter()
            jax.block_until_ready(fns[n](*inputs[n]))
            times[n].append(time.perf_counter() - t0)
    print("| step | seconds | / BPTT on the same network |")
    print("|---|---|---|")
    for n in names:
        med = statistics.median(times[n])
        base = "bptt (leaky readout)" if n == "eprop" else "bptt (spiking readout)"
        base = n if n.startswith("bptt") else base
        ratio = med / statistics.median(times[base])
        print(f"| {n} | {med:.3f} | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

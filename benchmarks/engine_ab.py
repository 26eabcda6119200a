"""Engine timings, this tree vs an earlier revision, side by side.

Cases: `shd` (default), the SHD-shape training step; `seed003-forward` and
`seed003-train`, the seed-003 circuit's forward run and `value_and_grad` of
its max-voltage loss (batch 256, as `benchmarks/seed003_*.py`, neurosim only).

`shd`: the network of the `shd` task (256 inputs -> 128 recurrent LIF -> 128 recurrent
LIF -> 20 leaky readout, built by `lif_stack` as the task builds it, exp-Euler),
batch 256, 128 steps, summed-voltage cross-entropy (label smoothing 0.3), Adam.
Both versions run interleaved in one process after warm-up; the figures are
medians and their ratio. `--residuals` also lists what the backward pass stores
per step (`jax.ad_checkpoint.saved_residuals` of the loss).

    python benchmarks/engine_ab.py --baseline 00df4ea
    python benchmarks/engine_ab.py --residuals
    python benchmarks/engine_ab.py --case seed003-train --baseline 00df4ea
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

import neurosim

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))


def build(ns, batch, n_steps, remat=False):
    """`(step, args)`: the jitted Adam training step of the SHD shape."""
    from importlib import import_module

    snn = import_module(f"{ns.__name__}.tasks.snn")
    shd = import_module(f"{ns.__name__}.tasks.shd")
    step_mod = import_module(f"{ns.__name__}.train.step")
    objective_mod = import_module(f"{ns.__name__}.train.objective")
    trainable = import_module(f"{ns.__name__}.train.trainable")
    cfg = shd.DEFAULTS
    net = snn.network(cfg, cfg.channels, 20)
    sim = ns.compile(net, dt=cfg.dt, solver="exp_euler", remat=remat)
    params = sim.init_params(jax.random.key(0))
    opt = optax.adam(1e-3)
    objective = objective_mod.Objective("sum_voltage", label_smoothing=0.3)
    train_step = step_mod.make_train_step(sim, opt, objective, input="in")
    theta = step_mod.flat_view(trainable.get_trainable(sim, params))
    opt_state = opt.init(theta)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.random((batch, n_steps, cfg.channels)) < 0.05, jnp.float32)
    y = jnp.asarray(rng.integers(0, 20, batch))
    loss_fn = step_mod._loss_fn(sim, objective, "in", None, None)
    return sim, train_step, (theta, opt_state, params, x, y), loss_fn


def build_seed003(ns, train: bool):
    """`(fn, args)`: the seed-003 forward run or its loss's `value_and_grad`."""
    from importlib import import_module

    import _seed003 as S

    examples = import_module(f"{ns.__name__}.examples")
    sim = ns.compile(examples.seed003_network(S.N_IN, S.N_HID, S.N_OUT), dt=S.DT)
    params = sim.init_params(jax.random.key(S.SEED))
    gs = {p: {"SpikeSynapse_gS": params[p]["SpikeSynapse_gS"]} for p in S.PROJ}
    currents, labels = S.make_data(256)

    def forward(gs, currents):
        full = {k: dict(v) for k, v in params.items()}
        for p in S.PROJ:
            full[p].update(gs[p])
        return sim.run(full, {"inp": currents}, t_max=S.T_MAX)["out.v"]

    if not train:
        return jax.jit(forward), (gs, currents)

    def loss(gs, currents, labels):
        return S.max_voltage_loss(forward(gs, currents), labels, time_axis=1)

    return jax.jit(jax.value_and_grad(loss)), (gs, currents, labels)


def residuals(loss_fn, theta, params, x, y):
    from jax._src.ad_checkpoint import saved_residuals

    res = saved_residuals(lambda th: loss_fn(th, params, x, y)[0], theta)
    total = 0
    rows = []
    for aval, why in res:
        nbytes = int(np.prod(aval.shape)) * aval.dtype.itemsize
        total += nbytes
        rows.append((nbytes, str(aval), why))
    return total, rows


def timeit(fn, args, repeats):
    """`[(wall, process cpu)]` seconds per call."""
    times = []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn(*args))
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    return times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default=None, help="git revision to compare with")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--residuals", action="store_true")
    ap.add_argument("--remat", action="store_true")
    ap.add_argument(
        "--case", default="shd", choices=["shd", "seed003-forward", "seed003-train"]
    )
    args = ap.parse_args(argv)
    versions = {"this tree": neurosim}
    if args.baseline:
        import _baseline

        versions[f"baseline {args.baseline}"] = _baseline.load(args.baseline)
    if args.case != "shd":
        train = args.case == "seed003-train"
        built = {k: (None, *build_seed003(m, train), None) for k, m in versions.items()}
        print(f"{args.case}: batch 256, {jnp.result_type(float)}")
    else:
        built = {
            k: build(m, args.batch, args.steps, args.remat) for k, m in versions.items()
        }
        print(
            f"SHD shape: 256-128r-128r-20, batch {args.batch}, {args.steps} steps, "
            f"Adam, {jnp.result_type(float)}; {jax.devices()[0].device_kind}"
        )
    if args.residuals and args.case == "shd":
        for k, (_, _, (theta, _, params, x, y), loss_fn) in built.items():
            total, rows = residuals(loss_fn, theta, params, x, y)
            print(f"\n[{k}] residuals: {total / 2**20:.1f} MiB in {len(rows)} arrays")
            for nbytes, aval, why in sorted(rows, key=lambda r: -r[0]):
                if nbytes >= 1024:
                    print(f"  {nbytes / 2**20:9.2f} MiB  {aval:28s} {why}")
    for _k, (_, step, a, _) in built.items():  # warm-up (compile and first calls)
        timeit(step, a, 4)
    samples = {k: [] for k in built}
    for _ in range(args.repeats):
        for k, (_, step, a, _) in built.items():
            samples[k] += timeit(step, a, 1)
    med = {k: statistics.median(w for w, _ in v) for k, v in samples.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in samples.items()}
    for k, m in med.items():
        print(
            f"{k:>24s}: median {m:.4f} s/call wall, {cpu[k]:.4f} s process cpu "
            f"(min wall {min(w for w, _ in samples[k]):.4f})"
        )
    if args.baseline:
        b = f"baseline {args.baseline}"
        print(f"speedup_vs_baseline={med[b] / med['this tree']:.2f} (wall)")
        print(f"speedup_vs_baseline_cpu={cpu[b] / cpu['this tree']:.2f} (process cpu)")


if __name__ == "__main__":
    main()

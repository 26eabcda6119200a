"""A jaxley 0.14 network of 100 cells, run by jaxley and, after
`neurosim.from_jaxley`, by neurosim: side by side.

The network is built once, with jaxley's own API: 100 cells, each a soma (one
compartment, radius 10 µm, length 20 µm, ``HH``) and two passive dendrites of
three compartments (``Leak``), axial resistivity 100 Ω·cm; 300 random
``IonotropicSynapse`` edges from somata onto dendritic compartments (seed 0),
``gS`` drawn per edge; a 0.5 nA step into the somata of the first
20 cells from 1 ms; every soma recorded. ``from_jaxley`` converts it; both run
it for 100 ms at dt = 0.025 ms (4000 steps, backward Euler), jitted, warmed
up, timed interleaved round by round (median, ``block_until_ready``).

Prints the agreement of the recorded traces, both medians and, as the last
line, ``speedup_vs_jaxley=<jaxley median / neurosim median>``.

    python benchmarks/from_jaxley.py            # float32, 5 rounds
    python benchmarks/from_jaxley.py --x64      # float64 for both
    python benchmarks/from_jaxley.py --quick    # smoke test: 10 ms, 2 rounds
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import jax

N_CELLS, N_EDGES, N_DRIVEN = 100, 300, 20
DT, T_MAX = 0.025, 100.0


def build_jaxley(t_max: float):
    import jaxley as jx
    import numpy as np
    from jaxley.channels import HH, Leak
    from jaxley.synapses import IonotropicSynapse

    comp = jx.Compartment()
    cell = jx.Cell(
        [jx.Branch(comp, 1), jx.Branch(comp, 3), jx.Branch(comp, 3)],
        parents=[-1, 0, 0],
    )
    cell.set("axial_resistivity", 100.0)
    cell.branch(0).set("radius", 10.0)
    cell.branch(0).set("length", 20.0)
    cell.insert(Leak())
    cell.branch(0).insert(HH())
    net = jx.Network([cell] * N_CELLS)
    rng = np.random.default_rng(0)
    pre = rng.integers(0, N_CELLS, N_EDGES)
    post = rng.integers(0, N_CELLS, N_EDGES)
    branch = rng.integers(1, 3, N_EDGES)
    comp_i = rng.integers(0, 3, N_EDGES)
    for a, b, br, c in zip(pre, post, branch, comp_i, strict=True):
        jx.connect(
            net.cell(int(a)).branch(0).comp(0),
            net.cell(int(b)).branch(int(br)).comp(int(c)),
            IonotropicSynapse(),
        )
    # one value per edge (what `.select(edges=k).set(...)` writes, in one go)
    net.edges["IonotropicSynapse_gS"] = rng.uniform(0.005, 0.02, N_EDGES)
    net.init_states(delta_t=DT)
    net.cell(list(range(N_DRIVEN))).branch(0).comp(0).stimulate(
        jx.step_current(1.0, t_max, 0.5, DT, t_max)
    )
    net.cell("all").branch(0).comp(0).record("v")

    def forward():
        return jx.integrate(net, delta_t=DT, t_max=t_max)

    return net, jax.jit(forward)


def build_neurosim(module, t_max: float):
    import neurosim as ns
    from neurosim.interop import jaxley_traces

    net = ns.from_jaxley(module, dt=DT)
    sim = ns.compile(net, dt=DT)
    params = sim.init_params()

    def forward(p):
        return sim.run(p, t_max=t_max).traces

    return jax.jit(forward), params, lambda traces: jaxley_traces(module, traces)


def _timed(fn, *args):
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--x64", action="store_true", help="float64 for both")
    parser.add_argument("--quick", action="store_true", help="10 ms, 2 rounds")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        raise SystemExit("--repeats must be positive")
    t_max, repeats = (10.0, 2) if args.quick else (T_MAX, args.repeats)
    jax.config.update("jax_enable_x64", args.x64)
    warnings.simplefilter("ignore")
    import numpy as np

    from neurosim.mechanisms.jaxley import standard_promotion

    with standard_promotion():
        t0 = time.perf_counter()
        module, jx_fwd = build_jaxley(t_max)
        jx_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        ns_fwd, params, order = build_neurosim(module, t_max)
        convert = time.perf_counter() - t0
        c_jx, v_jx = _timed(jx_fwd)
        c_ns, v_ns = _timed(ns_fwd, params)
        walls: dict[str, list[float]] = {"jaxley": [], "neurosim": []}
        for _ in range(repeats):
            walls["jaxley"].append(_timed(jx_fwd)[0])
            walls["neurosim"].append(_timed(ns_fwd, params)[0])
    dtype = "float64" if args.x64 else "float32"
    print(
        f"from_jaxley: {N_CELLS} cells x 7 compartments (HH soma, 2 Leak dendrites "
        f"of 3), {N_EDGES} IonotropicSynapse edges, {t_max:g} ms at dt={DT} ms, "
        f"{dtype}, jax {jax.__version__} on {jax.devices()[0].platform}"
    )
    print(f"build (jaxley) {jx_build:.2f} s, from_jaxley + compile {convert:.2f} s")
    print(f"first call: jaxley {c_jx:.2f} s, neurosim {c_ns:.2f} s")
    a, b = np.asarray(v_jx), order(v_ns)
    spikes_a = ((a[:, 1:] >= 0) & (a[:, :-1] < 0)).sum()
    spikes_b = ((b[:, 1:] >= 0) & (b[:, :-1] < 0)).sum()
    print(
        f"agreement at the somata: max |dv| = {np.max(np.abs(a - b)):.3g} mV; "
        f"spikes jaxley {spikes_a}, neurosim {spikes_b}"
    )
    med = {k: statistics.median(v) for k, v in walls.items()}
    for k, v in walls.items():
        print(f"{k}: median {med[k]:.3f} s; runs [{', '.join(f'{x:.3f}' for x in v)}]")
    print(f"speedup_vs_jaxley={med['jaxley'] / med['neurosim']:.2f}")


if __name__ == "__main__":
    main()

"""100 branched HH cells for 100 ms: neurosim vs jaxley 0.14 (and NEURON), side by side.

Each cell is a soma (one compartment, L = diam = 20 µm, jaxley's ``HH``) and five
dendrites of four compartments (50 µm each, radius 1 µm, ``Leak``), all with
Ra = 100 Ω·cm: 21 compartments, parents ``[-1, 0, 0, 0, 0, 0]``. A step of
0.5 nA enters every soma from 1 to 99 ms; 100 ms at dt = 0.025 ms (4000 steps,
backward Euler). The same model is built three times:

- in neurosim (``Morphology.tree``, one population of 100 cells);
- in jaxley 0.14 with its own API (``jx.Cell``, ``jx.Network([cell] * 100)``,
  ``stimulate``, ``record``, ``jx.integrate``), jitted;
- in NEURON (``hh`` soma, ``pas`` dendrites, ``IClamp``, fixed-step backward
  Euler, one thread) when the ``neuron`` package is importable.

A last row runs 2100 one-compartment HH somata (as many compartments as the
branched cells) with this package and with the package as it was before cells
of several compartments (the parent of the commit that added
``neurosim/morphology``, imported from ``git archive`` as ``neurosim_before``;
``--no-point`` skips it), and prints their ratio: the point-compartment path's
cost before and after.

Times, interleaved round by round and reported as medians (each call waited for
with ``block_until_ready``, after one compiling call and one warm-up call): the
forward simulation (soma voltages of all cells) and ``value_and_grad`` of the mean
soma voltage with respect to the shared conductances ``HH_gNa`` and
``Leak_gLeak``. Prints build and compile times, the agreement at the somata and,
as the last line, ``speedup_vs_jaxley=<jaxley median / neurosim median>``
(forward).

    python benchmarks/morphology.py              # float32, 5 rounds
    python benchmarks/morphology.py --x64        # float64 for both
    python benchmarks/morphology.py --quick      # smoke test: 10 ms, 2 rounds
    python benchmarks/morphology.py --grad-spread  # + gradients at 1 +- 1e-4
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time
import warnings

import jax

N_CELLS = 100
N_POINT = 2100  # point cells: as many compartments as the branched cells have
PARENTS = [-1, 0, 0, 0, 0, 0]
NCOMP = [1, 4, 4, 4, 4, 4]
SOMA_L = 20.0  # µm, soma length = diameter
SOMA_R = 10.0  # µm
DEND_L = 50.0  # µm per compartment (a 200 µm branch)
DEND_R = 1.0  # µm
R_A = 100.0  # Ω·cm
DT = 0.025  # ms
T_MAX = 100.0  # ms
AMP, DELAY, DUR = 0.5, 1.0, 98.0  # nA, ms, ms (1 to 99 ms)
G_LEAK, E_LEAK = 1e-4, -70.0  # S/cm², mV (jaxley's and neurosim's Leak defaults)
V0 = -70.0  # mV


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _timed(fn, *args):
    c0, t0 = _cpu(), time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0, _cpu() - c0, out


def _first_two(fn, *args):
    """The compiling call and one warm-up call; returns (compile s, output)."""
    first, _, out = _timed(fn, *args)
    _timed(fn, *args)
    return first, out


# --------------------------------------------------------------------------- neurosim
def build_neurosim(t_max: float):
    import jax.numpy as jnp
    from jaxley.channels import HH

    import neurosim as ns
    from neurosim.morphology import Morphology

    length = [SOMA_L] + [DEND_L] * 5
    radius = [SOMA_R] + [DEND_R] * 5
    m = Morphology.tree(PARENTS, NCOMP, length=length, radius=radius, r_a=R_A)
    net = ns.Network()
    net.add_population("c", N_CELLS, [], morphology=m, v=V0)
    net.insert("c", HH(), comps=[0])
    net.insert("c", ns.Leak(gLeak=G_LEAK, eLeak=E_LEAK), comps=list(range(1, m.n_comp)))
    net.stimulate("c", _step(t_max), comp=0)
    net.record("c", "v")
    sim = ns.compile(net, dt=DT)
    params = sim.init_params()

    def with_g(g):
        p = {**params, "c": dict(params["c"])}
        for k in ("HH_gNa", "Leak_gLeak"):
            p["c"][k] = g[k] * jnp.ones_like(params["c"][k])
        return p

    def forward(g):
        return sim.run(with_g(g), t_max=t_max)["c.v"][:, :, 0]  # (time, cell)

    def loss(g):
        return jnp.mean(forward(g))

    g0 = {k: jnp.asarray(params["c"][k]).ravel()[0] for k in ("HH_gNa", "Leak_gLeak")}
    return jax.jit(forward), jax.jit(jax.value_and_grad(loss)), g0


# --------------------------------------------------------------------------- point cells
def load_before():
    """The package as it was before cells of several compartments (the parent
    of the commit that added ``neurosim/morphology``), imported from a
    temporary copy as ``neurosim_before``; ``(None, reason)`` without git."""
    import atexit
    import importlib
    import shutil
    import subprocess
    import sys
    import tarfile
    import tempfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]

    def git(*cmd):
        return subprocess.run(
            ["git", "-C", str(root), *cmd], capture_output=True, check=True
        ).stdout

    try:
        added = git(
            "log", "--diff-filter=A", "--format=%H", "--",
            "neurosim/morphology/__init__.py",
        ).split()  # fmt: skip
        if not added:
            return None, "no commit adds neurosim/morphology"
        rev = git("rev-parse", "--short", added[-1].decode() + "^").decode().strip()
        tmp = Path(tempfile.mkdtemp(prefix="neurosim_before_"))
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
        with open(tmp / "src.tar", "wb") as f:
            f.write(git("archive", rev, "neurosim"))
    except (OSError, subprocess.CalledProcessError) as err:
        return None, f"git unavailable ({err})"
    with tarfile.open(tmp / "src.tar") as tar:
        tar.extractall(tmp, filter="data")
    (tmp / "neurosim").rename(tmp / "neurosim_before")
    for py in (tmp / "neurosim_before").rglob("*.py"):
        text = py.read_text()
        text = text.replace("from neurosim.", "from neurosim_before.")
        text = text.replace("import neurosim.", "import neurosim_before.")
        py.write_text(text)
    sys.path.insert(0, str(tmp))
    return importlib.import_module("neurosim_before"), rev


def build_point(ns, t_max: float):
    """``N_POINT`` one-compartment HH somata (L = diam = 20 µm) under the same
    0.5 nA step, with package ``ns`` (now or before)."""
    from jaxley.channels import HH

    net = ns.Network()
    net.add_population("c", N_POINT, [HH()], radius=SOMA_R, length=SOMA_L, v=V0)
    net.stimulate("c", _step(t_max))
    net.record("c", "v")
    sim = ns.compile(net, dt=DT)
    params = sim.init_params()

    def forward(p):
        return sim.run(p, t_max=t_max)["c.v"]

    return jax.jit(forward), params


# --------------------------------------------------------------------------- jaxley
def _step(t_max: float):
    import jaxley as jx
    import numpy as np

    return np.asarray(jx.step_current(DELAY, DUR, AMP, DT, t_max))


def build_jaxley(t_max: float):
    import jax.numpy as jnp
    import jaxley as jx
    from jaxley.channels import HH, Leak

    soma = jx.Branch(jx.Compartment(), NCOMP[0])
    dend = jx.Branch(jx.Compartment(), NCOMP[1])
    cell = jx.Cell([soma] + [dend] * 5, parents=PARENTS)
    cell.set("axial_resistivity", R_A)
    cell.set("v", V0)
    cell.branch(0).set("length", SOMA_L)
    cell.branch(0).set("radius", SOMA_R)
    cell.branch(0).insert(HH())
    for b in range(1, len(PARENTS)):
        cell.branch(b).set("length", DEND_L)
        cell.branch(b).set("radius", DEND_R)
        cell.branch(b).insert(Leak())
    cell.set("Leak_gLeak", G_LEAK)
    cell.set("Leak_eLeak", E_LEAK)
    net = jx.Network([cell] * N_CELLS)
    net.init_states(delta_t=DT)
    somata = net.cell("all").branch(0).comp(0)
    somata.stimulate(_step(t_max))
    somata.record("v")
    net.make_trainable("HH_gNa")
    net.make_trainable("Leak_gLeak")
    params = net.get_parameters()

    def forward(params):
        return jx.integrate(
            net, params=params, delta_t=DT, t_max=t_max
        ).T  # (time, cell)

    def loss(params):
        return jnp.mean(forward(params))

    return jax.jit(forward), jax.jit(jax.value_and_grad(loss)), params


# --------------------------------------------------------------------------- NEURON
def build_neuron(t_max: float):
    """The same cells in NEURON, or None when it is not installed."""
    try:
        from neuron import h
    except ImportError:
        return None
    h.load_file("stdrun.hoc")
    keep, traces = [], []
    for _ in range(N_CELLS):
        soma = h.Section()
        soma.L, soma.diam, soma.nseg, soma.Ra = SOMA_L, 2 * SOMA_R, 1, R_A
        soma.insert("hh")
        for _ in range(len(PARENTS) - 1):
            d = h.Section()
            d.L, d.diam, d.nseg, d.Ra = 4 * DEND_L, 2 * DEND_R, NCOMP[1], R_A
            d.insert("pas")
            for seg in d:
                seg.pas.g, seg.pas.e = G_LEAK, E_LEAK
            d.connect(soma(1))
            keep.append(d)
        stim = h.IClamp(soma(0.5))
        stim.delay, stim.dur, stim.amp = DELAY, DUR, AMP
        vec = h.Vector().record(soma(0.5)._ref_v)
        keep += [soma, stim]
        traces.append(vec)
    h.dt, h.steps_per_ms, h.secondorder = DT, 1.0 / DT, 0  # fixed-step backward Euler
    h.cvode_active(0)

    def run():
        h.finitialize(V0)
        h.continuerun(t_max)

    return run, (keep, traces)


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (median)")
    parser.add_argument(
        "--x64", action="store_true", help="float64 for both (default float32)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 10 ms, 2 rounds"
    )
    parser.add_argument(
        "--grad-spread",
        action="store_true",
        help="also print neurosim's gradient at conductances scaled by 1 +- 1e-4",
    )
    parser.add_argument(
        "--no-point",
        dest="point",
        action="store_false",
        help="skip the point-cell row against the engine before cells of several "
        "compartments",
    )
    args = parser.parse_args(argv)
    t_max = 10.0 if args.quick else T_MAX
    if args.quick:
        args.repeats = 2
    if args.repeats < 1:
        raise SystemExit("--repeats must be positive")
    jax.config.update("jax_enable_x64", args.x64)
    warnings.simplefilter("ignore")  # jaxley's notes on set/stimulate/record

    import numpy as np

    dtype = "float64" if args.x64 else "float32"
    n_steps = int(round(t_max / DT))
    print(
        f"morphology: {N_CELLS} cells x 21 compartments (HH soma, 5 Leak branches "
        f"of 4), {t_max:g} ms at dt={DT} ms ({n_steps} steps), 0.5 nA step"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} "
        f"cpus, jax {jax.__version__} on {jax.devices()[0].platform}"
    )
    print(
        f"repeats={args.repeats} dtype={dtype} "
        "(jit, warm, interleaved, block_until_ready, median)"
    )

    t0 = time.perf_counter()
    ns_fwd, ns_vg, ns_g = build_neurosim(t_max)
    ns_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    jx_fwd, jx_vg, jx_p = build_jaxley(t_max)
    jx_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    nrn = build_neuron(t_max)
    nrn_build = time.perf_counter() - t0

    import neurosim

    before, rev = load_before() if args.point else (None, "--no-point")
    pt_now = build_point(neurosim, t_max) if before is not None else None
    pt_before = build_point(before, t_max) if before is not None else None
    ns_c_fwd, v_ns = _first_two(ns_fwd, ns_g)
    ns_c_vg, (l_ns, g_ns) = _first_two(ns_vg, ns_g)
    jx_c_fwd, v_jx = _first_two(jx_fwd, jx_p)
    jx_c_vg, (l_jx, g_jx) = _first_two(jx_vg, jx_p)
    print(
        f"build: neurosim {ns_build:.2f} s, jaxley {jx_build:.2f} s"
        + (f", NEURON {nrn_build:.2f} s" if nrn else "")
    )
    print(
        f"compile (first call): neurosim forward {ns_c_fwd:.2f} s, value_and_grad "
        f"{ns_c_vg:.2f} s; jaxley forward {jx_c_fwd:.2f} s, value_and_grad "
        f"{jx_c_vg:.2f} s"
    )

    calls = {
        "neurosim forward": (ns_fwd, ns_g),
        "jaxley forward": (jx_fwd, jx_p),
        "neurosim value_and_grad": (ns_vg, ns_g),
        "jaxley value_and_grad": (jx_vg, jx_p),
    }
    if nrn:
        nrn[0]()  # warm-up
        calls["NEURON forward (1 thread)"] = (nrn[0],)
    if pt_before is not None:
        _, v_pt_now = _first_two(*pt_now)
        calls["point cells forward, now"] = pt_now
        _, v_pt_before = _first_two(*pt_before)
        calls[f"point cells forward, before ({rev})"] = pt_before
    walls = {k: [] for k in calls}
    cpus = {k: [] for k in calls}
    for _ in range(args.repeats):
        for name, (fn, *a) in calls.items():
            w, c, _ = _timed(fn, *a)
            walls[name].append(w)
            cpus[name].append(c)
    med = {k: statistics.median(v) for k, v in walls.items()}
    for name in calls:
        runs = ", ".join(f"{w:.3f}" for w in walls[name])
        print(
            f"{name}: median {med[name]:.3f} s (process cpu "
            f"{statistics.median(cpus[name]):.3f} s), "
            f"{1e6 * med[name] / n_steps:.0f} us/step; runs [{runs}] s"
        )
    if not nrn:
        print("NEURON: skipped (the `neuron` package is not installed)")

    v_ns, v_jx = np.asarray(v_ns), np.asarray(v_jx)
    assert v_ns.shape == v_jx.shape, (v_ns.shape, v_jx.shape)
    diff = np.abs(v_ns - v_jx)

    def spikes(v):  # upward crossings of 0 mV, per cell
        return ((v[1:] >= 0) & (v[:-1] < 0)).sum(axis=0)

    s_ns, s_jx = spikes(v_ns), spikes(v_jx)
    print(
        f"agreement at the somata: max |dv| = {diff.max():.3g} mV, median over "
        f"time and cells {np.median(diff):.3g} mV; spikes per cell neurosim "
        f"{s_ns.min()}-{s_ns.max()}, jaxley {s_jx.min()}-{s_jx.max()} "
        f"(cells with equal counts: {int((s_ns == s_jx).sum())}/{N_CELLS})"
    )
    if nrn:
        v_nrn = np.stack([np.asarray(t) for t in nrn[1][1]], axis=1)
        k = min(len(v_nrn), len(v_ns))
        print(
            f"NEURON vs neurosim at the somata: max |dv| = "
            f"{np.abs(v_nrn[:k] - v_ns[:k]).max():.3g} mV"
        )
    print(
        f"loss (mean soma v): neurosim {float(l_ns):.6g}, jaxley {float(l_jx):.6g}; "
        "d/d(HH_gNa, Leak_gLeak): neurosim "
        f"({float(g_ns['HH_gNa']):.5g}, {float(g_ns['Leak_gLeak']):.5g}), jaxley "
        f"({float(np.sum(g_jx[0]['HH_gNa'])):.5g}, "
        f"{float(np.sum(g_jx[1]['Leak_gLeak'])):.5g})"
    )
    print(
        f"value_and_grad ratio (jaxley / neurosim): "
        f"{med['jaxley value_and_grad'] / med['neurosim value_and_grad']:.2f}"
    )
    if nrn:
        print(
            "forward ratio (NEURON / neurosim): "
            f"{med['NEURON forward (1 thread)'] / med['neurosim forward']:.2f}"
        )
    if pt_before is not None:
        same = np.array_equal(np.asarray(v_pt_now), np.asarray(v_pt_before))
        old, new = f"point cells forward, before ({rev})", "point cells forward, now"
        cpu_ratio = statistics.median(cpus[old]) / statistics.median(cpus[new])
        print(
            f"point cells ({N_POINT} HH somata, one compartment each): before / now "
            f"= {med[old] / med[new]:.2f} (process cpu {cpu_ratio:.2f}; traces "
            f"{'identical' if same else 'differ'})"
        )
    else:
        print(f"point cells before/after: skipped ({rev})")
    if args.grad_spread:  # the gradient's sensitivity to tiny parameter changes
        for scale in (1.0, 1.0 + 1e-4, 1.0 - 1e-4):
            _, g = ns_vg({k: v * scale for k, v in ns_g.items()})
            print(
                f"neurosim gradient at conductances x {scale:.4f}: "
                + ", ".join(f"{k} {float(v):.5g}" for k, v in g.items())
            )
    best = {k: min(v) for k, v in walls.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    print(
        "forward jaxley / neurosim: fastest runs "
        f"{best['jaxley forward'] / best['neurosim forward']:.2f}, process cpu "
        f"{cpu['jaxley forward'] / cpu['neurosim forward']:.2f} (a busy machine "
        "spreads the medians)"
    )
    print(f"speedup_vs_jaxley={med['jaxley forward'] / med['neurosim forward']:.2f}")


if __name__ == "__main__":
    main()

"""Oracles for ``neurosim.morphology``: the cable discretisation and its solve.

(a) a passive sealed cable against the closed-form steady state and λ;
(b) a passive branched cell against jaxley 0.14's ``jx.integrate``;
(c) a cell read from an SWC file: the same compartments, areas, loads and axial
    couplings as jaxley's graph backend, and the same traces;
(d) gradients with respect to radius and axial resistivity against central
    finite differences. All in float64 (``conftest.py`` enables x64).
"""

import warnings

import jax
import jax.numpy as jnp
import jaxley as jx
import numpy as np
import pytest
from jaxley.channels import Leak as JxLeak
from scipy.optimize import brentq

from neurosim.engine.solvers import bwd_euler
from neurosim.morphology import (
    DEFAULTS,
    NA_TO_UA_PER_CM2,
    Morphology,
    areas,
    coupling,
    solve,
)

G_LEAK, E_LEAK, V0 = 1e-4, -70.0, -65.0  # S/cm², mV, mV
DT = 0.025  # ms


def _simulate(morph, i_na, *, radius=None, length=None, r_a=None, dt=DT, v0=V0):
    """Leak everywhere, ``i_na`` (steps, n_comp) nA injected; returns
    (steps + 1, n_comp) with the initial voltage first, as jaxley records."""
    coup = coupling(morph, radius=radius, length=length, r_a=r_a)
    area = areas(morph, radius=radius, length=length)
    cm = jnp.asarray(morph.capacitance)
    a = G_LEAK * 1000.0 / cm
    v_init = jnp.full(morph.n_comp, v0)

    def step(v, i_t):
        b = (G_LEAK * 1000.0 * E_LEAK + i_t * NA_TO_UA_PER_CM2 / area) / cm
        v = solve(v, a, b, dt, coup)
        return v, v

    _, vs = jax.lax.scan(step, v_init, jnp.asarray(i_na))
    return jnp.concatenate([v_init[None], vs])


def _jaxley_traces(cell, stim_comp, amp, t_max, record):
    cell.insert(JxLeak())
    cell.set("Leak_gLeak", G_LEAK)
    cell.set("Leak_eLeak", E_LEAK)
    cell.set("v", V0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cell.delete_recordings()
        cell.delete_stimuli()
        cell.select(nodes=stim_comp).stimulate(
            jx.step_current(2.0, 10.0, amp, DT, t_max)
        )
        for c in record:
            cell.select(nodes=c).record("v")
        return np.asarray(jx.integrate(cell, delta_t=DT, t_max=t_max))


def _stimulus(n_comp, stim_comp, amp, t_max, n_steps):
    cur = np.asarray(jx.step_current(2.0, 10.0, amp, DT, t_max))
    i_na = np.zeros((n_steps, n_comp))
    i_na[:, stim_comp] = cur[:n_steps]
    return i_na


# -- structure -------------------------------------------------------------------


@pytest.mark.standard_promotion  # jaxley builds the reference
def test_defaults_are_jaxleys():
    params = jx.Compartment().nodes.iloc[0]
    assert DEFAULTS["length"] == params["length"]
    assert DEFAULTS["radius"] == params["radius"]
    assert DEFAULTS["r_a"] == params["axial_resistivity"]
    assert DEFAULTS["capacitance"] == params["capacitance"]


def test_layout_and_locations_follow_jaxley():
    m = Morphology.tree([-1, 0, 0, 1], ncomp=[3, 2, 4, 1])
    assert m.n_comp == 10 and m.n_branches == 4 and m.n_branchpoints == 2
    assert list(m.comp_start) == [0, 3, 5, 9, 10]
    assert list(m.branch_of_comp) == [0, 0, 0, 1, 1, 2, 2, 2, 2, 3]
    assert m.comp(2, -1) == 8
    # jaxley 0.14's `cell.branch(k).loc(x)` global_comp_index for this cell
    # (read off jaxley once; building the jx.Cell here costs seconds)
    locs = [0.0, 0.2, 1 / 3, 0.5, 0.75, 1.0]
    jaxley_table = [
        [0, 0, 0, 1, 2, 2],
        [3, 3, 3, 3, 4, 4],
        [5, 5, 6, 6, 7, 8],
        [9, 9, 9, 9, 9, 9],
    ]
    got = [[m.comp_of(k, x) for x in locs] for k in range(m.n_branches)]
    assert got == jaxley_table
    # hashable by value, usable as a static argument
    assert m == Morphology.tree([-1, 0, 0, 1], ncomp=[3, 2, 4, 1])
    assert hash(m) == hash(Morphology.tree([-1, 0, 0, 1], ncomp=[3, 2, 4, 1]))
    thicker = Morphology.tree([-1, 0, 0, 1], ncomp=[3, 2, 4, 1], radius=2.0)
    assert m != thicker
    assert m.system == thicker.system  # same structure: a jitted solve is reused
    with pytest.raises(ValueError, match="parent"):
        Morphology.tree([-1, 2, 0])


def test_one_compartment_is_bwd_euler_exactly():
    rng = np.random.default_rng(0)
    v, a, b = rng.normal(size=(3, 5, 1))
    coup = coupling(Morphology.branch(1))
    got = solve(v, np.abs(a), b, DT, coup)
    np.testing.assert_array_equal(got, bwd_euler(v, np.abs(a), b, DT))


def _dense_solve(v, a, b, dt, coup):
    """Reference: the full linear system, branch points included, solved densely."""
    sys = coup.system
    n, nn = sys.n_comp, sys.n_nodes
    lower, upper = np.asarray(coup.lower), np.asarray(coup.upper)
    mat = np.eye(nn)
    mat[np.arange(n), np.arange(n)] += dt * (a + np.asarray(coup.diag))
    for i in range(nn):
        p = sys.parent[i]
        if p >= 0:
            mat[i, p] = -lower[i] * (dt if i < n else 1.0)
            mat[p, i] = -upper[i] * (dt if p < n else 1.0)
    rhs = np.concatenate([v + dt * b, np.zeros(nn - n)])
    return np.linalg.solve(mat, rhs)[:n]


@pytest.mark.parametrize(
    "morph",
    [
        Morphology.branch(60, radius=0.5),  # long cable: the looped path
        Morphology.tree(
            [-1, 0, 0, 1, 1, 2], ncomp=[2, 3, 1, 4, 2, 3], radius=[3, 1, 2, 0.5, 1, 0.3]
        ),
    ],
    ids=["cable60", "tree6"],
)
def test_structured_solve_matches_dense(morph):
    rng = np.random.default_rng(1)
    n = morph.n_comp
    v, b = rng.normal(size=(2, 4, n))
    a = rng.uniform(0.05, 2.0, size=(4, n))
    coup = coupling(morph)
    got = np.asarray(jax.jit(solve, static_argnums=3)(v, a, b, 0.1, coup))
    want = np.stack([_dense_solve(v[k], a[k], b[k], 0.1, coup) for k in range(4)])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_per_cell_geometry_and_batch_axes():
    """A coupling built from per-cell radii (cells, n_comp) solves each cell as its
    own morphology would, with a batch axis in front and under vmap."""
    base = Morphology.tree([-1, 0, 0], ncomp=[1, 3, 2], length=[20.0, 30.0, 15.0])
    radii = np.stack([base.radius, base.radius * 0.5, base.radius * 2.0])
    rng = np.random.default_rng(2)
    v, b = rng.normal(size=(2, 2, 3, base.n_comp))  # (batch, cells, n_comp)
    a = rng.uniform(0.05, 1.0, size=(2, 3, base.n_comp))
    jsolve = jax.jit(solve)
    got = jsolve(v, a, b, DT, coupling(base, radius=radii))
    got_vmap = jax.jit(jax.vmap(solve, in_axes=(0, 0, 0, None, None)))(
        v, a, b, DT, coupling(base, radius=radii)
    )
    np.testing.assert_array_equal(got, got_vmap)
    for cell in range(3):
        one = Morphology.tree(
            [-1, 0, 0], ncomp=[1, 3, 2], length=base.length, radius=radii[cell]
        )
        want = jsolve(v[:, cell], a[:, cell], b[:, cell], DT, coupling(one))
        np.testing.assert_allclose(got[:, cell], want, rtol=1e-13, atol=0)
    np.testing.assert_allclose(
        areas(base, radius=radii)[1], 2 * np.pi * radii[1] * base.length, rtol=1e-15
    )


# -- (a) the sealed cable against the closed form -------------------------------------


def test_sealed_cable_steady_state_and_length_constant():
    """A sealed cable of length L, a current step I into its first compartment.

    Cable theory (radius ``a`` and lengths in cm, R_m = 1/gLeak in Ω·cm², r_a in
    Ω·cm): ``λ = sqrt(R_m a / (2 r_a))``, axial resistance per length
    ``r_i = r_a / (π a²)``, and ``V(x) - E = I r_i λ cosh((L - x)/λ) / sinh(L/λ)``.
    The compartmental model is second-order accurate in h = L/n: with h/λ ≈ 0.018
    the relative error is bounded by O((h/λ)²) ≈ 3e-4 (measured: 1e-5 on the
    profile and on λ); tolerance 1e-4.
    """
    n, total, radius, r_a, amp = 80, 1000.0, 1.0, 100.0, 0.05  # µm, µm, Ω·cm, nA
    morph = Morphology.branch(n, length=total / n, radius=radius, r_a=r_a)
    lam = np.sqrt((1.0 / G_LEAK) * radius * 1e-4 / (2.0 * r_a)) * 1e4  # µm
    r_i = r_a / (np.pi * (radius * 1e-4) ** 2)  # Ω/cm
    x = (np.arange(n) + 0.5) * total / n
    dv = amp * 1e-9 * r_i * lam * 1e-4 * np.cosh((total - x) / lam)
    dv = dv / np.sinh(total / lam) * 1e3  # mV

    dt, t_end = 0.5, 400.0  # τ_m = C / gLeak = 10 ms: 40 τ to settle
    steps = int(t_end / dt)
    i_na = np.zeros((steps, n))
    i_na[:, 0] = amp
    v = np.asarray(_simulate(morph, i_na, dt=dt, v0=E_LEAK))
    got = v[-1] - E_LEAK
    np.testing.assert_allclose(v[-1], v[-2], rtol=0, atol=1e-12)  # settled
    rel = np.max(np.abs(got - dv)) / np.max(dv)
    print(f"relative error vs the cosh profile = {rel:.2e}")
    assert rel < 1e-4, rel

    # λ recovered from the simulated profile alone (ratio of end compartments)
    ratio = got[0] / got[-1]
    lam_fit = brentq(
        lambda lm: np.cosh((total - x[0]) / lm) / np.cosh((total - x[-1]) / lm) - ratio,
        50.0,
        1e5,
    )
    print(f"lambda: fitted {lam_fit:.3f} um, closed form {lam:.3f} um")
    assert abs(lam_fit - lam) / lam < 1e-4, (lam_fit, lam)


# -- (b) a branched cell against jaxley ----------------------------------------------


PARENTS = [-1, 0, 0, 1, 1]
NCOMP = 3
RADIUS = [4.0, 1.0, 0.6, 0.3, 0.45]
LENGTH = [15.0, 40.0, 25.0, 30.0, 20.0]
R_A = [80.0, 150.0, 300.0, 120.0, 500.0]
T_MAX = 20.0


def _jaxley_tree():
    cell = jx.Cell(jx.Branch(jx.Compartment(), NCOMP), parents=PARENTS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(len(PARENTS)):
            cell.branch(k).set("radius", RADIUS[k])
            cell.branch(k).set("length", LENGTH[k])
            cell.branch(k).set("axial_resistivity", R_A[k])
    return cell


@pytest.mark.standard_promotion  # jaxley builds the reference
def test_branched_cell_matches_jaxley():
    morph = Morphology.tree(PARENTS, NCOMP, length=LENGTH, radius=RADIUS, r_a=R_A)
    soma, tip, stim = morph.comp(0, 0), morph.comp(3, -1), morph.comp(4, 1)
    want = _jaxley_traces(_jaxley_tree(), stim, 0.2, T_MAX, [soma, tip])
    steps = want.shape[1] - 1
    i_na = _stimulus(morph.n_comp, stim, 0.2, T_MAX, steps)
    got = np.asarray(_simulate(morph, i_na))[:, [soma, tip]].T
    assert steps * DT >= T_MAX
    assert np.ptp(want[1]) > 1.0  # the stimulus reached the far tip
    err = np.max(np.abs(got - want))
    print(f"max |v - v_jaxley| = {err:.2e} mV")
    assert err < 1e-6, err


# -- (c) an SWC cell against jaxley's graph backend -----------------------------------

SWC = """\
# soma (3 points) and two dendrites, one of which branches and tapers
1 1 0.0 0.0 0.0 6.0 -1
2 1 6.0 0.0 0.0 6.0 1
3 1 12.0 0.0 0.0 5.5 2
4 3 20.0 4.0 0.0 1.5 3
5 3 40.0 10.0 0.0 1.2 4
6 3 60.0 12.0 3.0 1.0 5
7 3 80.0 20.0 3.0 0.6 6
8 3 75.0 -5.0 0.0 0.8 6
9 3 95.0 -12.0 2.0 0.4 8
10 3 20.0 -6.0 0.0 1.8 3
11 3 35.0 -20.0 1.0 1.1 10
12 3 50.0 -36.0 1.0 0.7 11
"""


@pytest.fixture(scope="module")
def swc_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("swc") / "cell.swc"
    path.write_text(SWC)
    return str(path)


def _jaxley_swc(path, ncomp):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jx.read_swc(path, ncomp=ncomp)


@pytest.mark.standard_promotion  # jaxley builds the reference
def test_swc_geometry_matches_jaxley(swc_path):
    ncomp = 3
    morph = Morphology.from_swc(swc_path, ncomp)
    cell = _jaxley_swc(swc_path, ncomp)
    nodes = cell.nodes.sort_values("global_comp_index")
    assert morph.traced and morph.n_comp == len(nodes)
    assert morph.parents == tuple(int(p) for p in cell.comb_parents)
    assert morph.n_branches >= 3 and morph.n_branchpoints >= 1
    for ours, theirs in [
        ("length", "length"),
        ("radius", "radius"),
        ("area", "area"),
        ("load_in", "resistive_load_in"),
        ("load_out", "resistive_load_out"),
    ]:
        np.testing.assert_array_equal(getattr(morph, ours), nodes[theirs].to_numpy())
    # frusta, not cylinders
    assert not np.allclose(morph.area, 2 * np.pi * morph.radius * morph.length)

    # axial couplings: every matrix entry jaxley builds, compartment rows in 1/ms,
    # branch-point rows as weights (jaxley's conductances over their row sum)
    cell.to_jax()
    jx_cond = np.asarray(cell.get_all_parameters([])["axial_conductances"]["v"])
    edges = cell._comp_edges
    coup = coupling(morph)
    sys = coup.system
    ours = {}
    for i in range(sys.n_nodes):
        p = sys.parent[i]
        if p >= 0:
            ours[(i, p)] = float(coup.lower[i])
            ours[(p, i)] = float(coup.upper[i])
    row_sum = {}
    for snk, g in zip(edges["sink"], jx_cond, strict=True):
        row_sum[snk] = row_sum.get(snk, 0.0) + g
    assert len(ours) == len(edges)
    for src, snk, g in zip(edges["source"], edges["sink"], jx_cond, strict=True):
        want = g if snk < morph.n_comp else g / row_sum[snk]
        np.testing.assert_allclose(ours[(snk, src)], want, rtol=1e-12)
    diag = [row_sum.get(i, 0.0) for i in range(morph.n_comp)]
    np.testing.assert_allclose(coup.diag, diag, rtol=1e-12)


@pytest.mark.standard_promotion  # jaxley builds the reference
def test_swc_traces_match_jaxley(swc_path):
    ncomp = 2
    morph = Morphology.from_swc(swc_path, ncomp)
    soma, tip = morph.comp(0, 0), morph.comp(morph.n_branches - 1, -1)
    stim = morph.comp(2, -1)
    want = _jaxley_traces(_jaxley_swc(swc_path, ncomp), stim, 0.3, T_MAX, [soma, tip])
    steps = want.shape[1] - 1
    i_na = _stimulus(morph.n_comp, stim, 0.3, T_MAX, steps)
    got = np.asarray(_simulate(morph, i_na))[:, [soma, tip]].T
    assert np.ptp(want[0]) > 0.1
    err = np.max(np.abs(got - want))
    print(f"max |v - v_jaxley| = {err:.2e} mV")
    assert err < 1e-6, err


# -- (d) gradients ---------------------------------------------------------------------


def test_gradients_match_finite_differences():
    morph = Morphology.tree(PARENTS, 2, length=LENGTH, radius=RADIUS, r_a=R_A)
    steps, stim, rec = 200, morph.comp(4, 1), [morph.comp(0, 0), morph.comp(3, -1)]
    i_na = np.zeros((steps, morph.n_comp))
    i_na[20:150, stim] = 0.2
    target = np.asarray(_simulate(morph, i_na))[:, rec] + 0.5

    def loss(radius, r_a):
        v = _simulate(morph, i_na, radius=radius, r_a=r_a)[:, rec]
        return jnp.mean((v - target) ** 2)

    r0, ra0 = jnp.asarray(morph.radius) * 1.1, jnp.asarray(morph.r_a) * 0.8
    g_r, g_ra = jax.jit(jax.grad(loss, argnums=(0, 1)))(r0, ra0)
    assert np.all(np.isfinite(g_r)) and np.all(np.isfinite(g_ra))
    assert float(jnp.max(jnp.abs(g_r))) > 0 and float(jnp.max(jnp.abs(g_ra))) > 0
    f = jax.jit(loss)
    rng = np.random.default_rng(3)
    for grad, x0, which in [(g_r, r0, 0), (g_ra, ra0, 1)]:
        for k in [*rng.choice(morph.n_comp, 3, replace=False), stim]:
            h = 1e-5 * float(x0[k])
            up, dn = x0.at[k].add(h), x0.at[k].add(-h)
            args_up = (up, ra0) if which == 0 else (r0, up)
            args_dn = (dn, ra0) if which == 0 else (r0, dn)
            fd = (f(*args_up) - f(*args_dn)) / (2 * h)
            # a component far below the largest sits at the differences'
            # noise floor: its tolerance scales with the largest component
            scale = float(jnp.max(jnp.abs(grad)))
            np.testing.assert_allclose(grad[k], fd, rtol=1e-5, atol=1e-5 * scale)


# -- drawing ---------------------------------------------------------------------------


def test_plot_morphology_draws_every_compartment(swc_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.collections import LineCollection

    from neurosim import plot

    hand = Morphology.tree(PARENTS, NCOMP, length=LENGTH, radius=RADIUS, r_a=R_A)
    traced = Morphology.from_swc(swc_path, 2)
    for m in (hand, traced):
        ax = plot.morphology(
            m, values=np.arange(m.n_comp, dtype=float), marks={"tip": m.n_comp - 1}
        )
        (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
        assert len(lines.get_segments()) == m.n_comp
        assert ax.get_legend() is not None
    # a hand-built compartment is as long as its length
    seg = np.asarray(plot.morphology(hand).collections[0].get_segments()[4])
    assert np.linalg.norm(seg[-1] - seg[0]) == pytest.approx(hand.length[4])
    with pytest.raises(ValueError, match="values"):
        plot.morphology(hand, values=np.ones(3))
    with pytest.raises(ValueError, match="marks"):
        plot.morphology(hand, marks={"far": hand.n_comp})

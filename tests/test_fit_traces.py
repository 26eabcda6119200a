"""Fitting to voltage traces: `TraceLoss`, `spike_stats`, `fit_traces`.

Hidden parameters of a small cell are recovered from traces it simulated;
the spike statistics' surrogates converge to the exact counts and times.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import neurosim as ns
from neurosim.morphology import Morphology
from neurosim.train.traces import spike_stats

DT = 0.025


def _passive(vals, trainable=()):
    m = Morphology.tree([-1, 0, 0], [1, 2, 2], length=[20.0, 40.0, 40.0],
                        radius=[8.0, 1.0, 0.6], r_a=150.0)  # fmt: skip
    net = ns.Network()
    net.add_population("c", 1, [ns.Leak(eLeak=-70.0)], morphology=m)
    for k, v in vals.items():
        net.set("c", k, v)
    for k in trainable:
        net.make_trainable("c", k, transform="log")
    net.record("c", "v")
    return m, ns.compile(net, dt=DT)


def _inputs(m, n_steps):
    """Two samples: a step into the soma, a step into a dendritic tip."""
    x = np.zeros((2, n_steps, m.n_comp))
    x[0, 20:, 0] = 0.2
    x[1, 20:, m.comp(2, -1)] = 0.05
    return x


def test_fit_traces_recovers_hidden_passive_parameters():
    true = {"Leak_gLeak": 2e-4, "r_a": 150.0}
    m, sim = _passive(true)
    x = _inputs(m, 240)  # 6 ms
    rec = sim.run(sim.init_params(), {"c": x})
    tip = (2, 1.0)
    target = np.asarray(rec["c.v"])[..., [0, m.comp(2, -1)]]

    start = {"Leak_gLeak": 3e-4, "r_a": 90.0}
    _, sim2 = _passive(start, trainable=start)
    loss = ns.TraceLoss("c.v", comps=[0, tip], windows=[(0.4, 6.0)])
    res = ns.fit_traces(
        sim2, sim2.init_params(), target, loss=loss, inputs=x,
        optimizer=optax.adam(0.05), steps=150,
    )  # fmt: skip
    got = {k: float(np.asarray(res.params["c"][k]).ravel()[0]) for k in true}
    err = {k: abs(got[k] / true[k] - 1) for k in true}
    print("recovered", got, "relative error", err)
    assert res.history["loss"][res.best_epoch] < 1e-3 * res.history["loss"][0]
    assert all(e < 0.01 for e in err.values()), err
    # the history holds the constrained values before each step
    assert res.history["values"][0]["c"]["r_a"] == pytest.approx(90.0)


def test_levenberg_marquardt_recovers_radius_and_r_a():
    """Geometry is trainable like any parameter: the radius of every
    compartment (shared), the axial resistivity and the leak, with
    `method="lm"` in a few steps. (With the length as well the traces would
    not tell them apart: a passive cable sees only its area and its axial
    conductance per area.)"""
    true = {"Leak_gLeak": 2e-4, "r_a": 150.0, "radius": 1.0}
    m, sim = _passive(true)
    x = _inputs(m, 240)
    target = np.asarray(sim.run(sim.init_params(), {"c": x})["c.v"])[..., [0, 4]]
    start = {"Leak_gLeak": 3e-4, "r_a": 100.0, "radius": 1.3}
    _, sim2 = _passive(start, trainable=start)
    loss = ns.TraceLoss("c.v", comps=[0, 4], windows=[(0.4, 6.0)])
    res = ns.fit_traces(
        sim2, sim2.init_params(), target, loss=loss, inputs=x, method="lm", steps=25
    )
    got = {k: float(np.asarray(res.params["c"][k]).ravel()[0]) for k in true}
    err = {k: abs(got[k] / true[k] - 1) for k in true}
    print("steps", len(res.history["loss"]), "relative error", err)
    assert all(e < 1e-4 for e in err.values()), err
    assert res.opt_state is None
    with pytest.raises(ValueError, match="method"):
        ns.fit_traces(sim2, sim2.init_params(), target, loss=loss, method="newton")


def test_trace_loss_windows_and_comps_select():
    m, sim = _passive({})
    x = _inputs(m, 40)
    rec = sim.run(sim.init_params(), {"c": x})
    v = np.asarray(rec["c.v"])
    loss = ns.TraceLoss("c.v", comps=[m.comp(2, -1)], windows=[(0.0, 0.25)], dt=DT)
    target = loss.select(v).copy()
    target[:, 10:] += 5.0  # outside the window (samples 0..9): not seen
    value, rmse = loss(rec, target)
    assert float(value) == 0.0 and float(rmse) == 0.0
    target[:, 3] += 2.0  # inside: one sample of 10, two traces
    value, _ = loss(rec, target)
    assert float(value) == pytest.approx(4.0 / 10)


def test_spike_stats_surrogates_converge_to_the_exact_statistics():
    t = np.arange(400) * DT
    # two spikes (at 2.5 and 6.25 ms) and a silent trace
    v = -65.0 + 100.0 * (
        np.exp(-(((t - 2.6) / 0.2) ** 2)) + np.exp(-(((t - 6.3) / 0.2) ** 2))
    )
    vs = jnp.asarray(np.stack([v, np.full_like(v, -65.0)]))
    mask = np.ones(len(t), bool)
    kw = dict(times=t, mask=mask, threshold=0.0, t_end=t[-1] + DT)
    n, t1 = spike_stats(vs, sharpness=None, **kw)
    crossing = t[1:][(v[1:] >= 0) & (v[:-1] < 0)]
    np.testing.assert_allclose(n, [2, 0])
    np.testing.assert_allclose(t1, [crossing[0], t[-1] + DT])
    n_soft, t1_soft = spike_stats(vs, sharpness=0.05, **kw)
    np.testing.assert_allclose(n_soft, n, atol=1e-3)
    np.testing.assert_allclose(t1_soft, t1, atol=DT)
    # a window that keeps only the second spike
    late = t >= 4.0
    n_late, t1_late = spike_stats(vs, sharpness=None, **{**kw, "mask": late})
    np.testing.assert_allclose(n_late, [1, 0])
    assert float(t1_late[0]) == pytest.approx(crossing[1])

    def first(shift):  # the surrogate's first-spike time moves with the spike
        w = -65.0 + 100.0 * jnp.exp(-(((jnp.asarray(t) - 2.6 - shift) / 0.3) ** 2))
        return spike_stats(w, sharpness=2.0, **kw)[1]

    assert float(jax.grad(first)(0.0)) == pytest.approx(1.0, abs=0.2)


def test_spike_count_and_first_spike_terms_fit_a_conductance():
    """Summary statistics alone (no voltage MSE) move HH's gNa the right way."""
    from jaxley.channels import HH

    def sim_with(g_na, trainable=False):
        net = ns.Network()
        net.add_population("c", 1, [HH()], radius=10.0, length=20.0)
        net.set("c", "HH_gNa", g_na)
        if trainable:
            net.make_trainable("c", "HH_gNa", transform="log")
        net.record("c", "v")
        return ns.compile(net, dt=DT)

    x = np.zeros((1, 400, 1))
    x[0, 40:, 0] = 0.15
    target = np.asarray(
        sim_with(0.12).run(sim_with(0.12).init_params(), {"c": x})["c.v"]
    )
    loss = ns.TraceLoss("c.v", mse=0.0, spike_count=1.0, first_spike=1.0, sharpness=2.0)
    sim = sim_with(0.06, trainable=True)
    res = ns.fit_traces(
        sim, sim.init_params(), target, loss=loss, inputs=x,
        optimizer=optax.adam(0.1), steps=25,
    )  # fmt: skip
    hist = res.history
    g = float(np.asarray(res.params["c"]["HH_gNa"]))
    print("loss", hist["loss"][0], "->", min(hist["loss"]), "gNa", g)
    assert hist["loss"][0] > 0.1  # gNa 0.06 spikes 0.375 ms later than 0.12
    assert min(hist["loss"]) < 0.02 * hist["loss"][0]
    assert abs(g / 0.12 - 1) < 0.1, g


def test_fit_traces_refuses_bad_arguments():
    m, sim = _passive({}, trainable=["Leak_gLeak"])
    params = sim.init_params()
    good = np.zeros((1, 11, 1, 2))
    loss = ns.TraceLoss("c.v", comps=[0, 1])
    with pytest.raises(TypeError, match="loss"):
        ns.fit_traces(sim, params, good, loss="mse")
    with pytest.raises(ValueError, match="target: shape"):
        ns.fit_traces(sim, params, np.zeros((1, 11, 1, 3)), loss=loss)
    with pytest.raises(ValueError, match="branch 7"):
        ns.fit_traces(sim, params, good, loss=ns.TraceLoss("c.v", comps=[(7, 0.5)]))
    with pytest.raises(ValueError, match="location 1.5"):
        ns.fit_traces(sim, params, good, loss=ns.TraceLoss("c.v", comps=[(1, 1.5)]))
    with pytest.raises(ValueError, match="inputs"):
        ns.fit_traces(sim, params, good, loss=loss, inputs=np.zeros((1, 4, 1)))
    with pytest.raises(ValueError, match="windows"):
        ns.TraceLoss("c.v", windows=[(3.0, 1.0)])
    with pytest.raises(ValueError, match="at least one weight"):
        ns.TraceLoss("c.v", mse=0.0)
    _, frozen = _passive({})
    with pytest.raises(ValueError, match="nothing is trainable"):
        ns.fit_traces(frozen, frozen.init_params(), good, loss=loss)

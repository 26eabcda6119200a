"""Staged integration (one scan per group of mutually dependent populations) is
exactly the single scan over the whole network, step for step."""

import jax
import numpy as np
from jaxley.synapses import IonotropicSynapse

import neurosim as ns
from neurosim.layers import LENGTH_UNIT_AREA
from neurosim.simulate import Stage, plan_stages


def _net():
    geo = {"length": LENGTH_UNIT_AREA, "v": 0.0}
    lif = [ns.Leak(gLeak=0.01, eLeak=0.0), ns.Fire(vth=1.0, vreset=0.0)]
    net = ns.Network()
    net.add_population("a", 6, lif, **geo)
    net.add_population("b", 5, lif, **geo)
    net.add_population("c", 4, lif, **geo)
    net.add_population("d", 3, [ns.Leak(gLeak=0.01, eLeak=0.0)], **geo)
    net.connect("a", "b", ns.SpikeSynapse())  # hoisted, dense
    net.connect("b", "c", ns.SpikeSynapse(conductance=True, e_syn=5.0))  # b <-> c cycle
    net.connect("c", "b", ns.SpikeSynapse(), ns.Random(0.5, seed=1))
    net.connect("c", "c", ns.SpikeSynapse())  # recurrence
    net.connect("a", "d", IonotropicSynapse())  # an edge synapse across stages
    net.connect("c", "d", ns.SpikeSynapse(), ns.EdgeList([0, 1, 3], [2, 0, 2]))
    for q in ("a->b", "b->c", "c->b", "c->c", "c->d"):
        net.set(q, "SpikeSynapse_gS", ns.normal(-150.0, 100.0))  # excitatory
    net.set("c->d", "SpikeSynapse_s_decay", np.array([5.0, 10.0, 20.0]))  # per edge
    for rec in (
        "b.v",
        "c.spikes",
        "d.v",
        "a->b.SpikeSynapse_s",
        "a->d.IonotropicSynapse_s",
    ):
        net.record(*rec.split("."))
    return net


def test_plan_groups_cycles_and_orders_stages():
    stages = plan_stages(_net())
    assert [s.pops for s in stages] == [("a",), ("b", "c"), ("d",)]
    assert stages[0].s_out == ("a->b",) and stages[0].v_out == ("a",)
    assert stages[1].hoisted_in == ("a->b",) and set(stages[1].s_out) == {"c->d"}
    assert stages[2].vpre == ("a",) and stages[2].projs == ("a->d",)


def test_one_stage_unless_split():
    assert [s.pops for s in plan_stages(_net(), split=False)] == [("a", "b", "c", "d")]
    assert len(ns.compile(_net(), dt=0.01)._stages) == 1


def test_staged_run_equals_one_scan():
    net = _net()
    sim = ns.compile(net, dt=0.01, split_stages=True)
    params = sim.init_params(jax.random.key(0))
    x = np.random.default_rng(0).uniform(0, 400, (3, 60, 6))
    staged = sim.run(params, {"a": x})
    one = ns.compile(net, dt=0.01)
    one._stages = [
        Stage(tuple(net.populations), tuple(net.projections), (), (), (), ())
    ]
    single = one.run(params, {"a": x})
    assert len(sim._stages) == 3
    assert float(np.asarray(staged["c.spikes"]).sum()) > 0
    for key in staged.traces:
        np.testing.assert_allclose(staged[key], single[key], rtol=1e-12, atol=1e-12)
    grad = jax.grad(lambda p: sim.run(p, {"a": x})["d.v"].sum())(params)
    grad1 = jax.grad(lambda p: one.run(p, {"a": x})["d.v"].sum())(params)
    np.testing.assert_allclose(
        grad["a->b"]["SpikeSynapse_gS"], grad1["a->b"]["SpikeSynapse_gS"], rtol=1e-10
    )

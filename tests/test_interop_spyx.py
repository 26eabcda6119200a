"""Cross-check through NIR: a neurosim LIF network exported with `to_nir` and
run by spyx 1.0 (`spyx.nir.from_nir`) on the same input spikes.

The network: `lif_stack([20, 16, 4], readout="spiking")` at dt = 1 ms (20 spike
sources, 16 LIF, 4 LIF outputs; tau_mem = 20 ms at the start, threshold 1 mV,
rest and reset 0 mV, area 1e5 µm² so that NIR's `r = tau / dt`), trained
with surrogate gradients (`fit`, spike-count cross-entropy, Adam(0.01), 15 epochs) to tell
which of four groups of five input channels fires fastest; weights and
per-neuron time constants are trained. neurosim runs it with
`solver="fwd_euler"`, the discretisation spyx uses.

Accepted differences, each written out and checked:

1. **Discretisation**: spyx turns NIR's LIF into `V <- beta V + W s - z thr`
   with `beta = 1 - dt / tau`, ignoring `r` (it assumes `r dt / tau = 1`),
   `v_leak` (taken as 0) and `v_reset`; neurosim's forward Euler gives
   `v <- beta v' + (dt / tau) r I`, which is the same arithmetic here because
   `r = tau / dt` and `v_leak = 0`. Spikes come from the start-of-step
   voltage in both, and a layer's spikes reach the next layer in the same step.
2. **Reset**: neurosim sets `v' = vreset = 0` after a spike; spyx subtracts
   the threshold. So spyx's voltage is neurosim's plus an offset `D` that
   follows `D <- beta D + z (beta v - thr)` (zero until the neuron's first
   spike), computed here from neurosim's own trace and spikes.
3. **Threshold tie**: neurosim fires at `v >= thr`, spyx at `V > thr`.
4. **Precision**: spyx holds its weights in float32 (neurosim float64):
   voltages agree to 1e-5 mV.

Expectation, checked two ways:

- neurosim as it is: both give the same spikes in every layer, and spyx's
  voltages (hidden and output) equal `v + D`, until the first step at which
  `v` and `v + D` lie on different sides of the threshold (by 2 and 3).
- neurosim with differences (2) and (3) swapped in (a test channel that fires
  at `v > thr` and resets by `v <- v - thr / beta`, so that after the decay
  the threshold is subtracted, as spyx does): the same spike trains as spyx in
  every layer for the whole run, hence the same output spike counts, and
  voltages within 1e-5 mV.
"""

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import neurosim as ns
from neurosim.mechanisms.jaxley import standard_promotion

pytest.importorskip(
    "nir", reason="needs the `nir` package: pip install 'neurosim[nir]'"
)
spyx_nir = pytest.importorskip(
    "spyx.nir", reason="the cross-check peer spyx is not installed: pip install spyx"
)

DT, THR, TOL = 1.0, 1.0, 1e-5
STEPS, BATCH = 60, 16


@dataclass(frozen=True)
class SubtractFire(ns.Fire):
    """spyx's spike and reset in neurosim: fire at `v > vth`, then
    `v <- v - vth / beta`, so that the next step's decay leaves `beta v - vth`."""

    @property
    def channel_params(self):
        return {**super().channel_params, f"{self.name}_beta": 1.0}

    def update(self, states, v, params, dt, drive=None):
        del states, dt, drive
        p = self.name
        spike = (v > params[f"{p}_vth"]).astype(v.dtype)
        v_new = v - spike * params[f"{p}_vth"] / params[f"{p}_beta"]
        return ns.ChannelStep(
            {f"{p}_spikes": spike},
            v=v_new,
            spikes=spike,
            surrogate_grad=jnp.zeros_like(v),
        )


def _with_spyx_reset(params):
    """The exported network rebuilt with `SubtractFire`, same parameters."""
    net = ns.Network()
    geo = {"length": 1.0 / (2 * math.pi * 1e-5), "v": 0.0}
    net.add_population("in", 20, [ns.SpikeSource()], **geo)
    for name, n in (("h1", 16), ("out", 4)):
        g = np.asarray(params[name]["Leak_gLeak"])
        net.add_population(name, n, [ns.Leak(eLeak=0.0), SubtractFire(vth=THR)], **geo)
        net.set(name, "Leak_gLeak", g)
        net.set(name, "Fire_beta", 1.0 - DT * g / 1e-3)  # 1 - dt / tau
        net.record(name, "v")
        net.record(name, "spikes")
    for pre, post in (("in", "h1"), ("h1", "out")):
        proj = net.connect(pre, post, ns.SpikeSynapse(s_decay=1.0 / DT))
        net.set(proj, "SpikeSynapse_gS", np.asarray(params[proj]["SpikeSynapse_gS"]))
    sim = ns.compile(net, dt=DT, solver="fwd_euler")
    return sim, sim.init_params()


def _spikes(n, seed):
    """Four classes: five input channels (the label's group) fire at 30%
    per step, the other fifteen at 5%."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    rate = np.full((n, 1, 20), 0.05)
    for b, c in enumerate(labels):
        rate[b, 0, 5 * c : 5 * c + 5] = 0.3
    return (rng.random((n, STEPS, 20)) < rate).astype(float), labels


def _neurosim():
    """The trained network, recording both layers."""
    net = ns.lif_stack([20, 16, 4], dt=DT, readout="spiking", init_gain=3.0)
    sim = ns.compile(net, dt=DT, solver="fwd_euler")
    x, y = _spikes(128, seed=1)
    result = ns.fit(
        sim, sim.init_params(jax.random.key(0)), x, y, objective="spike_count",
        optimizer=optax.adam(1e-2), epochs=15, batch_size=32, progress=False,
    )  # fmt: skip
    for pop in ("h1", "out"):
        net.record(pop, "v")
        net.record(pop, "spikes")
    return net, ns.compile(net, dt=DT, solver="fwd_euler"), result.params


def _offset(v, z, beta):
    """spyx's voltage minus neurosim's, `(batch, steps + 1, n)`, by (2)."""
    d = np.zeros_like(v)
    for k in range(v.shape[1] - 1):
        d[:, k + 1] = beta * d[:, k] + z[:, k] * (beta * v[:, k] - THR)
    return d


@pytest.mark.slow  # jit-compiles spyx's model and two neurosim networks
@pytest.mark.filterwarnings("ignore::FutureWarning")  # spyx's float32 scatter
def test_spyx_runs_the_exported_network_as_written():
    net, sim, params = _neurosim()
    x, labels = _spikes(BATCH, seed=2)  # unseen samples
    rec = sim.run(params, {"in": x})
    graph = ns.to_nir(net, dt=DT, params=params)
    with standard_promotion():
        _, (out, states) = spyx_nir.from_nir(
            graph, np.swapaxes(x, 0, 1), dt=DT * 1e-3, return_all_states=True
        )
    spyx_v = [np.swapaxes(np.asarray(s), 0, 1) for s in states if s is not None]
    first_bad = np.full(BATCH, STEPS)
    checked = {}
    for layer, vs in zip(("h1", "out"), spyx_v, strict=True):
        v = np.asarray(rec[f"{layer}.v"])  # (batch, steps + 1, n), v[:, 0] initial
        z = (v >= THR).astype(float)  # the spikes of each step, from its start
        np.testing.assert_array_equal(
            z[:, :-1], np.asarray(rec[f"{layer}.spikes"])[:, 1:]
        )
        tau = 1e-3 / np.asarray(params[layer]["Leak_gLeak"])  # ms
        beta = 1.0 - DT / tau
        d = _offset(v, z, beta)
        predicted = v + d
        # spyx's spikes at step k come from V_k (V_0 = 0)
        spyx_z = np.concatenate([np.zeros_like(vs[:, :1]), vs], axis=1) > THR
        disagree = (z > 0) != (predicted > THR)
        near = np.abs(predicted - THR) < TOL
        steps = np.any(disagree | near, axis=2)
        for b in range(BATCH):
            hit = np.flatnonzero(steps[b])
            if hit.size:
                first_bad[b] = min(first_bad[b], hit[0])
        checked[layer] = (z, spyx_z, predicted, vs)
    n_spikes = 0
    for layer, (z, spyx_z, predicted, vs) in checked.items():
        for b in range(BATCH):
            k = first_bad[b]
            np.testing.assert_array_equal(z[b, :k], spyx_z[b, :k], err_msg=layer)
            np.testing.assert_allclose(vs[b, : k - 1], predicted[b, 1:k], atol=TOL)
            n_spikes += int(z[b, :k].sum())
    assert n_spikes > 50, n_spikes  # spikes were compared, not silence
    agree = first_bad == STEPS
    counts_ns = checked["out"][0][:, :STEPS].sum(axis=1)
    counts_spyx = np.asarray(out).sum(axis=0)
    np.testing.assert_array_equal(counts_ns[agree], counts_spyx[agree])
    for b in np.flatnonzero(~agree):  # at the first predicted difference, spikes differ
        k = first_bad[b]
        z_all = np.concatenate([checked[lay][0][b, k] for lay in checked])
        s_all = np.concatenate([checked[lay][1][b, k] for lay in checked])
        p_all = np.concatenate([checked[lay][2][b, k] for lay in checked])
        ambiguous = np.any(np.abs(p_all - THR) < TOL)
        assert ambiguous or np.any((z_all > 0) != s_all), b
    # neurosim with spyx's reset and tie swapped in: the same for the whole run
    sim_s, params_s = _with_spyx_reset(params)
    rec_s = sim_s.run(params_s, {"in": x})
    for layer, vs in zip(("h1", "out"), spyx_v, strict=True):
        v = np.asarray(rec_s[f"{layer}.v"])[:, 1:]
        assert np.min(np.abs(v - THR)) > TOL  # no spike decided by rounding
        spyx_z = np.concatenate([np.zeros_like(vs[:, :1]), vs[:, :-1]], axis=1) > THR
        np.testing.assert_array_equal(
            np.asarray(rec_s[f"{layer}.spikes"])[:, 1:] > 0, spyx_z
        )
        np.testing.assert_allclose(v, vs, atol=TOL)
    counts_s = np.asarray(rec_s["out.spikes"])[:, 1:].sum(axis=1)
    np.testing.assert_array_equal(counts_s, counts_spyx)
    assert counts_spyx.sum() > 50, counts_spyx
    diff = np.abs(counts_ns - counts_spyx)
    acc_ns = float(np.mean(counts_ns.argmax(axis=1) == labels))
    acc_spyx = float(np.mean(counts_spyx.argmax(axis=1) == labels))
    assert acc_ns >= 0.75, acc_ns  # trained: well above chance (0.25)
    print(
        f"spyx vs neurosim: {n_spikes} spikes identical before the first predicted "
        f"difference; {int(agree.sum())}/{BATCH} samples identical throughout; output "
        f"counts with spyx's reset: equal on {BATCH}/{BATCH} samples "
        f"({int(counts_spyx.sum())} spikes); with neurosim's reset to 0: mean "
        f"|difference| {diff.mean():.2f} spikes per output neuron; accuracy "
        f"(most spikes) neurosim {acc_ns:.2f}, spyx {acc_spyx:.2f}"
    )

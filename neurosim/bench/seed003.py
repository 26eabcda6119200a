"""seed 003 vs jaxley 0.14: the forward pass and the training epoch, side by side.

The circuit is the seed-003 classification SNN: 100 input -> 4 hidden -> 2 output
point compartments (Leak; Fire on input and hidden), all-to-all SpikeSynapse
projections with gS ~ N(0, 10), dt = 1e-3 ms, t_max = 0.2 ms, driven by Bernoulli
(p = 0.005 per step) input spikes convolved along time with [508, 508] nA.

It is built twice from the same numbers:

- in neurosim (``build_neurosim``), the engine under test;
- in jaxley 0.14 with jaxley's own API (``build_jaxley``): ``jx.Compartment``,
  ``jx.Network``, ``jaxley.channels.Leak`` / ``Fire``, ``jx.fully_connect``,
  ``data_stimulate`` and ``jx.integrate``, vmapped over the batch and jitted, as
  in the seed. jaxley 0.14 has no SpikeSynapse, so ``SpikeDetectSynapse`` below
  stands in for it (see its docstring).

Random draws follow the seed: ``key(1701)``, split once for the gS of each
projection (in ``init_params``), then for the input mask, then for the labels.

``rows(quick)`` gives the bench's two rows (forward and training-epoch ratios);
``benchmarks/seed003_forward.py`` and ``seed003_train.py`` print the details.
Call ``jax.config.update("jax_enable_x64", ...)`` before anything here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..engine import Simulator, compile
from ..examples import seed003_network
from ._common import interleaved, row
from ._common import time_call as time_call

SEED = 1701
N_IN, N_HID, N_OUT = 100, 4, 2
DT = 1e-3  # ms
T_MAX = 0.2  # ms
N_T = int(T_MAX / DT)  # 200 input samples
P_SPIKE = 0.005  # 5 Hz * dt
KERNEL = 508.0  # nA, the seed's i_min = [508, 508]
G_LEAK, V_TH, V_RESET = 0.01, 1.0, 0.0
LENGTH = 1.0 / (2 * np.pi * 1e-5)  # µm: area 1e5 µm² with radius 1


def dtype_name() -> str:
    return "float64" if jax.config.jax_enable_x64 else "float32"


# --------------------------------------------------------------------------- data
def make_data(batch: int) -> tuple[jax.Array, jax.Array]:
    """Input currents ``(batch, N_T, N_IN)`` nA (batch-major) and labels ``(batch,)``.

    The seed's draws: the key is split twice for the weights first, then once for
    the mask ``uniform < 0.005`` and once for the labels ``uniform < 0.5``. The
    convolution with ``[508, 508]`` in 'same' mode is ``508 x[t] + 508 x[t - 1]``.
    """
    key = jax.random.key(SEED)
    key, _ = jax.random.split(key)  # gS of inp->hid
    key, _ = jax.random.split(key)  # gS of hid->out
    key, sub = jax.random.split(key)
    mask = jax.random.uniform(sub, (batch, N_IN, N_T))
    x = jnp.where(mask < P_SPIKE, 1.0, 0.0)
    x_prev = jnp.pad(x, ((0, 0), (0, 0), (1, 0)))[..., :-1]
    currents = KERNEL * x + KERNEL * x_prev  # (batch, N_IN, N_T)
    key, sub = jax.random.split(key)
    labels = jnp.where(jax.random.uniform(sub, (batch,)) < 0.5, 1, 0)
    return jnp.swapaxes(currents, 1, 2), labels


# --------------------------------------------------------------------------- neurosim
def build_neurosim() -> tuple[Simulator, dict]:
    """The seed circuit in neurosim (``neurosim.examples.seed003_network``) and
    its parameters from ``key(1701)``."""
    sim = compile(seed003_network(N_IN, N_HID, N_OUT), dt=DT)
    return sim, sim.init_params(jax.random.key(SEED))


def neurosim_gs(params: dict) -> dict:
    """The trainable leaves: the gS of both projections."""
    return {p: {"SpikeSynapse_gS": params[p]["SpikeSynapse_gS"]} for p in PROJ}


PROJ = ("inp->hid", "hid->out")


def neurosim_forward(sim: Simulator, params: dict) -> Callable:
    """``gs, currents (batch, T, N_IN) -> out.v (batch, T + 2, N_OUT)``, jitted."""

    def forward(gs, currents):
        full = {k: dict(v) for k, v in params.items()}
        for p in PROJ:
            full[p].update(gs[p])
        return sim.run(full, {"inp": currents}, t_max=T_MAX)["out.v"]

    return forward


# --------------------------------------------------------------------------- jaxley 0.14
def _synapse_base():
    from jaxley.synapses.synapse import Synapse

    return Synapse


class SpikeDetectSynapse(_synapse_base()):
    """A jaxley 0.14 ``Synapse`` standing in for the SpikeSynapse of jaxley 1.0.

    jaxley 0.14 hands a synapse only voltages, and they are read after ``Fire`` has
    reset the presynaptic neuron in the same step. So the presynaptic spike is
    detected from the voltage: a spike is the step at which the presynaptic voltage
    is exactly ``vreset`` while the voltage seen at the previous step was not (the
    reset is an exact ``select``; a decaying or driven voltage does not land on it).
    Then, per edge as jaxley's SpikeSynapse: ``s <- 1`` on a spike, else
    ``s <- s - s_decay * s * dt``; the current is ``gS * s`` nA (outward-positive).

    Per-edge state: ``s`` and the last seen presynaptic voltage. Two spikes on
    consecutive steps, or a spike reached in one step from rest exactly at
    ``vreset``, are not seen (the voltage sequence is ``vreset, vreset``), so the
    traces can differ slightly from the exact SpikeSynapse.
    """

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self._name
        self.synapse_params = {
            f"{p}_gS": 1e-4,  # µS
            f"{p}_s_decay": 10.0,  # 1/ms
            f"{p}_vreset": V_RESET,  # mV, the presynaptic Fire's reset
        }
        self.synapse_states = {f"{p}_s": 0.0, f"{p}_v_last": V_RESET}

    def update_states(self, states, delta_t, pre_voltage, post_voltage, params):
        p = self._name
        s, v_last = states[f"{p}_s"], states[f"{p}_v_last"]
        vreset = params[f"{p}_vreset"]
        spike = (pre_voltage == vreset) & (v_last != vreset)
        decayed = s - params[f"{p}_s_decay"] * s * delta_t
        return {
            f"{p}_s": jnp.where(spike, jnp.ones_like(s), decayed),
            f"{p}_v_last": pre_voltage,
        }

    def compute_current(self, states, pre_voltage, post_voltage, params):
        p = self._name
        return params[f"{p}_gS"] * states[f"{p}_s"]


STANDIN_NOTE = (
    "jaxley 0.14 has no SpikeSynapse: its side uses SpikeDetectSynapse, a jaxley "
    "Synapse subclass with per-edge state that detects the presynaptic spike from "
    "the presynaptic voltage (exactly vreset now, not at the previous step) and then "
    "sets s=1 or decays s by 10*s*dt, current gS*s, as jaxley 1.0's SpikeSynapse."
)


def build_jaxley() -> tuple[Any, Callable]:
    """The seed circuit with jaxley 0.14's API; returns ``(net, simulate_batch)``.

    ``simulate_batch(params, currents)`` takes jaxley's parameter list
    ``[{"SpikeDetectSynapse_gS": (408,)}]`` and currents ``(batch, N_IN, T)``, and
    returns the output voltages ``(batch, N_OUT, T + 2)``; it is ``jax.vmap`` of
    ``jx.integrate`` over the batch (jit it, as the seed does).
    """
    import jaxley as jx
    from jaxley.channels import Leak

    with warnings.catch_warnings():
        # jaxley 0.14's Fire warns that it has no surrogate gradient.
        warnings.simplefilter("ignore")
        from jaxley.channels import Fire

        n_fire = N_IN + N_HID
        neurons = [jx.Compartment() for _ in range(n_fire + N_OUT)]
        net = jx.Network(neurons)
        net.select(nodes="all").insert(Leak())
        net.select(nodes=range(n_fire)).insert(Fire())
    net.select(nodes="all").set("Leak_gLeak", G_LEAK)
    net.select(nodes="all").set("Leak_eLeak", V_RESET)
    net.select(nodes=range(n_fire)).set("Fire_vth", V_TH)
    net.select(nodes=range(n_fire)).set("Fire_vreset", V_RESET)
    net.select(nodes="all").set("length", LENGTH)
    net.select(nodes="all").set("radius", 1.0)
    net.select(nodes="all").set("v", V_RESET)
    inp = range(N_IN)
    hid = range(N_IN, n_fire)
    out = range(n_fire, n_fire + N_OUT)
    jx.fully_connect(net.cell(inp), net.cell(hid), SpikeDetectSynapse())
    jx.fully_connect(net.cell(hid), net.cell(out), SpikeDetectSynapse())
    net.select(edges="all").make_trainable("SpikeDetectSynapse_gS", verbose=False)
    net.delete_recordings()
    net.cell(out).record("v", verbose=False)

    def simulate(params, current):
        stimuli = net.cell(inp).data_stimulate(current, None)
        return jx.integrate(
            net, data_stimuli=stimuli, params=params, delta_t=DT, t_max=T_MAX
        )

    return net, jax.vmap(simulate, in_axes=(None, 0))


def jaxley_params(gs: dict) -> list[dict]:
    """neurosim's gS leaves as jaxley's trainable list (edges pre-major, both
    projections in one array, as ``jx.fully_connect`` numbers them)."""
    flat = jnp.concatenate([jnp.ravel(gs[p]["SpikeSynapse_gS"]) for p in PROJ])
    return [{"SpikeDetectSynapse_gS": flat}]


def jaxley_currents(currents: jax.Array) -> jax.Array:
    """Batch-major ``(batch, T, N_IN)`` -> jaxley's ``(batch, N_IN, T)``."""
    return jnp.swapaxes(currents, 1, 2)


def standin_blind_spikes(sim: Simulator, params: dict, currents) -> tuple[int, int]:
    """``(spikes, blind)``: presynaptic spikes in neurosim's run, and how many of them
    ``SpikeDetectSynapse`` cannot see (on the step after another spike, or reached
    from a voltage exactly at ``vreset``)."""
    specs = [f"{p}.{k}" for p in ("inp", "hid") for k in ("spikes", "v")]
    rec = sim.run(params, {"inp": currents}, t_max=T_MAX, record=specs)
    total = blind = 0
    for pop in ("inp", "hid"):
        sp = np.asarray(rec[f"{pop}.spikes"])  # sample k: spiked at step k
        v = np.asarray(rec[f"{pop}.v"])  # sample k: voltage after step k
        # At step k the stand-in compares with the voltage it saw at step k - 1:
        # vreset after a spike there, else the voltage after step k - 2.
        seen_prev = np.where(sp[:, 1:-1] > 0, V_RESET, v[:, :-2])
        total += int(sp.sum())
        blind += int((sp[:, 2:] * (seen_prev == V_RESET)).sum())
        blind += int(sp[:, 1].sum())  # the first step: the stand-in starts at vreset
    return total, blind


# --------------------------------------------------------------------------- loss, timing
def max_voltage_loss(v_out: jax.Array, labels: jax.Array, time_axis: int) -> jax.Array:
    """The seed's loss: logits = max over time, log_softmax, mean NLL of the label."""
    logits = jnp.max(v_out, axis=time_axis)
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))


def add_common_args(parser) -> None:
    parser.add_argument("--repeats", type=int, default=10, help="timed calls (median)")
    parser.add_argument("--batch", type=int, default=256, help="samples per batch")
    parser.add_argument(
        "--x64", action="store_true", help="float64 for both (default float32)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: batch 8, 2 repeats"
    )


def apply_quick(args) -> None:
    if args.quick:
        args.batch, args.repeats = 8, 2
    if args.repeats < 1 or args.batch < 1:
        raise SystemExit("--repeats and --batch must be positive")


def machine_line() -> str:
    import os
    import platform

    return (
        f"machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cpus, jax {jax.__version__} on {jax.devices()[0].platform}"
    )


# --------------------------------------------------------------------------- the bench
def training_epochs(
    sim: Simulator, params: dict, jx_sim: Callable
) -> tuple[Callable, Callable]:
    """The jitted training epochs `(neurosim, jaxley)`: `value_and_grad` of the
    seed's max-voltage loss w.r.t. the gS of both projections (`jx_sim` from
    `build_jaxley`)."""
    ns_forward = neurosim_forward(sim, params)

    def ns_loss(gs, currents, labels):
        return max_voltage_loss(ns_forward(gs, currents), labels, time_axis=1)

    def jx_loss(jparams, currents, labels):
        return max_voltage_loss(jx_sim(jparams, currents), labels, time_axis=2)

    return jax.jit(jax.value_and_grad(ns_loss)), jax.jit(jax.value_and_grad(jx_loss))


def rows(quick: bool) -> list[dict]:
    """Forward and training-epoch speed-ups over jaxley 0.14 on the seed-003
    circuit (batch 256; `quick`: batch 8), interleaved, after 4 warm-up calls."""
    batch, repeats, warmup = (8, 2, 1) if quick else (256, 10, 4)
    currents, labels = make_data(batch)
    sim, params = build_neurosim()
    gs = neurosim_gs(params)
    jx_params, jx_currents = jaxley_params(gs), jaxley_currents(currents)
    _, jx_sim = build_jaxley()
    fwd = interleaved(
        {
            "neurosim": (jax.jit(neurosim_forward(sim, params)), (gs, currents)),
            "jaxley": (jax.jit(jx_sim), (jx_params, jx_currents)),
        },
        repeats=repeats,
        warmup=warmup,
    )
    dv = float(
        jnp.max(jnp.abs(fwd["neurosim"].out - jnp.swapaxes(fwd["jaxley"].out, 1, 2)))
    )
    ns_epoch, jx_epoch = training_epochs(sim, params, jx_sim)
    train = interleaved(
        {
            "neurosim": (ns_epoch, (gs, currents, labels)),
            "jaxley": (jx_epoch, (jx_params, jx_currents, labels)),
        },
        repeats=repeats,
        warmup=warmup,
    )
    shape = f"100-4-2 LIF, 201 steps, batch {batch}, {dtype_name()}"
    out = []
    for what, t, goal, extra in (
        ("forward", fwd, ">= 50x", f"; max |dv| {dv:.2g} mV vs jaxley"),
        ("training epoch", train, ">= 100x", "; value_and_grad w.r.t. 408 gS"),
    ):
        ns_t, jx_t = t["neurosim"], t["jaxley"]
        out.append(
            row(
                f"seed003 {what} vs jaxley 0.14",
                jx_t.wall / ns_t.wall,
                "x",
                goal,
                f"{shape}: neurosim {1e3 * ns_t.wall:.2f} ms, jaxley "
                f"{1e3 * jx_t.wall:.1f} ms (median of {repeats}){extra}",
            )
        )
    return out

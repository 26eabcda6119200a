"""Shared builders for the seed-003 benchmarks (``seed003_forward.py``, ``seed003_train.py``).

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

Call ``jax.config.update("jax_enable_x64", ...)`` before anything here.
"""

from __future__ import annotations

import resource
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import neurosim as ns
from neurosim.examples import seed003_network

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
def build_neurosim() -> tuple[ns.Simulator, dict]:
    """The seed circuit in neurosim (``neurosim.examples.seed003_network``) and
    its parameters from ``key(1701)``."""
    sim = ns.compile(seed003_network(N_IN, N_HID, N_OUT), dt=DT)
    return sim, sim.init_params(jax.random.key(SEED))


def neurosim_gs(params: dict) -> dict:
    """The trainable leaves: the gS of both projections."""
    return {p: {"SpikeSynapse_gS": params[p]["SpikeSynapse_gS"]} for p in PROJ}


PROJ = ("inp->hid", "hid->out")


def neurosim_forward(sim: ns.Simulator, params: dict) -> Callable:
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


def standin_blind_spikes(sim: ns.Simulator, params: dict, currents) -> tuple[int, int]:
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


def _cpu_seconds() -> float:
    """User + system CPU time of this process (all threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@dataclass
class Timing:
    first: float  # s, the first call (trace + compile + run)
    wall: float  # s, median wall time of the warm calls
    cpu: float  # s, median process CPU time of the warm calls
    out: Any  # the result of the last call


def time_call(fn: Callable, *args, repeats: int) -> Timing:
    """Time ``fn(*args)``: first call, then one warm-up, then ``repeats`` calls.

    Every call is blocked on (``jax.block_until_ready``). The CPU time is reported
    beside the wall time because it moves less when other processes share the cores.
    """
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    jax.block_until_ready(fn(*args))
    walls, cpus = [], []
    for _ in range(repeats):
        c0, t0 = _cpu_seconds(), time.perf_counter()
        out = jax.block_until_ready(fn(*args))
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu_seconds() - c0)
    return Timing(first, statistics.median(walls), statistics.median(cpus), out)


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

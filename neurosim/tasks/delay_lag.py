"""Delay-lag: tell which time lag separates two copies of a spike pattern
(`neurosim.datasets.delay_lag`), a task that needs synaptic delays.

The network is `2 * channels` inputs -> `hidden` LIF coincidence detectors
(membrane time constant `tau_mem`, 1 ms, fixed) -> a leaky readout, feed-forward.
With `delays=True` (task `delay-lag`) the input projection is a `Delayed`
synapse with one learnable delay per edge (`fractional=True`, at most
`max_delay` steps), drawn uniformly in `[0, max_delay]` steps; with
`delays=False` (task `delay-lag-no-delays`) it is the same `SpikeSynapse`
without the wrapper, which is the delayed network with every delay at 0 (bit for bit).
Everything else (sizes, time constants, initial weights, optimiser, data) is the
same. The smallest lag is several membrane time constants, so without delays a
hidden neuron never holds one group's spike until the lagged copy arrives.
"""

from __future__ import annotations

import dataclasses
import math

from .. import datasets
from ..datasets.delay_lag import DEFAULT_LAGS, check_lags, check_probability
from ..layers import LENGTH_UNIT_AREA
from ..mechanisms.channels import Fire, Leak, SpikeSource, tau_to_gleak
from ..mechanisms.delays import Delayed
from ..mechanisms.surrogate import ArcTan, FastSigmoid
from ..mechanisms.synapses import SpikeSynapse
from ..network import Network
from ..transforms import DecayFactor
from ..values import normal, uniform
from .config import SnnConfig, boolean, integer, positive, setting
from .snn import TaskData, init_gain, train_snn

TITLE = "Delay-lag (generated): the class is the lag between two copies of a pattern"
TITLE_NO_DELAYS = "Delay-lag, the same network without delays (control)"

DELAY_KEY = "SpikeSynapse_delay"


def _renamed(check):
    """A config check from a data-set check (the setting's name in errors)."""

    def checked(name, v):
        try:
            return check(v)
        except (TypeError, ValueError) as err:
            text = str(err).split(":", 1)[1]
            raise type(err)(f"{name}:{text}") from None

    return checked


@dataclasses.dataclass(frozen=True)
class DelayLagConfig(SnnConfig):
    """Settings of delay-lag.

    Attributes:
        delays: a learnable delay per input edge (else none).
        max_delay: the longest delay, steps (the buffer's length).
        delay_lr_scale: the delays' updates are this many times the
            weights' (a delay is in ms, a weight in µS).
        train_tau: train each neuron's membrane time constant (with
            `tau_max` as its cap).
        n_steps: steps per sample.
        channels: channels per input group.
        lags: the lag of each class, steps.
        p: spike probability per channel and step.
    """

    delays: bool = setting(True, boolean)
    max_delay: int = setting(24, integer(1, 1000))
    delay_lr_scale: float = setting(100.0, positive)
    train_tau: bool = setting(False, boolean)
    n_steps: int = setting(50, integer(1))
    channels: int = setting(8, integer(1))
    lags: tuple[int, ...] = setting(DEFAULT_LAGS, _renamed(check_lags))
    p: float = setting(0.1, _renamed(check_probability))

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.recurrent or self.data_init or len(self.hidden) != 1:
            raise ValueError(
                "hidden: delay-lag is one feed-forward hidden layer, got "
                f"hidden={list(self.hidden)}, recurrent={self.recurrent}, "
                f"data_init={self.data_init}."
            )
        for name in ("n_train", "n_test"):
            if getattr(self, name) is None:
                raise TypeError(f"{name}: expected an integer >= 1, got None.")


DEFAULTS = DelayLagConfig(
    hidden=(64,),
    dt=1.0,
    tau_mem=1.0,
    tau_out=20.0,
    surrogate="fast_sigmoid",
    loss="sum_voltage",
    optimizer="adam",
    lr=2e-3,
    epochs=20,
    batch_size=64,
    n_train=4096,
    n_test=1024,
)
DEFAULTS_NO_DELAYS = dataclasses.replace(DEFAULTS, delays=False)


def load(cfg: DelayLagConfig, data_dir: str | None) -> TaskData:
    """Delay-lag drawn from `cfg.seed` (`neurosim.datasets.delay_lag_splits`)."""
    del data_dir
    ds = datasets.delay_lag_splits(
        cfg.seed,
        n_train=cfg.n_train,
        n_test=cfg.n_test,
        n_steps=cfg.n_steps,
        channels=cfg.channels,
        lags=cfg.lags,
        p=cfg.p,
    )
    return TaskData(
        ds.x_train, ds.y_train, ds.x_test, ds.y_test, ds.n_classes, split=ds.split
    )


def network(cfg: DelayLagConfig, n_in: int, n_out: int) -> Network:
    """`n_in` inputs -> `cfg.hidden` LIF -> `n_out` leaky readout; the input
    projection with a learnable delay per edge when `cfg.delays`."""
    (n_hidden,) = cfg.hidden
    geometry = {"length": LENGTH_UNIT_AREA, "radius": 1.0, "v": 0.0}
    surrogate = ArcTan() if cfg.surrogate == "arctan" else FastSigmoid()
    net = Network()
    net.add_population("in", n_in, [SpikeSource()], **geometry)
    net.add_population(
        "h1",
        n_hidden,
        [
            Leak(gLeak=tau_to_gleak(cfg.tau_mem), eLeak=0.0),
            Fire(vth=1.0, vreset=0.0, surrogate=surrogate),
        ],
        **geometry,
    )
    net.add_population(
        "out", n_out, [Leak(gLeak=tau_to_gleak(cfg.tau_out), eLeak=0.0)], **geometry
    )
    synapse = SpikeSynapse(s_decay=1.0 / cfg.dt)
    gain = init_gain(cfg)
    if cfg.delays:
        synapse = Delayed(synapse, max_steps=cfg.max_delay, fractional=True)
    for pre, post, syn, fan_in in (
        ("in", "h1", synapse, n_in),
        ("h1", "out", SpikeSynapse(s_decay=1.0 / cfg.dt), n_hidden),
    ):
        proj = net.connect(pre, post, syn)
        net.set(proj, "SpikeSynapse_gS", normal(0.0, gain / math.sqrt(fan_in)))
        net.make_trainable(proj, "SpikeSynapse_gS", per_element=True)
    if cfg.delays:
        net.set("in->h1", DELAY_KEY, uniform(0.0, cfg.max_delay * cfg.dt))
        net.make_trainable("in->h1", DELAY_KEY, per_element=True)
    if cfg.train_tau:
        for name in ("h1", "out"):
            net.make_trainable(
                name, "Leak_gLeak", per_element=True, transform=DecayFactor()
            )
    net.record("out", "v")
    return net


def train(cfg: DelayLagConfig, data: TaskData, progress: bool, checkpoint_dir=None):
    """`train_snn` on `network`, the delays' updates scaled by
    `cfg.delay_lr_scale`."""
    if cfg.delays:
        scale = {**(cfg.lr_scale or {}), DELAY_KEY: cfg.delay_lr_scale}
        cfg = dataclasses.replace(cfg, lr_scale=scale)
    out = train_snn(cfg, data, progress, checkpoint_dir, build=network)
    kind = "learnable per-edge delays" if cfg.delays else "no delays"
    out["network"] = f"{out['network']}, {kind}"
    return out

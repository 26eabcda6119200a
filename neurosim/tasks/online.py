"""Seed 001's feed-forward network trained by an online rule or by BPTT: the
`rule` setting of `neurosim train mnist --rule RULE`.

The network is a feed-forward stack of current-based LIF layers (`tau_mem`,
synaptic trace `tau_syn`, threshold 1 mV, dt 1 ms), only its weights trained,
with a spiking readout decoded by spike count (`readout="spiking"`, the
seed's) or a leaky readout decoded by its summed voltage (`"leaky"`, e-prop's).

| `rule` | update | readout |
|---|---|---|
| `random-feedback` | seed 001's eligibility-trace rule (`eligibility_feedback`) | spiking |
| `last-window` | seed 001's last-window rule (`last_window_feedback`) | spiking |
| `eprop` | e-prop, symmetric feedback (`eprop`) | leaky |
| `bptt` | backpropagation through time of the objective's loss | either |

The history's validation curves are the test split, scored after every epoch
(for the curves only: nothing is selected by them).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax

from ..engine import compile
from ..layers import lif_stack
from ..mechanisms.surrogate import FastSigmoid
from ..train import Objective, evaluate, fit
from ..train.rules import eligibility_feedback, eprop, last_window_feedback
from .config import StaticConfig, choice, integer, positive, setting
from .snn import TaskData, fit_config, init_gain, optimizer, subset

__all__ = ["RULES", "OnlineConfig", "rule_defaults", "train_online"]

RULES = ("bptt", "random-feedback", "last-window", "eprop")


@dataclasses.dataclass(frozen=True)
class OnlineConfig(StaticConfig):
    """Settings of a static task that can be trained by an online rule.

    Attributes:
        rule: `None` (the task's own network, BPTT), or one of `RULES` on
            seed 001's feed-forward network (see the module).
        readout: `"spiking"` (seed 001) or `"leaky"` (e-prop).
        tau_syn: synaptic trace time constant, ms.
        slope: the surrogate derivative `1 / (slope |v - vth| + 1)^2`, 1/mV
            (seed 001's SuperSpike beta).
        tau_trace: the eligibility trace's time constant, ms (`random-feedback`).
        window: the last steps learnt from (`last-window`).
        feedback_scale: the random feedback matrices' standard deviation.
    """

    rule: str | None = setting(None, choice(None, *RULES))
    readout: str = setting("spiking", choice("spiking", "leaky"))
    tau_syn: float = setting(5.0, positive)
    slope: float = setting(0.03, positive)
    tau_trace: float = setting(20.0, positive)
    window: int = setting(15, integer(1))
    feedback_scale: float = setting(0.1, positive)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.rule is None:
            return
        bad = {
            "recurrent": self.recurrent,
            "train_vth": self.train_vth,
            "train_rest": self.train_rest,
        }
        bad = {k: v for k, v in bad.items() if v}
        need = {
            "eprop": "leaky",
            "random-feedback": "spiking",
            "last-window": "spiking",
        }
        if bad or need.get(self.rule, self.readout) != self.readout:
            raise ValueError(
                f"rule: {self.rule!r} trains seed 001's feed-forward network, "
                f"weights only, with a {need.get(self.rule, 'spiking or leaky')} "
                f"readout; got readout={self.readout!r}"
                + "".join(f", {k}=true" for k in bad)
                + "."
            )


def rule_defaults(base: OnlineConfig, rule: str) -> OnlineConfig:
    """`base`'s data settings with seed 001's network and training for `rule`:
    feed-forward, tau_mem 20 ms, tau_syn 5 ms, threshold 1 mV, dt 1 ms, 20
    rate-coded steps, weights only, Adam with a cosine decay, batch 64, 3
    epochs over the training digits and their 1-pixel shifted copies (e-prop,
    whose traces cost the most per step: 2 over the digits alone). Seed 001's
    rules use its surrogate slope 0.03 and learning rate 5e-3; BPTT and e-prop
    (its gradient for one layer), which do not learn with that flat
    surrogate, slope 1 and 2e-3."""
    return dataclasses.replace(
        base,
        rule=rule,
        readout="leaky" if rule == "eprop" else "spiking",
        hidden=(256,),
        recurrent=False,
        train_vth=False,
        train_rest=False,
        data_init=False,
        dt=1.0,
        tau_mem=20.0,
        tau_out=20.0,
        n_steps=20,
        encoder="rate",
        gain=1.0,
        augment=None if rule == "eprop" else "shift",
        loss="spike_count" if rule != "eprop" else "sum_voltage",
        optimizer="adam",
        lr=2e-3 if rule in ("bptt", "eprop") else 5e-3,
        slope=1.0 if rule in ("bptt", "eprop") else 0.03,
        schedule="cosine",
        epochs=2 if rule == "eprop" else 3,
        batch_size=64,
    )


def _network(cfg: OnlineConfig, n_in: int, n_out: int):
    return lif_stack(
        [n_in, *cfg.hidden, n_out],
        dt=cfg.dt,
        tau_mem=cfg.tau_mem,
        tau_out=cfg.tau_out,
        tau_syn=cfg.tau_syn,
        readout=cfg.readout,
        train_tau=False,
        init_gain=init_gain(cfg),
        surrogate=FastSigmoid(slope=cfg.slope),
    )


def make_rule(cfg: OnlineConfig, sim: Any) -> Any:
    """The online rule `cfg.rule` names for `sim` (`None` for BPTT)."""
    key = jax.random.key(cfg.seed + 1)
    if cfg.rule == "random-feedback":
        return eligibility_feedback(
            sim, key, tau_trace=cfg.tau_trace, scale=cfg.feedback_scale
        )
    if cfg.rule == "last-window":
        return last_window_feedback(
            sim, key, window=cfg.window, scale=cfg.feedback_scale
        )
    if cfg.rule == "eprop":
        return eprop(sim)
    return None


def train_online(
    cfg: OnlineConfig, data: TaskData, progress: bool, checkpoint_dir: Any = None
) -> dict:
    """Fit seed 001's network to `data` with `cfg.rule`; score both splits.

    Returns:
        `train_accuracy` / `test_accuracy`, losses, sample counts, the
        `network` and `rule` in words, the trained `params` and the `history`.
    """
    net = _network(cfg, data.x_train.shape[-1], data.n_classes)
    sim = compile(net, dt=cfg.dt, solver="exp_euler")
    params = sim.init_params(jax.random.key(cfg.seed))
    rule = make_rule(cfg, sim)
    objective = Objective(cfg.loss) if rule is None else rule.objective
    n_batches = max(1, len(data.x_train) // cfg.batch_size)
    result = fit(
        sim,
        params,
        data.x_train,
        data.y_train,
        input="in",
        objective=objective,
        optimizer=optimizer(cfg, sim, n_batches * cfg.epochs),
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        validation=(data.x_test, data.y_test),
        checkpoint_dir=checkpoint_dir,
        config=fit_config(cfg),
        progress=progress,
        rule=rule,
    )
    scores = {}
    for split, (x, y) in (
        ("train", subset(data.x_train, data.y_train, data.n_original)),
        ("test", (data.x_test, data.y_test)),
    ):
        ev = evaluate(sim, result.params, x, y, input="in", objective=objective)
        scores[f"{split}_accuracy"] = ev["accuracy"]
        scores[f"{split}_loss"] = ev["loss"]
        scores[f"n_{split}"] = len(x)
    sizes = [data.x_train.shape[-1], *cfg.hidden, data.n_classes]
    return {
        **scores,
        "network": f"{'-'.join(map(str, sizes))} feed-forward current-based LIF "
        f"(seed 001), {cfg.readout} readout",
        "rule": cfg.rule,
        "params": result.params,
        "history": result.history,
    }

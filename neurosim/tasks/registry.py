"""`TASKS`: every task of `neurosim train TASK`, by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import delay_lag, digits, mnist, mts_xor, shd, toy, yinyang
from .config import TaskConfig, apply_overrides
from .snn import TaskData, train_snn

__all__ = ["TASKS", "Task"]


@dataclass(frozen=True)
class Task:
    """One entry of `TASKS`.

    Attributes:
        name: the CLI name.
        title: one line naming the data and the source.
        defaults: the default settings (a typed config).
        load: `load(config, data_dir) -> TaskData`.
        train: `train(config, data, progress, checkpoint_dir=None) -> dict`
            with `params`, `history` and the metrics; with
            `checkpoint_dir` it checkpoints every epoch there and continues
            a checkpoint it finds (`neurosim.fit`).
        rule_defaults: `(defaults, rule) -> config`, the defaults when the
            overrides name a learning `rule` (`neurosim.tasks.online`), or
            `None` when the task has no such setting.
    """

    name: str
    title: str
    defaults: TaskConfig
    load: Callable[[Any, str | None], TaskData]
    train: Callable[..., dict] = train_snn
    rule_defaults: Callable[[Any, str], TaskConfig] | None = None

    def configure(self, overrides: Mapping[str, Any] | None = None) -> TaskConfig:
        """The defaults with `overrides` checked and applied.

        Raises:
            ValueError: an unknown setting, or a value it does not take.
            TypeError: a value of a type the setting does not take.
        """
        defaults = self.defaults
        rule = (overrides or {}).get("rule")
        if rule is not None and self.rule_defaults is not None:
            defaults = self.rule_defaults(defaults, rule)
        return apply_overrides(self.name, defaults, overrides)

    def describe(self) -> str:
        """One line: the data, the default network, optimiser and epochs."""
        c = self.defaults
        if isinstance(c, toy.ToyConfig):
            net = f"{c.n_input}-{'-'.join(map(str, c.hidden))}-2 LIF"
        else:
            kind = "recurrent " if c.recurrent else ""
            net = f"{kind}LIF {'-'.join(map(str, c.hidden))}"
        return (
            f"{self.title}; {net}, {c.optimizer}(lr={c.lr:g}), "
            f"{c.epochs} epochs of batch {c.batch_size}"
        )


TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task("toy", toy.TITLE, toy.DEFAULTS, toy.load, toy.train),
        Task("mts-xor", mts_xor.TITLE, mts_xor.DEFAULTS, mts_xor.load),
        Task("yinyang", yinyang.TITLE, yinyang.DEFAULTS, yinyang.load),
        Task("digits", digits.TITLE, digits.DEFAULTS, digits.load),
        Task(
            "mnist",
            mnist.TITLE,
            mnist.DEFAULTS,
            mnist.load,
            mnist.train,
            mnist.RULE_DEFAULTS,
        ),
        Task("shd", shd.TITLE, shd.DEFAULTS, shd.load),
        Task(
            "delay-lag",
            delay_lag.TITLE,
            delay_lag.DEFAULTS,
            delay_lag.load,
            delay_lag.train,
        ),
        Task(
            "delay-lag-no-delays",
            delay_lag.TITLE_NO_DELAYS,
            delay_lag.DEFAULTS_NO_DELAYS,
            delay_lag.load,
            delay_lag.train,
        ),
    )
}

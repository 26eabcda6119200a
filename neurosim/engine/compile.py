"""`compile`: a `Network` into a `Simulator`, with each synapse's layout decided."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..mechanisms.base import PRE
from ..network import Network, unknown
from . import checks
from .simulator import Simulator
from .solvers import SOLVERS

__all__ = ["compile"]


class _Reads(dict):
    """A dict that notes which keys a mechanism's `layout` looked at."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.read: set = set()

    def __getitem__(self, key: Any) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: Any) -> bool:
        self.read.add(key)
        return super().__contains__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


def compile(  # noqa: A001 - the design's verb
    net: Network,
    dt: float = 0.025,
    *,
    solver: str = "bwd_euler",
    remat: bool = False,
) -> Simulator:
    """Compile `net` into a `Simulator`.

    Args:
        net: the network description.
        dt: time step in ms (> 0).
        solver: `"bwd_euler"` (default, as jaxley), `"fwd_euler"`, `"exp_euler"`.
        remat: recompute each step in the backward pass (`jax.checkpoint`) so
            memory grows slowly with the number of steps.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net: expected a neurosim Network, got {type(net)}.")
    dt = checks.check_positive_number("dt", dt, "number of ms")
    if not isinstance(remat, bool):
        raise TypeError(f"remat: expected True or False, got {remat!r}.")
    if solver not in SOLVERS:
        raise unknown("solver", str(solver), list(SOLVERS), "solver: ")
    if not net.populations:
        raise ValueError("net: the network has no populations.")
    cells = [k for k, p in net.populations.items() if p.morphology is not None]
    if cells and solver != "bwd_euler":
        raise ValueError(
            f"solver: populations {cells} have cells of several compartments, "
            f"which only 'bwd_euler' solves (the cable's implicit step); got "
            f"{solver!r}."
        )
    net = net.copy()
    layouts, fixed, shared, owners = {}, {}, {}, {}
    for name, proj in net.projections.items():
        per_element, values = {}, _Reads()
        for k, value in proj.params.items():
            trainable = net.trainable.get((name, k))
            per_element[k] = bool(
                callable(value)
                or np.ndim(value) > 0
                or (trainable is not None and trainable[0])
            )
            if trainable is None and np.ndim(value) == 0 and not callable(value):
                dict.__setitem__(values, k, float(value))
        layouts[name] = dict(proj.synapse.layout(proj.conn, per_element, values, dt))
        keys = proj.synapse.shared_states(layouts[name], values, dt)
        for state, key in keys.items():
            if layouts[name].get(state) != PRE:
                continue
            group = (proj.pre, key)  # one stored copy per population and key
            if group in owners:
                shared[(name, state)] = owners[group]
            else:
                owners[group] = (name, state)
        fixed.update({(name, k): values[k] for k in values.read if k in dict(values)})
    return Simulator(net, dt, solver, remat, layouts, fixed, shared)

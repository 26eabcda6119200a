"""Fitting to recorded voltage traces: `TraceLoss` and `fit_traces`.

jaxley's main use, on neurosim's engine: given voltage traces recorded from a
cell (or simulated with hidden parameters), find the trainable parameters
(`net.make_trainable`: conductances, radius, length, axial resistivity; keep
them positive with `transform="log"` or `"softplus"`) that reproduce them.

    loss = ns.TraceLoss("cell.v", comps=[0, (2, 1.0)], windows=[(2.0, 30.0)])
    result = ns.fit_traces(sim, params, target, loss=loss,
                           optimizer=optax.adam(0.05), steps=200)

A `TraceLoss` compares a recorded trace with a target of the same shape over
selected compartments and time windows:

    L = mse · mean((v - v*)²)                      (mV², inside the windows)
      + spike_count · mean((n - n*)²)              (spikes², per trace)
      + first_spike · mean((t₁ - t₁*)²)            (ms², per trace)

The target's spike count `n*` and first-spike time `t₁*` are exact: upward
crossings of `threshold` between consecutive samples inside the windows, and
the time of the sample after the first one (the window's end when there is
none). The simulated ones are differentiable surrogates of the same
quantities: with `p_k = sigmoid((v_k - threshold) / sharpness)` and the rise
`c_k = max(p_{k+1} - p_k, 0)`, `n = Σ_k c_k` and, with the first unit of the
cumulative rise `C_k = min(Σ_{j<=k} c_j, 1)`,
`t₁ = Σ_k t_{k+1} (C_k - C_{k-1}) + t_end (1 - C_last)`: the rise-weighted
time of the first crossing. Both equal the exact ones as `sharpness -> 0`; a
spike that rises through the threshold counts one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from tqdm.auto import tqdm

from ..datasets._common import check_positive_int
from ..elements import check_comps
from ..engine import Simulator
from ..mechanisms.jaxley import standard_promotion
from . import _inputs as checks
from .fit import FitResult, NonFiniteError
from .step import flat_view, leaf_names, make_train_step, shaped_view
from .trainable import count_trainable, get_trainable, set_trainable

__all__ = ["TraceLoss", "fit_traces", "spike_stats"]


@dataclass(frozen=True, eq=False)
class TraceLoss:
    """A loss between a recorded voltage trace and a target trace.

    Args:
        record: the recorded `"population.v"` (or another voltage-like state).
        comps: for cells of several compartments, the compartments compared,
            each an index within the cell, `(branch, j)` or `(branch, loc)`
            (see `Network.insert`); default: all. Point cells: `None`.
        windows: time windows `[(t0, t1), ...]` in ms (a sample at time
            `k · dt` counts when `t0 <= k dt < t1` for one window); default:
            the whole trace.
        mse: weight of the mean squared voltage difference (mV²).
        spike_count: weight of the squared spike-count difference.
        first_spike: weight of the squared first-spike-time difference (ms²).
        threshold: the spike threshold (mV) of both statistics.
        sharpness: the width (mV) of the sigmoid behind the simulated
            statistics' surrogates.
        dt: the simulator's step (ms); `fit_traces` sets it.
    """

    record: str
    comps: Sequence[Any] | None = None
    windows: Sequence[tuple[float, float]] | None = None
    mse: float = 1.0
    spike_count: float = 0.0
    first_spike: float = 0.0
    threshold: float = 0.0
    sharpness: float = 1.0
    dt: float | None = None

    def __post_init__(self):
        if not isinstance(self.record, str) or "." not in self.record:
            raise ValueError(
                f"record: expected 'population.state', got {self.record!r}."
            )
        for name in ("mse", "spike_count", "first_spike"):
            w = getattr(self, name)
            if not (isinstance(w, (int, float)) and math.isfinite(w) and w >= 0):
                raise ValueError(f"{name}: expected a finite weight >= 0, got {w!r}.")
        if self.mse + self.spike_count + self.first_spike <= 0:
            raise ValueError(
                "mse, spike_count, first_spike: at least one weight must be > 0."
            )
        if not (math.isfinite(self.sharpness) and self.sharpness > 0):
            raise ValueError(
                f"sharpness: expected a positive width in mV, got {self.sharpness!r}."
            )
        if self.windows is not None:
            wins = [tuple(w) for w in self.windows]
            if not wins or any(
                len(w) != 2 or not (0 <= float(w[0]) < float(w[1])) for w in wins
            ):
                raise ValueError(
                    "windows: expected a non-empty list of (t0, t1) in ms with "
                    f"0 <= t0 < t1, got {self.windows!r}."
                )
            object.__setattr__(
                self, "windows", tuple((float(a), float(b)) for a, b in wins)
            )

    def mask(self, n_samples: int) -> np.ndarray:
        """`(n_samples,)` bool: the samples inside the windows."""
        if self.windows is None:
            return np.ones(n_samples, bool)
        t = np.arange(n_samples) * self._dt()
        return np.any([(t >= a) & (t < b) for a, b in self.windows], axis=0)

    def _dt(self) -> float:
        if self.dt is None:
            raise ValueError(
                "dt: this TraceLoss has no time step; fit_traces sets it, or pass "
                "dt= (the simulator's sim.dt)."
            )
        return float(self.dt)

    def select(self, trace: Any) -> Any:
        """The compared compartments of a recorded trace: `(batch, time, n,
        len(comps))` from `(batch, time, n, n_comp)`; point cells unchanged."""
        if self.comps is None:
            return trace
        return trace[..., np.asarray(self.comps, dtype=np.int32)]

    def residuals(self, trace: Any, target: Any) -> dict:
        """Each term's weighted residuals between the selected `trace` and
        `target` (same shape, time on axis 1), flat: the term is the sum of
        their squares (`mse`: `sqrt(mse / N) (v - v*)` over the `N` samples
        inside the windows; the statistics: `sqrt(w / M) (n - n*)` over the
        `M` traces)."""
        v = jnp.moveaxis(jnp.asarray(trace), 1, -1)  # (..., time)
        v_star = jnp.moveaxis(jnp.asarray(target, v.dtype), 1, -1)
        n_samples = v.shape[-1]
        mask = self.mask(n_samples)
        diff = (v - v_star)[..., mask].reshape(-1)
        out = {"mse": diff * math.sqrt(self.mse / diff.size)}
        if self.spike_count > 0 or self.first_spike > 0:
            times = np.arange(n_samples) * self._dt()
            t_end = times[mask].max() + self._dt()
            kw = dict(times=times, mask=mask, threshold=self.threshold, t_end=t_end)
            n, t1 = spike_stats(v, sharpness=self.sharpness, **kw)
            n_star, t1_star = spike_stats(v_star, sharpness=None, **kw)
            m = n.size
            out["spike_count"] = (n - n_star).reshape(-1) * math.sqrt(
                self.spike_count / m
            )
            out["first_spike"] = (t1 - t1_star).reshape(-1) * math.sqrt(
                self.first_spike / m
            )
        return out

    def __call__(self, rec: Any, target: Any) -> tuple[Any, Any]:
        """`(loss, rmse)`: the weighted loss of a `Recording` against
        `target`, and the root-mean-square voltage difference (mV) inside
        the windows."""
        trace = self.select(rec[self.record])
        loss = sum(jnp.sum(r**2) for r in self.residuals(trace, target).values())
        inside = self.mask(trace.shape[1])
        diff = (trace - jnp.asarray(target, trace.dtype))[:, inside]
        return loss, jnp.sqrt(jnp.mean(diff**2))


def spike_stats(
    v: Any,
    *,
    times: np.ndarray,
    mask: np.ndarray,
    threshold: float,
    t_end: float,
    sharpness: float | None,
) -> tuple[Any, Any]:
    """Spike count and first-spike time of each trace `v` `(..., time)`.

    Counts upward crossings of `threshold` between consecutive samples that
    both lie in `mask`; the first spike's time is that of the sample after its
    crossing, `t_end` without one. `sharpness=None`: exact (a step);
    otherwise the differentiable surrogate of the module docstring.
    """
    if sharpness is None:
        p = (v >= threshold).astype(v.dtype)
    else:
        p = jax.nn.sigmoid((v - threshold) / sharpness)
    rise = jnp.maximum(p[..., 1:] - p[..., :-1], 0.0)
    rise = rise * jnp.broadcast_to(
        jnp.asarray(mask[1:] & mask[:-1], v.dtype), rise.shape
    )
    count = jnp.sum(rise, axis=-1)
    # the first unit of the cumulative rise, step by step
    reached = jnp.minimum(jnp.cumsum(rise, axis=-1), 1.0)
    weight = jnp.diff(reached, axis=-1, prepend=jnp.zeros_like(reached[..., :1]))
    t_next = jnp.broadcast_to(jnp.asarray(times[1:], v.dtype), rise.shape)
    first = jnp.sum(t_next * weight, axis=-1) + t_end * (1.0 - reached[..., -1])
    return count, first


def fit_traces(
    sim: Simulator,
    params: dict,
    target: Any,
    *,
    loss: TraceLoss,
    inputs: Any = None,
    input: str | None = None,
    method: str = "gradient",
    optimizer: optax.GradientTransformation | None = None,
    steps: int = 100,
    progress: bool = False,
) -> FitResult:
    """Fit `sim`'s trainable parameters so that its traces match `target`.

    Every step simulates the whole batch (full-batch gradient descent with
    `optimizer`) from the steady state; `net.stimulate` currents apply as
    in `run`.

    Args:
        sim: a compiled network with trainable parameters.
        params: its parameters (the starting point).
        target: the traces to match, shaped as `loss.select` of the recording
            `loss.record`: `(batch, time, n, len(comps))` for cells of
            several compartments, `(batch, time, n)` for point cells (a
            missing batch axis is one sample). `time` counts the initial
            sample, as `run` records: `T` samples are `T - 1` steps.
        loss: a `TraceLoss`.
        inputs: currents (nA) into population `input`, `(batch, T - 1, n)`
            (or `(batch, T - 1, n * n_comp)` per compartment); default none.
        input: the population `inputs` drive (default: `loss.record`'s).
        method: `"gradient"`: gradient descent with `optimizer` (any
            number of parameters); `"lm"`: Levenberg-Marquardt on the
            loss's residuals (`TraceLoss.residuals`), for a few parameters:
            each step costs one forward-mode Jacobian (about one simulation
            per trainable value) and converges in tens of steps where
            gradient descent takes thousands along narrow valleys.
        optimizer: for `"gradient"`, an optax optimiser (default
            `adam(0.05)`).
        steps: gradient or Levenberg-Marquardt steps (the latter stop early
            at a minimum).
        progress: show a progress bar.

    Returns:
        A `FitResult`: `params` of the step with the lowest loss,
        `history["loss"]`, `history["rmse"]` (mV) and `history["values"]`
        (the trainable parameters, constrained, before each step),
        `best_epoch` that step (`opt_state`: None for `"lm"`).

    Raises:
        TypeError, ValueError: a bad argument, named in the message.
        NonFiniteError: a step whose loss, gradients or parameters are not
            finite (nothing of it is applied).
    """
    if not isinstance(loss, TraceLoss):
        raise TypeError(f"loss: expected a TraceLoss, got {loss!r}.")
    method = checks.check_choice("method", method, ("gradient", "lm"))
    if method == "lm" and optimizer is not None:
        raise ValueError("optimizer: method='lm' takes no optimizer; pass None.")
    optimizer = checks.check_optimizer(
        optax.adam(0.05) if optimizer is None else optimizer
    )
    steps = check_positive_int("steps", steps)
    pop_name, _ = sim.net.check_record(loss.record)
    pop = sim.net.populations.get(pop_name)
    if pop is None:
        raise ValueError(f"loss.record: {loss.record!r} is not a population's trace.")
    comps = loss.comps
    if comps is not None:
        if pop.morphology is None:
            raise ValueError(
                f"loss.comps: {pop_name!r} has point cells (one compartment); "
                f"pass comps=None, got {comps!r}."
            )
        comps = tuple(
            int(c) for c in check_comps(comps, pop.n_comp, "loss.comps", pop.morphology)
        )
    loss = dataclasses.replace(loss, comps=comps, dt=sim.dt)

    target = np.asarray(target, dtype=float)
    per_cell = 2 if pop.morphology is None else 3
    if target.ndim == per_cell:
        target = target[None]
    if target.ndim != per_cell + 1 or target.shape[1] < 2:
        raise ValueError(
            f"target: expected (batch, time, n{', comps' * (per_cell == 3)}) with "
            f"time >= 2, got shape {np.shape(target)}."
        )
    if not np.all(np.isfinite(target)):
        raise ValueError("target: contains NaN or inf; expected finite voltages.")
    batch, n_samples = target.shape[:2]
    input = pop_name if input is None else input
    if input not in sim.net.populations:
        raise ValueError(f"input: no population {input!r}.")
    if inputs is None:
        x = np.zeros((batch, n_samples - 1, sim.net.populations[input].n))
    else:
        x = np.asarray(inputs, dtype=float)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[:2] != (batch, n_samples - 1):
            raise ValueError(
                f"inputs: expected (batch={batch}, time={n_samples - 1}, n) to "
                f"match target {target.shape}, got shape {np.shape(inputs)}."
            )
    shape = jax.eval_shape(
        lambda p, xb: loss.select(
            sim.run(p, {input: xb}, record=[loss.record])[loss.record]
        ),
        params,
        jax.ShapeDtypeStruct(x.shape, x.dtype),
    ).shape
    if tuple(shape) != target.shape:
        raise ValueError(
            f"target: shape {target.shape}, but {loss.record!r} with these comps "
            f"records {tuple(shape)}."
        )

    theta = flat_view(get_trainable(sim, params))
    if count_trainable(theta) == 0:
        raise ValueError("params: nothing is trainable; call net.make_trainable first.")
    x_dev, y_dev = jnp.asarray(x), jnp.asarray(target)
    history: dict[str, list] = {"loss": [], "rmse": [], "values": []}

    def constrained(th):
        p = set_trainable(sim, params, shaped_view(sim, th))
        return {
            t: {k: np.asarray(p[t][k]) for k in keys}
            for t, keys in _trainable_keys(sim).items()
        }

    def nonfinite(i, names, th):
        return NonFiniteError(
            f"fit_traces: non-finite values in step {i}: {', '.join(names)}. "
            "The update was not applied; the error's .params holds the last "
            "finite parameters. Lower the learning rate or start closer.",
            epoch=i,
            batch=0,
            leaves=names,
            params=set_trainable(sim, params, shaped_view(sim, th)),
            checkpoint=None,
        )

    def log(i, value, rmse, th, best):
        history["loss"].append(value)
        history["rmse"].append(rmse)
        history["values"].append(constrained(th))
        return (value, i, th) if value < best[0] else best

    best = (math.inf, 0, theta)
    bar = tqdm(range(steps), desc="fitting", disable=not progress)
    if method == "lm":
        best = _levenberg_marquardt(
            sim, params, theta, x_dev, y_dev, loss, input, bar, log, nonfinite
        )
        return FitResult(
            set_trainable(sim, params, shaped_view(sim, best[2])),
            history,
            None,
            best[1],
        )
    with standard_promotion():
        opt_state = optimizer.init(theta)
    train_step = make_train_step(sim, optimizer, loss, input=input)
    for i in bar:
        step = train_step(theta, opt_state, params, x_dev, y_dev)
        if not bool(step.finite):
            raise nonfinite(i, leaf_names(jax.device_get(step.finite_leaves)), theta)
        best = log(i, float(step.loss), float(step.accuracy), theta, best)
        theta, opt_state = step.theta, step.opt_state
    return FitResult(
        set_trainable(sim, params, shaped_view(sim, best[2])),
        history,
        opt_state,
        best[1],
    )


def _levenberg_marquardt(sim, params, theta, x, y, loss, input, bar, log, nonfinite):
    """Levenberg-Marquardt on the flat residuals of `loss`: per step one
    Jacobian (forward mode, one tangent per trainable value) and one or more
    trial simulations; the damping `lam` scales the diagonal of `J^T J`
    (Marquardt), shrinking by 3 after an accepted step and growing by 4 after
    a rejected one. Stops early when no damping gives a lower loss."""
    vec, unravel = ravel_pytree(theta)

    def residuals(v):
        p = set_trainable(sim, params, shaped_view(sim, unravel(v)))
        rec = sim.run(p, {input: x}, record=[loss.record])
        trace = loss.select(rec[loss.record])
        r = jnp.concatenate([t for t in loss.residuals(trace, y).values()])
        return r, (r, loss(rec, y)[1])

    jac = jax.jit(jax.jacfwd(residuals, has_aux=True))
    value = jax.jit(lambda v: residuals(v)[0])
    lam, best = 1e-2, (math.inf, 0, theta)
    J, (r, rmse) = jax.device_get(jac(vec))
    for i in bar:
        cost = float(np.sum(r**2))
        if not (np.isfinite(cost) and np.all(np.isfinite(J))):
            raise nonfinite(
                i, ["loss" if not np.isfinite(cost) else "jacobian"], unravel(vec)
            )
        best = log(i, cost, float(rmse), unravel(vec), best)
        g, h = J.T @ r, J.T @ J
        for _ in range(12):
            d = np.linalg.solve(h + lam * np.diag(np.diag(h) + 1e-12), -g)
            trial = vec + d
            c_new = float(np.sum(np.asarray(value(trial)) ** 2))
            if np.isfinite(c_new) and c_new < cost:
                vec, lam = trial, max(lam / 3.0, 1e-9)
                break
            lam *= 4.0
        else:  # no damping lowers the loss: a minimum
            break
        J, (r, rmse) = jax.device_get(jac(vec))
    return best


def _trainable_keys(sim: Simulator) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for target, key in sim.net.trainable:
        out.setdefault(target, []).append(key)
    return out

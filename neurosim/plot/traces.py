"""Voltage traces, per-sample output panels and spike rasters."""

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from jaxtyping import Float, Int, Shaped
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import (
    _MAX_LEGEND,
    _axes,
    _fail,
    _is_int,
    _one_sample,
    _spike_mask,
    _time_axis,
)


def voltage_traces(
    v: Float[npt.ArrayLike, "*batch time neurons"],
    *,
    dt: float | None = None,
    times: Float[npt.ArrayLike, " time"] | None = None,
    neurons: Sequence[int] | int | None = None,
    sample: int | None = None,
    vth: float | None = None,
    spikes: Shaped[npt.ArrayLike, "*batch time neurons"] | None = None,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Membrane potential against time, one line per neuron.

    Args:
        v: membrane potential in mV, `(time, neurons)` or `(batch, time, neurons)`.
        dt: time step in ms (or give `times`).
        times: sample times in ms, shape `(time,)` (or give `dt`).
        neurons: index or indices of the neurons to draw (default: all).
        sample: which sample of a 3-D `v` (and `spikes`) to draw.
        vth: firing threshold in mV, drawn as a dashed horizontal line.
        spikes: 0/1 array shaped like `v`; each spike gets a marker, at
            height `vth` when given, else on the trace.
        labels: one legend label per drawn neuron (default `"neuron i"`).
        ax: Axes to draw into; a new figure when `None`.

    Returns:
        The Axes, with a legend when at most 10 neurons are drawn.
    """
    x = _one_sample(v, "v", sample)
    t = _time_axis(x.shape[0], dt, times)
    idx = list(range(x.shape[1])) if neurons is None else list(np.ravel(neurons))
    if not idx or not all(_is_int(i) and 0 <= i < x.shape[1] for i in idx):
        raise _fail("neurons", repr(neurons), f"indices in [0, {x.shape[1]}) of v")
    if labels is not None and len(labels) != len(idx):
        raise _fail("labels", f"{len(labels)} labels", f"{len(idx)}, one per neuron")
    if spikes is not None:
        spikes = _spike_mask(_one_sample(spikes, "spikes", sample), "spikes", x.shape)
    ax = _axes(ax)
    for k, i in enumerate(idx):
        label = labels[k] if labels is not None else f"neuron {i}"
        color = ax.plot(t, x[:, i], lw=1.2, label=label)[0].get_color()
        if spikes is not None:
            hit = spikes[:, i]
            y = x[hit, i] if vth is None else np.full(hit.sum(), vth)
            ax.plot(t[hit], y, ls="none", marker="v", ms=7, mec="k", color=color)
    if vth is not None:
        ax.axhline(vth, ls="--", color="0.3", lw=1, label=f"$v_{{th}}$ = {vth:g} mV")
    ax.set(xlabel="time [ms]", ylabel="membrane potential [mV]")
    if len(idx) <= _MAX_LEGEND:
        ax.legend(fontsize="small", loc="best")
    return ax


def output_panels(
    v: Float[npt.ArrayLike, "batch time outputs"],
    labels: Int[npt.ArrayLike, " batch"],
    predictions: Int[npt.ArrayLike, " batch"],
    *,
    dt: float,
    n_cols: int = 2,
) -> Figure:
    """One small panel per sample: every output neuron, the label and the prediction.

    Output `k` has the same colour in every panel. The predicted output's
    trace is drawn thick with its peak starred; the title gives the label and
    the prediction, green when they agree and red when not.

    Args:
        v: output voltages in mV, `(batch, time, outputs)`; one panel per sample.
        labels: the true class of each sample, `(batch,)`.
        predictions: the predicted class (output index) of each sample, `(batch,)`.
        dt: time step in ms.
        n_cols: panels per row.

    Returns:
        The Figure.
    """
    v = np.asarray(v, dtype=float)
    if v.ndim != 3:
        raise _fail("v", f"shape {v.shape}", "(batch, time, outputs)")
    labels, predictions = (np.ravel(np.asarray(a)) for a in (labels, predictions))
    for name, a in (("labels", labels), ("predictions", predictions)):
        if a.shape != (v.shape[0],):
            raise _fail(name, f"shape {a.shape}", f"({v.shape[0]},), one per sample")
    if not (_is_int(n_cols) and n_cols >= 1):
        raise _fail("n_cols", repr(n_cols), "a positive integer")
    n_rows = -(-v.shape[0] // n_cols)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(3.6 * n_cols, 2.4 * n_rows), sharex=True,
        sharey=True, layout="constrained", squeeze=False,
    )  # fmt: skip
    t = _time_axis(v.shape[1], dt, None)
    for i, ax in enumerate(axes.flat):
        if i >= v.shape[0]:
            ax.set_axis_off()
            continue
        pred = int(predictions[i])
        for k in range(v.shape[2]):
            ax.plot(t, v[i, :, k], color=f"C{k}", lw=2.4 if k == pred else 1.0,
                    label=f"output {k}")  # fmt: skip
        peak = int(np.argmax(v[i, :, pred]))
        ax.plot(t[peak], v[i, peak, pred], "*", ms=12, color=f"C{pred}", mec="k")
        ok = pred == int(labels[i])
        ax.set_title(
            f"sample {i}: label {int(labels[i])}, predicted {pred} "
            f"{'(right)' if ok else '(wrong)'}",
            fontsize=9, color="tab:green" if ok else "tab:red",
        )  # fmt: skip
        if i % n_cols == 0:
            ax.set_ylabel("v [mV]")
        if i >= (n_rows - 1) * n_cols:
            ax.set_xlabel("time [ms]")
    axes.flat[0].legend(fontsize="small", loc="upper left")
    return fig


def raster(
    spikes: Shaped[npt.ArrayLike, "*batch time neurons"],
    *,
    dt: float | None = None,
    times: Float[npt.ArrayLike, " time"] | None = None,
    sample: int | None = None,
    ax: Axes | None = None,
    color: Any = None,
    offset: int = 0,
    label: str | None = None,
) -> Axes:
    """Spike raster: one tick per spike, time in ms against neuron index.

    Args:
        spikes: 0/1 array, `(time, neurons)` or `(batch, time, neurons)`.
        dt: time step in ms (or give `times`).
        times: sample times in ms, shape `(time,)` (or give `dt`).
        sample: which sample of a 3-D `spikes` to draw.
        ax: Axes to draw into; a new figure when `None`.
        color: tick colour (default: the next colour of the cycle).
        offset: added to every neuron index, to stack populations.
        label: legend label for these spikes.

    Returns:
        The Axes.
    """
    s = _one_sample(spikes, "spikes", sample)
    s = _spike_mask(s, "spikes", s.shape)
    t = _time_axis(s.shape[0], dt, times)
    ax = _axes(ax)
    ti, ni = np.nonzero(s)
    ax.scatter(t[ti], ni + offset, marker="|", s=40, lw=1.2, color=color, label=label)
    ax.update_datalim([(t[0], offset - 0.5), (t[-1], offset + s.shape[1] - 0.5)])
    ax.autoscale_view()
    ax.set(xlabel="time [ms]", ylabel="neuron")
    return ax


def rasters(
    populations: Mapping[str, Shaped[npt.ArrayLike, "*batch time neurons"]],
    *,
    dt: float | None = None,
    times: Float[npt.ArrayLike, " time"] | None = None,
    sample: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Rasters of several populations stacked in one Axes, the first on top.

    Args:
        populations: population name -> spikes, each `(time, n)` or
            `(batch, time, n)`, all with the same number of time steps.
        dt: time step in ms (or give `times`).
        times: sample times in ms, shape `(time,)` (or give `dt`).
        sample: which sample of 3-D spike arrays to draw.
        ax: Axes to draw into; a new figure when `None`.

    Returns:
        The Axes, with population names as y tick labels and lines between them.
    """
    if not isinstance(populations, Mapping) or not populations:
        got = type(populations).__name__
        raise _fail("populations", got, "a non-empty mapping name -> spikes", TypeError)
    pops = {
        k: _one_sample(a, f"populations[{k!r}]", sample) for k, a in populations.items()
    }
    steps = {k: a.shape[0] for k, a in pops.items()}
    if len(set(steps.values())) > 1:
        raise _fail("populations", f"time steps {steps}", "equal time steps")
    ax = _axes(ax, (7.0, 1.5 + 0.8 * len(pops)))
    bottom, ticks = 0, {}
    for i, (name, s) in reversed(list(enumerate(pops.items()))):
        raster(s, dt=dt, times=times, ax=ax, offset=bottom, color=f"C{i}", label=name)
        ticks[bottom + (s.shape[1] - 1) / 2] = name
        if bottom:
            ax.axhline(bottom - 0.5, color="0.4", lw=0.8)
        bottom += s.shape[1]
    ax.set_yticks(list(ticks), list(ticks.values()))
    ax.set(ylim=(-0.5, bottom - 0.5), ylabel="population (neurons)")
    return ax

"""Plots of recordings, parameters, training runs and network structure.

Every function takes plain arrays (numpy, jax or nested lists, read with
`np.asarray`), draws into `ax=` (a new figure when `None`) and returns the
Axes, or the Figure for multi-panel plots. Recordings are batch-major
`(batch, time, neurons)`: a 2-D array is one sample, and a 3-D array needs
`sample=` to pick one. Time is in ms, from `dt` (ms) or `times` (ms, shape
`(time,)`); voltage is in mV. Nothing here calls `plt.show`, so everything
works headless (Agg); `save` writes a PNG and closes the figure.

This module depends on numpy and matplotlib only, never on the engine.
"""

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from jaxtyping import Float, Int, Shaped
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.path import Path as MplPath

_MAX_LEGEND = 10  # traces with a legend entry; more would hide the data
_MAX_ANNOTATED = 20  # classes whose confusion cells get a number
_BEFORE, _AFTER = "0.55", "C0"  # colours of initial and trained values
_BOX = {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85}
_EDGE_TEXT = {"ha": "center", "fontsize": 8, "bbox": _BOX}  # projection labels


def _fail(name: str, got: Any, expected: str, exc: type = ValueError) -> Exception:
    return exc(f"{name}: got {got}, expected {expected}")


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _axes(ax: Axes | None, size: tuple[float, float] = (7.0, 4.0)) -> Axes:
    if ax is None:
        return plt.subplots(figsize=size, layout="constrained")[1]
    if not isinstance(ax, Axes):
        raise _fail("ax", type(ax).__name__, "a matplotlib Axes or None", TypeError)
    return ax


def _one_sample(x: Any, name: str, sample: int | None) -> np.ndarray:
    """`x` as `(time, neurons)`, taking `x[sample]` from a 3-D batch."""
    x = np.asarray(x)
    if x.ndim == 2 and sample is not None:
        raise _fail("sample", sample, f"None: {name} of shape {x.shape} is one sample")
    if x.ndim == 2:
        return x
    if x.ndim != 3:
        raise _fail(name, f"shape {x.shape}", "(time, n) or (batch, time, n)")
    if sample is None:
        raise _fail(name, f"a batch of shape {x.shape}", "sample=<int> to pick one")
    if not _is_int(sample) or not 0 <= sample < x.shape[0]:
        raise _fail("sample", repr(sample), f"an int in [0, {x.shape[0]}) for {name}")
    return x[sample]


def _time_axis(n_time: int, dt: float | None, times: Any) -> np.ndarray:
    """Sample times in ms, from exactly one of `dt` and `times`."""
    if (dt is None) == (times is None):
        got = "both" if dt is not None else "neither"
        raise _fail("dt/times", got, "exactly one: dt (ms) or times (ms, (time,))")
    if times is not None:
        t = np.asarray(times, dtype=float)
        if t.shape != (n_time,):
            raise _fail("times", f"shape {t.shape}", f"({n_time},), one per time step")
        return t
    step = np.asarray(dt)  # a Python, numpy or jax scalar
    ok = step.shape == () and step.dtype.kind in "iuf" and 0 < step < np.inf
    if isinstance(dt, bool) or not ok:
        raise _fail("dt", repr(dt), "a positive time step in ms")
    return np.arange(n_time) * float(dt)


def _spike_mask(spikes: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    s = np.asarray(spikes)
    if s.shape != shape:
        raise _fail(name, f"shape {s.shape}", f"shape {shape}")
    if not np.isin(s, (0, 1)).all():
        raise _fail(name, f"values {np.unique(s)[:4]}...", "only 0 and 1")
    return s.astype(bool)


def _values(x: Any, name: str) -> np.ndarray:
    v = np.asarray(x, dtype=float).ravel()
    if v.size == 0 or not np.isfinite(v).all():
        got = f"{v.size} values, {np.count_nonzero(~np.isfinite(v))} not finite"
        raise _fail(name, got, "a non-empty array of finite numbers")
    return v


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


def param_distribution(
    before: Float[npt.ArrayLike, "..."],
    after: Float[npt.ArrayLike, "..."] | None = None,
    *,
    name: str,
    unit: str,
    bins: int = 30,
    ax: Axes | None = None,
) -> Axes:
    """Histogram of a parameter's values, before and (optionally) after training.

    Args:
        before: parameter values, any shape (flattened).
        after: values after training, any shape; overlaid, with a legend.
        name: parameter name for the x label, e.g. `"gLeak"`.
        unit: its unit, e.g. `"S/cm²"`; the x label reads `"name [unit]"`.
        bins: number of bins, shared by both histograms.
        ax: Axes to draw into; a new figure when `None`.

    Returns:
        The Axes.
    """
    if not _is_int(bins) or bins < 1:
        raise _fail("bins", repr(bins), "a positive int")
    sets = {"before training": _values(before, "before")}
    if after is not None:
        sets["after training"] = _values(after, "after")
    edges = np.histogram_bin_edges(np.concatenate(list(sets.values())), bins=bins)
    ax = _axes(ax)
    for (label, x), c in zip(sets.items(), (_BEFORE, _AFTER), strict=False):
        ax.hist(x, bins=edges, color=c, alpha=0.55, ec=c, label=label)
    ax.set(xlabel=f"{name} [{unit}]", ylabel="count")
    if after is not None:
        ax.legend(fontsize="small")
    return ax


def tau_per_layer(
    taus: Mapping[str, Float[npt.ArrayLike, "..."]],
    *,
    before: Mapping[str, Float[npt.ArrayLike, "..."]] | None = None,
    unit: str = "ms",
    ax: Axes | None = None,
) -> Axes:
    """Membrane time constants per layer: box, every value, and the mean.

    The time-constant hierarchy figure: one box per layer in the given order,
    each value as a jittered dot, the mean as a diamond, means joined by a
    line. With `before`, the initial values are drawn in grey to the left.

    Args:
        taus: layer name -> time constants (any shape, flattened), e.g. trained.
        before: layer name -> initial time constants, for the same layers.
        unit: unit of the time constants; the y label reads `"τ_m [unit]"`.
        ax: Axes to draw into; a new figure when `None`.

    Returns:
        The Axes.
    """
    if not isinstance(taus, Mapping) or not taus:
        raise _fail("taus", type(taus).__name__, "a non-empty mapping layer -> values")
    groups = [("taus", taus, _AFTER, 0.0)]
    if before is not None:
        if not isinstance(before, Mapping) or set(before) != set(taus):
            got = list(before) if isinstance(before, Mapping) else type(before).__name__
            raise _fail("before", got, f"the layers of taus, {list(taus)}")
        groups = [("before", before, _BEFORE, -0.2), ("taus", taus, _AFTER, 0.2)]
    ax = _axes(ax, (1.5 + 1.1 * len(taus), 4.0))
    jitter = np.random.default_rng(0)  # fixed, so the figure is reproducible
    pos = np.arange(len(taus), dtype=float)
    for arg, data, c, shift in groups:
        vals = [_values(data[k], f"{arg}[{k!r}]") for k in taus]
        style = {f"{p}props": {"color": c} for p in ("box", "whisker", "cap", "median")}
        ax.boxplot(vals, positions=pos + shift, widths=0.3, showfliers=False, **style)
        for p, x in zip(pos + shift, vals, strict=True):
            ax.scatter(p + jitter.uniform(-0.08, 0.08, x.size), x, s=8, color=c, lw=0)
        label = {"taus": "after training", "before": "before training"}[arg]
        label = f"mean, {label}" if before is not None else "mean"
        means = [x.mean() for x in vals]
        ax.plot(pos + shift, means, color=c, marker="D", mec="k", ms=6, label=label)
    ax.set_xticks(pos, list(taus))
    ax.set(xlim=(-0.6, len(taus) - 0.4), xlabel="layer", ylabel=f"τ_m [{unit}]")
    ax.legend(fontsize="small")
    return ax


def training_curves(
    history: Mapping[str, Sequence[float]], *, fig: Figure | None = None
) -> Figure:
    """Loss, and accuracy when recorded, against epoch.

    Args:
        history: metric name -> one value per epoch. `"loss"` is required;
            `"val_loss"`, `"accuracy"` and `"val_accuracy"` are drawn when
            present; other keys are ignored.
        fig: Figure to draw into (cleared first); a new one when `None`.

    Returns:
        The Figure: a loss panel, and an accuracy panel when there is accuracy.
    """
    if not isinstance(history, Mapping):
        raise _fail("history", type(history).__name__, "a mapping", TypeError)
    if "loss" not in history:
        raise _fail("history", f"keys {sorted(history)}", "a 'loss' key")
    curves = {}
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        if key in history:
            curves[key] = y = np.asarray(history[key], dtype=float)
            if y.ndim != 1 or y.size == 0:
                raise _fail(f"history[{key!r}]", f"shape {y.shape}", "(epochs,)")
    has_accuracy = "accuracy" in curves or "val_accuracy" in curves
    panels = ["loss", "accuracy"] if has_accuracy else ["loss"]
    if fig is None:
        fig = plt.figure(figsize=(4.5 * len(panels), 3.6), layout="constrained")
    if not isinstance(fig, Figure):
        raise _fail("fig", type(fig).__name__, "a matplotlib Figure or None", TypeError)
    fig.clear()
    for ax, metric in zip(np.ravel(fig.subplots(1, len(panels))), panels, strict=True):
        for key, label in ((metric, "training"), (f"val_{metric}", "validation")):
            if key in curves:
                y = curves[key]
                mark = "." if y.size <= 50 else None
                ax.plot(np.arange(1, y.size + 1), y, marker=mark, label=label)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set(xlabel="epoch", ylabel=metric)
        ax.legend(fontsize="small")
    return fig


def confusion_matrix(
    y_true: Int[npt.ArrayLike, " samples"],
    y_pred: Int[npt.ArrayLike, " samples"],
    *,
    n_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """Confusion matrix: rows are true classes, columns predicted classes.

    Args:
        y_true: true class indices, shape `(samples,)`.
        y_pred: predicted class indices, shape `(samples,)`.
        n_classes: number of classes (default: `len(class_names)`, else the
            largest label + 1).
        class_names: tick labels, one per class.
        normalize: show each row as fractions of its true class, not counts.
        ax: Axes to draw into; a new figure when `None`.

    Returns:
        The Axes, with a colour bar; cells show their value for up to 20 classes.
    """
    y = {"y_true": np.asarray(y_true), "y_pred": np.asarray(y_pred)}
    for arg, a in y.items():
        if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
            got = f"dtype {a.dtype}, shape {a.shape}"
            raise _fail(arg, got, "integer class indices, shape (samples,)", TypeError)
    if y["y_true"].shape != y["y_pred"].shape or not y["y_true"].size:
        got = f"shapes {y['y_true'].shape} and {y['y_pred'].shape}"
        raise _fail("y_true, y_pred", got, "equal, non-empty shapes")
    if n_classes is None:
        most = max(a.max() for a in y.values()) + 1
        n_classes = len(class_names) if class_names is not None else int(most)
    if not _is_int(n_classes) or n_classes < 1:
        raise _fail("n_classes", repr(n_classes), "a positive int")
    if class_names is not None and len(class_names) != n_classes:
        raise _fail("class_names", len(class_names), f"{n_classes} names (n_classes)")
    for arg, a in y.items():
        if a.min() < 0 or a.max() >= n_classes:
            got = f"labels in [{a.min()}, {a.max()}]"
            raise _fail(arg, got, f"labels in [0, {n_classes}) (n_classes)")
    m = np.zeros((n_classes, n_classes))
    np.add.at(m, (y["y_true"], y["y_pred"]), 1)
    if normalize:
        m /= np.maximum(m.sum(axis=1, keepdims=True), 1)
    ax = _axes(ax, (2.5 + 0.4 * min(n_classes, 30), 2.0 + 0.4 * min(n_classes, 30)))
    im = ax.imshow(m, cmap="Blues", vmin=0, vmax=1.0 if normalize else max(m.max(), 1))
    cbar_label = "fraction of true class" if normalize else "count"
    ax.figure.colorbar(im, ax=ax, label=cbar_label, shrink=0.8)
    if n_classes <= _MAX_ANNOTATED:
        for (i, j), val in np.ndenumerate(m):
            color = "white" if val > 0.6 * im.norm.vmax else "black"
            txt = f"{val:.2f}" if normalize else f"{val:.0f}"
            ax.text(j, i, txt, ha="center", va="center", fontsize=8, color=color)
    names = [str(c) for c in (range(n_classes) if class_names is None else class_names)]
    ticks = range(0, n_classes, max(1, n_classes // _MAX_ANNOTATED))
    long = max(map(len, names)) > 2
    ax.set_xticks(ticks, [names[i] for i in ticks], rotation=45 if long else 0)
    ax.set_yticks(ticks, [names[i] for i in ticks])
    ax.set(xlabel="predicted class", ylabel="true class")
    return ax


def _check_description(desc: Any) -> tuple[dict[str, int], list[Mapping]]:
    if not isinstance(desc, Mapping) and callable(getattr(desc, "describe", None)):
        desc = desc.describe()
    if not isinstance(desc, Mapping):
        expected = "a dict with 'populations', or an object with .describe()"
        raise _fail("description", type(desc).__name__, expected, TypeError)
    pops, projs = desc.get("populations"), list(desc.get("projections", []))
    counts = list(pops.values()) if isinstance(pops, Mapping) else []
    if not counts or not all(_is_int(n) and n > 0 for n in counts):
        raise _fail("description['populations']", repr(pops), "{name: n_neurons > 0}")
    for p in projs:
        ends = {p.get("pre"), p.get("post")} if isinstance(p, Mapping) else {None}
        if not ends <= set(pops):
            where = "description['projections']"
            raise _fail(where, repr(p), f"'pre' and 'post' among {list(pops)}")
    return dict(pops), projs


def network_diagram(description: Any, *, ax: Axes | None = None) -> Axes:
    """Populations as circles, left to right in the given order; projections as arrows.

    Circle area is proportional to the neuron count (radius clamped below so
    small populations stay visible), labelled `"name\\n(n)"`. Arrows are
    labelled `"synapse ×n_edges"`. A projection onto its own population is a
    loop above it. Arrows that skip populations, or that run both ways between
    two populations, curve: forward ones below the row, backward ones above.

    Args:
        description: `{"populations": {name: n_neurons}, "projections": [{"name",
            "pre", "post", "synapse", "n_edges"}, ...]}`, or an object whose
            `.describe()` returns it.
        ax: Axes to draw into; a new figure when `None`.

    Returns:
        The Axes, with its axis lines hidden.
    """
    pops, projs = _check_description(description)
    names = list(pops)
    x = {k: np.array([2.0 * i, 0.0]) for i, k in enumerate(names)}
    r = {k: max(0.08, 0.45 * np.sqrt(c / max(pops.values()))) for k, c in pops.items()}
    ax = _axes(ax, (1.0 + 2.4 * len(pops), 3.6))
    for i, (k, c) in enumerate(pops.items()):
        ax.add_patch(Circle(x[k], r[k], fc=f"C{i}", ec=f"C{i}", alpha=0.4, lw=2))
        ax.text(x[k][0], -r[k] - 0.06, f"{k}\n({c})", ha="center", va="top")
    pairs, seen = {(p["pre"], p["post"]) for p in projs}, {}
    for p in projs:
        pre, post = p["pre"], p["post"]
        k = seen[pre, post] = seen.get((pre, post), -1) + 1  # repeats fan out
        if pre == post:  # a loop above the circle
            u = [np.array([np.sin(a), np.cos(a)]) for a in (-0.35, -0.6, 0.6, 0.35)]
            h, r0 = r[pre] + 0.4 + 0.2 * k, r[pre]
            pts = [x[pre] + d * e for d, e in zip((r0, h, h, r0), u, strict=True)]
            codes = [MplPath.MOVETO] + [MplPath.CURVE4] * 3
            mid, va = x[pre] + [0, 0.75 * h + 0.25 * r0], "bottom"
        else:
            skip = abs(names.index(post) - names.index(pre)) > 1
            rad = 0.25 * ((post, pre) in pairs or skip or k > 0) + 0.25 * skip + 0.1 * k
            a, b = x[pre], x[post]  # the control point bulges right of a -> b
            ctrl = (a + b) / 2 + rad * np.array([b[1] - a[1], a[0] - b[0]])
            pts = [a + r[pre] * (ctrl - a) / np.linalg.norm(ctrl - a), ctrl]
            pts.append(b + r[post] * (ctrl - b) / np.linalg.norm(ctrl - b))
            codes = [MplPath.MOVETO] + [MplPath.CURVE3] * 2
            mid = (pts[0] + 2 * ctrl + pts[2]) / 4 + [0, 0.04 * (rad == 0)]
            va = "bottom" if rad == 0 else "center"
        arrow = FancyArrowPatch(path=MplPath(pts, codes), arrowstyle="-|>", lw=1.3)
        ax.add_patch(arrow)
        arrow.set(mutation_scale=14, color="0.25")
        text = " ×".join(str(p[f]) for f in ("synapse", "n_edges") if f in p)
        ax.text(*mid, text or p.get("name", ""), va=va, **_EDGE_TEXT)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.margins(0.1, 0.2)
    ax.set_axis_off()
    return ax


def save(fig_or_ax: Figure | Axes, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Write a figure to `path` as PNG (or as its suffix says) and close it.

    Args:
        fig_or_ax: the Figure, or any of its Axes.
        path: output file; missing parent folders are created, and `.png` is
            appended when the name has no suffix.
        dpi: resolution in dots per inch.

    Returns:
        The path written.
    """
    fig = fig_or_ax.figure if isinstance(fig_or_ax, Axes) else fig_or_ax
    fig = getattr(fig, "figure", fig)  # a SubFigure's root Figure
    if not isinstance(fig, Figure):
        got = type(fig_or_ax).__name__
        raise _fail("fig_or_ax", got, "a matplotlib Figure or Axes", TypeError)
    path = Path(path)
    path = path if path.suffix else path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path

"""Parameter distributions: histograms before/after training, time constants per layer."""

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from jaxtyping import Float
from matplotlib.axes import Axes

from ._common import _AFTER, _BEFORE, _axes, _fail, _is_int, _values


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

"""Shared pieces of the plots: argument checks, axes handling, colours and `save`."""

import os
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

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

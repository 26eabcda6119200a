"""A cell's morphology in two dimensions, coloured by compartment."""

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection

from ._common import _axes, _fail, _is_int

_MAX_WIDTH = 9.0  # points: the widest drawn branch (a soma)


def morphology(
    morph: Any,
    *,
    values: Sequence[float] | None = None,
    marks: Mapping[str, int] | None = None,
    cmap: str = "viridis",
    label: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw a cell's branches, one segment per compartment.

    A traced cell (read from SWC, `morph.xyzr` non-empty) is drawn from its
    traced points projected on x-y. A hand-built one is laid out as a planar
    tree: the root branch along the x axis from the origin, its children
    fanned around its end (±120° for the root's children, ±35° further
    out), each compartment as long as its `length`. Line width grows
    with the radius.

    Args:
        morph: a `neurosim.morphology.Morphology`, or anything with its
            `parents`, `ncomp`, `length`, `radius` (µm, per compartment) and
            `xyzr` (per branch, `(points, 4)`; may be empty).
        values: one number per compartment to colour by (with a colour bar),
            e.g. a conductance or a peak voltage; default: one colour.
        marks: `{label: compartment}`: compartments to mark and name in a
            legend (a recording site, a stimulus).
        cmap: the colour map of `values`.
        label: the colour bar's label.
        ax: Axes to draw into; a new figure when `None`.

    Returns:
        The Axes (equal aspect, in µm).
    """
    ncomp = [int(n) for n in np.ravel(getattr(morph, "ncomp", []))]
    parents = [int(p) for p in np.ravel(getattr(morph, "parents", []))]
    if not ncomp or len(parents) != len(ncomp):
        raise _fail(
            "morph", repr(morph), "a Morphology (parents, ncomp, ...)", TypeError
        )
    n_comp = sum(ncomp)
    length = np.asarray(morph.length, dtype=float)
    radius = np.asarray(morph.radius, dtype=float)
    if length.shape != (n_comp,) or radius.shape != (n_comp,):
        raise _fail("morph", "length/radius", f"({n_comp},) per compartment")
    xyzr = tuple(getattr(morph, "xyzr", ()) or ())
    if xyzr:
        segments = _traced(xyzr, ncomp)
    else:
        segments = _planar(parents, ncomp, length)
    ax = _axes(ax, (6.0, 5.0))
    widths = 1.0 + (_MAX_WIDTH - 1.0) * np.sqrt(radius / radius.max())
    lines = LineCollection(segments, linewidths=widths, capstyle="round")
    if values is None:
        lines.set_color("0.35")
    else:
        vals = np.asarray(values, dtype=float)
        if vals.shape != (n_comp,) or not np.all(np.isfinite(vals)):
            raise _fail("values", f"shape {vals.shape}", f"({n_comp},) finite values")
        lines.set_array(vals)
        lines.set_cmap(cmap)
    ax.add_collection(lines)
    if values is not None:
        plt.colorbar(lines, ax=ax, label=label or "")
    for i, (name, comp) in enumerate((marks or {}).items()):
        if not _is_int(comp) or not 0 <= comp < n_comp:
            raise _fail(
                "marks", f"{name!r}: {comp!r}", f"a compartment in [0, {n_comp})"
            )
        seg = np.asarray(segments[comp])
        mid = seg[len(seg) // 2] if len(seg) > 2 else seg.mean(axis=0)
        ax.plot(*mid, "o", ms=9, mfc="none", mew=2, color=f"C{i + 1}", label=name)
    if marks:
        ax.legend(loc="best", fontsize=8)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.margins(0.08)
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    return ax


def _planar(parents: list[int], ncomp: list[int], length: np.ndarray) -> list:
    """Per compartment a 2-point segment of a fanned planar layout."""
    start = np.concatenate([[0], np.cumsum(ncomp)])
    children: dict[int, list[int]] = {}
    for k, p in enumerate(parents):
        children.setdefault(p, []).append(k)
    origin = {0: np.zeros(2)}
    angle = {0: 0.0}
    segments: list = [None] * int(start[-1])
    for k in range(len(parents)):  # parents precede children
        pos, direction = origin[k], np.array([np.cos(angle[k]), np.sin(angle[k])])
        for j in range(start[k], start[k + 1]):
            end = pos + direction * length[j]
            segments[j] = [pos, end]
            pos = end
        kids = children.get(k, [])
        if not kids:
            continue
        fan = 120.0 if parents[k] < 0 else 35.0  # degrees either side
        offsets = np.linspace(-1, 1, len(kids)) * np.radians(fan) * (len(kids) > 1)
        for c, off in zip(kids, offsets, strict=True):
            origin[c], angle[c] = pos, angle[k] + off
    return segments


def _traced(xyzr: tuple, ncomp: list[int]) -> list:
    """Per compartment the traced points (x, y) between its ends, splitting
    each branch into `ncomp` equal lengths along its path."""
    segments = []
    for pts, n in zip(xyzr, ncomp, strict=True):
        pts = np.asarray(pts, dtype=float)[:, :2]
        if len(pts) == 1:
            pts = np.repeat(pts, 2, axis=0)
        s = np.concatenate(
            [[0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
        )
        cuts = np.linspace(0, s[-1], n + 1)
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            inner = pts[(s > a) & (s < b)]
            ends = [np.interp(a, s, pts[:, d]) for d in (0, 1)]
            tail = [np.interp(b, s, pts[:, d]) for d in (0, 1)]
            segments.append(np.vstack([ends, inner, tail]))
    return segments

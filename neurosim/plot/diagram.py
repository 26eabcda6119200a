"""Network structure: populations as circles, projections as arrows."""

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.path import Path as MplPath

from ._common import _EDGE_TEXT, _axes, _fail, _is_int


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

"""Training runs: loss and accuracy curves, and the confusion matrix."""

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from jaxtyping import Int
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import _MAX_ANNOTATED, _axes, _fail, _is_int


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

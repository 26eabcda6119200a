"""Tests for neurosim.plot: each figure is rendered headless to PNG and inspected.

Oracles: the artists on the Axes (their count and data) against values computed
by hand from the inputs, the axis labels and units, and a PNG whose pixels vary
(a blank image has variance 0).
"""

import ast
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.path import Path as MplPath

from neurosim import plot

DT = 0.5  # ms


@pytest.fixture(autouse=True)
def _headless(monkeypatch):
    """Fail any test whose code calls plt.show, and close figures afterwards."""

    def no_show(*args, **kwargs):
        raise AssertionError("plt.show must never be called")

    monkeypatch.setattr(plt, "show", no_show)
    yield
    plt.close("all")


def rendered(fig_or_ax, tmp_path: Path, name: str = "fig") -> np.ndarray:
    """Save through plot.save, check the PNG is not blank, return its pixels."""
    path = plot.save(fig_or_ax, tmp_path / name)
    assert path == tmp_path / f"{name}.png" and path.is_file()
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert img[..., :3].var() > 1e-3, "the rendered image is (nearly) blank"
    return img


def traces(batch=2, time=200, neurons=3, seed=0):
    """Leaky integrate-and-fire-like voltages (mV) and their 0/1 spikes."""
    rng = np.random.default_rng(seed)
    drive = rng.uniform(0.3, 0.6, (batch, 1, neurons))
    v = -70.0 + 20.0 * np.mod(np.arange(time)[None, :, None] * drive / 10.0, 1.0)
    spikes = (np.diff(v, axis=1, prepend=-70.0) < 0).astype(np.float32)
    return v, spikes


def test_blank_image_check_rejects_an_empty_figure(tmp_path):
    with pytest.raises(AssertionError, match="blank"):
        rendered(plt.figure(), tmp_path)


def test_plot_imports_no_other_neurosim_module():
    files = sorted(Path(plot.__file__).parent.glob("*.py"))
    assert len(files) > 1  # the package and its modules
    for file in files:
        tree = ast.parse(file.read_text())
        nodes = list(ast.walk(tree))
        names = [a.name for n in nodes if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in nodes if isinstance(n, ast.ImportFrom)]
        outside = [n for n in nodes if isinstance(n, ast.ImportFrom) and n.level > 1]
        assert names and not [m for m in names if m.startswith("neurosim")], file
        assert not outside, file  # relative imports stay inside neurosim.plot


# voltage traces ---------------------------------------------------------------


def test_voltage_traces_lines_threshold_and_spike_markers(tmp_path):
    v, s = traces()
    ax = plot.voltage_traces(v, dt=DT, sample=1, vth=-50.0, spikes=s)
    lines = ax.get_lines()
    assert len(lines) == 3 + 3 + 1  # traces, spike markers, threshold
    trace_lines = [ln for ln in lines if ln.get_label().startswith("neuron")]
    assert [ln.get_label() for ln in trace_lines] == [
        "neuron 0",
        "neuron 1",
        "neuron 2",
    ]
    np.testing.assert_allclose(trace_lines[2].get_ydata(), v[1, :, 2])
    np.testing.assert_allclose(trace_lines[2].get_xdata(), np.arange(200) * DT)
    markers = [ln for ln in lines if ln.get_marker() == "v"]
    assert len(markers) == 3
    for n, mk in enumerate(markers):
        np.testing.assert_allclose(mk.get_xdata(), np.nonzero(s[1, :, n])[0] * DT)
        np.testing.assert_allclose(mk.get_ydata(), -50.0)
        assert mk.get_color() == trace_lines[n].get_color()
    (vth_line,) = [ln for ln in lines if ln.get_linestyle() == "--"]
    np.testing.assert_allclose(vth_line.get_ydata(), -50.0)
    assert ax.get_xlabel() == "time [ms]" and "[mV]" in ax.get_ylabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:3] == ["neuron 0", "neuron 1", "neuron 2"] and "mV" in legend[3]
    rendered(ax, tmp_path)


def test_voltage_traces_subset_times_labels_and_markers_on_trace(tmp_path):
    v, s = traces(batch=1)
    times = 10.0 + np.arange(200) * 0.25
    ax = plot.voltage_traces(
        v[0], times=times, neurons=[2, 0], spikes=s[0], labels=["c", "a"]
    )
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines if ln.get_marker() != "v"] == ["c", "a"]
    np.testing.assert_allclose(lines[0].get_xdata(), times)
    hit = s[0, :, 2].astype(bool)
    np.testing.assert_allclose(lines[1].get_ydata(), v[0, hit, 2])  # on the trace
    rendered(ax, tmp_path)


def test_voltage_traces_legend_only_for_few_neurons():
    v = np.zeros((50, 11))
    assert plot.voltage_traces(v, dt=DT).get_legend() is None
    assert plot.voltage_traces(v[:, :10], dt=DT).get_legend() is not None


def test_time_axis_from_numpy_and_jax_scalars():
    jnp = pytest.importorskip("jax.numpy")
    for dt in (np.float32(0.25), jnp.asarray(0.25), 1):
        ax = plot.voltage_traces(np.zeros((4, 1)), dt=dt)
        np.testing.assert_allclose(
            ax.get_lines()[0].get_xdata(), np.arange(4) * float(dt)
        )


def test_voltage_traces_draws_into_given_axes():
    fig, ax = plt.subplots()
    assert plot.voltage_traces(np.zeros((5, 2)), dt=DT, ax=ax) is ax
    assert len(ax.get_lines()) == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"v": np.zeros((2, 10, 3)), "dt": DT}, r"v: .*\(2, 10, 3\).*sample"),
        (
            {"v": np.zeros((2, 10, 3)), "dt": DT, "sample": 2},
            r"sample: got 2.*\[0, 2\)",
        ),
        ({"v": np.zeros((10, 3)), "dt": DT, "sample": 0}, r"sample: got 0.*\(10, 3\)"),
        ({"v": np.zeros(10), "dt": DT}, r"v: got shape \(10,\)"),
        ({"v": np.zeros((10, 3))}, r"dt/times: got neither"),
        ({"v": np.zeros((10, 3)), "dt": DT, "times": np.arange(10)}, "got both"),
        ({"v": np.zeros((10, 3)), "times": np.arange(9)}, r"times: got shape \(9,\)"),
        ({"v": np.zeros((10, 3)), "dt": -1.0}, r"dt: got -1.0.*positive"),
        ({"v": np.zeros((10, 3)), "dt": np.inf}, r"dt: got inf"),
        ({"v": np.zeros((10, 3)), "dt": "0.5"}, r"dt: got '0.5'"),
        ({"v": np.zeros((10, 3)), "dt": DT, "neurons": [3]}, r"neurons: got \[3\]"),
        ({"v": np.zeros((10, 3)), "dt": DT, "labels": ["a"]}, "labels: got 1"),
        (
            {"v": np.zeros((10, 3)), "dt": DT, "spikes": np.zeros((10, 2))},
            r"spikes: got shape \(10, 2\), expected shape \(10, 3\)",
        ),
        (
            {"v": np.zeros((10, 3)), "dt": DT, "spikes": np.full((10, 3), 0.5)},
            "spikes: .*only 0 and 1",
        ),
    ],
)
def test_voltage_traces_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot.voltage_traces(**kwargs)


def test_non_axes_ax_is_a_type_error():
    with pytest.raises(TypeError, match="ax: got str"):
        plot.raster(np.zeros((5, 2)), dt=DT, ax="left")


# rasters ----------------------------------------------------------------------


def test_raster_puts_one_tick_per_spike_at_time_and_index(tmp_path):
    _, s = traces()
    ax = plot.raster(s.astype(bool), dt=DT, sample=0, offset=5)
    (coll,) = ax.collections
    t, n = np.nonzero(s[0])
    np.testing.assert_allclose(coll.get_offsets(), np.c_[t * DT, n + 5])
    lo, hi = ax.get_ylim()
    assert lo <= 4.5 and hi >= 7.5  # all three neurons visible, silent or not
    assert ax.get_xlabel() == "time [ms]" and ax.get_ylabel() == "neuron"
    rendered(ax, tmp_path)


def test_raster_accepts_jax_arrays():
    jnp = pytest.importorskip("jax.numpy")
    ax = plot.raster(jnp.eye(4), dt=1.0)
    np.testing.assert_allclose(
        ax.collections[0].get_offsets(), [[i, i] for i in range(4)]
    )


def test_rasters_stack_populations_first_on_top(tmp_path):
    rng = np.random.default_rng(1)
    pops = {
        "input": rng.random((2, 100, 30)) < 0.05,
        "hidden": rng.random((2, 100, 8)) < 0.1,
    }
    pops["output"] = np.zeros((2, 100, 2))
    pops["output"][1, 50, 1] = 1
    ax = plot.rasters(pops, dt=1.0, sample=1)
    assert len(ax.collections) == 3
    assert sum(len(c.get_offsets()) for c in ax.collections) == sum(
        int(np.sum(a[1])) for a in pops.values()
    )
    ticks = {
        t.get_text(): y
        for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)
    }
    assert ticks["input"] > ticks["hidden"] > ticks["output"]
    separators = [ln for ln in ax.get_lines() if np.ptp(ln.get_ydata()) == 0]
    assert sorted(ln.get_ydata()[0] for ln in separators) == [1.5, 9.5]
    assert ax.get_ylim() == (-0.5, 39.5)
    assert "time [ms]" == ax.get_xlabel()
    rendered(ax, tmp_path)


def test_rasters_rejects_unequal_time_and_non_mappings():
    with pytest.raises(ValueError, match="populations: got time steps"):
        plot.rasters({"a": np.zeros((10, 2)), "b": np.zeros((11, 2))}, dt=DT)
    with pytest.raises(TypeError, match="populations: got list"):
        plot.rasters([np.zeros((10, 2))], dt=DT)
    with pytest.raises(ValueError, match=r"populations\['a'\].*sample"):
        plot.rasters({"a": np.zeros((1, 10, 2))}, dt=DT)


# parameters -------------------------------------------------------------------


def test_param_distribution_overlays_before_and_after(tmp_path):
    rng = np.random.default_rng(2)
    before, after = rng.normal(1e-4, 1e-5, (4, 50)), rng.normal(2e-4, 3e-5, 200)
    ax = plot.param_distribution(before, after, name="gLeak", unit="S/cm²", bins=12)
    assert len(ax.patches) == 2 * 12
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights[:12]) == 200 and sum(heights[12:]) == 200
    lefts = [p.get_x() for p in ax.patches]
    assert lefts[:12] == lefts[12:]  # shared bins, spanning both sets
    assert lefts[0] == min(before.min(), after.min())
    assert ax.get_xlabel() == "gLeak [S/cm²]" and ax.get_ylabel() == "count"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["before training", "after training"]
    rendered(ax, tmp_path)


def test_param_distribution_single_and_bad_input():
    ax = plot.param_distribution([1.0, 2.0, 2.0], name="vth", unit="mV", bins=3)
    assert len(ax.patches) == 3 and ax.get_legend() is None
    with pytest.raises(ValueError, match="before: got 2 values, 1 not finite"):
        plot.param_distribution([1.0, np.nan], name="vth", unit="mV")
    with pytest.raises(ValueError, match="bins: got 0"):
        plot.param_distribution([1.0], name="vth", unit="mV", bins=0)
    with pytest.raises(TypeError):
        plot.param_distribution([1.0], name="vth")  # the unit is required


def test_tau_per_layer_boxes_strips_and_means(tmp_path):
    rng = np.random.default_rng(3)
    taus = {f"layer {i}": rng.normal(10 + 5 * i, 2, 32) for i in (3, 1, 2)}
    before = {k: np.full(32, 20.0) for k in taus}  # constant: no spread at all
    ax = plot.tau_per_layer(taus, before=before)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(taus)
    assert ax.get_ylabel() == "τ_m [ms]" and ax.get_xlabel() == "layer"
    assert len(ax.collections) == 2 * 3  # a strip of dots per layer and group
    means = {ln.get_label(): ln for ln in ax.get_lines() if ln.get_marker() == "D"}
    assert set(means) == {"mean, before training", "mean, after training"}
    after = means["mean, after training"]
    np.testing.assert_allclose(after.get_ydata(), [x.mean() for x in taus.values()])
    np.testing.assert_allclose(after.get_xdata(), [0.2, 1.2, 2.2])
    np.testing.assert_allclose(means["mean, before training"].get_ydata(), 20.0)
    rendered(ax, tmp_path)


def test_tau_per_layer_alone_and_mismatched_layers(tmp_path):
    ax = plot.tau_per_layer({"a": [1.0, 2.0], "b": np.ones((2, 2))}, unit="s")
    assert ax.get_ylabel() == "τ_m [s]" and len(ax.collections) == 2
    rendered(ax, tmp_path)
    with pytest.raises(ValueError, match=r"before: got \['a'\].*\['a', 'b'\]"):
        plot.tau_per_layer({"a": [1.0], "b": [2.0]}, before={"a": [1.0]})
    with pytest.raises(ValueError, match=r"taus\['b'\]: got 0 values"):
        plot.tau_per_layer({"a": [1.0], "b": []})


# training curves and confusion ------------------------------------------------


def test_training_curves_two_panels(tmp_path):
    history = {
        "loss": [2.0, 1.0, 0.5],
        "val_loss": [2.2, 1.3, 0.9],
        "accuracy": [0.3, 0.6, 0.9],
        "val_accuracy": [0.25, 0.5, 0.8],
        "lr": [0.1, 0.1, 0.1],
    }
    fig = plot.training_curves(history)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert [len(a.get_lines()) for a in fig.axes] == [2, 2]  # "lr" is ignored
    np.testing.assert_allclose(loss_ax.get_lines()[1].get_ydata(), history["val_loss"])
    np.testing.assert_allclose(acc_ax.get_lines()[0].get_xdata(), [1, 2, 3])
    assert [a.get_xlabel() for a in fig.axes] == ["epoch", "epoch"]
    assert [a.get_ylabel() for a in fig.axes] == ["loss", "accuracy"]
    legend = [t.get_text() for t in acc_ax.get_legend().get_texts()]
    assert legend == ["training", "validation"]
    rendered(fig, tmp_path)


def test_training_curves_loss_only_into_given_figure(tmp_path):
    fig = plt.figure()
    fig.add_subplot()  # cleared by training_curves
    assert plot.training_curves({"loss": np.linspace(1, 0, 80)}, fig=fig) is fig
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 1
    rendered(fig, tmp_path)


def test_training_curves_rejects_bad_history():
    with pytest.raises(ValueError, match="history: got keys \\['accuracy'\\]"):
        plot.training_curves({"accuracy": [0.5]})
    with pytest.raises(TypeError, match="history: got list"):
        plot.training_curves([1.0, 0.5])
    with pytest.raises(ValueError, match=r"history\['loss'\]: got shape \(\)"):
        plot.training_curves({"loss": 1.0})


def test_confusion_matrix_counts_annotations_and_colourbar(tmp_path):
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 2])
    ax = plot.confusion_matrix(y_true, y_pred, class_names=["a", "b", "c"])
    expected = [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    assert [t.get_text() for t in ax.texts] == [str(c) for row in expected for c in row]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert len(ax.figure.axes) == 2  # the colour bar
    assert ax.figure.axes[1].get_ylabel() == "count"
    rendered(ax, tmp_path)


def test_confusion_matrix_normalized_and_many_classes(tmp_path):
    y = np.array([0, 0, 0, 1])
    ax = plot.confusion_matrix(y, np.array([0, 0, 1, 1]), n_classes=3, normalize=True)
    np.testing.assert_allclose(
        ax.images[0].get_array(), [[2 / 3, 1 / 3, 0], [0, 1, 0], [0, 0, 0]]
    )
    assert ax.texts[0].get_text() == "0.67" and len(ax.texts) == 9
    big = plot.confusion_matrix(np.arange(25), np.arange(25)[::-1])
    assert big.images[0].get_array().shape == (25, 25) and not big.texts
    rendered(big, tmp_path)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "kwargs", "exc", "match"),
    [
        ([0.0, 1.0], [0, 1], {}, TypeError, "y_true: got dtype float64"),
        ([[0, 1]], [[0, 1]], {}, TypeError, r"y_true: .*shape \(1, 2\)"),
        ([0, 1], [0, 1, 1], {}, ValueError, r"got shapes \(2,\) and \(3,\)"),
        (
            [0, 3],
            [0, 1],
            {"n_classes": 3},
            ValueError,
            r"y_true: got labels in \[0, 3\]",
        ),
        ([0, 1], [0, -1], {}, ValueError, r"y_pred: got labels in \[-1, 0\]"),
        (
            [0, 1],
            [0, 1],
            {"n_classes": 2, "class_names": ["a"]},
            ValueError,
            "class_names: got 1",
        ),
    ],
)
def test_confusion_matrix_rejects_bad_labels(y_true, y_pred, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        plot.confusion_matrix(np.array(y_true), np.array(y_pred), **kwargs)


# network diagram and save -----------------------------------------------------

DESCRIPTION = {
    "populations": {"inp": 400, "hid": 100, "out": 4},
    "projections": [
        {
            "name": "inp->hid",
            "pre": "inp",
            "post": "hid",
            "synapse": "SpikeSynapse",
            "n_edges": 400,
        },
        {
            "name": "hid->hid",
            "pre": "hid",
            "post": "hid",
            "synapse": "SpikeSynapse",
            "n_edges": 90,
        },
        {
            "name": "hid->out",
            "pre": "hid",
            "post": "out",
            "synapse": "SpikeSynapse",
            "n_edges": 400,
        },
        {
            "name": "out->hid",
            "pre": "out",
            "post": "hid",
            "synapse": "SpikeSynapse",
            "n_edges": 400,
        },
        {
            "name": "inp->out",
            "pre": "inp",
            "post": "out",
            "synapse": "SpikeSynapse",
            "n_edges": 16,
        },
    ],
}


def arrow_points(arrow: FancyArrowPatch) -> np.ndarray:
    """Vertices (data coordinates) of an arrow's shaft and head."""
    path = arrow.get_path()
    return path.vertices[path.codes != MplPath.CLOSEPOLY]


def test_network_diagram_circles_arrows_and_labels(tmp_path):
    ax = plot.network_diagram(DESCRIPTION)
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(circles) == 3 and len(arrows) == 5
    centres = np.array([c.center for c in circles])
    assert np.all(np.diff(centres[:, 0]) > 0) and np.ptp(centres[:, 1]) == 0
    radii = np.array([c.radius for c in circles])
    np.testing.assert_allclose(radii[1] / radii[0], np.sqrt(100 / 400))  # area ∝ n
    texts = [t.get_text() for t in ax.texts]
    assert {"inp\n(400)", "hid\n(100)", "out\n(4)"} <= set(texts)
    assert texts.count("SpikeSynapse ×400") == 3 and "SpikeSynapse ×16" in texts
    loop, fwd, back = (arrow_points(a) for a in arrows[1:4])
    assert np.abs(loop[:, 0] - centres[1, 0]).max() < radii[1] + 0.5  # on hid,
    assert loop[:, 1].min() > 0 and loop[:, 1].max() > radii[1] + 0.2  # above it
    assert fwd[:, 1].max() < 1e-6 and back[:, 1].min() > -1e-6  # a pair bends apart
    straight = arrow_points(arrows[0])  # inp->hid, touching both circles
    np.testing.assert_allclose(straight[:, 1], 0.0, atol=0.1)
    assert straight[:, 0].min() == pytest.approx(centres[0, 0] + radii[0], abs=0.02)
    assert straight[:, 0].max() == pytest.approx(centres[1, 0] - radii[1], abs=0.02)
    assert not ax.axison
    rendered(ax, tmp_path)


def test_network_diagram_accepts_describe_and_rejects_bad_descriptions():
    class Net:
        def describe(self):
            return {"populations": {"a": 3}, "projections": []}

    ax = plot.network_diagram(Net())
    assert [t.get_text() for t in ax.texts] == ["a\n(3)"]
    with pytest.raises(TypeError, match="description: got int"):
        plot.network_diagram(3)
    with pytest.raises(ValueError, match=r"description\['populations'\]"):
        plot.network_diagram({"populations": {"a": 0}})
    bad = {"populations": {"a": 3}, "projections": [{"pre": "a", "post": "b"}]}
    with pytest.raises(ValueError, match=r"description\['projections'\].*'b'"):
        plot.network_diagram(bad)


def test_save_creates_folders_and_closes_the_figure(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = plot.save(ax, tmp_path / "a" / "b" / "curve.png", dpi=50)
    assert path.is_file() and mpimg.imread(path).shape[:2] == (240, 320)
    assert not plt.fignum_exists(fig.number)
    with pytest.raises(TypeError, match="fig_or_ax: got str"):
        plot.save("figure", tmp_path / "x.png")


def test_output_panels_one_panel_per_sample_with_label_and_prediction():
    from neurosim import plot

    v = np.zeros((3, 11, 2))
    v[0, 5, 1] = 2.0  # sample 0: output 1 peaks higher
    fig = plot.output_panels(v, labels=[1, 0, 1], predictions=[1, 1, 0], dt=0.1)
    axes = [ax for ax in fig.axes if ax.axison]
    assert len(axes) == 3 and len(fig.axes) == 4  # a 2x2 grid, one panel unused
    titles = [ax.get_title() for ax in axes]
    assert titles[0] == "sample 0: label 1, predicted 1 (right)"
    assert titles[1] == "sample 1: label 0, predicted 1 (wrong)"
    # the predicted output's peak is starred
    star = [ln for ln in axes[0].lines if ln.get_marker() == "*"][0]
    assert star.get_xdata()[0] == pytest.approx(0.5) and star.get_ydata()[0] == 2.0
    with pytest.raises(ValueError, match="labels"):
        plot.output_panels(v, labels=[1, 0], predictions=[1, 1, 0], dt=0.1)
    plt.close(fig)

"""Tests for infoif.figures: what each figure holds (traces, axes, colour scales, order),
that bad input fails with a message naming the argument, the smoothing maths, the data
behind a figure, and the build time of every figure at N=64 interfaces and 500 epochs.

No browser: everything is asserted on `fig.data` and `fig.layout`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from infoif import estimators
from infoif.figures.compare import compare_curves_figure, sweep_figure
from infoif.figures.curves import smooth_ema
from infoif.figures.data import scatter_2d_figure
from infoif.figures.information import clustering_figure, info_plane_figure
from infoif.figures.input_plane import decision_surface_figure, interface_response_figure
from infoif.figures.interfaces import (
    BAND_PERCENTILES, distribution_bands_figure, energy_curves_figure, final_energy_figure, kernel_heatmaps_figure,
    kernel_norm_figure, output_histograms_figure, similarity_figure,
)
from infoif.figures.model import architecture_figure
from infoif.figures.style import PLAYGROUND_BLUE, PLAYGROUND_ORANGE, interface_colors, interface_labels
from infoif.figures.table import figure_data
from infoif.figures.train import loss_curves_figure

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------- inputs


def rng(seed=0):
    return np.random.default_rng(seed)


def bands_for(E, N, seed=0):
    """(E, N, 9) increasing percentiles, like infoif.estimators.percentile_bands_per_row gives."""
    return np.sort(rng(seed).normal(size=(E, N, 9)), axis=2)


def grid(G=12):
    return np.linspace(-2.0, 2.0, G), np.linspace(-1.0, 1.0, G + 1)


def builders(N=6, E=30):
    """One call of every builder, on inputs of N interfaces and E epochs."""
    r = rng(1)
    ep = np.arange(1, E + 1)
    xx, yy = grid()
    pts = r.normal(size=(50, 2))
    df = pd.DataFrame({"a": pts[:, 0], "b": pts[:, 1], "cls": np.where(pts[:, 0] > 0, "pos", "neg"),
                       "v": pts[:, 1] * 3})
    edges = np.linspace(-1, 1, 11)
    return {
        "loss_curves": lambda: loss_curves_figure(ep, {"train": r.random(E), "validation": r.random(E)}, 0.6),
        "kernel_heatmaps": lambda: kernel_heatmaps_figure(r.normal(size=(N, 3, 4)), ["a", "b", "c"]),
        "kernel_norm": lambda: kernel_norm_figure(ep, r.random((E, N))),
        "bands_one": lambda: distribution_bands_figure(ep, bands_for(E, N), interface=1, title="Weights"),
        "bands_grid": lambda: distribution_bands_figure(ep, bands_for(E, N)),
        "histogram_lines": lambda: output_histograms_figure(edges, r.integers(0, 9, (N, 10)), 3),
        "histogram_heatmap": lambda: output_histograms_figure(edges, r.integers(0, 9, (20, 10)), 3),
        "energy_curves": lambda: energy_curves_figure(np.cumsum(r.random((max(40, E), N)), 0), 0.1, 3),
        "final_energy": lambda: final_energy_figure(ep, r.random((E, N))),
        "similarity": lambda: similarity_figure(np.clip(r.normal(size=(N, N)), -1, 1)),
        "info_plane": lambda: info_plane_figure(r.random((E, N)), r.random((E, N)), ep, "binning, 30 bins"),
        "info_plane_interval": lambda: info_plane_figure(
            1 + r.random((E, N)), r.random((E, N)), ep, "KDE lower and upper bounds", i_xt_lower=r.random((E, N)),
            i_ty_lower=r.random((E, N)), samples=512, h_y=1.0),
        "info_plane_ceilings": lambda: info_plane_figure(r.random((E, N)), r.random((E, N)), ep, "binning",
                                                         samples=4096, h_y=1.0, range_note="[-1, 1]"),
        "clustering_classes": lambda: clustering_figure(r.normal(size=(N, 80, 2)), r.integers(0, 3, 80), E,
                                                        variance=r.random((N, 2)) / 2, class_names=["a", "b", "c"]),
        "clustering_numeric": lambda: clustering_figure(r.normal(size=(N, 80, 2)), r.normal(size=80), E),
        "surface_binary": lambda: decision_surface_figure(xx, yy, r.random((13, 12)), pts,
                                                          (pts[:, 0] > 0).astype(int), ["0", "1"], "binary"),
        "surface_multiclass": lambda: decision_surface_figure(xx, yy, r.integers(0, 3, (13, 12)), pts,
                                                              r.integers(0, 3, 50), ["a", "b", "c"], "multiclass"),
        "surface_regression": lambda: decision_surface_figure(xx, yy, r.normal(size=(13, 12)), pts,
                                                              r.normal(size=50), None, "regression"),
        "interface_response": lambda: interface_response_figure(xx, yy, r.normal(size=(N, 13, 12))),
        "architecture": lambda: architecture_figure(2, N, 4, "concat", 8, 1,
                                                    {"interfaces": N * 12, "hidden": 200, "head": 9}),
        "scatter_categorical": lambda: scatter_2d_figure(df, "a", "b", "cls"),
        "scatter_numeric": lambda: scatter_2d_figure(df, "a", "b", "v"),
        "compare_curves": lambda: compare_curves_figure(
            [{"label": f"run {i}", "epochs": ep, "values": r.random(E)} for i in range(3)], "val_loss", 0.5),
        "sweep": lambda: sweep_figure([4, 1, 2], [0.8, 0.6, 0.7], [2.0, 0.5, 1.0], "val_accuracy"),
    }


BUILDERS = sorted(builders())


def layout_json(fig):
    return fig.layout.to_plotly_json()


def axis_title(axis) -> str:
    return axis.title.text or ""


def alpha(rgba: str) -> float:
    return float(re.fullmatch(r"rgba\(\d+,\d+,\d+,([\d.]+)\)", rgba).group(1))


# ----------------------------------------------------------------------------- the module


def test_module_imports_without_keras_tensorflow_streamlit_or_pandas():
    code = ("import importlib, pkgutil, sys, time; t = time.perf_counter(); import infoif.figures; "
            "names = [m.name for m in pkgutil.iter_modules(infoif.figures.__path__)]; assert len(names) > 1; "
            "[importlib.import_module(f'infoif.figures.{name}') for name in names]; "
            "print(time.perf_counter() - t); "
            "print(sorted(m for m in ('keras', 'tensorflow', 'streamlit', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    seconds, loaded = out.stdout.split("\n")[:2]
    assert loaded == "[]", f"infoif.figures imported {loaded}"
    assert float(seconds) < 2.0


def test_band_percentiles_are_the_estimators_ones():
    assert tuple(BAND_PERCENTILES) == tuple(estimators.BAND_PERCENTILES)


def test_interface_colors_are_distinct_then_cycle():
    colours = interface_colors(64)
    assert len(colours) == 64
    assert len(set(colours[:24])) == 24
    assert colours[24] == colours[0] and colours[63] == colours[63 % 24]
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in colours)
    assert interface_colors(5) == colours[:5]  # interface i keeps its colour whatever N is
    assert interface_colors(0) == []
    assert interface_labels(3) == ["if 0", "if 1", "if 2"]
    for bad in (-1, 2.5, True, "8"):
        with pytest.raises(ValueError, match=r"`n` must be a whole number"):
            interface_colors(bad)


@pytest.mark.parametrize("name", BUILDERS)
def test_figure_is_valid_plotly_and_validates_to_the_same_figure(name):
    """The fast (unvalidated) construction gives exactly what plotly's validated one gives."""
    fig = builders()[name]()
    assert isinstance(fig, go.Figure)
    validated = go.Figure(data=[t.to_plotly_json() for t in fig.data], layout=fig.layout.to_plotly_json())
    assert json.loads(pio.to_json(fig, validate=False)) == json.loads(pio.to_json(validated, validate=False))
    # colour scales are lists: plotly.py and plotly.js resolve the same *name* to different scales

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                assert not (key == "colorscale" and isinstance(value, str)), f"named colorscale {value!r}"
                if key != "template":
                    walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(json.loads(pio.to_json(fig, validate=False)))


@pytest.mark.parametrize("name", BUILDERS)
def test_figure_has_the_shared_look(name):
    fig = builders()[name]()
    white = pio.templates["plotly_white"].layout.to_plotly_json()
    assert fig.layout.template.layout.to_plotly_json() == white
    assert fig.layout.title.text
    assert fig.layout.margin.l <= 200 and fig.layout.margin.t <= 90
    # built without validation, the figure validates the changes its caller makes
    with pytest.raises(ValueError):
        fig.update_layout(titel="typo")
    with pytest.raises(ValueError):
        fig.layout["titel"] = "typo"
    with pytest.raises(ValueError):
        fig.data[0]["nme"] = "typo"
    with pytest.raises(ValueError):
        fig.data[0].opacity = 7


@pytest.mark.parametrize("name", BUILDERS)
def test_every_trace_has_a_hover_template_or_no_hover(name):
    fig = builders()[name]()
    for trace in fig.data:
        assert trace.hovertemplate or trace.hoverinfo == "skip", (name, trace.name)


# ----------------------------------------------------------------------------- smoothing


def test_smooth_ema_by_hand():
    # last: 0.5, 1.25, 2.125; debias: 1 - 0.5, 1 - 0.25, 1 - 0.125
    np.testing.assert_allclose(smooth_ema([1.0, 2.0, 3.0], 0.5), [1.0, 1.25 / 0.75, 2.125 / 0.875])


def test_smooth_ema_skips_non_finite_values():
    out = smooth_ema([1.0, np.nan, 3.0, np.inf], 0.5)
    assert np.isnan(out[1]) and np.isnan(out[3])
    # 3.0 is the second finite value: last = 0.25 + 1.5, debiased by 1 - 0.5 ** 2
    np.testing.assert_allclose(out[[0, 2]], [1.0, 1.75 / 0.75])
    assert np.isnan(smooth_ema([np.nan, None], 0.5)).all()


def test_smooth_ema_matches_tensorboards_loop():
    values = rng(3).normal(size=300)
    values[[5, 50, 51]] = np.nan
    weight = 0.9
    last, count, expected = 0.0, 0, []
    for v in values:  # tensorboard/plugins/scalar: vz_line_chart2 smoothing
        if not np.isfinite(v):
            expected.append(np.nan)
            continue
        last = last * weight + (1 - weight) * v
        count += 1
        expected.append(last / (1 - weight ** count))
    np.testing.assert_allclose(smooth_ema(values, weight), expected)


def test_smooth_ema_edge_weights():
    values = rng(4).normal(size=20)
    np.testing.assert_allclose(smooth_ema(values, 0.0), values)
    np.testing.assert_allclose(smooth_ema(np.full(10, 2.5), 0.99), 2.5)  # debiasing: no ramp from 0
    assert smooth_ema([], 0.5).shape == (0,)
    for bad in (1.0, -0.1, True, "0.5"):
        with pytest.raises(ValueError, match=r"`weight` must be a number in \[0, 1\)"):
            smooth_ema(values, bad)


# ----------------------------------------------------------------------------- 1. loss curves


def test_loss_curves_without_smoothing():
    fig = loss_curves_figure([1, 2, 3], {"train": [3.0, 2.0, 1.0], "validation": [3.5, 2.5, 2.0]}, title="Loss")
    assert [t.name for t in fig.data] == ["train", "validation"]
    assert [t.type for t in fig.data] == ["scatter", "scatter"]
    np.testing.assert_array_equal(fig.data[0].x, [1, 2, 3])
    np.testing.assert_array_equal(fig.data[1].y, [3.5, 2.5, 2.0])
    assert fig.data[0].line.color != fig.data[1].line.color
    assert axis_title(fig.layout.xaxis) == "epoch" and axis_title(fig.layout.yaxis) == "Loss"
    assert fig.layout.title.text == "Loss" and fig.layout.hovermode == "x unified"


def test_loss_curves_smoothing_draws_raw_faint_and_smoothed_solid_in_one_colour():
    E = 40
    loss = rng(5).random(E)
    fig = loss_curves_figure(np.arange(E), {"train": loss, "validation": loss + 1}, smoothing=0.6, title="accuracy")
    assert [t.name for t in fig.data] == ["train (raw)", "train", "validation (raw)", "validation"]
    raw, smooth = fig.data[0], fig.data[1]
    assert raw.line.color == smooth.line.color and raw.legendgroup == smooth.legendgroup == "train"
    assert raw.opacity < 0.5 and smooth.opacity in (None, 1) and raw.showlegend is False
    assert smooth.line.width > raw.line.width
    np.testing.assert_allclose(raw.y, loss)
    np.testing.assert_allclose(smooth.y, smooth_ema(loss, 0.6))
    assert "0.6" in fig.layout.title.subtitle.text and axis_title(fig.layout.yaxis) == "accuracy"


def test_loss_curves_mark_where_a_run_resumed():
    fig = loss_curves_figure([1, 2, 3, 7, 8], {"train": [5.0, 4, 3, 2, 1]}, gaps=[3])
    assert [(s.x0, s.x1, s.line.dash) for s in fig.layout.shapes] == [(3.5, 3.5, "dot")]
    assert [a.text for a in fig.layout.annotations] == ["resumed"]
    assert loss_curves_figure([1, 2], {"train": [1.0, 2.0]}).layout.shapes == ()


def test_loss_curves_skip_nan_and_inf():
    fig = loss_curves_figure([1, 2, 3, 4], {"train": [1.0, None, np.inf, 0.5]}, smoothing=0.5)
    raw, smooth = fig.data
    assert np.isnan(raw.y[1]) and np.isnan(raw.y[2]) and raw.y[3] == 0.5  # gaps, not zeros or inf
    assert np.isnan(smooth.y[1]) and smooth.connectgaps is True
    np.testing.assert_allclose(smooth.y[3], (0.25 * 1 + 0.25) / 0.75)


def test_long_runs_are_thinned_for_display_keeping_spikes_gaps_and_ends():
    E = 20_000
    r = rng(11)
    train = 1.0 / np.arange(1, E + 1) + 0.01 * r.random(E)
    val = train + 0.1
    train[12_345] = 50.0  # a spike
    val[7_777] = np.nan  # a gap
    fig = loss_curves_figure(np.arange(1, E + 1), {"train": train, "validation": val}, smoothing=0.9,
                             max_points=1000)
    raw, smooth = fig.data[0], fig.data[1]
    assert raw.type == "scatter" and len(raw.x) <= 1000
    x = np.asarray(raw.x)
    assert x[0] == 1 and x[-1] == E and np.all(np.diff(x) > 0)
    assert 12_346 in x and np.max(raw.y) == 50.0, "the spike is drawn"
    assert np.isnan(np.asarray(fig.data[2].y)[x == 7_778]).all(), "the gap is drawn"
    # smoothing saw every point: the drawn smoothed values are those of the full curve
    full = smooth_ema(train, 0.9)
    np.testing.assert_allclose(smooth.y, full[x - 1])
    # the same lowest and highest values as the full curve
    assert np.min(raw.y) == np.min(train) and np.max(fig.data[2].y[np.isfinite(fig.data[2].y)]) == np.nanmax(val)


def test_short_runs_are_drawn_whole_and_max_points_is_checked():
    fig = loss_curves_figure(np.arange(1500), {"train": np.ones(1500)})
    assert len(fig.data[0].x) == 1500
    with pytest.raises(ValueError, match=r"`max_points` must be a whole number >= 1.*max_points=0"):
        loss_curves_figure([1, 2], {"train": [1, 2]}, max_points=0)
    fig = compare_curves_figure([{"label": "a", "epochs": np.arange(9000), "values": np.arange(9000.0)}],
                                "loss", max_points=500)
    assert len(fig.data[0].x) <= 500 and fig.data[0].x[-1] == 8999


def test_loss_curves_validation():
    with pytest.raises(ValueError, match=r"`series\['validation'\]` needs one value per epoch.*shape=\(2,\)"):
        loss_curves_figure([1, 2, 3], {"train": [1, 2, 3], "validation": [1, 2]})
    with pytest.raises(ValueError, match=r"`smoothing` must be a number in \[0, 1\).*smoothing=1"):
        loss_curves_figure([1, 2], {"train": [1, 2]}, smoothing=1)
    with pytest.raises(ValueError, match=r"`series` must be a non-empty dict"):
        loss_curves_figure([1, 2], {})
    with pytest.raises(ValueError, match=r"`epochs` must be 1-D.*epochs.shape=\(1, 2\)"):
        loss_curves_figure([[1, 2]], {"train": [1, 2]})
    with pytest.raises(ValueError, match=r"`epochs` is empty"):
        loss_curves_figure([], {"train": []})
    with pytest.raises(ValueError, match=r"`series\['train'\]` must hold numbers"):
        loss_curves_figure([1, 2], {"train": ["a", "b"]})


# ----------------------------------------------------------------------------- 2. kernels


def test_kernel_heatmaps_small_multiples_on_one_symmetric_scale():
    kernels = rng(6).normal(size=(10, 3, 4))
    kernels[7, 1, 2] = -9.0  # the largest |w|
    fig = kernel_heatmaps_figure(kernels, ["f0", "f1", "f2"], max_cols=4)
    assert len(fig.data) == 10 and {t.type for t in fig.data} == {"heatmap"}
    assert [t.name for t in fig.data] == [f"if {i}" for i in range(10)]
    assert {(t.zmin, t.zmax, t.zmid) for t in fig.data} == {(-9.0, 9.0, 0.0)}
    assert [t.showscale for t in fig.data] == [True] + [False] * 9  # one colour bar
    assert fig.data[0].colorbar.title.text == "weight"
    assert fig.data[0].colorscale[0][1] == "rgb(103,0,31)" and fig.data[0].colorscale[-1][1] == "rgb(5,48,97)"
    np.testing.assert_allclose(fig.data[7].z, kernels[7])
    assert list(fig.data[0].y) == ["f0", "f1", "f2"]
    assert [a.text for a in fig.layout.annotations] == [f"if {i}" for i in range(10)]
    # 4 columns x 3 rows, axes coupled: one x axis per column, one y axis per row
    assert [(t.xaxis, t.yaxis) for t in fig.data][:6] == [("x", "y"), ("x2", "y"), ("x3", "y"), ("x4", "y"),
                                                          ("x", "y2"), ("x2", "y2")]
    axes = {k for k in layout_json(fig) if re.fullmatch(r"[xy]axis\d*", k)}
    assert axes == {"xaxis", "xaxis2", "xaxis3", "xaxis4", "yaxis", "yaxis2", "yaxis3"}
    # x ticks under the lowest panel of each column: columns 0-1 reach row 3, columns 2-3 only row 2
    assert [fig.layout[f"xaxis{s}"].anchor for s in ("", "2", "3", "4")] == ["y3", "y3", "y2", "y2"]
    assert fig.layout.yaxis.autorange == "reversed"  # first feature on top, like the matrix
    assert (fig.layout.xaxis3.matches, fig.layout.yaxis2.matches, fig.layout.xaxis.matches) == ("x", "y", None)


def test_kernel_heatmaps_default_and_duplicate_feature_names():
    fig = kernel_heatmaps_figure(np.zeros((2, 3, 2)))
    assert list(fig.data[0].y) == ["x0", "x1", "x2"]
    assert (fig.data[0].zmin, fig.data[0].zmax) == (-1.0, 1.0)  # all-zero kernels: a usable scale
    fig = kernel_heatmaps_figure(np.ones((1, 3, 2)), ["a", "a", "b"])
    assert list(fig.data[0].y) == ["a", "a (2)", "b"]


def test_kernel_heatmaps_validation():
    with pytest.raises(ValueError, match=r"`feature_names` needs one name per input feature \(d_in=3"):
        kernel_heatmaps_figure(np.zeros((2, 3, 4)), ["a", "b"])
    with pytest.raises(ValueError, match=r"`kernels` must be 3-D.*kernels.shape=\(3, 4\)"):
        kernel_heatmaps_figure(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"`max_cols` must be a whole number >= 1. Received: max_cols=0"):
        kernel_heatmaps_figure(np.zeros((2, 3, 4)), max_cols=0)


# ----------------------------------------------------------------------------- 3. kernel norms


def test_kernel_norm_one_line_per_interface():
    E, N = 12, 30
    norms = rng(7).random((E, N))
    fig = kernel_norm_figure(np.arange(E), norms)
    assert len(fig.data) == N and {t.type for t in fig.data} == {"scatter"}
    assert [t.name for t in fig.data] == [f"if {i}" for i in range(N)]
    assert [t.line.color for t in fig.data] == interface_colors(N)
    assert fig.data[0].line.dash == "solid" and fig.data[24].line.dash == "dash"  # repeated colours differ
    np.testing.assert_allclose(fig.data[5].y, norms[:, 5], rtol=1e-6)
    assert axis_title(fig.layout.xaxis) == "epoch" and "norm" in axis_title(fig.layout.yaxis)
    assert fig.layout.hovermode == "closest"  # 30 curves do not fit one hover box
    assert "epoch %{x}" in fig.data[0].hovertemplate and "if 0" in fig.data[0].hovertemplate


def test_line_figures_switch_to_webgl_when_large():
    fig = kernel_norm_figure(np.arange(500), np.ones((500, 64)))
    assert {t.type for t in fig.data} == {"scattergl"}
    assert kernel_norm_figure(np.arange(5), np.ones((5, 3))).data[0].type == "scatter"


def test_kernel_norm_validation():
    with pytest.raises(ValueError, match=r"`norms` needs one row per epoch.*E=len\(epochs\)=5.*norms.shape=\(4, 3\)"):
        kernel_norm_figure(np.arange(5), np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"`norms` must be 2-D"):
        kernel_norm_figure(np.arange(5), np.ones(5))


# ----------------------------------------------------------------------------- 4. distribution bands


def test_distribution_bands_one_interface():
    E, N = 20, 4
    bands = bands_for(E, N)
    fig = distribution_bands_figure(np.arange(E), bands, interface=2, title="Weights of if 2")
    assert len(fig.data) == 9
    assert [t.name for t in fig.data] == ["p0", "p7", "p16", "p31", "median", "p69", "p84", "p93", "p100"]
    for k, trace in enumerate(fig.data):
        np.testing.assert_allclose(trace.y, bands[:, 2, k], rtol=1e-6)
    assert fig.data[0].fill is None and all(t.fill == "tonexty" for t in fig.data[1:])
    alphas = [alpha(t.fillcolor) for t in fig.data[1:]]
    assert alphas[:4] == sorted(alphas[:4]) and alphas[4:] == sorted(alphas[4:], reverse=True)  # darker inward
    assert alphas[0] < alphas[3] and alphas == alphas[::-1]  # symmetric about the median
    assert fig.data[4].line.width == 2 and fig.data[4].line.color == interface_colors(4)[2]
    assert fig.layout.title.text == "Weights of if 2" and "if 2" in fig.layout.title.subtitle.text


def test_distribution_bands_small_multiples_capped_at_16():
    fig = distribution_bands_figure(np.arange(10), bands_for(10, 64))
    titles = [a.text for a in fig.layout.annotations]
    assert len(titles) == 16 and titles[0] == "if 0" and titles[-1] == "if 63"
    assert len(fig.data) == 16 * 9
    assert "16 of 64" in fig.layout.title.subtitle.text
    assert fig.data[9].name == f"{titles[1]} p0" and fig.data[9].xaxis == "x2"
    fig = distribution_bands_figure(np.arange(10), bands_for(10, 5))
    assert [a.text for a in fig.layout.annotations] == [f"if {i}" for i in range(5)]
    assert len(fig.data) == 45 and "all 5" in fig.layout.title.subtitle.text


def test_distribution_bands_validation():
    bands = bands_for(5, 3)
    with pytest.raises(ValueError, match=r"`interface` must be an interface index in \[0, 2\].*interface=3"):
        distribution_bands_figure(np.arange(5), bands, interface=3)
    with pytest.raises(ValueError, match=r"interface=True"):
        distribution_bands_figure(np.arange(5), bands, interface=True)
    with pytest.raises(ValueError, match=r"`bands` must have shape \(E, N, 9\).*bands.shape=\(5, 3, 8\)"):
        distribution_bands_figure(np.arange(5), bands[..., :8])
    with pytest.raises(ValueError, match=r"`bands` must increase along the last axis"):
        distribution_bands_figure(np.arange(5), bands[..., ::-1])
    with pytest.raises(ValueError, match=r"`bands` needs one row per epoch"):
        distribution_bands_figure(np.arange(6), bands)


# ----------------------------------------------------------------------------- 5. output histograms


def test_output_histograms_overlaid_steps_for_small_n():
    edges = np.array([-1.0, 0.0, 0.5, 2.0])
    counts = np.array([[1, 5, 2], [0, 3, 3]])
    fig = output_histograms_figure(edges, counts, epoch=7)
    assert len(fig.data) == 2 and [t.name for t in fig.data] == ["if 0", "if 1"]
    trace = fig.data[0]
    assert trace.line.shape == "hv"
    np.testing.assert_allclose(trace.x, [-1.0, -1.0, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(trace.y, [0, 1, 5, 2, 0])  # closed to zero at both ends
    assert "epoch 7" in fig.layout.title.text
    assert axis_title(fig.layout.xaxis) == "output value" and "in bin" in axis_title(fig.layout.yaxis)


def test_output_histograms_heatmap_for_many_interfaces():
    counts = rng(8).integers(0, 50, (40, 6))
    edges = np.linspace(0, 3, 7)
    fig = output_histograms_figure(edges, counts, epoch=2)
    assert len(fig.data) == 1 and fig.data[0].type == "heatmap"
    np.testing.assert_array_equal(fig.data[0].z, counts)
    np.testing.assert_allclose(fig.data[0].x, edges)  # bin edges: exact bins
    assert list(fig.data[0].y) == [f"if {i}" for i in range(40)] and fig.data[0].zmin == 0
    assert fig.data[0].colorscale[0][1] == "rgb(247,251,255)"  # empty bins are white, not dark
    assert output_histograms_figure(edges, counts[:12], 2).data[0].type == "scatter"
    assert output_histograms_figure(edges, counts[:13], 2).data[0].type == "heatmap"


def test_output_histograms_validation():
    with pytest.raises(ValueError, match=r"`edges` must be at least 2 finite, strictly increasing"):
        output_histograms_figure([0, 2, 1], np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match=r"`counts` must have shape \(N, bins\) with bins = len\(edges\) - 1 = 2"):
        output_histograms_figure([0, 1, 2], np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match=r"`counts` must be >= 0"):
        output_histograms_figure([0, 1, 2], -np.ones((2, 2)), 1)


# ----------------------------------------------------------------------------- 6. energy


def test_energy_curves_one_line_per_interface_over_the_probe_batch():
    B, N = 50, 5
    energy = np.cumsum(rng(9).random((B, N)), axis=0)
    fig = energy_curves_figure(energy, leak=0.25, epoch=11)
    assert len(fig.data) == N and {t.type for t in fig.data} == {"scatter"}
    np.testing.assert_array_equal(fig.data[0].x, np.arange(B))
    np.testing.assert_allclose(fig.data[3].y, energy[:, 3], rtol=1e-6)
    assert axis_title(fig.layout.xaxis) == "sample in probe batch"
    assert axis_title(fig.layout.yaxis) == "energy E[b]"
    assert "Energy" in fig.layout.title.text and "epoch 11" in fig.layout.title.text
    assert "leak = 0.25" in fig.layout.title.subtitle.text
    assert "activation²" in fig.data[0].hovertemplate


def test_energy_validation():
    with pytest.raises(ValueError, match=r"`leak` must be the EnergyReservoir leak, a number in \[0, 1\].*leak=1.5"):
        energy_curves_figure(np.ones((4, 2)), 1.5, 1)
    with pytest.raises(ValueError, match=r"`energy` must be 2-D with shape \(B, N\)"):
        energy_curves_figure(np.ones(4), 0.1, 1)
    with pytest.raises(ValueError, match=r"`final_energy` needs one row per epoch"):
        final_energy_figure([1, 2, 3], np.ones((2, 4)))


def test_final_energy_over_epochs():
    final = rng(10).random((8, 3))
    fig = final_energy_figure(np.arange(8) * 5, final)
    assert [t.name for t in fig.data] == ["if 0", "if 1", "if 2"]
    np.testing.assert_array_equal(fig.data[1].x, np.arange(8) * 5)
    np.testing.assert_allclose(fig.data[1].y, final[:, 1], rtol=1e-6)
    assert axis_title(fig.layout.xaxis) == "epoch" and "final energy" in axis_title(fig.layout.yaxis)


# ----------------------------------------------------------------------------- 7. similarity


def test_similarity_heatmap():
    k = rng(11).normal(size=(5, 6))
    k /= np.linalg.norm(k, axis=1, keepdims=True)
    sim = k @ k.T
    fig = similarity_figure(sim)
    (trace,) = fig.data
    assert trace.type == "heatmap" and (trace.zmin, trace.zmax, trace.zmid) == (-1.0, 1.0, 0.0)
    assert trace.colorscale[0][1] == "rgb(103,0,31)" and trace.colorscale[5][1] == "rgb(247,247,247)"
    np.testing.assert_allclose(trace.z, sim, atol=1e-6)
    assert list(trace.x) == list(trace.y) == [f"if {i}" for i in range(5)]
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.autorange == "reversed"  # square, matrix order
    assert trace.texttemplate  # values printed for small N
    assert similarity_figure(np.eye(20)).data[0].texttemplate is None


def test_similarity_validation():
    with pytest.raises(ValueError, match=r"`sim` must be a square \(N, N\) matrix.*sim.shape=\(2, 3\)"):
        similarity_figure(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"`sim` must hold cosine similarities in \[-1, 1\]"):
        similarity_figure(np.full((2, 2), 3.0))
    with pytest.raises(ValueError, match=r"`sim` must be an array of shape \(N, N\).*sim=None"):
        similarity_figure(None)


# ----------------------------------------------------------------------------- 8. information plane


def test_info_plane_paths_coloured_by_epoch():
    E, N = 6, 3
    i_xt, i_ty = rng(12).random((E, N)), rng(13).random((E, N))
    epochs = np.array([5, 1, 2, 3, 4, 6])  # out of order: the path follows time
    fig = info_plane_figure(i_xt, i_ty, epochs, "KDE upper bound, σ²=0.1")
    assert len(fig.data) == N and [t.name for t in fig.data] == ["if 0", "if 1", "if 2"]
    order = np.argsort(epochs)
    np.testing.assert_allclose(fig.data[1].x, i_xt[order, 1], rtol=1e-6)
    np.testing.assert_allclose(fig.data[1].y, i_ty[order, 1], rtol=1e-6)
    np.testing.assert_array_equal(fig.data[1].marker.color, [1, 2, 3, 4, 5, 6])
    assert all(t.marker.coloraxis == "coloraxis" and t.mode == "lines+markers" for t in fig.data)
    assert fig.layout.coloraxis.colorbar.title.text == "epoch"
    # the epoch colour bar lies under the plot, across, so the interfaces' legend (on the right)
    # cannot cover it however narrow the page
    bar = fig.layout.coloraxis.colorbar
    assert bar.orientation == "h" and bar.y < 0 and bar.yanchor == "top"
    assert fig.layout.legend.x is None or fig.layout.legend.x <= 1.05
    assert fig.layout.margin.b >= 100, "room under the plot for the bar"
    assert fig.layout.coloraxis.colorscale[0][1] == "#440154"  # Viridis
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (1, 6)
    assert fig.data[0].marker.size[-1] > fig.data[0].marker.size[0]  # latest epoch stands out
    assert "KDE upper bound" in fig.layout.title.text
    assert "estimate" in axis_title(fig.layout.xaxis) and "I(X;T)" in axis_title(fig.layout.xaxis)
    assert "estimate" in axis_title(fig.layout.yaxis) and "bits" in axis_title(fig.layout.yaxis)


def test_info_plane_validation():
    with pytest.raises(ValueError, match=r"`i_ty` needs one row per epoch"):
        info_plane_figure(np.ones((3, 2)), np.ones((2, 2)), [1, 2, 3], "binning")
    with pytest.raises(ValueError, match=r"`i_xt` and `i_ty` must have the same shape.*i_ty.shape=\(3, 4\)"):
        info_plane_figure(np.ones((3, 2)), np.ones((3, 4)), [1, 2, 3], "binning")
    with pytest.raises(ValueError, match=r"`label` must name the estimator"):
        info_plane_figure(np.ones((3, 2)), np.ones((3, 2)), [1, 2, 3], "")


def test_info_plane_kde_interval_bars_run_from_lower_to_upper_bound():
    E, N = 5, 2
    upper = 2 + rng(30).random((E, N))
    lower = upper - rng(31).random((E, N))
    ty_up, ty_lo = rng(32).random((E, N)), rng(33).random((E, N))  # either may be the larger
    epochs = np.arange(1, E + 1)
    fig = info_plane_figure(upper, ty_up, epochs, "KDE lower and upper bounds, σ²=0.1",
                            i_xt_lower=lower, i_ty_lower=ty_lo)
    t = fig.data[1]
    assert t.error_x.type == "data" and t.error_x.symmetric is False
    np.testing.assert_allclose(np.asarray(t.x) - np.asarray(t.error_x.arrayminus), lower[:, 1], atol=1e-6)
    np.testing.assert_array_equal(t.error_x.array, 0.0)
    # the I(T;Y) bar reaches the other estimate, up or down
    reach = np.asarray(t.y) + np.asarray(t.error_y.array) - np.asarray(t.error_y.arrayminus)
    np.testing.assert_allclose(reach, ty_lo[:, 1], atol=1e-6)
    assert "lower bound" in t.hovertemplate and "upper bound" in t.hovertemplate
    subtitle = fig.layout.title.subtitle.text
    assert "from lower to upper bound" in subtitle and "not a bracket" in subtitle
    # the interval is in the data behind the chart
    table = figure_data(fig)
    rows = table[table.trace == "if 1"]
    np.testing.assert_allclose(rows["x"] - rows["x_minus"], lower[:, 1], atol=1e-6)


def test_info_plane_ceilings_and_the_range_on_the_chart():
    E, N = 4, 3
    fig = info_plane_figure(rng(34).random((E, N)) * 3, rng(35).random((E, N)), np.arange(E), "binning, 30 bins",
                            samples=189, h_y=0.97, range_note="[-1, 1], the range of tanh")
    names = [t.name for t in fig.data]
    assert names[:N] == ["if 0", "if 1", "if 2"]
    x_line = next(t for t in fig.data if t.name.startswith("ceiling log2(189)"))
    y_line = next(t for t in fig.data if t.name.startswith("ceiling H(Y)"))
    assert "7.56 bits" in x_line.name and "0.97 bits" in y_line.name
    np.testing.assert_allclose(x_line.x, [np.log2(189)] * 2)
    np.testing.assert_allclose(y_line.y, [0.97] * 2)
    # both lines reach across the plotted range, which takes in the ceilings
    assert fig.layout.xaxis.range[1] > np.log2(189) and fig.layout.yaxis.range[1] > 0.97
    assert x_line.y[1] == fig.layout.yaxis.range[1] and y_line.x[1] == fig.layout.xaxis.range[1]
    assert "bins fixed for the run over [-1, 1], the range of tanh" in fig.layout.title.subtitle.text
    assert fig.data[0].error_x.type is None  # no interval for binning


def test_info_plane_new_arguments_are_checked():
    a = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"`i_xt_lower` must have the shape of `i_xt`, \(3, 2\)"):
        info_plane_figure(a, a, [1, 2, 3], "kde", i_xt_lower=np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"`samples` must be a whole number >= 1.*samples=0"):
        info_plane_figure(a, a, [1, 2, 3], "binning", samples=0)
    with pytest.raises(ValueError, match=r"`h_y` must be a finite number >= 0 or None. Received: h_y=nan"):
        info_plane_figure(a, a, [1, 2, 3], "binning", h_y=float("nan"))


# ----------------------------------------------------------------------------- clustering view


def test_clustering_one_panel_per_interface_coloured_by_class():
    N, V = 3, 40
    view = rng(36).normal(size=(N, V, 2))
    labels = np.arange(V) % 2
    fig = clustering_figure(view, labels, 12, variance=np.array([[0.7, 0.2]] * N), class_names=["no", "yes"])
    assert len(fig.data) == N * 2
    assert [t.name for t in fig.data[:2]] == ["no", "yes"]
    assert [t.showlegend for t in fig.data] == [True, True] + [False] * (2 * N - 2)  # one legend entry per class
    third = fig.data[5]  # interface 2, class "yes"
    np.testing.assert_allclose(third.x, view[2, labels == 1, 0], rtol=1e-6)
    np.testing.assert_allclose(third.y, view[2, labels == 1, 1], rtol=1e-6)
    assert third.marker.color == PLAYGROUND_BLUE and fig.data[0].marker.color == PLAYGROUND_ORANGE
    assert (third.xaxis, third.yaxis) != (fig.data[0].xaxis, fig.data[0].yaxis)
    assert "epoch 12" in fig.layout.title.text and "PCA" in fig.layout.title.subtitle.text
    assert [a.text for a in fig.layout.annotations][0] == "if 0 · 70% + 20% of variance"


def test_clustering_numeric_labels_share_one_colour_scale_and_interfaces_can_be_chosen():
    view = rng(37).normal(size=(20, 30, 2))
    target = rng(38).normal(size=30)
    fig = clustering_figure(view, target, 3, interfaces=[4, 17])
    assert [t.name for t in fig.data] == ["if 4", "if 17"]
    assert all(t.marker.coloraxis == "coloraxis" for t in fig.data)
    np.testing.assert_allclose(fig.data[1].marker.color, target, rtol=1e-6)
    assert "2 of 20 interfaces" in fig.layout.title.subtitle.text
    assert len(clustering_figure(view, target, 3).data) == 16  # the first 16 by default


def test_clustering_validation():
    view = np.zeros((2, 5, 2))
    with pytest.raises(ValueError, match=r"`view` must have shape \(N, V, 2\).*view.shape=\(2, 5, 3\)"):
        clustering_figure(np.zeros((2, 5, 3)), np.zeros(5), 1)
    with pytest.raises(ValueError, match=r"`labels` must be 5 class indices in \[0, 2\)"):
        clustering_figure(view, [0, 1, 2, 0, 1], 1, class_names=["a", "b"])
    with pytest.raises(ValueError, match=r"`labels` must have one value per sample of `view`, shape \(5,\)"):
        clustering_figure(view, np.zeros(4), 1)
    with pytest.raises(ValueError, match=r"`interfaces` must be a non-empty list of interface indices in \[0, 2\)"):
        clustering_figure(view, np.zeros(5), 1, interfaces=[2])
    with pytest.raises(ValueError, match=r"`variance` must have shape \(N, 2\) = \(2, 2\)"):
        clustering_figure(view, np.zeros(5), 1, variance=np.zeros((3, 2)))


# ----------------------------------------------------------------------------- 9. input plane


def test_decision_surface_binary():
    xx, yy = grid()
    z = rng(14).random((13, 12))
    pts = np.array([[0.0, 0.0], [1.0, 0.5], [np.nan, 0.0], [-1.0, 0.2]])
    fig = decision_surface_figure(xx, yy, z, pts, np.array([0.0, 1.0, 1.0, 1.0]), ["0", "1"], "binary")
    surface, boundary, class0, class1 = fig.data
    assert surface.type == "heatmap" and (surface.zmin, surface.zmax, surface.zmid) == (0.0, 1.0, 0.5)
    np.testing.assert_allclose(surface.z, z, rtol=1e-6)
    np.testing.assert_allclose(surface.x, xx)
    assert boundary.type == "contour" and boundary.contours.start == boundary.contours.end == 0.5
    assert (class0.name, class1.name) == ("0", "1")
    assert len(class0.x) == 1 and len(class1.x) == 2  # the NaN point is left out
    # points in the colours of the two ends of the surface's scale (Playground's orange and blue)
    assert class0.marker.color == surface.colorscale[0][1] and class1.marker.color == surface.colorscale[-1][1]
    assert surface.colorbar.title.text == "P(1)"


def test_decision_surface_matches_labels_to_class_names():
    xx, yy = grid()
    pts = rng(15).normal(size=(6, 2))
    labels = np.array(["no", "yes", "yes", "no", "maybe", None], dtype=object)
    fig = decision_surface_figure(xx, yy, np.full((13, 12), 0.5), pts, labels, ["no", "yes"], "binary")
    assert [len(t.x) for t in fig.data[2:]] == [2, 2]  # "maybe" and None match no class
    codes = decision_surface_figure(xx, yy, np.zeros((13, 12)), pts, [0, 1, 1, 0, 0, 0], ["no", "yes"], "binary")
    assert [len(t.x) for t in codes.data[2:]] == [4, 2]  # class indices work too


def test_decision_surface_multiclass_and_regression():
    xx, yy = grid()
    pts = rng(16).normal(size=(30, 2))
    z = rng(16).integers(0, 3, (13, 12)).astype(float)
    fig = decision_surface_figure(xx, yy, z, pts, rng(17).integers(0, 3, 30), ["a", "b", "c"], "multiclass",
                                  x_name="width", y_name="height")
    assert len(fig.data) == 4 and [t.name for t in fig.data[1:]] == ["a", "b", "c"]
    surface = fig.data[0]
    assert (surface.zmin, surface.zmax) == (-0.5, 2.5)
    assert list(surface.colorbar.ticktext) == ["a", "b", "c"]
    assert axis_title(fig.layout.xaxis) == "width" and axis_title(fig.layout.yaxis) == "height"
    values = pts[:, 0] * 10
    fig = decision_surface_figure(xx, yy, np.zeros((13, 12)), pts, values, None, "regression")
    surface, points = fig.data
    assert surface.coloraxis == points.marker.coloraxis == "coloraxis"  # one scale for surface and data
    assert fig.layout.coloraxis.cmin == pytest.approx(values.min())
    assert fig.layout.coloraxis.cmax == pytest.approx(values.max())


def test_decision_surface_subsamples_many_points():
    xx, yy = grid()
    pts = rng(18).normal(size=(6000, 2))
    fig = decision_surface_figure(xx, yy, np.full((13, 12), 0.3), pts, (pts[:, 0] > 0).astype(int),
                                  ["0", "1"], "binary")
    assert sum(len(t.x) for t in fig.data[2:]) == 2500
    assert "2,500 of 6,000" in fig.layout.title.subtitle.text
    again = decision_surface_figure(xx, yy, np.full((13, 12), 0.3), pts, (pts[:, 0] > 0).astype(int),
                                    ["0", "1"], "binary")
    np.testing.assert_array_equal(fig.data[2].x, again.data[2].x)  # the same points every refresh


def test_decision_surface_validation():
    xx, yy = grid()
    pts = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"`task` must be one of \['binary', 'multiclass', 'regression'\]"):
        decision_surface_figure(xx, yy, np.zeros((13, 12)), pts, [0, 1, 0], ["0", "1"], "ranking")
    with pytest.raises(ValueError, match=r"`z` must have shape \(len\(yy\), len\(xx\)\) = \(13, 12\).*z.shape=\(12, 13\)"):
        decision_surface_figure(xx, yy, np.zeros((12, 13)), pts, [0, 1, 0], ["0", "1"], "binary")
    with pytest.raises(ValueError, match=r"`z` must be probabilities of class 1 in \[0, 1\]"):
        decision_surface_figure(xx, yy, np.full((13, 12), 2.0), pts, [0, 1, 0], ["0", "1"], "binary")
    with pytest.raises(ValueError, match=r"`class_names` must list the classes"):
        decision_surface_figure(xx, yy, np.zeros((13, 12)), pts, [0, 1, 0], None, "multiclass")
    with pytest.raises(ValueError, match=r"`points_x` must have shape \(n, 2\)"):
        decision_surface_figure(xx, yy, np.zeros((13, 12)), np.zeros((3, 3)), [0, 1, 0], ["0", "1"], "binary")
    with pytest.raises(ValueError, match=r"`points_y` must have shape \(n,\) with n=len\(points_x\)=3"):
        decision_surface_figure(xx, yy, np.zeros((13, 12)), pts, [0, 1], ["0", "1"], "binary")
    with pytest.raises(ValueError, match=r"`xx` must be at least 2 finite, increasing"):
        decision_surface_figure(xx[::-1], yy, np.zeros((13, 12)), pts, [0, 1, 0], ["0", "1"], "binary")


def test_interface_response_thumbnails():
    xx, yy = grid()
    responses = rng(19).normal(size=(11, 13, 12))
    fig = interface_response_figure(xx, yy, responses, max_cols=4)
    assert len(fig.data) == 11 and {t.type for t in fig.data} == {"heatmap"}
    m = float(np.abs(responses).max())
    assert all(t.zmin == pytest.approx(-m) and t.zmax == pytest.approx(m) for t in fig.data)
    assert [t.showscale for t in fig.data].count(True) == 1
    assert [a.text for a in fig.layout.annotations] == [f"if {i}" for i in range(11)]
    assert fig.layout.xaxis.showticklabels is False and fig.layout.yaxis2.ticks == ""
    np.testing.assert_allclose(fig.data[10].z, responses[10], rtol=1e-6)
    with pytest.raises(ValueError, match=r"`responses` must have shape \(N, len\(yy\), len\(xx\)\) = \(N, 13, 12\)"):
        interface_response_figure(xx, yy, responses[:, :, :5])


# ----------------------------------------------------------------------------- 10. architecture


def _rects(fig):
    return [s for s in fig.layout.shapes if s.type == "rect"]


def test_architecture_boxes_and_parameter_counts():
    counts = {"interfaces": 36, "reservoir": 0, "merge": 0, "hidden": 200, "head": 9}
    fig = architecture_figure(2, 3, 4, "concat", 16, 1, counts)
    texts = " ".join(a.text for a in fig.layout.annotations)
    for expected in ("Input", "InformationInterfaces", "EnergyReservoir", "Flatten", "hidden, 16 units", "head",
                     "36 params", "200 params", "9 params", "(batch, 3, 4)", "(batch, 12)"):
        assert expected in texts, expected
    assert "245 parameters" in fig.layout.title.text
    # 3 interface boxes + their frame + Input, reservoir, merge, hidden, head
    assert len(_rects(fig)) == 3 + 1 + 5
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == 5  # left to right between the 6 stages
    assert all(a.x > a.ax for a in arrows)
    (hover,) = fig.data
    assert len(hover.x) == 6 and "36 parameters" in hover.text[1]
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.fixedrange is True


def test_architecture_caps_interface_boxes_and_skips_missing_hidden():
    fig = architecture_figure(8, 64, 4, "mean", None, 3, {"interfaces": 2304, "head": 15})
    texts = [a.text for a in fig.layout.annotations]
    assert len(_rects(fig)) == 15 + 1 + 4  # 15 boxes and "… 49 more" in the 16th slot
    assert any(t == "… 49 more" for t in texts)
    assert not any("hidden" in t for t in texts) and any("Mean" in t for t in texts)
    assert any("(batch, 4)" == t for t in texts)  # mean merges to `units`


def test_architecture_validation():
    with pytest.raises(ValueError, match=r"`merge` must be 'concat' or 'mean'. Received: merge='sum'"):
        architecture_figure(2, 3, 4, "sum", None, 1, {})
    with pytest.raises(ValueError, match=r"`num_interfaces` must be a whole number >= 1. Received: num_interfaces=0"):
        architecture_figure(2, 0, 4, "concat", None, 1, {})
    with pytest.raises(ValueError, match=r"`param_counts` must map layer names to parameter counts"):
        architecture_figure(2, 3, 4, "concat", None, 1, {"head": -1})


# ----------------------------------------------------------------------------- 11. 2-D data


def test_scatter_2d_categorical_target():
    df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, np.nan], "y": [1.0, 0.0, 1.0, 2.0, 0.0],
                       "label": ["b", "a", "b", None, "a"]})
    fig = scatter_2d_figure(df, "x", "y", "label")
    assert [t.name for t in fig.data] == ["a", "b", "(missing)"]
    assert [len(t.x) for t in fig.data] == [1, 2, 1]  # the row with NaN x is left out
    assert fig.data[0].marker.color != fig.data[1].marker.color
    assert axis_title(fig.layout.xaxis) == "x" and axis_title(fig.layout.yaxis) == "y"
    # a 0/1 number target is categorical too, ordered like the class names
    df = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 2.0], "t": [1, 0, 1]})
    assert [t.name for t in scatter_2d_figure(df, "x", "y", "t").data] == ["0", "1"]


def test_scatter_2d_numeric_target():
    df = pd.DataFrame({"x": np.arange(30.0), "y": np.arange(30.0), "v": np.linspace(-1, 1, 30)})
    fig = scatter_2d_figure(df, "x", "y", "v")
    (trace,) = fig.data
    np.testing.assert_allclose(trace.marker.color, df["v"])
    assert trace.marker.showscale is True and trace.marker.colorbar.title.text == "v"
    assert scatter_2d_figure(df, "x", "y", None).data[0].name == "data"


def test_scatter_2d_validation():
    df = pd.DataFrame({"x": [1.0], "y": [2.0]})
    with pytest.raises(ValueError, match=r"`color` must be a column of `df` \(columns: \['x', 'y'\]\). Received: color='z'"):
        scatter_2d_figure(df, "x", "y", "z")
    with pytest.raises(ValueError, match=r"`df` must be a pandas DataFrame"):
        scatter_2d_figure({"x": [1]}, "x", "y", None)


# ----------------------------------------------------------------------------- 12. runs


def test_compare_curves_overlays_runs():
    runs = [{"label": "a", "epochs": [1, 2, 3], "values": [3.0, 2.0, 1.0]},
            {"label": "b", "epochs": np.arange(1, 6), "values": np.arange(5.0)}]
    fig = compare_curves_figure(runs, "val_loss")
    assert [t.name for t in fig.data] == ["a", "b"] and len(fig.data[1].x) == 5
    assert fig.data[0].line.color != fig.data[1].line.color
    assert axis_title(fig.layout.yaxis) == "val_loss" and "val_loss" in fig.layout.title.text
    smoothed = compare_curves_figure(runs, "val_loss", smoothing=0.5)
    assert [t.name for t in smoothed.data] == ["a (raw)", "a", "b (raw)", "b"]
    np.testing.assert_allclose(smoothed.data[1].y, smooth_ema([3.0, 2.0, 1.0], 0.5))
    with pytest.raises(ValueError, match=r"`runs\[1\]` must be a dict with keys 'label', 'epochs', 'values'"):
        compare_curves_figure([runs[0], {"label": "x"}], "val_loss")
    with pytest.raises(ValueError, match=r"`runs\[0\]\['values'\]` needs one value per epoch"):
        compare_curves_figure([{"label": "a", "epochs": [1, 2], "values": [1.0]}], "m")
    with pytest.raises(ValueError, match=r"`runs` must be a non-empty list"):
        compare_curves_figure([], "m")


def test_sweep_two_axes_sorted_by_n():
    fig = sweep_figure([8, 1, 4, 2], [0.9, 0.6, 0.8, 0.7], [4.0, 0.5, np.nan, 1.0], "val_accuracy")
    metric, energy = fig.data
    np.testing.assert_array_equal(metric.x, [1, 2, 4, 8])
    np.testing.assert_allclose(metric.y, [0.6, 0.7, 0.8, 0.9])
    np.testing.assert_allclose(energy.y, [0.5, 1.0, np.nan, 4.0])
    assert metric.mode == energy.mode == "lines+markers"
    assert (metric.yaxis, energy.yaxis) == ("y", "y2")
    assert fig.layout.yaxis2.overlaying == "y" and fig.layout.yaxis2.side == "right"
    assert axis_title(fig.layout.xaxis) == "number of interfaces N"
    assert axis_title(fig.layout.yaxis) == "val_accuracy" and "energy" in axis_title(fig.layout.yaxis2)
    with pytest.raises(ValueError, match=r"`mean_energy` needs one value per run \(R=len\(num_interfaces\)=2\)"):
        sweep_figure([1, 2], [0.5, 0.6], [1.0], "m")
    with pytest.raises(ValueError, match=r"`num_interfaces` must be \(R,\) numbers of interfaces >= 1"):
        sweep_figure([0, 2], [0.5, 0.6], [1.0, 2.0], "m")


# ----------------------------------------------------------------------------- 13. figure_data


def test_figure_data_of_lines():
    E, N = 7, 3
    norms = rng(20).random((E, N))
    table = figure_data(kernel_norm_figure(np.arange(E), norms))
    assert list(table.columns) == ["trace", "type", "x", "y", "z", "color"]
    assert len(table) == E * N
    assert list(table["trace"].unique()) == ["if 0", "if 1", "if 2"]
    np.testing.assert_allclose(table.loc[table.trace == "if 2", "y"], norms[:, 2], rtol=1e-6)
    np.testing.assert_array_equal(table.loc[table.trace == "if 2", "x"], np.arange(E))
    assert table["z"].isna().all()


def test_figure_data_of_heatmaps_flattens_row_by_row():
    counts = np.arange(13 * 4).reshape(13, 4)
    edges = np.array([0.0, 1.0, 2.0, 4.0, 8.0])
    table = figure_data(output_histograms_figure(edges, counts, 1))
    assert len(table) == 13 * 4
    np.testing.assert_array_equal(table["z"], counts.reshape(-1))
    np.testing.assert_allclose(table["x"][:4], [0.5, 1.5, 3.0, 6.0])  # bin centres
    assert list(table["y"][:5]) == ["if 0"] * 4 + ["if 1"]


def test_figure_data_keeps_colour_values_and_reads_dicts():
    fig = info_plane_figure(rng(21).random((4, 2)), rng(22).random((4, 2)), [3, 1, 2, 4], "binning")
    table = figure_data(fig)
    np.testing.assert_array_equal(table["color"], [1, 2, 3, 4, 1, 2, 3, 4])  # the epoch of each point
    # a figure dict (as serialised, with base64 arrays) gives the same table
    pd.testing.assert_frame_equal(figure_data(fig.to_dict()), table)
    assert figure_data(architecture_figure(2, 3, 4, "concat", None, 1, {})).shape == (5, 7)
    with pytest.raises(ValueError, match=r"`fig` must be a plotly Figure"):
        figure_data("not a figure")


def test_figure_data_csv_is_tidy_and_short():
    fig = kernel_heatmaps_figure(np.full((2, 2, 2), 0.1), ["a", "b"])
    csv = figure_data(fig).to_csv(index=False)
    lines = csv.strip().split("\n")
    assert lines[0] == "trace,type,x,y,z,color" and len(lines) == 1 + 8
    assert lines[1] == "if 0,heatmap,0,a,0.1,"  # float32 data printed as 0.1, not 0.10000000149011612


@pytest.mark.parametrize("name", BUILDERS)
def test_figure_data_of_every_builder(name):
    fig = builders()[name]()
    table = figure_data(fig)
    assert len(table) > 0 and {"trace", "x", "y", "z"} <= set(table.columns)
    assert set(table["trace"]) <= {t.name for t in fig.data}


# ----------------------------------------------------------------------------- speed


def test_every_builder_is_fast_at_64_interfaces_and_500_epochs():
    """The dashboard draws ~10 of these per rerun within 300 ms; each takes a few ms (200 ms catches pathologies)."""
    timings = {}
    for name, build in builders(N=64, E=500).items():
        build()  # warm: plotly's lazy imports, the template
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            build()
            best = min(best, time.perf_counter() - started)
        timings[name] = best
    slow = {k: f"{v * 1000:.0f} ms" for k, v in timings.items() if v > 0.2}
    assert not slow, slow
    assert sum(timings.values()) < 1.0, {k: f"{v * 1000:.1f} ms" for k, v in timings.items()}

"""Tests for infoif.figures.compare, the Compare page's charts: runs overlaid, a metric and the
energy against the number of interfaces, and a sweep's results (a metric against a setting with a
± std band across seeds; parallel coordinates of settings against results): known results in,
known means, stds, axes and dimensions out; bad arguments refused by name.
No browser: everything is asserted on `fig.data` and `fig.layout`.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from infoif.constants import SWEEP_SETTINGS
from infoif.figures.compare import (
    SWEEP_MAX_GROUPS, compare_curves_figure, sweep_band_figure, sweep_figure, sweep_parcoords_figure,
)
from infoif.figures.curves import smooth_ema
from infoif.figures.table import figure_data
from tests.figures.inputs import axis_title


def results(grid: dict, seeds=(0, 1, 2), metric=None, **base) -> pd.DataFrame:
    """A results frame as infoif.runs.sweep.results gives it: one row per grid point and seed, every
    sweepable setting (base values for the ones not in the grid), metrics from `metric(point)`."""
    import itertools

    defaults = dict(num_interfaces=8, units=8, activation="tanh", leak=0.1, penalty=0.0, merge="concat",
                    learning_rate=0.01, batch_size=32, **base)
    metric = metric or (lambda p: {"val_accuracy": 0.5 + 0.01 * p["seed"], "loss": 1.0})
    rows = []
    names = list(grid)
    for combo in itertools.product(*(grid[n] for n in names)):
        for seed in seeds:
            point = {**defaults, **dict(zip(names, combo)), "seed": seed}
            rows.append({"run": f"run-{len(rows) + 1}", "id": f"{len(rows):016x}", "status": "finished",
                         "worker": "w0", "seed": seed, "epochs": 5,
                         **{k: point[k] for k in SWEEP_SETTINGS}, **metric(point), "mean_energy": 1.0})
    return pd.DataFrame(rows)


def acc(p):
    """val_accuracy = 0.5 + 0.05 log2 N + 0.1 (relu) + 0.01 seed; loss = 1 / N."""
    return {"val_accuracy": 0.5 + 0.05 * np.log2(p["num_interfaces"]) + (0.1 if p["activation"] == "relu" else 0)
            + 0.01 * p["seed"], "accuracy": 0.9, "loss": 1.0 / p["num_interfaces"], "val_loss": 2.0}


GRID = {"num_interfaces": (1, 2, 4, 8), "activation": ("tanh", "relu")}


def mean_trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def builders():
    frame = results(GRID, metric=acc)
    return {
        "band": lambda: sweep_band_figure(frame, "num_interfaces", "val_accuracy"),
        "band_grouped": lambda: sweep_band_figure(frame, "num_interfaces", "val_accuracy", "activation"),
        "band_categorical": lambda: sweep_band_figure(frame, "activation", "loss"),
        "parcoords": lambda: sweep_parcoords_figure(frame, ["num_interfaces", "activation"],
                                                    ["val_accuracy", "loss"], "val_accuracy"),
    }


BUILDERS = sorted(builders())


# ----------------------------------------------------------------------------- runs


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


# ----------------------------------------------------------------------------- the shared look of the sweep figures


@pytest.mark.parametrize("name", BUILDERS)
def test_figure_validates_to_the_same_figure_with_list_colour_scales(name):
    fig = builders()[name]()
    assert isinstance(fig, go.Figure)
    validated = go.Figure(data=[t.to_plotly_json() for t in fig.data], layout=fig.layout.to_plotly_json())
    assert json.loads(pio.to_json(fig, validate=False)) == json.loads(pio.to_json(validated, validate=False))
    text = pio.to_json(fig, validate=False)
    for trace in json.loads(text)["data"]:
        assert not isinstance(trace.get("line", {}).get("colorscale"), str)


@pytest.mark.parametrize("name", BUILDERS)
def test_figure_has_the_shared_look(name):
    fig = builders()[name]()
    assert fig.layout.template.layout.to_plotly_json() == pio.templates["plotly_white"].layout.to_plotly_json()
    assert fig.layout.title.text
    assert fig.layout.margin.l <= 200 and fig.layout.margin.t <= 90
    with pytest.raises(ValueError):
        fig.update_layout(titel="typo")
    with pytest.raises(ValueError):
        fig.data[0]["nme"] = "typo"


@pytest.mark.parametrize("name", [b for b in BUILDERS if b.startswith("band")])
def test_every_band_trace_has_a_hover_template_or_no_hover(name):
    for trace in builders()[name]().data:
        assert trace.hovertemplate or trace.hoverinfo == "skip", trace.name


# ----------------------------------------------------------------------------- band


def test_band_means_stds_and_counts_across_seeds():
    frame = results(GRID, metric=acc)
    fig = sweep_band_figure(frame, "num_interfaces", "val_accuracy")
    assert [t.name for t in fig.data] == ["val_accuracy (mean - std)", "val_accuracy (mean + std)", "val_accuracy"]
    lower, upper, mean = fig.data
    np.testing.assert_array_equal(mean.x, [1, 2, 4, 8])
    # at each N: both activations times seeds 0, 1, 2
    expected = [0.5 + 0.05 * np.log2(n) + np.array([0, 0.01, 0.02, 0.1, 0.11, 0.12]) for n in (1, 2, 4, 8)]
    np.testing.assert_allclose(mean.y, [e.mean() for e in expected])
    std = np.array([e.std(ddof=1) for e in expected])
    np.testing.assert_allclose(upper.y - mean.y, std)
    np.testing.assert_allclose(mean.y - lower.y, std)
    np.testing.assert_allclose(np.asarray(mean.customdata)[:, 0], std)
    assert list(mean.text) == ["n=6"] * 4 and "%{text}" in mean.hovertemplate and "± %{customdata[0]" in \
        mean.hovertemplate
    assert upper.fill == "tonexty" and lower.fill is None and upper.fillcolor.startswith("rgba(")
    assert lower.line.width == 0 and upper.line.width == 0 and not lower.showlegend
    assert mean.mode == "lines+markers"
    assert fig.layout.xaxis.title.text == "num_interfaces" and fig.layout.yaxis.title.text == "val_accuracy"
    assert "against num_interfaces" in fig.layout.title.text and "24 of 24 runs" in fig.layout.title.subtitle.text


def test_band_one_line_per_value_of_group_by():
    frame = results(GRID, metric=acc)
    fig = sweep_band_figure(frame, "num_interfaces", "val_accuracy", group_by="activation")
    means = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in means] == ["activation = tanh", "activation = relu"]
    for t, bonus in zip(means, (0.0, 0.1)):
        np.testing.assert_allclose(t.y, [0.5 + 0.05 * np.log2(n) + bonus + 0.01 for n in (1, 2, 4, 8)])
        assert list(t.text) == ["n=3"] * 4
    assert means[0].line.color != means[1].line.color
    assert fig.layout.showlegend and fig.layout.legend.title.text == "activation"
    # each band fills to its own lower bound, in its line's colour
    for k in (0, 3):
        assert fig.data[k + 1].fill == "tonexty" and fig.data[k + 1].legendgroup == fig.data[k + 2].name


def test_band_of_a_single_run_has_zero_width_and_only_finite_metrics_count():
    frame = results({"num_interfaces": (1, 2)}, seeds=(0, 1))
    frame.loc[0, "val_accuracy"] = np.nan  # N=1, seed 0: not finished
    frame.loc[1, "val_accuracy"] = 0.7
    frame.loc[2:, "val_accuracy"] = [0.6, float("inf")]
    fig = sweep_band_figure(frame, "num_interfaces", "val_accuracy")
    lower, upper, mean = fig.data
    np.testing.assert_allclose(mean.y, [0.7, 0.6])
    np.testing.assert_allclose(upper.y, [0.7, 0.6])
    assert list(mean.text) == ["n=1", "n=1"] and "2 of 4 runs" in fig.layout.title.subtitle.text
    # a metric no run has yet: an empty chart that says so
    frame["val_accuracy"] = None
    empty = sweep_band_figure(frame, "num_interfaces", "val_accuracy")
    assert len(empty.data) == 0 and "No run has a val_accuracy yet" in empty.layout.annotations[0].text


def test_band_axes_numeric_log_and_categorical():
    linear = sweep_band_figure(results({"num_interfaces": (8, 1, 4, 2)}), "num_interfaces", "val_accuracy")
    assert linear.layout.xaxis.type == "linear"
    np.testing.assert_array_equal(linear.data[2].x, [1, 2, 4, 8])  # sorted by value
    assert list(linear.layout.xaxis.tickvals) == [1, 2, 4, 8]
    wide = sweep_band_figure(results({"num_interfaces": (1, 4, 16, 64)}), "num_interfaces", "val_accuracy")
    assert wide.layout.xaxis.type == "log"
    rates = sweep_band_figure(results({"learning_rate": (0.1, 0.001, 0.01)}), "learning_rate", "val_accuracy")
    assert rates.layout.xaxis.type == "log" and list(rates.layout.xaxis.ticktext) == ["0.001", "0.01", "0.1"]
    np.testing.assert_allclose(rates.data[2].x, [0.001, 0.01, 0.1])
    leaks = sweep_band_figure(results({"leak": (0.0, 0.5)}), "leak", "val_accuracy")
    assert leaks.layout.xaxis.type == "linear"  # zero: never a log axis
    acts = sweep_band_figure(results({"activation": ("relu", "tanh", "gelu")}), "activation", "val_accuracy")
    assert acts.layout.xaxis.type == "category"
    assert list(acts.layout.xaxis.categoryarray) == ["relu", "tanh", "gelu"] == list(acts.data[2].x)  # grid order
    merge = sweep_band_figure(results({"merge": ("concat", "mean")}), "merge", "val_accuracy")
    assert merge.layout.xaxis.type == "category"
    units = sweep_band_figure(results({"units": (16, None, 4)}), "units", "val_accuracy")
    assert units.layout.xaxis.type == "category" and list(units.data[2].x) == ["4", "16", "input"]


def test_band_refuses_bad_arguments_by_name():
    frame = results(GRID, metric=acc)
    with pytest.raises(ValueError, match=r"`setting` must be a column of `results`.*Received: setting='colour'$"):
        sweep_band_figure(frame, "colour", "val_accuracy")
    with pytest.raises(ValueError, match=r"Received: metric='val_mae'$"):
        sweep_band_figure(frame, "num_interfaces", "val_mae")
    with pytest.raises(ValueError, match=r"Received: group_by='nope'$"):
        sweep_band_figure(frame, "num_interfaces", "val_accuracy", "nope")
    with pytest.raises(ValueError, match=r"`group_by` must be another column.*Received: group_by='activation'$"):
        sweep_band_figure(frame, "activation", "val_accuracy", "activation")
    with pytest.raises(ValueError, match=r"`results` must be a pandas DataFrame.*Received: results of type dict"):
        sweep_band_figure({"num_interfaces": [1]}, "num_interfaces", "val_accuracy")
    many = results({"num_interfaces": tuple(range(1, 11)), "activation": ("tanh", "relu")}, seeds=(0,))
    with pytest.raises(ValueError, match=rf"has 10 values.*at most {SWEEP_MAX_GROUPS}\. "
                                         r"Received: group_by='num_interfaces'$"):
        sweep_band_figure(many, "activation", "val_accuracy", "num_interfaces")
    assert len(sweep_band_figure(many, "num_interfaces", "val_accuracy", "activation").data) == 6


def test_band_figure_data_gives_the_means_and_the_band():
    table = figure_data(sweep_band_figure(results(GRID, metric=acc), "activation", "loss"))
    assert list(table["trace"].unique()) == ["loss (mean - std)", "loss (mean + std)", "loss"]
    means = table[table.trace == "loss"]
    assert list(means["x"]) == ["tanh", "relu"] and list(means["text"]) == ["n=12", "n=12"]
    np.testing.assert_allclose(means["y"], [np.mean([1, 0.5, 0.25, 0.125])] * 2)


# ----------------------------------------------------------------------------- parallel coordinates


def test_parcoords_one_dimension_per_setting_then_metric_then_energy():
    frame = results(GRID, metric=acc)
    frame["mean_energy"] = frame["num_interfaces"] * 0.5
    fig = sweep_parcoords_figure(frame, ["num_interfaces", "activation"], ["val_accuracy", "loss"], "val_accuracy")
    (trace,) = fig.data
    assert trace.type == "parcoords"
    dims = trace.dimensions
    assert [d.label for d in dims] == ["num_interfaces", "activation", "val_accuracy", "loss", "mean_energy"]
    np.testing.assert_array_equal(dims[0].values, frame["num_interfaces"])
    assert list(dims[0].tickvals) == [1, 2, 4, 8] and list(dims[0].ticktext) == ["1", "2", "4", "8"]
    # a text setting: integer codes, labelled
    assert list(dims[1].tickvals) == [0, 1] and list(dims[1].ticktext) == ["tanh", "relu"]
    np.testing.assert_array_equal(dims[1].values, (frame["activation"] == "relu").astype(float))
    np.testing.assert_allclose(dims[2].values, frame["val_accuracy"])
    np.testing.assert_allclose(dims[4].values, frame["mean_energy"])
    np.testing.assert_allclose(trace.line.color, frame["val_accuracy"])
    assert isinstance(trace.line.colorscale, tuple) and trace.line.showscale
    assert trace.line.colorbar.title.text == "val_accuracy"
    assert "24 of 24 runs" in fig.layout.title.subtitle.text


def test_parcoords_log_settings_input_units_and_unfinished_runs():
    frame = results({"learning_rate": (0.001, 0.1), "units": (None, 4)}, seeds=(0, 1))
    frame.loc[0, "val_accuracy"] = np.nan  # unfinished: left out
    frame.loc[1, "mean_energy"] = np.nan  # energy unknown for one run: the energy axis is left out
    fig = sweep_parcoords_figure(frame, ["learning_rate", "units"], ["val_accuracy"], color="units")
    dims = fig.data[0].dimensions
    assert [d.label for d in dims] == ["learning_rate (log)", "units", "val_accuracy"]
    np.testing.assert_allclose(dims[0].values, np.log10(frame["learning_rate"][1:]))
    assert list(dims[0].ticktext) == ["0.001", "0.1"] and np.allclose(dims[0].tickvals, [-3, -1])
    assert list(dims[1].ticktext) == ["4", "input"]
    np.testing.assert_array_equal(dims[1].values, [1, 0, 0, 1, 1, 0, 0])
    assert list(fig.data[0].line.colorbar.ticktext) == ["4", "input"]
    assert "7 of 8 runs" in fig.layout.title.subtitle.text and "mean energy left out" in fig.layout.title.subtitle.text


def test_parcoords_with_nothing_finished_says_so_and_its_data_is_the_results_table():
    frame = results({"num_interfaces": (1, 2)})
    fig = sweep_parcoords_figure(frame, ["num_interfaces"], ["val_accuracy"], "val_accuracy")
    assert figure_data(fig).empty  # no x or y: the page offers the results table's CSV instead
    frame["val_accuracy"] = None
    empty = sweep_parcoords_figure(frame, ["num_interfaces"], ["val_accuracy"], "val_accuracy")
    assert len(empty.data) == 0 and "No run has finished" in empty.layout.annotations[0].text


def test_parcoords_refuses_bad_arguments_by_name():
    frame = results(GRID, metric=acc)
    with pytest.raises(ValueError, match=r"`settings\[1\]` must be a column of `results`.*"
                                         r"Received: settings\[1\]='colour'$"):
        sweep_parcoords_figure(frame, ["num_interfaces", "colour"], ["loss"], "loss")
    with pytest.raises(ValueError, match=r"`settings` must be a list of column names.*Received: settings='leak'$"):
        sweep_parcoords_figure(frame, "leak", ["loss"], "loss")
    with pytest.raises(ValueError, match=r"`metrics` must name at least one column.*Received: metrics=\[\]$"):
        sweep_parcoords_figure(frame, ["leak"], [], "loss")
    with pytest.raises(ValueError, match=r"Received: color='val_mae'$"):
        sweep_parcoords_figure(frame, ["leak"], ["loss"], "val_mae")


def test_sweep_figures_of_a_2000_run_sweep_build_in_milliseconds():
    frame = results({"num_interfaces": tuple(range(1, 21)), "activation": ("tanh", "relu", "gelu", "elu"),
                     "leak": (0.0, 0.1, 0.2, 0.3, 0.5)}, seeds=tuple(range(5)), metric=acc)
    assert len(frame) == 2000
    build = [lambda: sweep_band_figure(frame, "num_interfaces", "val_accuracy", "activation"),
             lambda: sweep_band_figure(frame, "leak", "val_accuracy"),
             lambda: sweep_parcoords_figure(frame, ["num_interfaces", "activation", "leak"],
                                            ["val_accuracy", "loss"], "val_accuracy")]
    for b in build:
        b()
    best = min(_timed(lambda: [b() for b in build]) for _ in range(3))
    assert best < 0.5, f"{best * 1000:.0f} ms"


def _timed(f):
    started = time.perf_counter()
    f()
    return time.perf_counter() - started

"""Compare page charts: one metric of several runs overlaid (`compare_curves_figure`), the
metric and energy against the number of interfaces (`sweep_figure`), and a sweep's results
(`infoif.runs.sweep.results`) as a metric against a setting with a band across seeds
(`sweep_band_figure`) or as parallel coordinates of settings and results (`sweep_parcoords_figure`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from infoif.figures.checks import _epochs, _fail, _finite, _numeric, _positive_int, _smoothing
from infoif.figures.curves import _curve_traces, _display_indices
from infoif.figures.style import _UNIFIED_MAX, SERIES_PALETTE, VIRIDIS, _axis, _figure, _line_type, _rgba, _title

__all__ = [
    "compare_curves_figure",
    "sweep_figure",
    "sweep_band_figure",
    "sweep_parcoords_figure",
    "SWEEP_MAX_GROUPS",
]


# ---------------------------------------------------------------- runs


def compare_curves_figure(runs: Sequence[Mapping[str, Any]], metric: str, smoothing: float = 0.0,
                          max_points: int = 2000) -> go.Figure:
    """One metric of several runs, overlaid.

    Args:
        runs: [{"label": str, "epochs": (E_r,), "values": (E_r,)}, ...] (each run its own epochs).
        metric: the metric's name (title and y axis).
        smoothing: TensorBoard smoothing in [0, 1), as in `loss_curves_figure`.
        max_points: about the most points drawn per run, as in `loss_curves_figure`.
    """
    w = _smoothing(smoothing)
    max_points = _positive_int(max_points, "max_points")
    if isinstance(runs, Mapping) or not isinstance(runs, Sequence) or not runs:
        _fail("`runs` must be a non-empty list of dicts with keys 'label', 'epochs', 'values'. "
              f"Received: runs={runs!r:.80}")
    prepared = []
    for r, run in enumerate(runs):
        if not isinstance(run, Mapping) or not {"label", "epochs", "values"} <= set(run):
            _fail(f"`runs[{r}]` must be a dict with keys 'label', 'epochs', 'values'. "
                  f"Received: keys {sorted(run) if isinstance(run, Mapping) else type(run).__name__}")
        x = _epochs(run["epochs"], f"runs[{r}]['epochs']")
        y = _numeric(run["values"], f"runs[{r}]['values']", 1, "(E,)")
        if y.size != x.size:
            _fail(f"`runs[{r}]['values']` needs one value per epoch (len(epochs)={x.size}). "
                  f"Received: runs[{r}]['values'].shape={y.shape}")
        prepared.append((str(run["label"]), x, _finite(y)))
    kept = [_display_indices(x.size, [y], max_points) for _, x, y in prepared]
    trace_type = _line_type(sum(k.size for k in kept) * (2 if w else 1))
    data = []
    for r, ((label, x, y), keep) in enumerate(zip(prepared, kept)):
        data += _curve_traces(label, x, y, SERIES_PALETTE[r % len(SERIES_PALETTE)], w, trace_type, keep)
    unified = len(prepared) <= _UNIFIED_MAX
    return _figure(data, dict(
        title=_title(f"{metric} across runs", f"smoothing {w:g} (faint: raw)" if w else f"{len(prepared)} runs"),
        xaxis=_axis("epoch", **({"unifiedhovertitle": dict(text="epoch %{x}")} if unified else {})),
        yaxis=_axis(str(metric)), hovermode="x unified" if unified else "closest",
        legend=dict(title=dict(text="run")),
    ))


def sweep_figure(num_interfaces, val_metric, mean_energy, metric_name: str) -> go.Figure:
    """A sweep over the number of interfaces: the final validation metric (left axis) and the
    mean interface energy (right axis) against N, markers joined in order of N.

    Args:
        num_interfaces: (R,) N of each run.
        val_metric: (R,) final validation metric of each run.
        mean_energy: (R,) mean final interface energy of each run (NaN when unknown).
        metric_name: the metric's name, e.g. "val_accuracy".
    """
    n = _numeric(num_interfaces, "num_interfaces", 1, "(R,)")
    if n.size == 0 or not np.all(np.isfinite(n)) or np.any(n < 1):
        _fail(f"`num_interfaces` must be (R,) numbers of interfaces >= 1, R >= 1. Received: "
              f"num_interfaces={np.asarray(num_interfaces).tolist()!r:.80}")
    m = _numeric(val_metric, "val_metric", 1, f"(R,) with R=len(num_interfaces)={n.size}")
    e = _numeric(mean_energy, "mean_energy", 1, f"(R,) with R=len(num_interfaces)={n.size}")
    for name, arr in (("val_metric", m), ("mean_energy", e)):
        if arr.size != n.size:
            _fail(f"`{name}` needs one value per run (R=len(num_interfaces)={n.size}). Received: {name}.shape={arr.shape}")
    order = np.argsort(n, kind="stable")
    xs = n[order]
    xs = xs.astype(np.int64) if np.all(xs == np.round(xs)) else xs
    c_metric, c_energy = SERIES_PALETTE[0], SERIES_PALETTE[1]
    data = [
        dict(type="scatter", x=xs, y=_finite(m[order]), name=str(metric_name), mode="lines+markers", yaxis="y",
             line=dict(color=c_metric, width=2), marker=dict(size=8),
             hovertemplate=f"N = %{{x}}<br>{metric_name} %{{y:.4g}}<extra></extra>"),
        dict(type="scatter", x=xs, y=_finite(e[order]), name="mean energy", mode="lines+markers", yaxis="y2",
             line=dict(color=c_energy, width=2, dash="dash"), marker=dict(size=8, symbol="diamond"),
             connectgaps=True, hovertemplate="N = %{x}<br>mean energy %{y:.4g} (activation²)<extra></extra>"),
    ]
    return _figure(data, dict(
        title=_title(f"{metric_name} and energy vs number of interfaces", f"{n.size} runs"),
        xaxis=_axis("number of interfaces N", tickformat="d"),
        yaxis=_axis(None, title=dict(text=str(metric_name), font=dict(color=c_metric), standoff=6),
                    tickfont=dict(color=c_metric)),
        yaxis2=_axis(None, overlaying="y", side="right", showgrid=False,
                     title=dict(text="mean interface energy", font=dict(color=c_energy), standoff=6),
                     tickfont=dict(color=c_energy)),
        hovermode="x unified", legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        margin=dict(r=64),
    ))


# ---------------------------------------------------------------- sweeps (infoif.runs.sweep.results)

SWEEP_MAX_GROUPS = 8  # sweep_band_figure: at most this many lines (values of `group_by`)
_SWEEP_TICKS = 12  # a numeric setting with at most this many values gets a tick at each
_LOG_RATIO = 32.0  # positive values whose largest is >= 32x the smallest (1 to 64, 1e-3 to 1e-1) get a log axis


class _Levels:
    """A sweep setting's column as levels: numbers sorted ascending, text in order of first
    appearance, and a missing value (None: `units` = the input width) as a level of its own, last.

    Attributes: labels (one per level), codes (the level of each row), numeric (every value a
    number, none missing), values (each level's number when numeric), log (numeric, positive, the
    largest at least _LOG_RATIO times the smallest).
    """

    def __init__(self, column, name: str):
        import pandas as pd

        raw = column.tolist()
        missing = [v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA for v in raw]
        present = [v for v, m in zip(raw, missing) if not m]
        all_numbers = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in present)
        if all_numbers:
            keys = sorted({float(v) for v in present})
            labels = [_setting_label(v) for v in keys]
            index = {k: i for i, k in enumerate(keys)}
            codes = [-1 if m else index[float(v)] for v, m in zip(raw, missing)]
        else:
            keys = list(dict.fromkeys(str(v) for v in present))
            labels = list(keys)
            index = {k: i for i, k in enumerate(keys)}
            codes = [-1 if m else index[str(v)] for v, m in zip(raw, missing)]
        if any(missing):
            labels.append("input" if name == "units" else "none")
            codes = [len(labels) - 1 if c < 0 else c for c in codes]
        self.labels = labels
        self.codes = np.asarray(codes, dtype=np.int64)
        self.numeric = all_numbers and not any(missing)
        self.values = np.asarray(keys, dtype=float) if self.numeric else None
        self.log = bool(self.numeric and len(keys) >= 2 and keys[0] > 0 and keys[-1] >= _LOG_RATIO * keys[0])


def _setting_label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _results_frame(results, name: str = "results"):
    import pandas as pd

    if not isinstance(results, pd.DataFrame):
        _fail(f"`{name}` must be a pandas DataFrame (as infoif.runs.sweep.results gives). "
              f"Received: {name} of type {type(results).__name__}")
    return results


def _column(results, value, name: str):
    if not isinstance(value, str) or value not in results.columns:
        _fail(f"`{name}` must be a column of `results` (columns: {list(map(str, results.columns))[:24]}). "
              f"Received: {name}={value!r}")
    return value


def _column_list(results, values, name: str, *, allow_empty: bool) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        _fail(f"`{name}` must be a list of column names of `results`. Received: {name}={values!r:.80}")
    if not values and not allow_empty:
        _fail(f"`{name}` must name at least one column of `results`. Received: {name}={list(values)!r}")
    for k, value in enumerate(values):
        _column(results, value, f"{name}[{k}]")
    return list(dict.fromkeys(values))


def _metric_values(results, metric: str) -> np.ndarray:
    import pandas as pd

    return pd.to_numeric(results[metric], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def sweep_band_figure(results, setting: str, metric: str, group_by: str | None = None) -> go.Figure:
    """A sweep's `metric` against one of its settings: at each value of `setting`, the mean over the
    runs there (its seeds) with a ± std band, the number of runs (n) in the hover.

    Numeric settings get a numeric axis in order of value (logarithmic when the values are positive
    and the largest is at least 32 times the smallest: num_interfaces 1 to 64, learning rates 0.001
    to 0.1), with a tick at
    each value when there are at most 12; text settings (activation, merge) a categorical axis in
    the order the results list them; units None is the level "input". Only runs whose `metric` is
    finite count (an unfinished run has none). With `group_by` (another setting), one line per
    value of it (at most SWEEP_MAX_GROUPS).

    Args:
        results: one row per run (`infoif.runs.sweep.results`): the settings' columns and `metric`.
        setting: the column on the x axis.
        metric: the column averaged, e.g. "val_accuracy".
        group_by: a column whose values get a line each, or None for one line.

    The std is the sample standard deviation (ddof=1) of the runs at a value; 0 for a single run.
    """
    results = _results_frame(results)
    _column(results, setting, "setting")
    _column(results, metric, "metric")
    if group_by is not None:
        _column(results, group_by, "group_by")
        if group_by == setting:
            _fail(f"`group_by` must be another column than `setting` (one line per value of it). "
                  f"Received: group_by={group_by!r}")
    y = _metric_values(results, metric)
    keep = np.isfinite(y)
    x_levels = _Levels(results[setting], setting)
    if group_by is not None:
        g_levels = _Levels(results[group_by], group_by)
        used = np.unique(g_levels.codes[keep])
        if used.size > SWEEP_MAX_GROUPS:
            _fail(f"`group_by` has {used.size} values among the runs; colour by a setting with at most "
                  f"{SWEEP_MAX_GROUPS}. Received: group_by={group_by!r}")
        groups = [(int(g), f"{group_by} = {g_levels.labels[g]}") for g in used]
        g_codes = g_levels.codes
    else:
        groups, g_codes = [(0, str(metric))], np.zeros(len(results), dtype=np.int64)
    n_levels = len(x_levels.labels)
    if x_levels.numeric:
        level_x = x_levels.values.astype(np.int64) if np.all(x_levels.values == np.round(x_levels.values)) \
            else x_levels.values
    else:
        level_x = np.asarray(x_levels.labels, dtype=object)
    data = []
    for k, (g, name) in enumerate(groups):
        colour = SERIES_PALETTE[k % len(SERIES_PALETTE)]
        mean, std, n, at = [], [], [], []
        for level in range(n_levels):
            vals = y[keep & (x_levels.codes == level) & (g_codes == g)]
            if vals.size:
                mean.append(float(vals.mean()))
                std.append(float(vals.std(ddof=1)) if vals.size > 1 else 0.0)
                n.append(int(vals.size))
                at.append(level)
        if not at:
            continue
        xs = level_x[at] if x_levels.numeric else [str(v) for v in level_x[at]]
        mean, std = np.asarray(mean), np.asarray(std)
        common = dict(type="scatter", x=xs, mode="lines", legendgroup=name, showlegend=False,
                      hoverinfo="skip", line=dict(width=0, color=colour))
        data += [
            dict(common, y=mean - std, name=f"{name} (mean - std)"),
            dict(common, y=mean + std, name=f"{name} (mean + std)", fill="tonexty", fillcolor=_rgba(colour, 0.18)),
            dict(type="scatter", x=xs, y=mean, name=name, mode="lines+markers", legendgroup=name,
                 line=dict(color=colour, width=2), marker=dict(size=8, color=colour),
                 text=[f"n={c}" for c in n], customdata=np.stack([std, np.asarray(n, float)], axis=1),
                 hovertemplate=(f"{setting} = %{{x}}<br>{metric} %{{y:.4g}} ± %{{customdata[0]:.2g}}"
                                f"<br>%{{text}} runs<extra>{name}</extra>")),
        ]
    if x_levels.numeric:
        xaxis = _axis(str(setting), type="log" if x_levels.log else "linear")
        if n_levels <= _SWEEP_TICKS:
            xaxis.update(tickmode="array", tickvals=level_x.tolist(), ticktext=list(x_levels.labels))
    else:
        xaxis = _axis(str(setting), type="category", categoryorder="array", categoryarray=list(x_levels.labels))
    runs = int(keep.sum())
    subtitle = (f"mean ± std across seeds · {runs} of {len(results)} runs with a {metric}"
                + (f" · colour: {group_by}" if group_by is not None else ""))
    layout = dict(title=_title(f"{metric} against {setting}", subtitle), xaxis=xaxis, yaxis=_axis(str(metric)),
                  hovermode="closest", showlegend=group_by is not None,
                  legend=dict(title=dict(text=str(group_by))) if group_by is not None else {})
    if not data:
        layout["annotations"] = [dict(text=f"No run has a {metric} yet", x=0.5, y=0.5, xref="paper",
                                      yref="paper", showarrow=False, font=dict(size=13, color="#666"))]
    return _figure(data, layout)


def _dimension(label: str, levels: _Levels | None, values: np.ndarray) -> dict:
    """One parallel-coordinates axis: a setting's (codes, log10 or values, with ticks) or a metric's."""
    if levels is None:
        return dict(label=label, values=values)
    if not levels.numeric:
        k = len(levels.labels)
        dim = dict(label=label, values=levels.codes[values].astype(float), tickvals=list(range(k)),
                   ticktext=list(levels.labels))
        if k == 1:
            dim["range"] = [-0.5, 0.5]
        return dim
    points = levels.values[levels.codes[values]]
    if levels.log:
        return dict(label=f"{label} (log)", values=np.log10(points), tickvals=np.log10(levels.values).tolist(),
                    ticktext=list(levels.labels))
    dim = dict(label=label, values=points)
    if len(levels.labels) <= _SWEEP_TICKS:
        dim.update(tickvals=levels.values.tolist(), ticktext=list(levels.labels))
    if len(levels.labels) == 1:
        dim["range"] = [levels.values[0] - 0.5, levels.values[0] + 0.5]
    return dim


def sweep_parcoords_figure(results, settings: Sequence[str], metrics: Sequence[str], color: str) -> go.Figure:
    """A sweep's runs as lines across parallel axes: its settings, then its final metrics (and the
    mean interface energy when every run drawn has one), each line coloured by `color`.

    Text settings (activation, merge, units None = "input") are drawn as integer codes labelled with
    their values; numeric settings that get a log axis in `sweep_band_figure` (the largest value at
    least 32 times the smallest) as log10, labelled "(log)" and ticked with the values. Only runs
    whose metrics (and colour) are all finite are drawn.

    Args:
        results: one row per run (`infoif.runs.sweep.results`).
        settings: the setting columns to draw (usually the varied ones), in order.
        metrics: the metric columns to draw (at least one), in order.
        color: the column that colours the lines (usually the headline metric).

    Parcoords traces hold no x or y: `figure_data` gives an empty table for this figure, so offer
    the results table itself as its data.
    """
    results = _results_frame(results)
    settings = _column_list(results, settings, "settings", allow_empty=True)
    metrics = _column_list(results, metrics, "metrics", allow_empty=False)
    _column(results, color, "color")
    metric_values = {m: _metric_values(results, m) for m in metrics}
    keep = np.ones(len(results), dtype=bool)
    for v in metric_values.values():
        keep &= np.isfinite(v)
    colour_levels = None
    if color in settings or not _is_number_column(results[color]):
        colour_levels = _Levels(results[color], color)
        colour_values = (colour_levels.values[colour_levels.codes] if colour_levels.numeric
                         else colour_levels.codes.astype(float))
    else:
        colour_values = _metric_values(results, color)
        keep &= np.isfinite(colour_values)
    rows = np.flatnonzero(keep)
    dims = [_dimension(str(s), _Levels(results[s], s), rows) for s in settings]
    dims += [_dimension(str(m), None, metric_values[m][rows]) for m in metrics]
    energy_note = ""
    if "mean_energy" in results.columns and "mean_energy" not in metrics and rows.size:
        energy = _metric_values(results, "mean_energy")[rows]
        if np.all(np.isfinite(energy)):
            dims.append(_dimension("mean_energy", None, energy))
        else:
            energy_note = " · mean energy left out (not known for every run)"
    title = _title(f"{len(settings)} settings against {len(dims) - len(settings)} results",
                   f"{rows.size} of {len(results)} runs · colour: {color}{energy_note}")
    # at the top of the figure: the axes' labels sit just above the plot
    title.update(y=0.985, yanchor="top", yref="container")
    layout = dict(title=title, margin=dict(l=64, r=72, t=90, b=28), height=440)
    if not rows.size:
        layout["annotations"] = [dict(text="No run has finished with its metrics yet", x=0.5, y=0.5,
                                      xref="paper", yref="paper", showarrow=False,
                                      font=dict(size=13, color="#666"))]
        return _figure([], layout)
    cv = colour_values[rows]
    line = dict(color=cv, colorscale=VIRIDIS, showscale=True,
                colorbar=dict(title=dict(text=str(color), side="right"), thickness=12),
                cmin=float(cv.min()), cmax=float(cv.max()) if cv.max() > cv.min() else float(cv.min()) + 1e-9)
    if colour_levels is not None and not colour_levels.numeric:
        k = len(colour_levels.labels)
        line["colorbar"].update(tickvals=list(range(k)), ticktext=list(colour_levels.labels))
    return _figure([dict(type="parcoords", dimensions=dims, line=line, labelangle=0, labelside="top",
                         name="runs")], layout)


def _is_number_column(column) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column))

"""Information page charts: the information plane (I(X;T) against I(T;Y), a path per interface
through the epochs) and the clustering view (each interface's outputs on its two main axes).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from infoif.figures.checks import _F32, _epochs, _fail, _finite, _max_cols, _numeric, _per_epoch
from infoif.figures.style import (
    _BANDS_PANELS, _MARGIN, VIRIDIS, _axis, _class_colors, _figure, _grid, _line_type, _rgba, _title,
    interface_colors,
)

__all__ = [
    "info_plane_figure",
    "clustering_figure",
]


# ---------------------------------------------------------------- information plane


def _optional_per_epoch(values, name: str, like: np.ndarray, epochs: np.ndarray) -> np.ndarray | None:
    if values is None:
        return None
    arr = _per_epoch(values, name, epochs, f"(E, N) = {like.shape}, like i_xt")
    if arr.shape != like.shape:
        _fail(f"`{name}` must have the shape of `i_xt`, {like.shape}. Received: {name}.shape={arr.shape}")
    return arr


def _ceiling(value, name: str, minimum: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < minimum:
        _fail(f"`{name}` must be a finite number >= {minimum:g} or None. Received: {name}={value!r}")
    return float(value)


def info_plane_figure(i_xt, i_ty, epochs, label: str, *, i_xt_lower=None, i_ty_lower=None,
                      samples: int | None = None, h_y: float | None = None,
                      range_note: str | None = None) -> go.Figure:
    """The information plane: I(X;T) against I(T;Y), a path per interface through the epochs.

    Args:
        i_xt, i_ty: (E, N) estimates in bits of each interface at each epoch
            (for the KDE: its upper bounds).
        epochs: (E,) epoch numbers (the path follows them in increasing order).
        label: how the estimates were made (e.g. "binning, 30 bins"), printed in the title.
        i_xt_lower, i_ty_lower: (E, N) the KDE lower-bound estimates, drawn as an
            interval on every point: a bar from the lower to the upper I(X;T)
            (a bracket: the true value lies between), and one from the point to
            the other I(T;Y) estimate (two estimates, not a bracket; the chart says so).
        samples: probe samples the estimates used; draws the ceiling
            log2(samples), which no I(X;T) estimate here exceeds.
        h_y: H(Y) in bits of their labels; draws that ceiling of I(T;Y).
        range_note: the binning range fixed for the run, in words, for the subtitle.

    Markers are coloured by epoch (Viridis, one colour bar); a thin line in the
    interface's colour joins each interface's points in time; the last point is larger.
    """
    x_ep = _epochs(epochs)
    a = _per_epoch(i_xt, "i_xt", x_ep, f"(E, N) with E=len(epochs)={x_ep.size}")
    b = _per_epoch(i_ty, "i_ty", x_ep, f"(E, N) with E=len(epochs)={x_ep.size}")
    if a.shape != b.shape:
        _fail(f"`i_xt` and `i_ty` must have the same shape (E, N). Received: i_xt.shape={a.shape}, "
              f"i_ty.shape={b.shape}")
    if not isinstance(label, str) or not label.strip():
        _fail(f"`label` must name the estimator (e.g. 'binning, 30 bins'). Received: label={label!r}")
    a_lo = _optional_per_epoch(i_xt_lower, "i_xt_lower", a, x_ep)
    b_lo = _optional_per_epoch(i_ty_lower, "i_ty_lower", a, x_ep)
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, numbers.Integral)
                                or samples < 1):
        _fail(f"`samples` must be a whole number >= 1 (the probe samples) or None. Received: samples={samples!r}")
    ceiling_x = math.log2(int(samples)) if samples is not None else None
    ceiling_y = _ceiling(h_y, "h_y", 0.0)
    if range_note is not None and not isinstance(range_note, str):
        _fail(f"`range_note` must be text or None. Received: range_note of type {type(range_note).__name__}")
    order = np.argsort(x_ep, kind="stable")
    x_ep, a, b = x_ep[order], _finite(a[order], _F32), _finite(b[order], _F32)
    n = a.shape[1]
    colours = interface_colors(n)
    a_t, b_t = np.ascontiguousarray(a.T), np.ascontiguousarray(b.T)
    lo_x = None if a_lo is None else np.ascontiguousarray(_finite(a_lo[order], _F32).T)
    lo_y = None if b_lo is None else np.ascontiguousarray(_finite(b_lo[order], _F32).T)
    sizes = np.full(x_ep.size, 6, dtype=np.uint8)
    sizes[-1] = 11
    kind = _line_type(a.size)
    data = []
    for i in range(n):
        trace = dict(
            type=kind, x=a_t[i], y=b_t[i], customdata=x_ep, name=f"if {i}", mode="lines+markers",
            line=dict(color=_rgba(colours[i], 0.6), width=1),
            marker=dict(color=x_ep, coloraxis="coloraxis", size=sizes, line=dict(color=colours[i], width=1)),
            hovertemplate=f"if {i} · epoch %{{customdata}}<br>I(X;T) ≈ %{{x:.3f}} bits<br>"
                          f"I(T;Y) ≈ %{{y:.3f}} bits<extra></extra>",
        )
        if lo_x is not None or lo_y is not None:
            # light bars: on every point of every interface they would hide the paths otherwise
            bar = dict(type="data", symmetric=False, thickness=1, width=0)
            lx = a_t[i] if lo_x is None else lo_x[i]
            ly = b_t[i] if lo_y is None else lo_y[i]
            trace["error_x"] = dict(bar, color=_rgba(colours[i], 0.4), array=np.zeros_like(lx),
                                    arrayminus=np.clip(a_t[i] - lx, 0, None))
            trace["error_y"] = dict(bar, color=_rgba(colours[i], 0.2), array=np.clip(ly - b_t[i], 0, None),
                                    arrayminus=np.clip(b_t[i] - ly, 0, None))
            trace["customdata"] = np.stack([x_ep.astype(np.float64), lx, ly], axis=1).astype(_F32)
            trace["hovertemplate"] = (
                f"if {i} · epoch %{{customdata[0]:.0f}}<br>I(X;T) between %{{customdata[1]:.3f}} (lower bound) "
                f"and %{{x:.3f}} bits (upper bound)<br>I(T;Y) ≈ %{{y:.3f}} bits (upper) or "
                f"%{{customdata[2]:.3f}} bits (lower estimate)<extra></extra>")
        data.append(trace)

    top_x = max([float(np.nanmax(a)) if np.isfinite(a).any() else 0.0] + ([ceiling_x] if ceiling_x else []))
    top_y = max([float(np.nanmax(b)) if np.isfinite(b).any() else 0.0]
                + ([float(np.nanmax(lo_y))] if lo_y is not None and np.isfinite(lo_y).any() else [])
                + ([ceiling_y] if ceiling_y else []))
    x_end, y_end = max(top_x, 0.1) * 1.06, max(top_y, 0.1) * 1.08
    ceiling_line = dict(color="#888888", width=1.5, dash="dot")
    if ceiling_x is not None:
        data.append(dict(type="scatter", x=[ceiling_x, ceiling_x], y=[0.0, y_end], mode="lines",
                         name=f"ceiling log2({samples:,}) = {ceiling_x:.2f} bits", line=ceiling_line,
                         hovertemplate=f"I(X;T) ≤ log2(n) = {ceiling_x:.2f} bits: every one of the {samples:,} "
                                       "samples told apart<extra></extra>"))
    if ceiling_y is not None:
        data.append(dict(type="scatter", x=[0.0, x_end], y=[ceiling_y, ceiling_y], mode="lines",
                         name=f"ceiling H(Y) = {ceiling_y:.2f} bits", line=dict(ceiling_line, dash="dash"),
                         hovertemplate=f"I(T;Y) ≤ H(Y) = {ceiling_y:.2f} bits: all there is to know about "
                                       "the label<extra></extra>"))
    notes = ["estimates, not exact values", "larger marker: latest epoch"]
    if lo_x is not None or lo_y is not None:
        notes.append("bars: I(X;T) from lower to upper bound; I(T;Y) to the other estimate "
                     "(two estimates, not a bracket)")
    if range_note:
        notes.append(f"bins fixed for the run over {range_note}")
    subtitle = " · ".join(notes[:2]) + ("<br>" + "<br>".join(notes[2:]) if notes[2:] else "")
    layout = dict(
        title=_title(f"Information plane · {label}", subtitle),
        xaxis=_axis("I(X;T) estimate [bits]", rangemode="tozero"),
        yaxis=_axis("I(T;Y) estimate [bits]", rangemode="tozero"),
        coloraxis=dict(colorscale=VIRIDIS, cmin=float(x_ep.min()), cmax=float(max(x_ep.max(), x_ep.min() + 1)),
                       # under the plot, across: the interfaces' legend has the right-hand side to
                       # itself (side by side, the two overlapped on narrow screens)
                       colorbar=dict(title=dict(text="epoch", side="top"), orientation="h", thickness=10,
                                     x=0.5, xanchor="center", len=0.6, y=-0.22, yanchor="top")),
        hovermode="closest", legend=dict(title=dict(text="interface")),
        margin=dict(b=_MARGIN["b"] + 70), height=450 + 70,  # the plot keeps plotly's default height
    )
    if ceiling_x is not None or ceiling_y is not None:
        layout["xaxis"]["range"] = [0.0, x_end]
        layout["yaxis"]["range"] = [0.0, y_end]
    if notes[2:]:
        layout["margin"] = dict(layout["margin"], t=68 + 14 * len(notes[2:]))
    return _figure(data, layout)


def clustering_figure(view, labels, epoch: int, *, variance=None, class_names: Sequence[str] | None = None,
                      interfaces: Sequence[int] | None = None, max_cols: int = 4) -> go.Figure:
    """What binning tracks: each interface's outputs on probe samples, on its two main (PCA) axes.

    Args:
        view: (N, V, 2) the outputs of V probe samples projected on each
            interface's first two principal axes (`infoif.train.estimators.pca_2d`).
        labels: (V,) the samples' labels: class indices 0..C-1 when
            `class_names` is given (one colour per class), else numbers (a
            continuous colour scale, e.g. a regression target).
        epoch: the epoch shown, for the title.
        variance: (N, 2) share of each interface's output variance on the two
            axes, printed over its panel.
        class_names: names of the classes (C of them), or None for numeric labels.
        interfaces: which interfaces to draw (default: the first 16).
        max_cols: panels per row.

    Tight, well-separated clusters of one colour are what keeps a binning
    estimate of I(X;T) low and of I(T;Y) high; a cloud spread over the panel
    gives many occupied bins.
    """
    v = _numeric(view, "view", 3, "(N, V, 2)")
    if v.shape[2] != 2 or v.shape[0] < 1 or v.shape[1] < 1:
        _fail(f"`view` must have shape (N, V, 2) with N, V >= 1. Received: view.shape={v.shape}")
    n, count = v.shape[:2]
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral):
        _fail(f"`epoch` must be a whole number. Received: epoch={epoch!r}")
    shares = None
    if variance is not None:
        shares = _numeric(variance, "variance", 2, f"(N, 2) = ({n}, 2)")
        if shares.shape != (n, 2):
            _fail(f"`variance` must have shape (N, 2) = ({n}, 2). Received: variance.shape={shares.shape}")
    if interfaces is None:
        chosen = list(range(min(n, _BANDS_PANELS)))
    else:
        chosen = [int(i) for i in interfaces] if isinstance(interfaces, (Sequence, np.ndarray)) else None
        if not chosen or any(not 0 <= i < n for i in chosen):
            _fail(f"`interfaces` must be a non-empty list of interface indices in [0, {n}). "
                  f"Received: interfaces={interfaces!r}")
    if class_names is not None:
        names = [str(c) for c in class_names]
        if not names:
            _fail("`class_names` must name at least one class, or be None for numeric labels. Received: []")
        lab = _numeric(labels, "labels", 1, f"(V,) = ({count},)")
        if lab.shape != (count,) or not np.all((lab == np.round(lab)) & (lab >= 0) & (lab < len(names))):
            _fail(f"`labels` must be {count} class indices in [0, {len(names)}) (one per sample of `view`). "
                  f"Received: labels.shape={lab.shape}")
        lab = lab.astype(np.int64)
    else:
        lab = _numeric(labels, "labels", 1, f"(V,) = ({count},)")
        if lab.shape != (count,):
            _fail(f"`labels` must have one value per sample of `view`, shape ({count},). "
                  f"Received: labels.shape={lab.shape}")
    v = _finite(v, _F32)
    cols = min(_max_cols(max_cols), len(chosen))
    titles = []
    for i in chosen:
        text = f"if {i}"
        if shares is not None and np.all(np.isfinite(shares[i])):
            text += f" · {100 * shares[i, 0]:.0f}% + {100 * shares[i, 1]:.0f}% of variance"
        titles.append(text)
    plain = dict(showticklabels=False, ticks="", zeroline=True, zerolinecolor="#DDDDDD", showgrid=False)
    axes, notes, refs, height = _grid(len(chosen), cols, titles, panel_px=150 if cols > 2 else 220, gap_px=30,
                                      hgap=0.03, top=84, bottom=16, x_axis=plain, y_axis=plain, match=False)
    marker = dict(size=5 if count <= 500 else 3, opacity=0.8)
    data = []
    hover = "axis 1 %{x:.3f}<br>axis 2 %{y:.3f}"
    if class_names is not None:
        colours = _class_colors(len(names))
        for p, i in enumerate(chosen):
            for c, name in enumerate(names):
                rows = lab == c
                data.append(dict(type="scatter", x=v[i, rows, 0], y=v[i, rows, 1], mode="markers", name=name,
                                 legendgroup=name, showlegend=p == 0, xaxis=refs[p][0], yaxis=refs[p][1],
                                 marker=dict(marker, color=colours[c]),
                                 hovertemplate=f"if {i} · class {name}<br>{hover}<extra></extra>"))
        legend = dict(title=dict(text="class"))
    else:
        lab = _finite(lab, _F32)
        for p, i in enumerate(chosen):
            data.append(dict(type="scatter", x=v[i, :, 0], y=v[i, :, 1], mode="markers", name=f"if {i}",
                             showlegend=False, xaxis=refs[p][0], yaxis=refs[p][1],
                             marker=dict(marker, color=lab, coloraxis="coloraxis"),
                             hovertemplate=f"if {i}<br>{hover}<br>label %{{marker.color:.3g}}<extra></extra>"))
        legend = None
    shown = f"{len(chosen)} of {n} interfaces" if len(chosen) < n else f"{n} interface{'s' if n != 1 else ''}"
    layout = dict(
        title=_title(f"Clustering · epoch {int(epoch)}",
                     f"{count:,} probe samples on each interface's two main axes (PCA) · {shown}"),
        height=height, annotations=notes, hovermode="closest", margin=dict(l=12, r=12, t=84, b=12), **axes,
    )
    if legend is not None:
        layout["legend"] = legend
    else:
        layout["coloraxis"] = dict(colorscale=VIRIDIS, colorbar=dict(title=dict(text="label", side="right"),
                                                                     thickness=10))
    return _figure(data, layout)

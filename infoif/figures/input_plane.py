"""Interfaces page charts, tab Input plane (2-D datasets): TF Playground's view of the model's
prediction over the input plane with the data on top (`decision_surface_figure`), and each
interface's output over the plane (`interface_response_figure`). The numbers they draw come
from `infoif.train.plane`.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from infoif.constants import TASKS
from infoif.figures.checks import _F32, _fail, _finite, _max_cols, _numeric
from infoif.figures.style import (
    _DIVERGING, VIRIDIS, _axis, _class_colors, _figure, _grid, _lighten, _symmetric_limit, _title,
    interface_labels,
)

__all__ = [
    "decision_surface_figure",
    "interface_response_figure",
]


_MAX_POINTS = 2_500  # decision surface: data points drawn on top (a fixed subsample beyond)


# ---------------------------------------------------------------- input plane


def _label_codes(labels, class_names: list[str]) -> np.ndarray:
    """Class index of every label (-1: unknown/missing), matching labels to class names like the data layer."""
    lookup = {name: k for k, name in enumerate(class_names)}

    def key(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, (bool, np.bool_)):
            return str(bool(v))
        if isinstance(v, (float, np.floating)):
            f = float(v)
            return str(int(f)) if f == round(f) and abs(f) < 1e15 else repr(f)
        return str(v)

    values = list(labels.tolist()) if isinstance(labels, np.ndarray) else list(labels)
    codes = np.array([lookup.get(key(v), -1) for v in values], dtype=np.int64)
    if (codes < 0).all() and len(values):  # labels given as class indices instead of values
        arr = np.asarray(values)
        if arr.dtype.kind in "iuf":
            idx = np.where(np.isfinite(arr.astype(float)), arr, -1).astype(float)
            if np.all((idx == np.round(idx)) & (idx >= -1) & (idx < len(class_names))):
                codes = idx.astype(np.int64)
    return codes


def _grid_axes(xx, yy):
    gx = _numeric(xx, "xx", 1, "(G,)")
    gy = _numeric(yy, "yy", 1, "(G,)")
    for name, g in (("xx", gx), ("yy", gy)):
        if g.size < 2 or not np.all(np.isfinite(g)) or np.any(np.diff(g) <= 0):
            _fail(f"`{name}` must be at least 2 finite, increasing grid coordinates. Received: {name}.shape={g.shape}")
    return gx, gy


def decision_surface_figure(xx, yy, z, points_x, points_y, class_names, task: str, *,
                            x_name: str = "x₁", y_name: str = "x₂") -> go.Figure:
    """TF Playground's view: the model's prediction over the input plane, the data on top.

    Args:
        xx: (G,) grid along the first feature; yy: (H,) along the second.
        z: (H, G) prediction at (xx[i], yy[j]) in z[j, i]: P(class 1) for "binary"
            (diverging scale centred at 0.5), the predicted class index for "multiclass",
            the predicted value for "regression".
        points_x: (n, 2) data points (rows with NaN are left out).
        points_y: (n,) their targets: class values (matched to `class_names` as the data
            layer names them) or class indices; numbers for regression.
        class_names: the class names in class-index order (None for regression).
        task: "binary", "multiclass" or "regression".
        x_name, y_name: axis titles.

    More than 2,500 points are drawn as a fixed random subsample of 2,500 (the subtitle says so).
    """
    if task not in TASKS:
        _fail(f"`task` must be one of {list(TASKS)}. Received: task={task!r}")
    gx, gy = _grid_axes(xx, yy)
    zz = _numeric(z, "z", 2, f"(len(yy), len(xx)) = ({gy.size}, {gx.size})")
    if zz.shape != (gy.size, gx.size):
        _fail(f"`z` must have shape (len(yy), len(xx)) = ({gy.size}, {gx.size}), z[j, i] at (xx[i], yy[j]). "
              f"Received: z.shape={zz.shape}")
    zz = _finite(zz, _F32)
    px = _numeric(points_x, "points_x", 2, "(n, 2)")
    if px.shape[1] != 2:
        _fail(f"`points_x` must have shape (n, 2): the two plane coordinates. Received: points_x.shape={px.shape}")
    py = np.asarray(points_y, dtype=object if not isinstance(points_y, np.ndarray) else None)
    if py.ndim != 1 or py.shape[0] != px.shape[0]:
        _fail(f"`points_y` must have shape (n,) with n=len(points_x)={px.shape[0]}. Received: "
              f"points_y.shape={py.shape}")
    if task != "regression":
        if class_names is None or isinstance(class_names, str) or len(class_names) < 2:
            _fail(f"`class_names` must list the classes (at least 2) for task={task!r}. "
                  f"Received: class_names={class_names!r}")
        class_names = [str(c) for c in class_names]
        if task == "binary" and len(class_names) != 2:
            _fail(f"task='binary' needs exactly 2 class names. Received: class_names={class_names!r}")
        if task == "binary" and np.isfinite(zz).any() and (np.nanmin(zz) < -1e-6 or np.nanmax(zz) > 1 + 1e-6):
            _fail(f"For task='binary', `z` must be probabilities of class 1 in [0, 1]. Received: values in "
                  f"[{np.nanmin(zz):.4g}, {np.nanmax(zz):.4g}]")
        codes = _label_codes(py, class_names)
    else:
        try:
            values = np.asarray(py, dtype=float)
        except (TypeError, ValueError):
            _fail(f"For task='regression', `points_y` must be numbers. Received: points_y[:3]={py[:3].tolist()!r}")
    keep = np.all(np.isfinite(px), axis=1)
    keep &= (codes >= 0) if task != "regression" else np.isfinite(values)
    idx = np.flatnonzero(keep)
    total = idx.size
    if total > _MAX_POINTS:
        idx = np.sort(np.random.default_rng(0).choice(idx, _MAX_POINTS, replace=False))
    shown = f"{idx.size:,} of {total:,} points (fixed random subsample)" if idx.size < total else f"{total:,} points"
    axes = dict(xaxis=_axis(x_name, range=[gx[0], gx[-1]], constrain="domain"),
                yaxis=_axis(y_name, range=[gy[0], gy[-1]], constrain="domain"))
    hover_xy = f"{x_name} %{{x:.3g}}, {y_name} %{{y:.3g}}"
    point_marker = dict(size=6, line=dict(color="white", width=0.8))
    kind = "scattergl" if idx.size > 5_000 else "scatter"
    if task == "regression":
        finite_z = zz[np.isfinite(zz)]
        both = np.concatenate([finite_z, values[idx]])
        lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
        data = [
            dict(type="heatmap", x=gx, y=gy, z=zz, name="prediction", coloraxis="coloraxis", zsmooth="best",
                 hovertemplate=f"{hover_xy}<br>prediction %{{z:.4g}}<extra></extra>"),
            dict(type=kind, x=px[idx, 0], y=px[idx, 1], name="data", mode="markers",
                 marker=dict(point_marker, color=values[idx], coloraxis="coloraxis", line=dict(color="#333", width=0.7)),
                 hovertemplate=f"{hover_xy}<br>target %{{marker.color:.4g}}<extra></extra>"),
        ]
        return _figure(data, dict(
            title=_title("Prediction over the input plane", f"regression · {shown}"),
            coloraxis=dict(colorscale=VIRIDIS, cmin=lo, cmax=hi if hi > lo else lo + 1,
                           colorbar=dict(title=dict(text="value", side="right"), thickness=12)),
            legend=dict(orientation="h", y=-0.2), **axes,
        ))
    k = len(class_names)
    colours = _class_colors(k)
    if task == "binary":
        surface = dict(type="heatmap", x=gx, y=gy, z=zz, name=f"P({class_names[1]})", zmin=0.0, zmax=1.0,
                       zmid=0.5, colorscale=_DIVERGING, zsmooth="best", opacity=0.85,
                       colorbar=dict(title=dict(text=f"P({class_names[1]})", side="right"), thickness=12),
                       hovertemplate=f"{hover_xy}<br>P({class_names[1]}) = %{{z:.3f}}<extra></extra>")
        boundary = dict(type="contour", x=gx, y=gy, z=zz, name="P = 0.5", showscale=False, hoverinfo="skip",
                        contours=dict(start=0.5, end=0.5, size=1.0, coloring="none"),
                        line=dict(color="#333", width=1.5, dash="dot"), showlegend=False)
        data = [surface, boundary]
        subtitle = f"binary · colour: P({class_names[1]}), dotted line P = 0.5 · {shown}"
    else:
        light = [_lighten(c, 0.55) for c in colours]
        scale = []
        for c in range(k):
            scale += [[c / k, light[c]], [(c + 1) / k, light[c]]]
        names = np.array(class_names, dtype=object)
        safe = np.where(np.isfinite(zz), zz, 0).astype(int).clip(0, k - 1)
        data = [dict(type="heatmap", x=gx, y=gy, z=zz, name="predicted class", zmin=-0.5, zmax=k - 0.5,
                     colorscale=scale, customdata=names[safe],
                     colorbar=dict(title=dict(text="predicted", side="right"), thickness=12,
                                   tickvals=list(range(k)), ticktext=class_names),
                     hovertemplate=f"{hover_xy}<br>predicted %{{customdata}}<extra></extra>")]
        subtitle = f"multiclass · colour: predicted class · {shown}"
    sel = codes[idx]
    for c in range(k):
        mine = idx[sel == c]
        data.append(dict(type=kind, x=px[mine, 0], y=px[mine, 1], name=class_names[c], mode="markers",
                         marker=dict(point_marker, color=colours[c]),
                         hovertemplate=f"{class_names[c]}<br>{hover_xy}<extra></extra>"))
    return _figure(data, dict(
        title=_title("Decision surface", subtitle), legend=dict(title=dict(text="class"), x=1.14),
        hovermode="closest", **axes,
    ))


def interface_response_figure(xx, yy, responses, max_cols: int = 8) -> go.Figure:
    """Each interface's (mean) output over the input plane: Playground's neuron thumbnails.

    Args:
        xx: (G,) grid along the first feature; yy: (H,) along the second.
        responses: (N, H, G) response of each interface, responses[n, j, i] at (xx[i], yy[j]).
        max_cols: thumbnails per row.

    One symmetric colour scale for all (orange negative, white 0, blue positive), one colour bar, no ticks.
    """
    gx, gy = _grid_axes(xx, yy)
    r = _numeric(responses, "responses", 3, f"(N, len(yy), len(xx)) = (N, {gy.size}, {gx.size})")
    if r.shape[1:] != (gy.size, gx.size) or r.shape[0] == 0:
        _fail(f"`responses` must have shape (N, len(yy), len(xx)) = (N, {gy.size}, {gx.size}) with N >= 1. "
              f"Received: responses.shape={r.shape}")
    r = _finite(r, _F32)
    n = r.shape[0]
    m = _symmetric_limit(r)
    cols = min(_max_cols(max_cols), n)
    bare = dict(showticklabels=False, ticks="", showgrid=False, zeroline=False)
    axes, notes, refs, height = _grid(
        n, cols, interface_labels(n), panel_px=86 if cols > 4 else 130, gap_px=22, hgap=0.015, top=84, bottom=12,
        x_axis=bare, y_axis=bare,
    )
    data = [dict(type="heatmap", x=gx, y=gy, z=r[i], name=f"if {i}", xaxis=refs[i][0], yaxis=refs[i][1],
                 zmin=-m, zmax=m, zmid=0.0, colorscale=_DIVERGING, zsmooth="best", showscale=i == 0,
                 hovertemplate=f"if {i}<br>(%{{x:.3g}}, %{{y:.3g}})<br>output %{{z:.3g}}<extra></extra>")
            for i in range(n)]
    data[0]["colorbar"] = dict(title=dict(text="output", side="right"), thickness=10, len=min(1.0, 260 / height))
    return _figure(data, dict(
        title=_title("Interfaces over the input plane", f"mean output of each interface · one scale, |out| ≤ {m:.3g}"),
        height=height, annotations=notes, margin=dict(l=8, r=8, t=84, b=8), **axes,
    ))

"""Data page chart: a 2-D dataset as a scatter plot coloured by its target (`scatter_2d_figure`).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from infoif.figures.checks import _fail
from infoif.figures.style import SERIES_PALETTE, VIRIDIS, _axis, _class_colors, _figure, _title

__all__ = [
    "scatter_2d_figure",
]


# ---------------------------------------------------------------- 2-D data


def _is_categorical(series) -> bool:
    import pandas as pd

    if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        return True
    values = pd.to_numeric(series, errors="coerce").dropna().to_numpy(dtype=float)
    uniq = np.unique(values)
    return uniq.size <= 10 and bool(np.all(uniq == np.round(uniq)))


def scatter_2d_figure(df, x: str, y: str, color: str | None) -> go.Figure:
    """A 2-D dataset: column `y` against column `x`, coloured by `color` (usually the target).

    Text, boolean and categorical columns, and whole numbers with at most 10 distinct values,
    get one colour per value (a legend entry each, like the classes); other numbers a
    continuous scale (Viridis). Rows with a missing x or y are left out; a missing colour is grey.
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        _fail(f"`df` must be a pandas DataFrame. Received: df of type {type(df).__name__}")
    for name, col in (("x", x), ("y", y)) + ((("color", color),) if color is not None else ()):
        if col not in df.columns:
            _fail(f"`{name}` must be a column of `df` (columns: {list(map(str, df.columns))[:20]}). "
                  f"Received: {name}={col!r}")
    xs = pd.to_numeric(df[x], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(df[y], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(xs) & np.isfinite(ys)
    n_rows = int(keep.sum())
    kind = "scattergl" if n_rows > 5_000 else "scatter"
    marker = dict(size=6 if n_rows < 2_000 else 4, opacity=0.85, line=dict(color="white", width=0.5))
    hover = f"{x} %{{x:.4g}}<br>{y} %{{y:.4g}}"
    layout = dict(title=_title(f"{y} vs {x}", f"{n_rows:,} rows" + (f" · colour: {color}" if color else "")),
                  xaxis=_axis(str(x)), yaxis=_axis(str(y)), hovermode="closest")
    if color is None:
        return _figure([dict(type=kind, x=xs[keep], y=ys[keep], name="data", mode="markers",
                             marker=dict(marker, color=SERIES_PALETTE[0]), hovertemplate=hover + "<extra></extra>")],
                       layout)
    col = df[color]
    data = []
    if _is_categorical(col):
        missing = col.isna().to_numpy()
        present = col[~missing & keep]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        uniq = pd.unique(present)
        uniq = sorted(uniq, key=(lambda v: float(v)) if numeric else (lambda v: str(v)))
        labels = [str(int(v)) if numeric and float(v) == round(float(v)) else str(v) for v in uniq]
        colours = _class_colors(len(uniq))
        values = col.to_numpy()
        for k, (value, label) in enumerate(zip(uniq, labels)):
            rows = keep & ~missing & (values == value)
            data.append(dict(type=kind, x=xs[rows], y=ys[rows], name=label, mode="markers",
                             marker=dict(marker, color=colours[k]),
                             hovertemplate=f"{color} = {label}<br>{hover}<extra></extra>"))
        if (missing & keep).any():
            rows = missing & keep
            data.append(dict(type=kind, x=xs[rows], y=ys[rows], name="(missing)", mode="markers",
                             marker=dict(marker, color="#BBBBBB"),
                             hovertemplate=f"{color} missing<br>{hover}<extra></extra>"))
        layout["legend"] = dict(title=dict(text=str(color)))
        return _figure(data, layout)
    cv = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    has = keep & np.isfinite(cv)
    data.append(dict(type=kind, x=xs[has], y=ys[has], name=str(color), mode="markers",
                     marker=dict(marker, color=cv[has], colorscale=VIRIDIS, showscale=True,
                                 colorbar=dict(title=dict(text=str(color), side="right"), thickness=12)),
                     hovertemplate=f"{hover}<br>{color} %{{marker.color:.4g}}<extra></extra>"))
    if (keep & ~has).any():
        rows = keep & ~has
        data.append(dict(type=kind, x=xs[rows], y=ys[rows], name="(missing)", mode="markers",
                         marker=dict(marker, color="#BBBBBB"), hovertemplate=f"{color} missing<br>{hover}<extra></extra>"))
    layout["showlegend"] = len(data) > 1
    return _figure(data, layout)

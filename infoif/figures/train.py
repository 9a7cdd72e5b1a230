"""Train page charts: a run's loss and metric curves against the epoch (`loss_curves_figure`),
smoothed and thinned as `infoif.figures.curves` does it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from infoif.figures.checks import _epochs, _fail, _finite, _numeric, _positive_int, _smoothing
from infoif.figures.curves import _curve_traces, _display_indices
from infoif.figures.style import SERIES_PALETTE, _axis, _figure, _line_type, _title

__all__ = [
    "loss_curves_figure",
]


# ---------------------------------------------------------------- loss curves


def loss_curves_figure(epochs, series: Mapping[str, Any], smoothing: float = 0.0, title: str = "Loss",
                       max_points: int = 2000, gaps: Sequence[int] = ()) -> go.Figure:
    """Training curves (e.g. train and validation loss) against the epoch.

    Args:
        epochs: (E,) epoch numbers.
        series: name -> (E,) values, e.g. {"train": loss, "validation": val_loss}.
            NaN/inf values leave a gap (and are skipped by the smoothing).
        smoothing: TensorBoard's smoothing weight in [0, 1) (see `smooth_ema`). Above 0
            each curve is drawn faint (raw) with its smoothed curve solid, same colour.
        title: figure title; also the y-axis title (e.g. "Loss", "accuracy").
        max_points: about the most points drawn per curve; longer runs are thinned
            for display keeping each stretch's extremes (smoothing uses every point).
        gaps: epochs after which the run resumed from a checkpoint after an
            interruption; each is marked by a dotted line.
    """
    x = _epochs(epochs)
    gap_epochs = [int(g) for g in gaps]
    w = _smoothing(smoothing)
    max_points = _positive_int(max_points, "max_points")
    if not isinstance(series, Mapping) or not series:
        _fail("`series` must be a non-empty dict of curve name -> values, e.g. "
              f"{{'train': loss, 'validation': val_loss}}. Received: series={series!r:.80}")
    ylabel = str(title)
    curves = []
    for name, values in series.items():
        y = _numeric(values, f"series[{name!r}]", 1, f"(E,) with E=len(epochs)={x.size}")
        if y.size != x.size:
            _fail(f"`series[{name!r}]` needs one value per epoch (E=len(epochs)={x.size}). "
                  f"Received: series[{name!r}].shape={y.shape}")
        curves.append((str(name), _finite(y)))
    keep = _display_indices(x.size, [y for _, y in curves], max_points)
    trace_type = _line_type(keep.size * len(curves) * (2 if w else 1))
    data: list[dict] = []
    for k, (name, y) in enumerate(curves):
        data += _curve_traces(name, x, y, SERIES_PALETTE[k % len(SERIES_PALETTE)], w, trace_type, keep)
    subtitle = f"smoothing {w:g} (faint: raw)" if w else None
    marks = [dict(type="line", xref="x", yref="paper", x0=g + 0.5, x1=g + 0.5, y0=0, y1=1, name=f"resumed {g}",
                  line=dict(color="#888", dash="dot", width=1)) for g in gap_epochs]
    notes = [dict(x=g + 0.5, y=1, xref="x", yref="paper", text="resumed", showarrow=False, yanchor="bottom",
                  font=dict(size=10, color="#888")) for g in gap_epochs]
    return _figure(data, dict(
        title=_title(str(title), subtitle),
        xaxis=_axis("epoch", unifiedhovertitle=dict(text="epoch %{x}")),
        yaxis=_axis(ylabel),
        hovermode="x unified",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        **(dict(shapes=marks, annotations=notes) if gap_epochs else {}),
    ))

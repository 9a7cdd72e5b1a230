"""Curves over epochs, shared by the Train page (`infoif.figures.train`) and the Compare page
(`infoif.figures.compare`): TensorBoard's smoothing, and the thinning that draws a long run's
curve with a bounded number of points, spikes and gaps kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

import numpy as np

from infoif.figures.checks import _numeric, _smoothing

__all__ = [
    "smooth_ema",
]


# ---------------------------------------------------------------- smoothing


def smooth_ema(values, weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average of a curve.

    For the finite values v_1, v_2, ... in order:

        last_k = last_{k-1} * weight + (1 - weight) * v_k,   last_0 = 0
        smoothed_k = last_k / (1 - weight ** k)

    Non-finite values (NaN, inf) are skipped: they do not enter the average,
    and their own place in the result is NaN. `weight=0` returns the values.
    """
    w = _smoothing(weight, "weight")
    v = _numeric(values, "values", 1, "(E,)")
    out = np.full(v.shape, np.nan)
    finite = np.isfinite(v)
    vals = v[finite]
    if vals.size:
        one_minus = 1.0 - w
        last = np.fromiter(accumulate(vals.tolist(), lambda acc, x: acc * w + one_minus * x, initial=0.0),
                           dtype=float, count=vals.size + 1)[1:]
        out[finite] = last / (1.0 - w ** np.arange(1, vals.size + 1, dtype=float))
    return out


# ---------------------------------------------------------------- thinning and traces


def _display_indices(n: int, curves: Sequence[np.ndarray], max_points: int) -> np.ndarray:
    """Which of n points to draw so that no curve gets more than about `max_points`.

    All points when there are few. Otherwise the points are cut into buckets and
    each keeps its first and last point, the lowest and highest point of every
    curve, and its first non-finite point (a gap stays a gap). At screen
    resolution the line looks the same, spikes included, and a browser redrawing
    it every second draws at most ~`max_points` points however long the run
    (TensorBoard samples instead, and can miss a spike).
    """
    if n <= max_points:
        return np.arange(n)
    buckets = max(1, max_points // (3 + 2 * len(curves)))
    size = -(-n // buckets)
    starts = np.arange(0, n, size)
    pad = len(starts) * size - n
    keep = [starts, np.minimum(starts + size, n) - 1]
    for y in curves:
        finite = np.isfinite(y)
        low = np.pad(np.where(finite, y, np.inf), (0, pad), constant_values=np.inf).reshape(-1, size)
        high = np.pad(np.where(finite, y, -np.inf), (0, pad), constant_values=-np.inf).reshape(-1, size)
        bad = np.pad(~finite, (0, pad)).reshape(-1, size)
        keep += [starts + low.argmin(axis=1), starts + high.argmax(axis=1)]
        gaps = bad.any(axis=1)
        keep.append((starts + bad.argmax(axis=1))[gaps])
    return np.unique(np.concatenate(keep))


def _curve_traces(name: str, x: np.ndarray, y: np.ndarray, colour: str, w: float, trace_type: str,
                  keep: np.ndarray | None = None) -> list[dict]:
    """A curve (w == 0) or its raw curve faint plus the smoothed one solid, in the same colour.

    The smoothing sees every point; `keep` (indices) chooses which are drawn.
    """
    smoothed = smooth_ema(y, w) if w else None
    if keep is not None:
        x, y = x[keep], y[keep]
        smoothed = smoothed[keep] if smoothed is not None else None
    mode = "lines+markers" if x.size <= 20 else "lines"
    group = name
    hover = f"{name}: %{{y:.4g}}<extra></extra>"
    if w == 0:
        return [dict(type=trace_type, x=x, y=y, name=name, mode=mode, legendgroup=group,
                     line=dict(color=colour, width=2), marker=dict(size=5), hovertemplate=hover)]
    raw = dict(type=trace_type, x=x, y=y, name=f"{name} (raw)", mode=mode, legendgroup=group, showlegend=False,
               opacity=0.3, line=dict(color=colour, width=1), marker=dict(size=4),
               hovertemplate=f"{name} (raw): %{{y:.4g}}<extra></extra>")
    smooth = dict(type=trace_type, x=x, y=smoothed, name=name, mode=mode, legendgroup=group,
                  connectgaps=True, line=dict(color=colour, width=2), marker=dict(size=5),
                  hovertemplate=f"{name} (smoothed): %{{y:.4g}}<extra></extra>")
    return [raw, smooth]

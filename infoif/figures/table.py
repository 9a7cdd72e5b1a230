"""The data behind a figure as one tidy table (`figure_data`): what every chart's "Data (CSV)"
download holds.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from infoif.figures.checks import _F32, _fail

__all__ = [
    "figure_data",
]


# ---------------------------------------------------------------- data behind a figure


def _values(v):
    """Trace array -> numpy array (also decodes plotly's base64 typed arrays), or None."""
    if v is None:
        return None
    if isinstance(v, Mapping) and "bdata" in v:
        import base64

        arr = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        shape = v.get("shape")
        if shape:
            arr = arr.reshape([int(s) for s in str(shape).split(",")])
        return arr
    return np.asarray(v, dtype=object if isinstance(v, (list, tuple)) and v and isinstance(v[0], str) else None)


def _cells(axis_values, count: int) -> np.ndarray:
    """Per-cell coordinates of a heat map axis: given values, bin edges (count + 1 -> centres), or 0..count-1."""
    if axis_values is None:
        return np.arange(count)
    arr = np.asarray(axis_values)
    if arr.shape[0] == count + 1 and arr.dtype.kind in "iuf":
        return (arr[:-1] + arr[1:]) / 2
    return arr[:count]


def figure_data(fig) -> "pandas.DataFrame":  # noqa: F821
    """The data behind a figure as one tidy table, for a CSV download.

    One row per point (scatter traces) or per cell (heat maps, flattened row by row),
    with columns: trace (the trace's name), type, x, y, z (NaN for traces without z),
    color (a per-point colour value such as the epoch, NaN when none), and when
    present text (hover text) and x_minus, x_plus, y_minus, y_plus (error bar
    lengths, e.g. the KDE interval: x - x_minus is the lower bound). Heat maps
    given bin edges report the cell centres.
    """
    import pandas as pd

    if isinstance(fig, Mapping):
        traces = list(fig.get("data", []))
    elif hasattr(fig, "data"):
        traces = [t.to_plotly_json() for t in fig.data]
    else:
        _fail(f"`fig` must be a plotly Figure (or its dict). Received: fig of type {type(fig).__name__}")
    columns = ("trace", "type", "x", "y", "z", "color", "text", "x_minus", "x_plus", "y_minus", "y_plus")
    parts: dict[str, list] = {c: [] for c in columns}
    for index, t in enumerate(traces):
        kind = t.get("type", "scatter")
        name = t.get("name") or f"trace {index}"
        z = _values(t.get("z"))
        if z is not None and z.ndim == 2:
            rows, cols = z.shape
            xs = _cells(_values(t.get("x")), cols)
            ys = _cells(_values(t.get("y")), rows)
            count = rows * cols
            parts["x"].append(np.tile(xs, rows))
            parts["y"].append(np.repeat(ys, cols))
            parts["z"].append(z.reshape(-1))
            color = np.full(count, np.nan, _F32)
            text = np.full(count, None, dtype=object)
            errors = {}
        else:
            x, y = _values(t.get("x")), _values(t.get("y"))
            count = len(y) if y is not None else (len(x) if x is not None else 0)
            if count == 0:
                continue
            parts["x"].append(x[:count] if x is not None else np.arange(count))
            parts["y"].append(y[:count] if y is not None else np.arange(count))
            parts["z"].append(np.full(count, np.nan, _F32) if z is None else np.resize(z, count))
            marker_color = _values((t.get("marker") or {}).get("color"))
            color = marker_color if marker_color is not None and marker_color.ndim == 1 and \
                marker_color.size == count and marker_color.dtype.kind in "iuf" else np.full(count, np.nan, _F32)
            tx = t.get("text")
            text = np.asarray(tx, dtype=object)[:count] if isinstance(tx, (list, tuple, np.ndarray)) and \
                len(tx) >= count else np.full(count, None, dtype=object)
            errors = _error_bars(t, count)
        parts["trace"].append(np.full(count, name, dtype=object))
        parts["type"].append(np.full(count, kind, dtype=object))
        parts["color"].append(np.asarray(color))
        parts["text"].append(text)
        for c in ("x_minus", "x_plus", "y_minus", "y_plus"):
            parts[c].append(errors.get(c, np.full(count, np.nan, _F32)))

    def joined(chunks):
        """One column; float32 stays float32 (so the CSV shows 0.1, not 0.10000000149011612)."""
        if not chunks:
            return np.array([], dtype=_F32)
        if not all(c.dtype.kind in "biuf" for c in chunks):
            return np.concatenate([c.astype(object) for c in chunks])
        if all(c.dtype.kind in "biu" for c in chunks):
            return np.concatenate(chunks).astype(np.int64)
        small_ints = all(c.dtype.kind == "f" or c.size == 0 or np.abs(c).max() < 2 ** 24 for c in chunks)
        narrow = all(c.dtype.itemsize <= 4 for c in chunks if c.dtype.kind == "f")
        return np.concatenate(chunks).astype(_F32 if narrow and small_ints else np.float64)

    frame = pd.DataFrame({c: joined(parts[c]) for c in columns})
    return frame.drop(columns=[c for c in columns[6:] if frame[c].isna().all()])


def _error_bars(trace: Mapping, count: int) -> dict[str, np.ndarray]:
    """Per-point error bar lengths of a scatter trace ("data" bars): x_minus, x_plus, y_minus, y_plus."""
    out = {}
    for axis in ("x", "y"):
        bar = trace.get(f"error_{axis}") or {}
        if bar.get("type") != "data" or bar.get("visible") is False:
            continue
        plus = _values(bar.get("array"))
        minus = _values(bar.get("arrayminus")) if not bar.get("symmetric", True) else plus
        for side, arr in (("plus", plus), ("minus", minus)):
            if arr is not None and arr.ndim == 1 and arr.size >= count and arr.dtype.kind in "iuf":
                out[f"{axis}_{side}"] = arr[:count]
    return out

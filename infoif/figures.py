"""Plotly figures of interfaces learning, from plain numpy arrays.

Every public `*_figure` function takes arrays, lists or a DataFrame (never a
model, a run or a snapshot), checks them first, and returns a
`plotly.graph_objects.Figure`:

    from infoif import figures
    fig = figures.kernel_norm_figure(epochs, norms)        # (E,), (E, N)
    fig = figures.loss_curves_figure(epochs, {"train": loss, "validation": val_loss}, smoothing=0.6)
    table = figures.figure_data(fig)                       # the data behind it, tidy

Bad input raises `ValueError` naming the argument, the shape or value it got
and what it needs. All figures share one look (`plotly_white`, compact
margins, axis titles, hover text with units) and one colour per interface
(`interface_colors`), labelled "if 0", "if 1", ...

Built for a dashboard that redraws ~10 figures a second: one trace per
interface (the distribution bands: one per percentile), never one per epoch;
heat maps where a tangle of lines would not read; WebGL lines only for large
figures; small-multiple grids with coupled axes (one x axis per column, one y
axis per row: 16 axes for 64 panels, where `make_subplots` makes 128 and takes
~55 ms). Figures are assembled from plain dicts without plotly's per-property
validation, which keeps each builder in the low milliseconds for 64 interfaces
and 500 epochs; the tests check that every builder's figure is identical to the
validated one. The returned figures validate the changes a caller makes
(`fig.update_layout(...)`) as usual.

The module imports no Keras, TensorFlow or Streamlit, and pandas only when a
function that needs it is called.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Mapping, Sequence
from itertools import accumulate
from typing import Any

import numpy as np
import plotly.graph_objects as go

from infoif.constants import TASKS

__all__ = [
    "BAND_PERCENTILES",
    "interface_colors",
    "interface_labels",
    "smooth_ema",
    "loss_curves_figure",
    "kernel_heatmaps_figure",
    "kernel_norm_figure",
    "distribution_bands_figure",
    "output_histograms_figure",
    "energy_curves_figure",
    "final_energy_figure",
    "similarity_figure",
    "info_plane_figure",
    "clustering_figure",
    "decision_surface_figure",
    "interface_response_figure",
    "architecture_figure",
    "scatter_2d_figure",
    "compare_curves_figure",
    "sweep_figure",
    "sweep_band_figure",
    "sweep_parcoords_figure",
    "SWEEP_MAX_GROUPS",
    "figure_data",
]

# The percentiles of TensorBoard's distribution view, as `infoif.estimators` computes them.
BAND_PERCENTILES = (0, 7, 16, 31, 50, 69, 84, 93, 100)

TEMPLATE = "plotly_white"
# 24 colours that stay distinct on white; interface i gets INTERFACE_PALETTE[i % 24].
INTERFACE_PALETTE = (
    "#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#222A2A", "#B68100", "#750D86",
    "#EB663B", "#511CFB", "#00A08B", "#FB00D1", "#FC0080", "#B2828D", "#6C7C32", "#778AAE",
    "#862A16", "#A777F1", "#620042", "#1616A7", "#DA60CA", "#6C4516", "#0D2A63", "#AF0038",
)  # plotly.colors.qualitative.Dark24
# Lines of interfaces 24-47 are dashed, 48-71 dotted, ... so that a colour that repeats still tells apart.
_DASHES = ("solid", "dash", "dot", "dashdot")
# Curves that are not interfaces (train / validation, runs, sweep axes): plotly's D3 colours.
SERIES_PALETTE = ("#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2",
                  "#7F7F7F", "#BCBD22", "#17BECF")
# TF Playground's two classes (orange = negative / class 0, blue = positive / class 1) and its white.
PLAYGROUND_ORANGE, PLAYGROUND_BLUE, PLAYGROUND_WHITE = "#F59322", "#0877BD", "#E8EAEB"
_DIVERGING = [[0.0, PLAYGROUND_ORANGE], [0.5, PLAYGROUND_WHITE], [1.0, PLAYGROUND_BLUE]]
# ColorBrewer's RdBu (red -1, white 0, blue +1). plotly.js' own "RdBu" is blue-grey-red, without a white middle.
_RDBU_COLOURS = ("rgb(103,0,31)", "rgb(178,24,43)", "rgb(214,96,77)", "rgb(244,165,130)", "rgb(253,219,199)",
                 "rgb(247,247,247)", "rgb(209,229,240)", "rgb(146,197,222)", "rgb(67,147,195)", "rgb(33,102,172)",
                 "rgb(5,48,97)")
RDBU = [[k / (len(_RDBU_COLOURS) - 1), c] for k, c in enumerate(_RDBU_COLOURS)]
# Colour scales are given as lists, never by name: plotly.py resolves a name to its own scale when it
# validates, plotly.js to a different one of the same name ("Blues" is dark-to-light there).
VIRIDIS = [[k / 9, c] for k, c in enumerate(("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89",
                                              "#35b779", "#6ece58", "#b5de2b", "#fde725"))]
BLUES = [[k / 8, c] for k, c in enumerate(("rgb(247,251,255)", "rgb(222,235,247)", "rgb(198,219,239)",
                                            "rgb(158,202,225)", "rgb(107,174,214)", "rgb(66,146,198)",
                                            "rgb(33,113,181)", "rgb(8,81,156)", "rgb(8,48,107)"))]

_F32 = np.float32
_MARGIN = dict(l=56, r=16, t=48, b=44)
_GL_POINTS = 20_000  # above this many points in a line figure, draw with WebGL (scattergl)
_UNIFIED_MAX = 10  # at most this many curves share one "x unified" hover box
_OVERLAY_MAX = 12  # output histograms: overlaid step lines up to here, a heat map beyond
_BANDS_PANELS = 16  # distribution bands: panels drawn when interface=None
_DRAW_INTERFACES = 16  # architecture: interface boxes drawn
_MAX_POINTS = 2_500  # decision surface: data points drawn on top (a fixed subsample beyond)


# ---------------------------------------------------------------- colours and labels


def interface_colors(n: int) -> list[str]:
    """Colours of interfaces 0..n-1 as "#RRGGBB": a 24-colour qualitative palette, cycled.

    Interface i has the same colour in every figure and for every n.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"`n` must be a whole number >= 0 (how many interfaces). Received: n={n!r}")
    return [INTERFACE_PALETTE[i % len(INTERFACE_PALETTE)] for i in range(int(n))]


def interface_labels(n: int) -> list[str]:
    """["if 0", "if 1", ...]: how every figure names the interfaces."""
    return [f"if {i}" for i in range(int(n))]


def _dash(i: int) -> str:
    return _DASHES[(i // len(INTERFACE_PALETTE)) % len(_DASHES)]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[k:k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"


def _lighten(hex_colour: str, amount: float) -> str:
    """The colour moved `amount` (0..1) of the way to white."""
    h = hex_colour.lstrip("#")
    r, g, b = (round(int(h[k:k + 2], 16) + (255 - int(h[k:k + 2], 16)) * amount) for k in (0, 2, 4))
    return f"#{r:02X}{g:02X}{b:02X}"


def _class_colors(k: int) -> list[str]:
    """Class colours: Playground's orange/blue for two classes, D3's colours (cycled) beyond."""
    if k == 2:
        return [PLAYGROUND_ORANGE, PLAYGROUND_BLUE]
    return [SERIES_PALETTE[i % len(SERIES_PALETTE)] for i in range(k)]


# ---------------------------------------------------------------- figure assembly

_template_cache: list = []


def _template() -> dict:
    """The plotly_white template as a fresh dict."""
    if not _template_cache:
        import plotly.io as pio

        _template_cache.append(pio.templates[TEMPLATE].to_plotly_json())
    return copy.deepcopy(_template_cache[0])


def _title(text: str, subtitle: str | None = None) -> dict:
    title = dict(text=text, x=0.01, xanchor="left", font=dict(size=15))
    if subtitle:
        title["subtitle"] = dict(text=subtitle, font=dict(size=11, color="#666"))
    return title


def _axis(text: str | None = None, **kw) -> dict:
    axis = dict(zeroline=False, automargin=True)
    if text is not None:
        axis["title"] = dict(text=text, standoff=6)
    axis.update(kw)
    return axis


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """A Figure from plain dicts, without plotly's per-property validation (see the module docstring)."""
    base = dict(template=_template(), margin=dict(_MARGIN), hoverlabel=dict(namelength=-1),
                legend=dict(font=dict(size=11), itemsizing="constant"))
    if isinstance(layout.get("title"), dict) and "subtitle" in layout["title"]:
        base["margin"]["t"] = 68
    for key, value in layout.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    try:
        fig = go.Figure(data=data, layout=base, _validate=False)
    except TypeError:  # a plotly without the fast path: validate as usual
        return go.Figure(data=data, layout=base)
    # Changes the caller makes from now on are validated as usual.
    fig._validate = True
    fig.layout._validate = True
    for trace in fig.data:
        trace._validate = True
    return fig


def _line_type(points: int) -> str:
    return "scattergl" if points > _GL_POINTS else "scatter"


def _grid(n: int, cols: int, titles: Sequence[str], *, panel_px: int, gap_px: int = 26, hgap: float = 0.02,
          top: int = 60, bottom: int = 36, x_axis: Mapping | None = None, y_axis: Mapping | None = None,
          match: bool = True):
    """A grid of n small panels (row-major, a title above each), laid out directly.

    The axes are coupled, like plotly's grid pattern "coupled": one x axis per column
    (ticks under the lowest panel of the column) and one y axis per row (ticks left of
    the row), so 64 panels need 16 axes rather than `make_subplots`' 128, which is most
    of the cost of building and of drawing such a figure. `match=True` zooms all panels together.

    Returns (layout entries for the axes, title annotations, [(xref, yref)] per panel, height in px).
    """
    rows = math.ceil(n / cols)
    plot_px = rows * panel_px + (rows - 1) * gap_px
    vgap = gap_px / plot_px if rows > 1 else 0.0
    w = (1.0 - (cols - 1) * hgap) / cols
    h = (1.0 - (rows - 1) * vgap) / rows
    axes: dict[str, dict] = {}
    for c in range(cols):
        lowest = (n - 1 - c) // cols  # the lowest row with a panel in column c
        s, anchor = ("" if c == 0 else str(c + 1)), ("" if lowest == 0 else str(lowest + 1))
        x0 = c * (w + hgap)
        axes[f"xaxis{s}"] = dict(x_axis or {}, domain=[x0, min(1.0, x0 + w)], anchor=f"y{anchor}",
                                 **({"matches": "x"} if match and c else {}))
    for r in range(rows):
        s = "" if r == 0 else str(r + 1)
        y1 = 1.0 - r * (h + vgap)
        axes[f"yaxis{s}"] = dict(y_axis or {}, domain=[max(0.0, y1 - h), y1], anchor="x",
                                 **({"matches": "y"} if match and r else {}))
    notes: list[dict] = []
    refs: list[tuple[str, str]] = []
    for k in range(n):
        r, c = divmod(k, cols)
        refs.append(("x" if c == 0 else f"x{c + 1}", "y" if r == 0 else f"y{r + 1}"))
        notes.append(dict(text=titles[k], x=c * (w + hgap) + w / 2, y=1.0 - r * (h + vgap), xref="paper",
                          yref="paper", xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=11)))
    return axes, notes, refs, top + bottom + plot_px


# ---------------------------------------------------------------- input checks


def _fail(message: str):
    raise ValueError(message)


def _numeric(value, name: str, ndim: int, shape: str, *, dtype=float) -> np.ndarray:
    """`value` as a numpy array of `ndim` dimensions, or a ValueError that names it and its shape."""
    if value is None:
        _fail(f"`{name}` must be an array of shape {shape}. Received: {name}=None")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        _fail(f"`{name}` must be an array of shape {shape}; it is ragged. Received: {name} of type "
              f"{type(value).__name__}")
    if arr.dtype.kind == "O":  # e.g. a list with None for missing values: None -> NaN
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            pass
    if arr.dtype.kind not in "biuf" or (arr.dtype.kind == "b" and dtype is not bool):
        _fail(f"`{name}` must hold numbers (shape {shape}). Received: {name} with dtype {arr.dtype}")
    if arr.ndim != ndim:
        _fail(f"`{name}` must be {ndim}-D with shape {shape}. Received: {name}.shape={arr.shape}")
    return np.array(arr, dtype=dtype) if dtype is not None else arr


def _finite(arr: np.ndarray, dtype=np.float64) -> np.ndarray:
    """Float copy with every non-finite value (inf too) as NaN: a gap in the plot.

    Probe data (kernels, outputs, energy: float32 where they are measured) are sent as
    float32, which halves what the browser receives every refresh; curves of a few
    values (losses, sweeps) stay float64.
    """
    out = np.array(arr, dtype=dtype)
    out[~np.isfinite(out)] = np.nan
    return out


def _epochs(epochs, name: str = "epochs") -> np.ndarray:
    """1-D numeric x values (kept integer when they are), at least one."""
    arr = _numeric(epochs, name, 1, "(E,)", dtype=None)
    if arr.size == 0:
        _fail(f"`{name}` is empty: there is nothing to plot before the first epoch. Received: {name}.shape=(0,)")
    if arr.dtype.kind == "b":
        _fail(f"`{name}` must hold numbers, not booleans. Received: {name} with dtype bool")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        _fail(f"`{name}` must be finite numbers. Received: {name} with {int((~np.isfinite(arr)).sum())} "
              "NaN/inf values")
    return np.array(arr, dtype=np.int64 if arr.dtype.kind in "iu" else float)


def _per_epoch(values, name: str, epochs: np.ndarray, shape: str, ndim: int = 2) -> np.ndarray:
    arr = _numeric(values, name, ndim, shape)
    if arr.shape[0] != epochs.shape[0]:
        _fail(f"`{name}` needs one row per epoch, shape {shape} with E=len(epochs)={epochs.shape[0]}. "
              f"Received: {name}.shape={arr.shape}")
    if ndim >= 2 and arr.shape[1] == 0:
        _fail(f"`{name}` has no interfaces (N=0). Received: {name}.shape={arr.shape}")
    return arr


def _smoothing(smoothing, name: str = "smoothing") -> float:
    if isinstance(smoothing, bool) or not isinstance(smoothing, numbers.Real) or not 0.0 <= smoothing < 1.0:
        _fail(f"`{name}` must be a number in [0, 1) (0 = raw curve; TensorBoard's default is 0.6). "
              f"Received: {name}={smoothing!r}")
    return float(smoothing)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        _fail(f"`{name}` must be a whole number >= 1. Received: {name}={value!r}")
    return int(value)


def _max_cols(max_cols) -> int:
    return _positive_int(max_cols, "max_cols")


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


# ---------------------------------------------------------------- 1. loss curves


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


# ---------------------------------------------------------------- 2. kernels


def _unique_names(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        name = str(name)
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _symmetric_limit(arr: np.ndarray) -> float:
    finite = np.abs(arr[np.isfinite(arr)])
    m = float(finite.max()) if finite.size else 0.0
    return m if m > 0 else 1.0


def kernel_heatmaps_figure(kernels, feature_names: Sequence[str] | None = None, max_cols: int = 8) -> go.Figure:
    """Each interface's kernel as a small heat map (input feature x unit), on one colour scale.

    Args:
        kernels: (N, d_in, units) kernels of the N interfaces.
        feature_names: d_in names for the rows (default "x0", "x1", ...).
        max_cols: panels per row.

    The colour scale is shared and symmetric (zmin=-m, zmax=m with m the largest
    |weight| of all interfaces; RdBu: red negative, blue positive), with one colour bar.
    """
    k = _numeric(kernels, "kernels", 3, "(N, d_in, units)")
    n, d_in, units = k.shape
    if 0 in k.shape:
        _fail(f"`kernels` must have shape (N, d_in, units) with no zero sizes. Received: kernels.shape={k.shape}")
    cols = min(_max_cols(max_cols), n)
    if feature_names is None:
        names = [f"x{i}" for i in range(d_in)]
    else:
        if isinstance(feature_names, str) or len(feature_names) != d_in:
            _fail(f"`feature_names` needs one name per input feature (d_in={d_in}, kernels.shape={k.shape}). "
                  f"Received: {len(feature_names) if not isinstance(feature_names, str) else 'a string'}"
                  f" ({feature_names!r:.80})")
        names = _unique_names(feature_names)
    k = _finite(k, _F32)
    m = _symmetric_limit(k)
    x_units = np.arange(units)
    longest = max(len(s) for s in names)
    axes, notes, refs, height = _grid(
        n, cols, interface_labels(n), panel_px=max(90, min(180, 18 * d_in)), top=84,
        x_axis=dict(tickfont=dict(size=9), nticks=min(units, 6), showgrid=False, automargin=True),
        y_axis=dict(tickfont=dict(size=9), autorange="reversed", type="category", showgrid=False, automargin=True),
    )
    data = []
    for i in range(n):
        xref, yref = refs[i]
        trace = dict(
            type="heatmap", z=k[i], x=x_units, y=names, xaxis=xref, yaxis=yref, name=f"if {i}",
            zmin=-m, zmax=m, zmid=0.0, colorscale=RDBU, showscale=i == 0,
            hovertemplate=f"if {i}<br>%{{y}} → unit %{{x}}<br>weight %{{z:.4g}}<extra></extra>",
        )
        if i == 0:
            trace["colorbar"] = dict(title=dict(text="weight", side="right"), thickness=12, len=min(1.0, 300 / height))
        data.append(trace)
    return _figure(data, dict(
        title=_title("Kernels", f"input feature (rows) × unit (columns) · one colour scale, |w| ≤ {m:.3g}"),
        height=height, annotations=notes, margin=dict(l=min(200, 20 + 6 * longest), t=84, b=36, r=8), **axes,
    ))


def _line_per_interface(x, ys: np.ndarray, *, name_hover: str, x_hover: str, mode: str = "lines") -> list[dict]:
    """One line per column of ys (rows = x), coloured per interface, dashed when colours repeat."""
    n = ys.shape[1]
    colours = interface_colors(n)
    ys = np.ascontiguousarray(_finite(ys, _F32).T)
    kind = _line_type(ys.size)
    if x.size <= 20 and mode == "lines":
        mode = "lines+markers"
    width = 1.5 if n <= 16 else 1.0
    return [dict(type=kind, x=x, y=ys[i], name=f"if {i}", mode=mode, legendgroup=f"if {i}",
                 line=dict(color=colours[i], width=width, dash=_dash(i)), marker=dict(size=4),
                 hovertemplate=f"if {i}<br>{x_hover}<br>{name_hover}<extra></extra>") for i in range(n)]


def _lines_layout(title: str, xtitle: str, ytitle: str, n: int, subtitle: str | None = None, **kw) -> dict:
    unified = n <= _UNIFIED_MAX
    layout = dict(
        title=_title(title, subtitle), xaxis=_axis(xtitle), yaxis=_axis(ytitle),
        hovermode="x unified" if unified else "closest",
        legend=dict(title=dict(text="interface"), tracegroupgap=0),
    )
    layout.update(kw)
    return layout


def kernel_norm_figure(epochs, norms) -> go.Figure:
    """The L2 norm of each interface's kernel over the epochs: one line per interface.

    Args:
        epochs: (E,) epoch numbers.
        norms: (E, N) kernel norms, row e at epochs[e].
    """
    x = _epochs(epochs)
    y = _per_epoch(norms, "norms", x, f"(E, N) with E=len(epochs)={x.size}")
    data = _line_per_interface(x, y, name_hover="‖W‖₂ %{y:.4g}", x_hover="epoch %{x}")
    layout = _lines_layout("Kernel norms", "epoch", "kernel L2 norm ‖W‖₂", y.shape[1])
    if y.shape[1] <= _UNIFIED_MAX:
        layout["xaxis"]["unifiedhovertitle"] = dict(text="epoch %{x}")
    return _figure(data, layout)


# ---------------------------------------------------------------- 4. distribution bands

# Opacity of the band between BAND_PERCENTILES[k-1] and [k], darker toward the median.
_BAND_ALPHA = {1: 0.12, 2: 0.22, 3: 0.34, 4: 0.5}


def _band_traces(x, bands: np.ndarray, colour: str, *, prefix: str, xref: str = "x", yref: str = "y") -> list[dict]:
    """Nine traces, one per percentile, each filling down to the one before ("tonexty")."""
    b = np.ascontiguousarray(_finite(bands, _F32).T)  # (9, E)
    traces = []
    for k, q in enumerate(BAND_PERCENTILES):
        label = "median" if q == 50 else f"p{q}"
        depth = min(k, len(BAND_PERCENTILES) - k)  # 1: outermost band (p0-p7, p93-p100) ... 4: next to the median
        trace = dict(type="scatter", x=x, y=b[k], name=f"{prefix}{label}", mode="lines", xaxis=xref,
                     yaxis=yref, showlegend=False, legendgroup=prefix.strip() or None,
                     line=dict(color=colour if q == 50 else _rgba(colour, 0.35), width=2 if q == 50 else 0.5),
                     hovertemplate=f"{label}: %{{y:.4g}}<extra></extra>")
        if k:
            trace["fill"] = "tonexty"
            trace["fillcolor"] = _rgba(colour, _BAND_ALPHA[depth])
        traces.append({key: v for key, v in trace.items() if v is not None})
    return traces


def distribution_bands_figure(epochs, bands, interface: int | None = None, title: str = "Distribution") -> go.Figure:
    """TensorBoard's distribution view: percentile bands of a quantity over the epochs.

    Args:
        epochs: (E,) epoch numbers.
        bands: (E, N, 9) percentiles BAND_PERCENTILES = (0, 7, 16, 31, 50, 69, 84, 93, 100)
            of the quantity (e.g. kernel weights, outputs) of each interface, increasing along the last axis.
        interface: the interface to draw; None draws small multiples of up to 16 interfaces
            (evenly spread over all of them when N > 16; the subtitle says which).
        title: figure title.

    Nested bands (min-max, 7-93, 16-84, 31-69) darken toward the median line.
    """
    x = _epochs(epochs)
    b = _per_epoch(bands, "bands", x, f"(E, N, 9) with E=len(epochs)={x.size}", ndim=3)
    if b.shape[2] != len(BAND_PERCENTILES):
        _fail(f"`bands` must have shape (E, N, 9): the last axis holds the percentiles {BAND_PERCENTILES}. "
              f"Received: bands.shape={b.shape}")
    steps = np.diff(b, axis=2)
    scale = 1.0 + (float(np.nanmax(np.abs(b))) if np.isfinite(b).any() else 0.0)
    if np.any(steps[np.isfinite(steps)] < -1e-6 * scale):
        _fail(f"`bands` must increase along the last axis (percentiles {BAND_PERCENTILES}); is it transposed? "
              f"Received: bands.shape={b.shape} with decreasing percentiles")
    n = b.shape[1]
    colours = interface_colors(n)
    band_note = "bands: min–max, 7–93, 16–84, 31–69 percentiles · line: median"
    if interface is not None:
        if isinstance(interface, bool) or not isinstance(interface, numbers.Integral) or not 0 <= interface < n:
            _fail(f"`interface` must be an interface index in [0, {n - 1}] (bands.shape={b.shape}) or None "
                  f"for all. Received: interface={interface!r}")
        i = int(interface)
        data = _band_traces(x, b[:, i, :], colours[i], prefix="")
        return _figure(data, dict(
            title=_title(str(title), f"if {i} · {band_note}"),
            xaxis=_axis("epoch", unifiedhovertitle=dict(text=f"if {i} · epoch %{{x}}")),
            yaxis=_axis("value"), hovermode="x unified", showlegend=False,
        ))
    shown = list(range(n)) if n <= _BANDS_PANELS else \
        sorted(set(np.round(np.linspace(0, n - 1, _BANDS_PANELS)).astype(int).tolist()))
    cols = min(4, len(shown))
    axes, notes, refs, height = _grid(
        len(shown), cols, [f"if {i}" for i in shown], panel_px=120, top=84,
        x_axis=_axis(None, title=dict(text="epoch", font=dict(size=11), standoff=2), tickfont=dict(size=10)),
        y_axis=_axis(None, tickfont=dict(size=10)),
    )
    data = []
    for panel, i in enumerate(shown):
        data += _band_traces(x, b[:, i, :], colours[i], prefix=f"if {i} ", xref=refs[panel][0], yref=refs[panel][1])
    which = f"all {n} interfaces" if len(shown) == n else \
        f"{len(shown)} of {n} interfaces, evenly spaced (interface=i shows any one)"
    return _figure(data, dict(
        title=_title(str(title), f"{which} · {band_note}"), height=height, annotations=notes,
        hovermode="x unified", showlegend=False, margin=dict(t=84), **axes,
    ))


# ---------------------------------------------------------------- 5. output histograms


def output_histograms_figure(edges, counts, epoch: int) -> go.Figure:
    """Histogram of every interface's outputs at one epoch.

    Args:
        edges: (bins + 1,) increasing bin edges, the same for all interfaces.
        counts: (N, bins) outputs of each interface in each bin.
        epoch: the epoch they were measured at (for the title).

    Up to 12 interfaces: overlaid step lines, one per interface. More: a heat map
    (interface x output value, colour = count), which stays readable for N = 64.
    """
    e = _numeric(edges, "edges", 1, "(bins + 1,)")
    c = _numeric(counts, "counts", 2, "(N, bins)")
    if e.size < 2 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
        _fail(f"`edges` must be at least 2 finite, strictly increasing bin edges. Received: edges.shape={e.shape}"
              f", edges[:5]={np.round(e[:5], 4).tolist()}")
    if c.shape[1] != e.size - 1 or c.shape[0] == 0:
        _fail(f"`counts` must have shape (N, bins) with bins = len(edges) - 1 = {e.size - 1} and N >= 1. "
              f"Received: counts.shape={c.shape}, edges.shape={e.shape}")
    if np.any(c[np.isfinite(c)] < 0):
        _fail(f"`counts` must be >= 0 (they are counts). Received: min(counts)={np.nanmin(c):g}")
    n, bins = c.shape
    title = _title(f"Output histograms · epoch {epoch}", f"{n} interfaces · {bins} bins on fixed edges")
    if n > _OVERLAY_MAX:
        labels = interface_labels(n)
        return _figure([dict(
            type="heatmap", z=_finite(c, _F32), x=e, y=labels, name="counts", colorscale=BLUES, zmin=0,
            colorbar=dict(title=dict(text="outputs<br>in bin", side="right"), thickness=12),
            hovertemplate="%{y}<br>output ≈ %{x:.3g}<br>%{z:,} outputs<extra></extra>",
        )], dict(
            title=title, height=max(320, min(760, 90 + 9 * n)),
            xaxis=_axis("output value"), yaxis=_axis(None, autorange="reversed", type="category", nticks=16,
                                                     tickfont=dict(size=9)),
        ))
    colours = interface_colors(n)
    x = np.concatenate([e[:1], e])
    upper = np.concatenate([e[:1], e[1:], e[-1:]])
    data = []
    for i in range(n):
        y = np.concatenate([[0.0], _finite(c[i]), [0.0]]).astype(_F32)
        data.append(dict(
            type="scatter", x=x, y=y, customdata=upper, name=f"if {i}", mode="lines",
            line=dict(color=colours[i], width=1.5, dash=_dash(i), shape="hv"),
            hovertemplate=f"if {i}<br>output in [%{{x:.3g}}, %{{customdata:.3g}})<br>%{{y:,}} outputs<extra></extra>",
        ))
    return _figure(data, dict(
        title=title, xaxis=_axis("output value"), yaxis=_axis("outputs in bin", rangemode="tozero"),
        hovermode="closest", legend=dict(title=dict(text="interface")),
    ))


# ---------------------------------------------------------------- 6. energy


def energy_curves_figure(energy, leak: float, epoch: int) -> go.Figure:
    """The EnergyReservoir's integration curve E[b] of each interface over one probe batch.

    Args:
        energy: (B, N) E[b] for the B samples of the probe batch (in order), per interface.
        leak: the reservoir's leak in [0, 1] (for the subtitle).
        epoch: the epoch it was measured at.

    E[0] = p[0], E[b] = (1 - leak) E[b-1] + p[b], p[b] = mean of the interface's squared outputs for sample b.
    """
    y = _numeric(energy, "energy", 2, "(B, N): probe samples x interfaces")
    if 0 in y.shape:
        _fail(f"`energy` must have shape (B, N) with B, N >= 1. Received: energy.shape={y.shape}")
    if isinstance(leak, bool) or not isinstance(leak, numbers.Real) or not 0.0 <= leak <= 1.0:
        _fail(f"`leak` must be the EnergyReservoir leak, a number in [0, 1]. Received: leak={leak!r}")
    x = np.arange(y.shape[0])
    data = _line_per_interface(x, y, name_hover="E[b] = %{y:.4g} (activation²)", x_hover="sample %{x}")
    return _figure(data, _lines_layout(
        f"Energy E[b] · epoch {epoch}", "sample in probe batch", "energy E[b]", y.shape[1],
        subtitle=f"E[b] = (1 − leak)·E[b−1] + mean(output[b]²), leak = {float(leak):g}, reset every batch",
        yaxis=_axis("energy E[b]", rangemode="tozero"),
    ))


def final_energy_figure(epochs, final_energy) -> go.Figure:
    """The energy at the end of the probe batch, E[B-1], of each interface over the epochs.

    Args:
        epochs: (E,) epoch numbers.
        final_energy: (E, N) E[last] per interface, row e at epochs[e].
    """
    x = _epochs(epochs)
    y = _per_epoch(final_energy, "final_energy", x, f"(E, N) with E=len(epochs)={x.size}")
    data = _line_per_interface(x, y, name_hover="E[last] = %{y:.4g} (activation²)", x_hover="epoch %{x}")
    layout = _lines_layout("Final energy per interface", "epoch", "final energy E[last]", y.shape[1],
                           yaxis=_axis("final energy E[last]", rangemode="tozero"))
    if y.shape[1] <= _UNIFIED_MAX:
        layout["xaxis"]["unifiedhovertitle"] = dict(text="epoch %{x}")
    return _figure(data, layout)


# ---------------------------------------------------------------- 7. similarity


def similarity_figure(sim) -> go.Figure:
    """Cosine similarity of the interfaces' kernels: an N x N heat map on [-1, 1] (RdBu), square cells."""
    s = _numeric(sim, "sim", 2, "(N, N) cosine similarities")
    n = s.shape[0]
    if s.shape[1] != n or n == 0:
        _fail(f"`sim` must be a square (N, N) matrix with N >= 1. Received: sim.shape={s.shape}")
    s = _finite(s, _F32)
    if np.isfinite(s).any() and (np.nanmin(s) < -1.001 or np.nanmax(s) > 1.001):
        _fail(f"`sim` must hold cosine similarities in [-1, 1]. Received: values in "
              f"[{np.nanmin(s):.4g}, {np.nanmax(s):.4g}]")
    labels = interface_labels(n)
    trace = dict(type="heatmap", z=np.clip(s, -1.0, 1.0), x=labels, y=labels, name="cosine similarity",
                 zmin=-1.0, zmax=1.0, zmid=0.0, colorscale=RDBU,
                 colorbar=dict(title=dict(text="cosine", side="right"), thickness=12),
                 hovertemplate="%{y} · %{x}<br>cosine %{z:.3f}<extra></extra>")
    if n <= 8:
        trace["texttemplate"] = "%{z:.2f}"
        trace["textfont"] = dict(size=10)
    tick = dict(type="category", tickfont=dict(size=9 if n > 16 else 11), nticks=min(n, 32))
    return _figure([trace], dict(
        title=_title("Kernel similarity", "cosine of the flattened kernels"),
        xaxis=_axis(None, constrain="domain", side="bottom", **tick),
        yaxis=_axis(None, autorange="reversed", scaleanchor="x", scaleratio=1, constrain="domain", **tick),
        height=max(320, min(560, 140 + 8 * n)),
    ))


# ---------------------------------------------------------------- 8. information plane


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
            interface's first two principal axes (`infoif.estimators.pca_2d`).
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


# ---------------------------------------------------------------- 9. input plane



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


# ---------------------------------------------------------------- 10. architecture


def architecture_figure(input_dim: int, num_interfaces: int, units: int, merge: str, hidden: int | None,
                        output_units: int, param_counts: Mapping[str, int]) -> go.Figure:
    """A left-to-right diagram: Input -> InformationInterfaces -> EnergyReservoir -> merge -> [hidden] -> head.

    Args:
        input_dim: input features d.
        num_interfaces, units: N interfaces of `units` each (drawn as N stacked boxes, at most 16 and "…").
        merge: "concat" (flatten to N·units) or "mean" (average to units).
        hidden: width of the hidden Dense layer, or None/0 for none.
        output_units: units of the head.
        param_counts: parameters per layer name ("interfaces", "reservoir", "merge", "hidden", "head");
            missing names count 0.
    """
    d = _positive_int(input_dim, "input_dim")
    n = _positive_int(num_interfaces, "num_interfaces")
    u = _positive_int(units, "units")
    out = _positive_int(output_units, "output_units")
    if merge not in ("concat", "mean"):
        _fail(f"`merge` must be 'concat' or 'mean'. Received: merge={merge!r}")
    if hidden is not None and not (hidden == 0 and not isinstance(hidden, bool)):
        hidden = _positive_int(hidden, "hidden")
    hidden = hidden or None
    if not isinstance(param_counts, Mapping) or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0 for v in param_counts.values()):
        _fail(f"`param_counts` must map layer names to parameter counts (whole numbers >= 0). "
              f"Received: param_counts={param_counts!r:.120}")
    counts = {str(k): int(v) for k, v in param_counts.items()}
    merged = n * u if merge == "concat" else u
    stages = [
        ("features", "Input", f"{d} features", f"(batch, {d})", None),
        ("interfaces", "InformationInterfaces", f"{n} × Dense({u})", f"(batch, {n}, {u})", counts.get("interfaces", 0)),
        ("reservoir", "EnergyReservoir", "E[b] per interface", f"(batch, {n}, {u})", counts.get("reservoir", 0)),
        ("merge", "Flatten" if merge == "concat" else "Mean", f"merge = {merge}", f"(batch, {merged})",
         counts.get("merge", 0)),
    ]
    if hidden:
        stages.append(("hidden", "Dense", f"hidden, {hidden} units", f"(batch, {hidden})", counts.get("hidden", 0)))
    stages.append(("head", "Dense", f"head, {out} unit{'s' if out != 1 else ''}", f"(batch, {out})",
                   counts.get("head", 0)))
    step, box_w = 1.0, 0.72
    shapes, notes = [], []
    cx, cy, hover = [], [], []
    colours = interface_colors(min(n, _DRAW_INTERFACES))
    for s, (key, kind, what, shape, params) in enumerate(stages):
        x0, x1 = s * step, s * step + box_w
        mid = (x0 + x1) / 2
        if key == "interfaces":
            drawn = min(n, _DRAW_INTERFACES)
            slot = 0.62 / drawn
            for i in range(drawn):
                top = 0.82 - i * slot
                ellipsis = n > _DRAW_INTERFACES and i == drawn - 1
                if ellipsis:
                    notes.append(dict(x=mid, y=top - slot / 2, text=f"… {n - drawn + 1} more", showarrow=False,
                                      font=dict(size=9, color="#555")))
                    continue
                shapes.append(dict(type="rect", x0=x0 + 0.06, x1=x1 - 0.06, y0=top - slot * 0.86, y1=top,
                                   line=dict(color=colours[i], width=1), fillcolor=_rgba(colours[i], 0.35)))
            shapes.append(dict(type="rect", x0=x0, x1=x1, y0=0.16, y1=0.86, line=dict(color="#888", width=1,
                                                                                     dash="dot")))
        else:
            fill = "#EEF3FA" if key != "features" else "#F4F4F4"
            shapes.append(dict(type="rect", x0=x0, x1=x1, y0=0.3, y1=0.72, line=dict(color="#555", width=1),
                               fillcolor=fill, layer="below"))
            notes.append(dict(x=mid, y=0.51, text=f"<b>{kind}</b><br>{what}", showarrow=False, font=dict(size=10)))
        notes.append(dict(x=mid, y=0.93, text=shape, showarrow=False, font=dict(size=9, color="#555")))
        if params is not None:
            notes.append(dict(x=mid, y=0.06, text=f"{params:,} params", showarrow=False,
                              font=dict(size=10, color="#1F4E79")))
        if key == "interfaces":
            notes.append(dict(x=mid, y=0.115, text=f"<b>{kind}</b>", showarrow=False, font=dict(size=9)))
        if s:
            notes.append(dict(x=x0 - 0.01, y=0.51, ax=x0 - step + box_w + 0.01, ay=0.51, xref="x", yref="y",
                              axref="x", ayref="y", text="", showarrow=True, arrowhead=2, arrowsize=1,
                              arrowwidth=1.2, arrowcolor="#555"))
        cx.append(mid)
        cy.append(0.51)
        hover.append(f"<b>{kind}</b> ({key})<br>{what}<br>output {shape}<br>"
                     + (f"{params:,} parameters" if params is not None else "no parameters"))
    total = sum(counts.values())
    data = [dict(type="scatter", x=cx, y=cy, text=hover, name="layers", mode="markers", showlegend=False,
                 marker=dict(size=40, color="rgba(0,0,0,0)", symbol="square"),
                 hovertemplate="%{text}<extra></extra>")]
    return _figure(data, dict(
        title=_title(f"Architecture · {total:,} parameters",
                     f"Input({d}) → {n} interfaces × {u} units → EnergyReservoir → {merge}"
                     + (f" → Dense({hidden})" if hidden else "") + f" → head({out})"),
        shapes=shapes, annotations=notes, height=300, hovermode="closest", dragmode=False,
        xaxis=dict(visible=False, range=[-0.1, (len(stages) - 1) * step + box_w + 0.1], fixedrange=True),
        yaxis=dict(visible=False, range=[0, 1], fixedrange=True),
        margin=dict(l=8, r=8, b=8),
    ))


# ---------------------------------------------------------------- 11. 2-D data


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


# ---------------------------------------------------------------- 12. runs


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


# ---------------------------------------------------------------- 12b. sweeps (infoif.sweep.results)

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
        _fail(f"`{name}` must be a pandas DataFrame (as infoif.sweep.results gives). "
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
        results: one row per run (`infoif.sweep.results`): the settings' columns and `metric`.
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
        results: one row per run (`infoif.sweep.results`).
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



# ---------------------------------------------------------------- 13. data behind a figure


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

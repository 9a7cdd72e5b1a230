"""The look every figure shares: the plotly_white template, compact margins, titles and axes,
one colour per interface, the colour scales, small-multiple grids with coupled axes.

Figures are assembled from plain dicts (`_figure`) without plotly's per-property
validation, which keeps each builder in the low milliseconds for 64 interfaces
and 500 epochs; the tests check that every builder's figure is identical to the
validated one. The returned figures validate the changes a caller makes
(`fig.update_layout(...)`) as usual.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "interface_colors",
    "interface_labels",
]


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

_MARGIN = dict(l=56, r=16, t=48, b=44)
_GL_POINTS = 20_000  # above this many points in a line figure, draw with WebGL (scattergl)
_UNIFIED_MAX = 10  # at most this many curves share one "x unified" hover box
_BANDS_PANELS = 16  # distribution bands: panels drawn when interface=None


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


def _symmetric_limit(arr: np.ndarray) -> float:
    finite = np.abs(arr[np.isfinite(arr)])
    m = float(finite.max()) if finite.size else 0.0
    return m if m > 0 else 1.0


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

"""Interfaces page charts, tabs Weights, Outputs and Energy: each interface's kernel as a heat
map, the kernel norms, the kernels' similarity, distribution bands (weights and outputs) over
the epochs, output histograms, the energy curve over a probe batch and the final energy over
the epochs. The tab Input plane has its own module, `infoif.figures.input_plane`.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from infoif.figures.checks import _F32, _epochs, _fail, _finite, _max_cols, _numeric, _per_epoch
from infoif.figures.style import (
    _BANDS_PANELS, _UNIFIED_MAX, BLUES, RDBU, _axis, _dash, _figure, _grid, _line_type, _rgba, _symmetric_limit,
    _title, interface_colors, interface_labels,
)

__all__ = [
    "BAND_PERCENTILES",
    "kernel_heatmaps_figure",
    "kernel_norm_figure",
    "distribution_bands_figure",
    "output_histograms_figure",
    "energy_curves_figure",
    "final_energy_figure",
    "similarity_figure",
]


# The percentiles of TensorBoard's distribution view, as `infoif.train.estimators` computes them.
BAND_PERCENTILES = (0, 7, 16, 31, 50, 69, 84, 93, 100)

_OVERLAY_MAX = 12  # output histograms: overlaid step lines up to here, a heat map beyond


# ---------------------------------------------------------------- kernels


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


# ---------------------------------------------------------------- distribution bands

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


# ---------------------------------------------------------------- output histograms


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


# ---------------------------------------------------------------- energy


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


# ---------------------------------------------------------------- similarity


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

"""Model page chart: the architecture as a left-to-right diagram with each layer's output shape
and parameter count (`architecture_figure`).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import plotly.graph_objects as go

from infoif.figures.checks import _fail, _positive_int
from infoif.figures.style import _figure, _rgba, _title, interface_colors

__all__ = [
    "architecture_figure",
]


_DRAW_INTERFACES = 16  # architecture: interface boxes drawn


# ---------------------------------------------------------------- architecture


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

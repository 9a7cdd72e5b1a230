"""Tests for infoif.figures.model, the Model page's architecture diagram: boxes, shapes and
parameter counts, capped interface boxes, bad input refused by name.
"""

from __future__ import annotations

import pytest

from infoif.figures.model import architecture_figure


def _rects(fig):
    return [s for s in fig.layout.shapes if s.type == "rect"]


def test_architecture_boxes_and_parameter_counts():
    counts = {"interfaces": 36, "reservoir": 0, "merge": 0, "hidden": 200, "head": 9}
    fig = architecture_figure(2, 3, 4, "concat", 16, 1, counts)
    texts = " ".join(a.text for a in fig.layout.annotations)
    for expected in ("Input", "InformationInterfaces", "EnergyReservoir", "Flatten", "hidden, 16 units", "head",
                     "36 params", "200 params", "9 params", "(batch, 3, 4)", "(batch, 12)"):
        assert expected in texts, expected
    assert "245 parameters" in fig.layout.title.text
    # 3 interface boxes + their frame + Input, reservoir, merge, hidden, head
    assert len(_rects(fig)) == 3 + 1 + 5
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == 5  # left to right between the 6 stages
    assert all(a.x > a.ax for a in arrows)
    (hover,) = fig.data
    assert len(hover.x) == 6 and "36 parameters" in hover.text[1]
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.fixedrange is True


def test_architecture_caps_interface_boxes_and_skips_missing_hidden():
    fig = architecture_figure(8, 64, 4, "mean", None, 3, {"interfaces": 2304, "head": 15})
    texts = [a.text for a in fig.layout.annotations]
    assert len(_rects(fig)) == 15 + 1 + 4  # 15 boxes and "… 49 more" in the 16th slot
    assert any(t == "… 49 more" for t in texts)
    assert not any("hidden" in t for t in texts) and any("Mean" in t for t in texts)
    assert any("(batch, 4)" == t for t in texts)  # mean merges to `units`


def test_architecture_validation():
    with pytest.raises(ValueError, match=r"`merge` must be 'concat' or 'mean'. Received: merge='sum'"):
        architecture_figure(2, 3, 4, "sum", None, 1, {})
    with pytest.raises(ValueError, match=r"`num_interfaces` must be a whole number >= 1. Received: num_interfaces=0"):
        architecture_figure(2, 0, 4, "concat", None, 1, {})
    with pytest.raises(ValueError, match=r"`param_counts` must map layer names to parameter counts"):
        architecture_figure(2, 3, 4, "concat", None, 1, {"head": -1})

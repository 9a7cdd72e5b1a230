"""Tests for infoif.figures.style and what every figure shares: the package imports no Keras,
TensorFlow, Streamlit or pandas; interface colours; every builder's figure is valid plotly, identical
to the validated one, in the shared look, with hover text; and every builder is fast at N=64
interfaces and 500 epochs.

No browser: everything is asserted on `fig.data` and `fig.layout`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from infoif.figures.style import interface_colors, interface_labels
from tests.figures.inputs import BUILDERS, builders


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ----------------------------------------------------------------------------- the package


def test_module_imports_without_keras_tensorflow_streamlit_or_pandas():
    code = ("import sys, time; t = time.perf_counter(); import infoif.figures; "
            "assert len(infoif.figures.import_all()) > 1; "
            "print(time.perf_counter() - t); "
            "print(sorted(m for m in ('keras', 'tensorflow', 'streamlit', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    seconds, loaded = out.stdout.split("\n")[:2]
    assert loaded == "[]", f"infoif.figures imported {loaded}"
    assert float(seconds) < 2.0


def test_interface_colors_are_distinct_then_cycle():
    colours = interface_colors(64)
    assert len(colours) == 64
    assert len(set(colours[:24])) == 24
    assert colours[24] == colours[0] and colours[63] == colours[63 % 24]
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in colours)
    assert interface_colors(5) == colours[:5]  # interface i keeps its colour whatever N is
    assert interface_colors(0) == []
    assert interface_labels(3) == ["if 0", "if 1", "if 2"]
    for bad in (-1, 2.5, True, "8"):
        with pytest.raises(ValueError, match=r"`n` must be a whole number"):
            interface_colors(bad)


@pytest.mark.parametrize("name", BUILDERS)
def test_figure_is_valid_plotly_and_validates_to_the_same_figure(name):
    """The fast (unvalidated) construction gives exactly what plotly's validated one gives."""
    fig = builders()[name]()
    assert isinstance(fig, go.Figure)
    validated = go.Figure(data=[t.to_plotly_json() for t in fig.data], layout=fig.layout.to_plotly_json())
    assert json.loads(pio.to_json(fig, validate=False)) == json.loads(pio.to_json(validated, validate=False))
    # colour scales are lists: plotly.py and plotly.js resolve the same *name* to different scales

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                assert not (key == "colorscale" and isinstance(value, str)), f"named colorscale {value!r}"
                if key != "template":
                    walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(json.loads(pio.to_json(fig, validate=False)))


@pytest.mark.parametrize("name", BUILDERS)
def test_figure_has_the_shared_look(name):
    fig = builders()[name]()
    white = pio.templates["plotly_white"].layout.to_plotly_json()
    assert fig.layout.template.layout.to_plotly_json() == white
    assert fig.layout.title.text
    assert fig.layout.margin.l <= 200 and fig.layout.margin.t <= 90
    # built without validation, the figure validates the changes its caller makes
    with pytest.raises(ValueError):
        fig.update_layout(titel="typo")
    with pytest.raises(ValueError):
        fig.layout["titel"] = "typo"
    with pytest.raises(ValueError):
        fig.data[0]["nme"] = "typo"
    with pytest.raises(ValueError):
        fig.data[0].opacity = 7


@pytest.mark.parametrize("name", BUILDERS)
def test_every_trace_has_a_hover_template_or_no_hover(name):
    fig = builders()[name]()
    for trace in fig.data:
        assert trace.hovertemplate or trace.hoverinfo == "skip", (name, trace.name)


# ----------------------------------------------------------------------------- speed


def test_every_builder_is_fast_at_64_interfaces_and_500_epochs():
    """The dashboard draws ~10 of these per rerun within 300 ms; each takes a few ms (200 ms catches pathologies)."""
    timings = {}
    for name, build in builders(N=64, E=500).items():
        build()  # warm: plotly's lazy imports, the template
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            build()
            best = min(best, time.perf_counter() - started)
        timings[name] = best
    slow = {k: f"{v * 1000:.0f} ms" for k, v in timings.items() if v > 0.2}
    assert not slow, slow
    assert sum(timings.values()) < 1.0, {k: f"{v * 1000:.1f} ms" for k, v in timings.items()}

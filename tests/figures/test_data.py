"""Tests for infoif.figures.data, the Data page's scatter plot of a 2-D dataset: categorical and
numeric targets, bad input refused by name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from infoif.figures.data import scatter_2d_figure
from tests.figures.inputs import axis_title


def test_scatter_2d_categorical_target():
    df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, np.nan], "y": [1.0, 0.0, 1.0, 2.0, 0.0],
                       "label": ["b", "a", "b", None, "a"]})
    fig = scatter_2d_figure(df, "x", "y", "label")
    assert [t.name for t in fig.data] == ["a", "b", "(missing)"]
    assert [len(t.x) for t in fig.data] == [1, 2, 1]  # the row with NaN x is left out
    assert fig.data[0].marker.color != fig.data[1].marker.color
    assert axis_title(fig.layout.xaxis) == "x" and axis_title(fig.layout.yaxis) == "y"
    # a 0/1 number target is categorical too, ordered like the class names
    df = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 2.0], "t": [1, 0, 1]})
    assert [t.name for t in scatter_2d_figure(df, "x", "y", "t").data] == ["0", "1"]


def test_scatter_2d_numeric_target():
    df = pd.DataFrame({"x": np.arange(30.0), "y": np.arange(30.0), "v": np.linspace(-1, 1, 30)})
    fig = scatter_2d_figure(df, "x", "y", "v")
    (trace,) = fig.data
    np.testing.assert_allclose(trace.marker.color, df["v"])
    assert trace.marker.showscale is True and trace.marker.colorbar.title.text == "v"
    assert scatter_2d_figure(df, "x", "y", None).data[0].name == "data"


def test_scatter_2d_validation():
    df = pd.DataFrame({"x": [1.0], "y": [2.0]})
    with pytest.raises(ValueError, match=r"`color` must be a column of `df` \(columns: \['x', 'y'\]\). Received: color='z'"):
        scatter_2d_figure(df, "x", "y", "z")
    with pytest.raises(ValueError, match=r"`df` must be a pandas DataFrame"):
        scatter_2d_figure({"x": [1]}, "x", "y", None)

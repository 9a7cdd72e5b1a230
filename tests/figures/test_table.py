"""Tests for infoif.figures.table: the data behind a figure (`figure_data`) for lines, heat maps,
colour values and figure dicts, its CSV, and a table for every builder's figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from infoif.figures.information import info_plane_figure
from infoif.figures.interfaces import kernel_heatmaps_figure, kernel_norm_figure, output_histograms_figure
from infoif.figures.model import architecture_figure
from infoif.figures.table import figure_data
from tests.figures.inputs import BUILDERS, builders, rng


def test_figure_data_of_lines():
    E, N = 7, 3
    norms = rng(20).random((E, N))
    table = figure_data(kernel_norm_figure(np.arange(E), norms))
    assert list(table.columns) == ["trace", "type", "x", "y", "z", "color"]
    assert len(table) == E * N
    assert list(table["trace"].unique()) == ["if 0", "if 1", "if 2"]
    np.testing.assert_allclose(table.loc[table.trace == "if 2", "y"], norms[:, 2], rtol=1e-6)
    np.testing.assert_array_equal(table.loc[table.trace == "if 2", "x"], np.arange(E))
    assert table["z"].isna().all()


def test_figure_data_of_heatmaps_flattens_row_by_row():
    counts = np.arange(13 * 4).reshape(13, 4)
    edges = np.array([0.0, 1.0, 2.0, 4.0, 8.0])
    table = figure_data(output_histograms_figure(edges, counts, 1))
    assert len(table) == 13 * 4
    np.testing.assert_array_equal(table["z"], counts.reshape(-1))
    np.testing.assert_allclose(table["x"][:4], [0.5, 1.5, 3.0, 6.0])  # bin centres
    assert list(table["y"][:5]) == ["if 0"] * 4 + ["if 1"]


def test_figure_data_keeps_colour_values_and_reads_dicts():
    fig = info_plane_figure(rng(21).random((4, 2)), rng(22).random((4, 2)), [3, 1, 2, 4], "binning")
    table = figure_data(fig)
    np.testing.assert_array_equal(table["color"], [1, 2, 3, 4, 1, 2, 3, 4])  # the epoch of each point
    # a figure dict (as serialised, with base64 arrays) gives the same table
    pd.testing.assert_frame_equal(figure_data(fig.to_dict()), table)
    assert figure_data(architecture_figure(2, 3, 4, "concat", None, 1, {})).shape == (5, 7)
    with pytest.raises(ValueError, match=r"`fig` must be a plotly Figure"):
        figure_data("not a figure")


def test_figure_data_csv_is_tidy_and_short():
    fig = kernel_heatmaps_figure(np.full((2, 2, 2), 0.1), ["a", "b"])
    csv = figure_data(fig).to_csv(index=False)
    lines = csv.strip().split("\n")
    assert lines[0] == "trace,type,x,y,z,color" and len(lines) == 1 + 8
    assert lines[1] == "if 0,heatmap,0,a,0.1,"  # float32 data printed as 0.1, not 0.10000000149011612


@pytest.mark.parametrize("name", BUILDERS)
def test_figure_data_of_every_builder(name):
    fig = builders()[name]()
    table = figure_data(fig)
    assert len(table) > 0 and {"trace", "x", "y", "z"} <= set(table.columns)
    assert set(table["trace"]) <= {t.name for t in fig.data}

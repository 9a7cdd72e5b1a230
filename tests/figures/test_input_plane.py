"""Tests for infoif.figures.input_plane, the Interfaces page's Input plane charts: the decision
surface (binary, multiclass, regression) and each interface over the plane.
"""

from __future__ import annotations

import numpy as np
import pytest

from infoif.figures.input_plane import decision_surface_figure, interface_response_figure
from tests.figures.inputs import axis_title, grid, rng


def test_decision_surface_binary():
    xx, yy = grid()
    z = rng(14).random((13, 12))
    pts = np.array([[0.0, 0.0], [1.0, 0.5], [np.nan, 0.0], [-1.0, 0.2]])
    fig = decision_surface_figure(xx, yy, z, pts, np.array([0.0, 1.0, 1.0, 1.0]), ["0", "1"], "binary")
    surface, boundary, class0, class1 = fig.data
    assert surface.type == "heatmap" and (surface.zmin, surface.zmax, surface.zmid) == (0.0, 1.0, 0.5)
    np.testing.assert_allclose(surface.z, z, rtol=1e-6)
    np.testing.assert_allclose(surface.x, xx)
    assert boundary.type == "contour" and boundary.contours.start == boundary.contours.end == 0.5
    assert (class0.name, class1.name) == ("0", "1")
    assert len(class0.x) == 1 and len(class1.x) == 2  # the NaN point is left out
    # points in the colours of the two ends of the surface's scale (Playground's orange and blue)
    assert class0.marker.color == surface.colorscale[0][1] and class1.marker.color == surface.colorscale[-1][1]
    assert surface.colorbar.title.text == "P(1)"


def test_decision_surface_matches_labels_to_class_names():
    xx, yy = grid()
    pts = rng(15).normal(size=(6, 2))
    labels = np.array(["no", "yes", "yes", "no", "maybe", None], dtype=object)
    fig = decision_surface_figure(xx, yy, np.full((13, 12), 0.5), pts, labels, ["no", "yes"], "binary")
    assert [len(t.x) for t in fig.data[2:]] == [2, 2]  # "maybe" and None match no class
    codes = decision_surface_figure(xx, yy, np.zeros((13, 12)), pts, [0, 1, 1, 0, 0, 0], ["no", "yes"], "binary")
    assert [len(t.x) for t in codes.data[2:]] == [4, 2]  # class indices work too


def test_decision_surface_multiclass_and_regression():
    xx, yy = grid()
    pts = rng(16).normal(size=(30, 2))
    z = rng(16).integers(0, 3, (13, 12)).astype(float)
    fig = decision_surface_figure(xx, yy, z, pts, rng(17).integers(0, 3, 30), ["a", "b", "c"], "multiclass",
                                  x_name="width", y_name="height")
    assert len(fig.data) == 4 and [t.name for t in fig.data[1:]] == ["a", "b", "c"]
    surface = fig.data[0]
    assert (surface.zmin, surface.zmax) == (-0.5, 2.5)
    assert list(surface.colorbar.ticktext) == ["a", "b", "c"]
    assert axis_title(fig.layout.xaxis) == "width" and axis_title(fig.layout.yaxis) == "height"
    values = pts[:, 0] * 10
    fig = decision_surface_figure(xx, yy, np.zeros((13, 12)), pts, values, None, "regression")
    surface, points = fig.data
    assert surface.coloraxis == points.marker.coloraxis == "coloraxis"  # one scale for surface and data
    assert fig.layout.coloraxis.cmin == pytest.approx(values.min())
    assert fig.layout.coloraxis.cmax == pytest.approx(values.max())


def test_decision_surface_subsamples_many_points():
    xx, yy = grid()
    pts = rng(18).normal(size=(6000, 2))
    fig = decision_surface_figure(xx, yy, np.full((13, 12), 0.3), pts, (pts[:, 0] > 0).astype(int),
                                  ["0", "1"], "binary")
    assert sum(len(t.x) for t in fig.data[2:]) == 2500
    assert "2,500 of 6,000" in fig.layout.title.subtitle.text
    again = decision_surface_figure(xx, yy, np.full((13, 12), 0.3), pts, (pts[:, 0] > 0).astype(int),
                                    ["0", "1"], "binary")
    np.testing.assert_array_equal(fig.data[2].x, again.data[2].x)  # the same points every refresh


def test_decision_surface_validation():
    xx, yy = grid()
    pts = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"`task` must be one of \['binary', 'multiclass', 'regression'\]"):
        decision_surface_figure(xx, yy, np.zeros((13, 12)), pts, [0, 1, 0], ["0", "1"], "ranking")
    with pytest.raises(ValueError, match=r"`z` must have shape \(len\(yy\), len\(xx\)\) = \(13, 12\).*z.shape=\(12, 13\)"):
        decision_surface_figure(xx, yy, np.zeros((12, 13)), pts, [0, 1, 0], ["0", "1"], "binary")
    with pytest.raises(ValueError, match=r"`z` must be probabilities of class 1 in \[0, 1\]"):
        decision_surface_figure(xx, yy, np.full((13, 12), 2.0), pts, [0, 1, 0], ["0", "1"], "binary")
    with pytest.raises(ValueError, match=r"`class_names` must list the classes"):
        decision_surface_figure(xx, yy, np.zeros((13, 12)), pts, [0, 1, 0], None, "multiclass")
    with pytest.raises(ValueError, match=r"`points_x` must have shape \(n, 2\)"):
        decision_surface_figure(xx, yy, np.zeros((13, 12)), np.zeros((3, 3)), [0, 1, 0], ["0", "1"], "binary")
    with pytest.raises(ValueError, match=r"`points_y` must have shape \(n,\) with n=len\(points_x\)=3"):
        decision_surface_figure(xx, yy, np.zeros((13, 12)), pts, [0, 1], ["0", "1"], "binary")
    with pytest.raises(ValueError, match=r"`xx` must be at least 2 finite, increasing"):
        decision_surface_figure(xx[::-1], yy, np.zeros((13, 12)), pts, [0, 1, 0], ["0", "1"], "binary")


def test_interface_response_thumbnails():
    xx, yy = grid()
    responses = rng(19).normal(size=(11, 13, 12))
    fig = interface_response_figure(xx, yy, responses, max_cols=4)
    assert len(fig.data) == 11 and {t.type for t in fig.data} == {"heatmap"}
    m = float(np.abs(responses).max())
    assert all(t.zmin == pytest.approx(-m) and t.zmax == pytest.approx(m) for t in fig.data)
    assert [t.showscale for t in fig.data].count(True) == 1
    assert [a.text for a in fig.layout.annotations] == [f"if {i}" for i in range(11)]
    assert fig.layout.xaxis.showticklabels is False and fig.layout.yaxis2.ticks == ""
    np.testing.assert_allclose(fig.data[10].z, responses[10], rtol=1e-6)
    with pytest.raises(ValueError, match=r"`responses` must have shape \(N, len\(yy\), len\(xx\)\) = \(N, 13, 12\)"):
        interface_response_figure(xx, yy, responses[:, :, :5])

"""Tests for infoif.figures.information, the Information page's charts: the information plane
(paths, KDE interval bars, ceilings) and the clustering view.
"""

from __future__ import annotations

import numpy as np
import pytest

from infoif.figures.information import clustering_figure, info_plane_figure
from infoif.figures.style import PLAYGROUND_BLUE, PLAYGROUND_ORANGE
from infoif.figures.table import figure_data
from tests.figures.inputs import axis_title, rng


# ----------------------------------------------------------------------------- information plane


def test_info_plane_paths_coloured_by_epoch():
    E, N = 6, 3
    i_xt, i_ty = rng(12).random((E, N)), rng(13).random((E, N))
    epochs = np.array([5, 1, 2, 3, 4, 6])  # out of order: the path follows time
    fig = info_plane_figure(i_xt, i_ty, epochs, "KDE upper bound, σ²=0.1")
    assert len(fig.data) == N and [t.name for t in fig.data] == ["if 0", "if 1", "if 2"]
    order = np.argsort(epochs)
    np.testing.assert_allclose(fig.data[1].x, i_xt[order, 1], rtol=1e-6)
    np.testing.assert_allclose(fig.data[1].y, i_ty[order, 1], rtol=1e-6)
    np.testing.assert_array_equal(fig.data[1].marker.color, [1, 2, 3, 4, 5, 6])
    assert all(t.marker.coloraxis == "coloraxis" and t.mode == "lines+markers" for t in fig.data)
    assert fig.layout.coloraxis.colorbar.title.text == "epoch"
    # the epoch colour bar lies under the plot, across, so the interfaces' legend (on the right)
    # cannot cover it however narrow the page
    bar = fig.layout.coloraxis.colorbar
    assert bar.orientation == "h" and bar.y < 0 and bar.yanchor == "top"
    assert fig.layout.legend.x is None or fig.layout.legend.x <= 1.05
    assert fig.layout.margin.b >= 100, "room under the plot for the bar"
    assert fig.layout.coloraxis.colorscale[0][1] == "#440154"  # Viridis
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (1, 6)
    assert fig.data[0].marker.size[-1] > fig.data[0].marker.size[0]  # latest epoch stands out
    assert "KDE upper bound" in fig.layout.title.text
    assert "estimate" in axis_title(fig.layout.xaxis) and "I(X;T)" in axis_title(fig.layout.xaxis)
    assert "estimate" in axis_title(fig.layout.yaxis) and "bits" in axis_title(fig.layout.yaxis)


def test_info_plane_validation():
    with pytest.raises(ValueError, match=r"`i_ty` needs one row per epoch"):
        info_plane_figure(np.ones((3, 2)), np.ones((2, 2)), [1, 2, 3], "binning")
    with pytest.raises(ValueError, match=r"`i_xt` and `i_ty` must have the same shape.*i_ty.shape=\(3, 4\)"):
        info_plane_figure(np.ones((3, 2)), np.ones((3, 4)), [1, 2, 3], "binning")
    with pytest.raises(ValueError, match=r"`label` must name the estimator"):
        info_plane_figure(np.ones((3, 2)), np.ones((3, 2)), [1, 2, 3], "")


def test_info_plane_kde_interval_bars_run_from_lower_to_upper_bound():
    E, N = 5, 2
    upper = 2 + rng(30).random((E, N))
    lower = upper - rng(31).random((E, N))
    ty_up, ty_lo = rng(32).random((E, N)), rng(33).random((E, N))  # either may be the larger
    epochs = np.arange(1, E + 1)
    fig = info_plane_figure(upper, ty_up, epochs, "KDE lower and upper bounds, σ²=0.1",
                            i_xt_lower=lower, i_ty_lower=ty_lo)
    t = fig.data[1]
    assert t.error_x.type == "data" and t.error_x.symmetric is False
    np.testing.assert_allclose(np.asarray(t.x) - np.asarray(t.error_x.arrayminus), lower[:, 1], atol=1e-6)
    np.testing.assert_array_equal(t.error_x.array, 0.0)
    # the I(T;Y) bar reaches the other estimate, up or down
    reach = np.asarray(t.y) + np.asarray(t.error_y.array) - np.asarray(t.error_y.arrayminus)
    np.testing.assert_allclose(reach, ty_lo[:, 1], atol=1e-6)
    assert "lower bound" in t.hovertemplate and "upper bound" in t.hovertemplate
    subtitle = fig.layout.title.subtitle.text
    assert "from lower to upper bound" in subtitle and "not a bracket" in subtitle
    # the interval is in the data behind the chart
    table = figure_data(fig)
    rows = table[table.trace == "if 1"]
    np.testing.assert_allclose(rows["x"] - rows["x_minus"], lower[:, 1], atol=1e-6)


def test_info_plane_ceilings_and_the_range_on_the_chart():
    E, N = 4, 3
    fig = info_plane_figure(rng(34).random((E, N)) * 3, rng(35).random((E, N)), np.arange(E), "binning, 30 bins",
                            samples=189, h_y=0.97, range_note="[-1, 1], the range of tanh")
    names = [t.name for t in fig.data]
    assert names[:N] == ["if 0", "if 1", "if 2"]
    x_line = next(t for t in fig.data if t.name.startswith("ceiling log2(189)"))
    y_line = next(t for t in fig.data if t.name.startswith("ceiling H(Y)"))
    assert "7.56 bits" in x_line.name and "0.97 bits" in y_line.name
    np.testing.assert_allclose(x_line.x, [np.log2(189)] * 2)
    np.testing.assert_allclose(y_line.y, [0.97] * 2)
    # both lines reach across the plotted range, which takes in the ceilings
    assert fig.layout.xaxis.range[1] > np.log2(189) and fig.layout.yaxis.range[1] > 0.97
    assert x_line.y[1] == fig.layout.yaxis.range[1] and y_line.x[1] == fig.layout.xaxis.range[1]
    assert "bins fixed for the run over [-1, 1], the range of tanh" in fig.layout.title.subtitle.text
    assert fig.data[0].error_x.type is None  # no interval for binning


def test_info_plane_new_arguments_are_checked():
    a = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"`i_xt_lower` must have the shape of `i_xt`, \(3, 2\)"):
        info_plane_figure(a, a, [1, 2, 3], "kde", i_xt_lower=np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"`samples` must be a whole number >= 1.*samples=0"):
        info_plane_figure(a, a, [1, 2, 3], "binning", samples=0)
    with pytest.raises(ValueError, match=r"`h_y` must be a finite number >= 0 or None. Received: h_y=nan"):
        info_plane_figure(a, a, [1, 2, 3], "binning", h_y=float("nan"))


# ----------------------------------------------------------------------------- clustering view


def test_clustering_one_panel_per_interface_coloured_by_class():
    N, V = 3, 40
    view = rng(36).normal(size=(N, V, 2))
    labels = np.arange(V) % 2
    fig = clustering_figure(view, labels, 12, variance=np.array([[0.7, 0.2]] * N), class_names=["no", "yes"])
    assert len(fig.data) == N * 2
    assert [t.name for t in fig.data[:2]] == ["no", "yes"]
    assert [t.showlegend for t in fig.data] == [True, True] + [False] * (2 * N - 2)  # one legend entry per class
    third = fig.data[5]  # interface 2, class "yes"
    np.testing.assert_allclose(third.x, view[2, labels == 1, 0], rtol=1e-6)
    np.testing.assert_allclose(third.y, view[2, labels == 1, 1], rtol=1e-6)
    assert third.marker.color == PLAYGROUND_BLUE and fig.data[0].marker.color == PLAYGROUND_ORANGE
    assert (third.xaxis, third.yaxis) != (fig.data[0].xaxis, fig.data[0].yaxis)
    assert "epoch 12" in fig.layout.title.text and "PCA" in fig.layout.title.subtitle.text
    assert [a.text for a in fig.layout.annotations][0] == "if 0 · 70% + 20% of variance"


def test_clustering_numeric_labels_share_one_colour_scale_and_interfaces_can_be_chosen():
    view = rng(37).normal(size=(20, 30, 2))
    target = rng(38).normal(size=30)
    fig = clustering_figure(view, target, 3, interfaces=[4, 17])
    assert [t.name for t in fig.data] == ["if 4", "if 17"]
    assert all(t.marker.coloraxis == "coloraxis" for t in fig.data)
    np.testing.assert_allclose(fig.data[1].marker.color, target, rtol=1e-6)
    assert "2 of 20 interfaces" in fig.layout.title.subtitle.text
    assert len(clustering_figure(view, target, 3).data) == 16  # the first 16 by default


def test_clustering_validation():
    view = np.zeros((2, 5, 2))
    with pytest.raises(ValueError, match=r"`view` must have shape \(N, V, 2\).*view.shape=\(2, 5, 3\)"):
        clustering_figure(np.zeros((2, 5, 3)), np.zeros(5), 1)
    with pytest.raises(ValueError, match=r"`labels` must be 5 class indices in \[0, 2\)"):
        clustering_figure(view, [0, 1, 2, 0, 1], 1, class_names=["a", "b"])
    with pytest.raises(ValueError, match=r"`labels` must have one value per sample of `view`, shape \(5,\)"):
        clustering_figure(view, np.zeros(4), 1)
    with pytest.raises(ValueError, match=r"`interfaces` must be a non-empty list of interface indices in \[0, 2\)"):
        clustering_figure(view, np.zeros(5), 1, interfaces=[2])
    with pytest.raises(ValueError, match=r"`variance` must have shape \(N, 2\) = \(2, 2\)"):
        clustering_figure(view, np.zeros(5), 1, variance=np.zeros((3, 2)))

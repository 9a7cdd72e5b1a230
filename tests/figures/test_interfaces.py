"""Tests for infoif.figures.interfaces, the Interfaces page's Weights, Outputs and Energy charts:
kernels, kernel norms, distribution bands, output histograms, energy, similarity.

No browser: everything is asserted on `fig.data` and `fig.layout`.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from infoif.train import estimators
from infoif.figures.interfaces import (
    BAND_PERCENTILES, distribution_bands_figure, energy_curves_figure, final_energy_figure, kernel_heatmaps_figure,
    kernel_norm_figure, output_histograms_figure, similarity_figure,
)
from infoif.figures.style import interface_colors
from tests.figures.inputs import alpha, axis_title, bands_for, layout_json, rng


def test_band_percentiles_are_the_estimators_ones():
    assert tuple(BAND_PERCENTILES) == tuple(estimators.BAND_PERCENTILES)


# ----------------------------------------------------------------------------- kernels


def test_kernel_heatmaps_small_multiples_on_one_symmetric_scale():
    kernels = rng(6).normal(size=(10, 3, 4))
    kernels[7, 1, 2] = -9.0  # the largest |w|
    fig = kernel_heatmaps_figure(kernels, ["f0", "f1", "f2"], max_cols=4)
    assert len(fig.data) == 10 and {t.type for t in fig.data} == {"heatmap"}
    assert [t.name for t in fig.data] == [f"if {i}" for i in range(10)]
    assert {(t.zmin, t.zmax, t.zmid) for t in fig.data} == {(-9.0, 9.0, 0.0)}
    assert [t.showscale for t in fig.data] == [True] + [False] * 9  # one colour bar
    assert fig.data[0].colorbar.title.text == "weight"
    assert fig.data[0].colorscale[0][1] == "rgb(103,0,31)" and fig.data[0].colorscale[-1][1] == "rgb(5,48,97)"
    np.testing.assert_allclose(fig.data[7].z, kernels[7])
    assert list(fig.data[0].y) == ["f0", "f1", "f2"]
    assert [a.text for a in fig.layout.annotations] == [f"if {i}" for i in range(10)]
    # 4 columns x 3 rows, axes coupled: one x axis per column, one y axis per row
    assert [(t.xaxis, t.yaxis) for t in fig.data][:6] == [("x", "y"), ("x2", "y"), ("x3", "y"), ("x4", "y"),
                                                          ("x", "y2"), ("x2", "y2")]
    axes = {k for k in layout_json(fig) if re.fullmatch(r"[xy]axis\d*", k)}
    assert axes == {"xaxis", "xaxis2", "xaxis3", "xaxis4", "yaxis", "yaxis2", "yaxis3"}
    # x ticks under the lowest panel of each column: columns 0-1 reach row 3, columns 2-3 only row 2
    assert [fig.layout[f"xaxis{s}"].anchor for s in ("", "2", "3", "4")] == ["y3", "y3", "y2", "y2"]
    assert fig.layout.yaxis.autorange == "reversed"  # first feature on top, like the matrix
    assert (fig.layout.xaxis3.matches, fig.layout.yaxis2.matches, fig.layout.xaxis.matches) == ("x", "y", None)


def test_kernel_heatmaps_default_and_duplicate_feature_names():
    fig = kernel_heatmaps_figure(np.zeros((2, 3, 2)))
    assert list(fig.data[0].y) == ["x0", "x1", "x2"]
    assert (fig.data[0].zmin, fig.data[0].zmax) == (-1.0, 1.0)  # all-zero kernels: a usable scale
    fig = kernel_heatmaps_figure(np.ones((1, 3, 2)), ["a", "a", "b"])
    assert list(fig.data[0].y) == ["a", "a (2)", "b"]


def test_kernel_heatmaps_validation():
    with pytest.raises(ValueError, match=r"`feature_names` needs one name per input feature \(d_in=3"):
        kernel_heatmaps_figure(np.zeros((2, 3, 4)), ["a", "b"])
    with pytest.raises(ValueError, match=r"`kernels` must be 3-D.*kernels.shape=\(3, 4\)"):
        kernel_heatmaps_figure(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"`max_cols` must be a whole number >= 1. Received: max_cols=0"):
        kernel_heatmaps_figure(np.zeros((2, 3, 4)), max_cols=0)


# ----------------------------------------------------------------------------- kernel norms


def test_kernel_norm_one_line_per_interface():
    E, N = 12, 30
    norms = rng(7).random((E, N))
    fig = kernel_norm_figure(np.arange(E), norms)
    assert len(fig.data) == N and {t.type for t in fig.data} == {"scatter"}
    assert [t.name for t in fig.data] == [f"if {i}" for i in range(N)]
    assert [t.line.color for t in fig.data] == interface_colors(N)
    assert fig.data[0].line.dash == "solid" and fig.data[24].line.dash == "dash"  # repeated colours differ
    np.testing.assert_allclose(fig.data[5].y, norms[:, 5], rtol=1e-6)
    assert axis_title(fig.layout.xaxis) == "epoch" and "norm" in axis_title(fig.layout.yaxis)
    assert fig.layout.hovermode == "closest"  # 30 curves do not fit one hover box
    assert "epoch %{x}" in fig.data[0].hovertemplate and "if 0" in fig.data[0].hovertemplate


def test_line_figures_switch_to_webgl_when_large():
    fig = kernel_norm_figure(np.arange(500), np.ones((500, 64)))
    assert {t.type for t in fig.data} == {"scattergl"}
    assert kernel_norm_figure(np.arange(5), np.ones((5, 3))).data[0].type == "scatter"


def test_kernel_norm_validation():
    with pytest.raises(ValueError, match=r"`norms` needs one row per epoch.*E=len\(epochs\)=5.*norms.shape=\(4, 3\)"):
        kernel_norm_figure(np.arange(5), np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"`norms` must be 2-D"):
        kernel_norm_figure(np.arange(5), np.ones(5))


# ----------------------------------------------------------------------------- distribution bands


def test_distribution_bands_one_interface():
    E, N = 20, 4
    bands = bands_for(E, N)
    fig = distribution_bands_figure(np.arange(E), bands, interface=2, title="Weights of if 2")
    assert len(fig.data) == 9
    assert [t.name for t in fig.data] == ["p0", "p7", "p16", "p31", "median", "p69", "p84", "p93", "p100"]
    for k, trace in enumerate(fig.data):
        np.testing.assert_allclose(trace.y, bands[:, 2, k], rtol=1e-6)
    assert fig.data[0].fill is None and all(t.fill == "tonexty" for t in fig.data[1:])
    alphas = [alpha(t.fillcolor) for t in fig.data[1:]]
    assert alphas[:4] == sorted(alphas[:4]) and alphas[4:] == sorted(alphas[4:], reverse=True)  # darker inward
    assert alphas[0] < alphas[3] and alphas == alphas[::-1]  # symmetric about the median
    assert fig.data[4].line.width == 2 and fig.data[4].line.color == interface_colors(4)[2]
    assert fig.layout.title.text == "Weights of if 2" and "if 2" in fig.layout.title.subtitle.text


def test_distribution_bands_small_multiples_capped_at_16():
    fig = distribution_bands_figure(np.arange(10), bands_for(10, 64))
    titles = [a.text for a in fig.layout.annotations]
    assert len(titles) == 16 and titles[0] == "if 0" and titles[-1] == "if 63"
    assert len(fig.data) == 16 * 9
    assert "16 of 64" in fig.layout.title.subtitle.text
    assert fig.data[9].name == f"{titles[1]} p0" and fig.data[9].xaxis == "x2"
    fig = distribution_bands_figure(np.arange(10), bands_for(10, 5))
    assert [a.text for a in fig.layout.annotations] == [f"if {i}" for i in range(5)]
    assert len(fig.data) == 45 and "all 5" in fig.layout.title.subtitle.text


def test_distribution_bands_validation():
    bands = bands_for(5, 3)
    with pytest.raises(ValueError, match=r"`interface` must be an interface index in \[0, 2\].*interface=3"):
        distribution_bands_figure(np.arange(5), bands, interface=3)
    with pytest.raises(ValueError, match=r"interface=True"):
        distribution_bands_figure(np.arange(5), bands, interface=True)
    with pytest.raises(ValueError, match=r"`bands` must have shape \(E, N, 9\).*bands.shape=\(5, 3, 8\)"):
        distribution_bands_figure(np.arange(5), bands[..., :8])
    with pytest.raises(ValueError, match=r"`bands` must increase along the last axis"):
        distribution_bands_figure(np.arange(5), bands[..., ::-1])
    with pytest.raises(ValueError, match=r"`bands` needs one row per epoch"):
        distribution_bands_figure(np.arange(6), bands)


# ----------------------------------------------------------------------------- output histograms


def test_output_histograms_overlaid_steps_for_small_n():
    edges = np.array([-1.0, 0.0, 0.5, 2.0])
    counts = np.array([[1, 5, 2], [0, 3, 3]])
    fig = output_histograms_figure(edges, counts, epoch=7)
    assert len(fig.data) == 2 and [t.name for t in fig.data] == ["if 0", "if 1"]
    trace = fig.data[0]
    assert trace.line.shape == "hv"
    np.testing.assert_allclose(trace.x, [-1.0, -1.0, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(trace.y, [0, 1, 5, 2, 0])  # closed to zero at both ends
    assert "epoch 7" in fig.layout.title.text
    assert axis_title(fig.layout.xaxis) == "output value" and "in bin" in axis_title(fig.layout.yaxis)


def test_output_histograms_heatmap_for_many_interfaces():
    counts = rng(8).integers(0, 50, (40, 6))
    edges = np.linspace(0, 3, 7)
    fig = output_histograms_figure(edges, counts, epoch=2)
    assert len(fig.data) == 1 and fig.data[0].type == "heatmap"
    np.testing.assert_array_equal(fig.data[0].z, counts)
    np.testing.assert_allclose(fig.data[0].x, edges)  # bin edges: exact bins
    assert list(fig.data[0].y) == [f"if {i}" for i in range(40)] and fig.data[0].zmin == 0
    assert fig.data[0].colorscale[0][1] == "rgb(247,251,255)"  # empty bins are white, not dark
    assert output_histograms_figure(edges, counts[:12], 2).data[0].type == "scatter"
    assert output_histograms_figure(edges, counts[:13], 2).data[0].type == "heatmap"


def test_output_histograms_validation():
    with pytest.raises(ValueError, match=r"`edges` must be at least 2 finite, strictly increasing"):
        output_histograms_figure([0, 2, 1], np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match=r"`counts` must have shape \(N, bins\) with bins = len\(edges\) - 1 = 2"):
        output_histograms_figure([0, 1, 2], np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match=r"`counts` must be >= 0"):
        output_histograms_figure([0, 1, 2], -np.ones((2, 2)), 1)


# ----------------------------------------------------------------------------- energy


def test_energy_curves_one_line_per_interface_over_the_probe_batch():
    B, N = 50, 5
    energy = np.cumsum(rng(9).random((B, N)), axis=0)
    fig = energy_curves_figure(energy, leak=0.25, epoch=11)
    assert len(fig.data) == N and {t.type for t in fig.data} == {"scatter"}
    np.testing.assert_array_equal(fig.data[0].x, np.arange(B))
    np.testing.assert_allclose(fig.data[3].y, energy[:, 3], rtol=1e-6)
    assert axis_title(fig.layout.xaxis) == "sample in probe batch"
    assert axis_title(fig.layout.yaxis) == "energy E[b]"
    assert "Energy" in fig.layout.title.text and "epoch 11" in fig.layout.title.text
    assert "leak = 0.25" in fig.layout.title.subtitle.text
    assert "activation²" in fig.data[0].hovertemplate


def test_energy_validation():
    with pytest.raises(ValueError, match=r"`leak` must be the EnergyReservoir leak, a number in \[0, 1\].*leak=1.5"):
        energy_curves_figure(np.ones((4, 2)), 1.5, 1)
    with pytest.raises(ValueError, match=r"`energy` must be 2-D with shape \(B, N\)"):
        energy_curves_figure(np.ones(4), 0.1, 1)
    with pytest.raises(ValueError, match=r"`final_energy` needs one row per epoch"):
        final_energy_figure([1, 2, 3], np.ones((2, 4)))


def test_final_energy_over_epochs():
    final = rng(10).random((8, 3))
    fig = final_energy_figure(np.arange(8) * 5, final)
    assert [t.name for t in fig.data] == ["if 0", "if 1", "if 2"]
    np.testing.assert_array_equal(fig.data[1].x, np.arange(8) * 5)
    np.testing.assert_allclose(fig.data[1].y, final[:, 1], rtol=1e-6)
    assert axis_title(fig.layout.xaxis) == "epoch" and "final energy" in axis_title(fig.layout.yaxis)


# ----------------------------------------------------------------------------- similarity


def test_similarity_heatmap():
    k = rng(11).normal(size=(5, 6))
    k /= np.linalg.norm(k, axis=1, keepdims=True)
    sim = k @ k.T
    fig = similarity_figure(sim)
    (trace,) = fig.data
    assert trace.type == "heatmap" and (trace.zmin, trace.zmax, trace.zmid) == (-1.0, 1.0, 0.0)
    assert trace.colorscale[0][1] == "rgb(103,0,31)" and trace.colorscale[5][1] == "rgb(247,247,247)"
    np.testing.assert_allclose(trace.z, sim, atol=1e-6)
    assert list(trace.x) == list(trace.y) == [f"if {i}" for i in range(5)]
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.autorange == "reversed"  # square, matrix order
    assert trace.texttemplate  # values printed for small N
    assert similarity_figure(np.eye(20)).data[0].texttemplate is None


def test_similarity_validation():
    with pytest.raises(ValueError, match=r"`sim` must be a square \(N, N\) matrix.*sim.shape=\(2, 3\)"):
        similarity_figure(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"`sim` must hold cosine similarities in \[-1, 1\]"):
        similarity_figure(np.full((2, 2), 3.0))
    with pytest.raises(ValueError, match=r"`sim` must be an array of shape \(N, N\).*sim=None"):
        similarity_figure(None)

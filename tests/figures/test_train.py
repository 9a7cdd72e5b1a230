"""Tests for infoif.figures.train, the Train page's loss curves: traces, smoothing drawn raw and
smoothed, resumed runs marked, gaps kept, bad input refused by name.
"""

from __future__ import annotations

import numpy as np
import pytest

from infoif.figures.curves import smooth_ema
from infoif.figures.train import loss_curves_figure
from tests.figures.inputs import axis_title, rng


def test_loss_curves_without_smoothing():
    fig = loss_curves_figure([1, 2, 3], {"train": [3.0, 2.0, 1.0], "validation": [3.5, 2.5, 2.0]}, title="Loss")
    assert [t.name for t in fig.data] == ["train", "validation"]
    assert [t.type for t in fig.data] == ["scatter", "scatter"]
    np.testing.assert_array_equal(fig.data[0].x, [1, 2, 3])
    np.testing.assert_array_equal(fig.data[1].y, [3.5, 2.5, 2.0])
    assert fig.data[0].line.color != fig.data[1].line.color
    assert axis_title(fig.layout.xaxis) == "epoch" and axis_title(fig.layout.yaxis) == "Loss"
    assert fig.layout.title.text == "Loss" and fig.layout.hovermode == "x unified"


def test_loss_curves_smoothing_draws_raw_faint_and_smoothed_solid_in_one_colour():
    E = 40
    loss = rng(5).random(E)
    fig = loss_curves_figure(np.arange(E), {"train": loss, "validation": loss + 1}, smoothing=0.6, title="accuracy")
    assert [t.name for t in fig.data] == ["train (raw)", "train", "validation (raw)", "validation"]
    raw, smooth = fig.data[0], fig.data[1]
    assert raw.line.color == smooth.line.color and raw.legendgroup == smooth.legendgroup == "train"
    assert raw.opacity < 0.5 and smooth.opacity in (None, 1) and raw.showlegend is False
    assert smooth.line.width > raw.line.width
    np.testing.assert_allclose(raw.y, loss)
    np.testing.assert_allclose(smooth.y, smooth_ema(loss, 0.6))
    assert "0.6" in fig.layout.title.subtitle.text and axis_title(fig.layout.yaxis) == "accuracy"


def test_loss_curves_mark_where_a_run_resumed():
    fig = loss_curves_figure([1, 2, 3, 7, 8], {"train": [5.0, 4, 3, 2, 1]}, gaps=[3])
    assert [(s.x0, s.x1, s.line.dash) for s in fig.layout.shapes] == [(3.5, 3.5, "dot")]
    assert [a.text for a in fig.layout.annotations] == ["resumed"]
    assert loss_curves_figure([1, 2], {"train": [1.0, 2.0]}).layout.shapes == ()


def test_loss_curves_skip_nan_and_inf():
    fig = loss_curves_figure([1, 2, 3, 4], {"train": [1.0, None, np.inf, 0.5]}, smoothing=0.5)
    raw, smooth = fig.data
    assert np.isnan(raw.y[1]) and np.isnan(raw.y[2]) and raw.y[3] == 0.5  # gaps, not zeros or inf
    assert np.isnan(smooth.y[1]) and smooth.connectgaps is True
    np.testing.assert_allclose(smooth.y[3], (0.25 * 1 + 0.25) / 0.75)


def test_loss_curves_validation():
    with pytest.raises(ValueError, match=r"`series\['validation'\]` needs one value per epoch.*shape=\(2,\)"):
        loss_curves_figure([1, 2, 3], {"train": [1, 2, 3], "validation": [1, 2]})
    with pytest.raises(ValueError, match=r"`smoothing` must be a number in \[0, 1\).*smoothing=1"):
        loss_curves_figure([1, 2], {"train": [1, 2]}, smoothing=1)
    with pytest.raises(ValueError, match=r"`series` must be a non-empty dict"):
        loss_curves_figure([1, 2], {})
    with pytest.raises(ValueError, match=r"`epochs` must be 1-D.*epochs.shape=\(1, 2\)"):
        loss_curves_figure([[1, 2]], {"train": [1, 2]})
    with pytest.raises(ValueError, match=r"`epochs` is empty"):
        loss_curves_figure([], {"train": []})
    with pytest.raises(ValueError, match=r"`series\['train'\]` must hold numbers"):
        loss_curves_figure([1, 2], {"train": ["a", "b"]})

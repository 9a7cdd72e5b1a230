"""Tests for infoif.figures.curves: TensorBoard's smoothing maths, and long runs thinned for
display (through the loss and compare curves that use it).
"""

from __future__ import annotations

import numpy as np
import pytest

from infoif.figures.compare import compare_curves_figure
from infoif.figures.curves import smooth_ema
from infoif.figures.train import loss_curves_figure
from tests.figures.inputs import rng


# ----------------------------------------------------------------------------- smoothing


def test_smooth_ema_by_hand():
    # last: 0.5, 1.25, 2.125; debias: 1 - 0.5, 1 - 0.25, 1 - 0.125
    np.testing.assert_allclose(smooth_ema([1.0, 2.0, 3.0], 0.5), [1.0, 1.25 / 0.75, 2.125 / 0.875])


def test_smooth_ema_skips_non_finite_values():
    out = smooth_ema([1.0, np.nan, 3.0, np.inf], 0.5)
    assert np.isnan(out[1]) and np.isnan(out[3])
    # 3.0 is the second finite value: last = 0.25 + 1.5, debiased by 1 - 0.5 ** 2
    np.testing.assert_allclose(out[[0, 2]], [1.0, 1.75 / 0.75])
    assert np.isnan(smooth_ema([np.nan, None], 0.5)).all()


def test_smooth_ema_matches_tensorboards_loop():
    values = rng(3).normal(size=300)
    values[[5, 50, 51]] = np.nan
    weight = 0.9
    last, count, expected = 0.0, 0, []
    for v in values:  # tensorboard/plugins/scalar: vz_line_chart2 smoothing
        if not np.isfinite(v):
            expected.append(np.nan)
            continue
        last = last * weight + (1 - weight) * v
        count += 1
        expected.append(last / (1 - weight ** count))
    np.testing.assert_allclose(smooth_ema(values, weight), expected)


def test_smooth_ema_edge_weights():
    values = rng(4).normal(size=20)
    np.testing.assert_allclose(smooth_ema(values, 0.0), values)
    np.testing.assert_allclose(smooth_ema(np.full(10, 2.5), 0.99), 2.5)  # debiasing: no ramp from 0
    assert smooth_ema([], 0.5).shape == (0,)
    for bad in (1.0, -0.1, True, "0.5"):
        with pytest.raises(ValueError, match=r"`weight` must be a number in \[0, 1\)"):
            smooth_ema(values, bad)


# ----------------------------------------------------------------------------- thinning


def test_long_runs_are_thinned_for_display_keeping_spikes_gaps_and_ends():
    E = 20_000
    r = rng(11)
    train = 1.0 / np.arange(1, E + 1) + 0.01 * r.random(E)
    val = train + 0.1
    train[12_345] = 50.0  # a spike
    val[7_777] = np.nan  # a gap
    fig = loss_curves_figure(np.arange(1, E + 1), {"train": train, "validation": val}, smoothing=0.9,
                             max_points=1000)
    raw, smooth = fig.data[0], fig.data[1]
    assert raw.type == "scatter" and len(raw.x) <= 1000
    x = np.asarray(raw.x)
    assert x[0] == 1 and x[-1] == E and np.all(np.diff(x) > 0)
    assert 12_346 in x and np.max(raw.y) == 50.0, "the spike is drawn"
    assert np.isnan(np.asarray(fig.data[2].y)[x == 7_778]).all(), "the gap is drawn"
    # smoothing saw every point: the drawn smoothed values are those of the full curve
    full = smooth_ema(train, 0.9)
    np.testing.assert_allclose(smooth.y, full[x - 1])
    # the same lowest and highest values as the full curve
    assert np.min(raw.y) == np.min(train) and np.max(fig.data[2].y[np.isfinite(fig.data[2].y)]) == np.nanmax(val)


def test_short_runs_are_drawn_whole_and_max_points_is_checked():
    fig = loss_curves_figure(np.arange(1500), {"train": np.ones(1500)})
    assert len(fig.data[0].x) == 1500
    with pytest.raises(ValueError, match=r"`max_points` must be a whole number >= 1.*max_points=0"):
        loss_curves_figure([1, 2], {"train": [1, 2]}, max_points=0)
    fig = compare_curves_figure([{"label": "a", "epochs": np.arange(9000), "values": np.arange(9000.0)}],
                                "loss", max_points=500)
    assert len(fig.data[0].x) <= 500 and fig.data[0].x[-1] == 8999

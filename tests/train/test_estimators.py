"""Tests for infoif.train.estimators: known answers, brute-force references, properties, validation."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infoif.train import estimators as est
from infoif.train.estimators import (
    BAND_PERCENTILES,
    binned_entropy,
    binning_mi,
    estimator_label,
    fixed_edges,
    histogram_fixed,
    kde_entropy,
    kde_mi,
    kde_mi_bounds,
    kernel_cosine_similarity,
    label_entropy,
    pca_2d,
    percentile_bands,
    percentile_bands_per_row,
)

PROPERTY = settings(max_examples=60, deadline=None)


# ----------------------------------------------------------------------------
# slow but obviously-correct references


def naive_entropy_bits(symbols) -> float:
    counts = Counter(symbols)
    n = sum(counts.values())
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def naive_binned_rows(t, bins, lo, hi):
    """Per-element loop version of the equal-width binning (end bins absorb outliers)."""
    rows = []
    for row in np.atleast_2d(t):
        codes = []
        for v in row:
            if hi <= lo:
                codes.append(0)
            else:
                codes.append(min(max(int(math.floor((v - lo) / (hi - lo) * bins)), 0), bins - 1))
        rows.append(tuple(codes))
    return rows


def naive_kde_entropy_nats(h, var):
    """Kolchinsky-Tracey KL upper bound, double loop (artemyk/ibsgd entropy_estimator_kl)."""
    n, d = h.shape
    total = 0.0
    for i in range(n):
        s = sum(math.exp(-float(np.sum((h[i] - h[j]) ** 2)) / (2 * var)) for j in range(n))
        total += math.log(s / n)
    return -total / n + d / 2 * math.log(2 * math.pi * math.e * var)


# ----------------------------------------------------------------------------
# percentile bands


def test_band_percentiles_constant_is_tensorboards():
    assert BAND_PERCENTILES == (0, 7, 16, 31, 50, 69, 84, 93, 100)


def test_percentile_bands_match_np_percentile_of_flattened_values():
    values = np.random.default_rng(0).normal(size=(4, 5, 6))
    bands = percentile_bands(values)
    assert bands.shape == (9,)
    np.testing.assert_allclose(bands, np.percentile(values.ravel(), BAND_PERCENTILES), rtol=0, atol=0)
    assert bands[0] == values.min() and bands[-1] == values.max()
    assert np.all(np.diff(bands) >= 0)


def test_percentile_bands_per_row_match_row_by_row():
    values = np.random.default_rng(1).normal(size=(7, 33))
    bands = percentile_bands_per_row(values)
    assert bands.shape == (7, 9)
    for r in range(7):
        np.testing.assert_allclose(bands[r], percentile_bands(values[r]), rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_percentile_bands_per_row_equal_np_percentile_with_ties_and_float32(dtype):
    rng = np.random.default_rng(2)
    values = np.round(rng.normal(size=(6, 1001)), 1).astype(dtype)  # many ties
    values[3] = 0.25  # a constant row
    expected = np.percentile(values.astype(np.float64), BAND_PERCENTILES, axis=1).T
    np.testing.assert_allclose(percentile_bands_per_row(values), expected, rtol=0, atol=1e-12)
    one = percentile_bands_per_row(np.array([[7.0]]))
    np.testing.assert_array_equal(one, np.full((1, 9), 7.0))


# ----------------------------------------------------------------------------
# binned entropy and binning MI


def test_binned_entropy_of_constant_activations_is_zero():
    assert binned_entropy(np.full((100, 3), 0.7)) == 0.0


def test_binned_entropy_four_equiprobable_bins_is_two_bits():
    t = np.repeat([0.0, 1.0, 2.0, 3.0], 25)[:, None]
    assert binned_entropy(t, bins=4) == pytest.approx(2.0, abs=1e-12)
    # two bins merge the pairs: 1 bit
    assert binned_entropy(t, bins=2) == pytest.approx(1.0, abs=1e-12)


def test_binned_entropy_explicit_range_clips_outliers_into_end_bins():
    t = np.array([-5.0, 0.1, 0.2, 0.9, 5.0, 0.6])[:, None]
    # value_range (0, 1), 2 bins: {-5, 0.1, 0.2} -> bin 0, {0.9, 5, 0.6} -> bin 1
    assert binned_entropy(t, bins=2, value_range=(0, 1)) == pytest.approx(1.0, abs=1e-12)


def test_binned_entropy_treats_each_distinct_row_as_one_symbol():
    # each unit alone has 1 bit, rows (0,0) (0,1) (1,0) (1,1) give 2 bits; rows (0,0) (1,1) give 1
    t = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 10, dtype=float)
    assert binned_entropy(t, bins=2) == pytest.approx(2.0, abs=1e-12)
    assert binned_entropy(t[[0, 3] * 10], bins=2) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("units,bins", [(1, 30), (16, 30), (13, 30), (40, 300), (70, 2)])
def test_binned_entropy_matches_dict_count_reference(units, bins):
    # (16, 30) and (40, 300) exceed int64 mixed-radix keys and use the byte-view path;
    # (13, 30), (1, 30) and (70, 2) fit in int64 keys.
    rng = np.random.default_rng(units * 1000 + bins)
    t = np.round(rng.normal(size=(300, units)), 1)  # rounding creates repeated rows
    t[::3] = t[0]
    expected = naive_entropy_bits(naive_binned_rows(t, bins, t.min(), t.max()))
    assert binned_entropy(t, bins=bins) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("units", [2, 30])
def test_binned_rows_whose_codes_differ_by_256_stay_distinct(units):
    # 300 bins: codes >= 256 need more than one byte; units=30 takes the byte-view path
    # (30 * log2 300 > 62 bits), units=2 the int64 mixed-radix path
    t = np.full((4, units), 0.5)
    t[2:, 0] = 256.5  # unit 0: rows 0-1 in bin 0, rows 2-3 in bin 256 (bins of width 1)
    assert binned_entropy(t, bins=300, value_range=(0, 300)) == pytest.approx(1.0, abs=1e-12)


def test_discrete_x_mapped_invertibly_to_distinct_bins_gives_i_xt_equal_h_x():
    """Known answer: 8 equiprobable inputs, each repeated, T = a bijection of X into distinct bins."""
    x = np.repeat(np.arange(8), 50)
    t = np.stack([np.tanh(x - 3.5), (x % 3) * 0.1], axis=1)  # invertible: unit 0 alone separates X
    y = x % 2
    i_xt, i_ty = binning_mi(t, y, bins=30, x_ids=x)
    assert i_xt == pytest.approx(3.0, abs=1e-12)  # = H(X) = log2 8
    assert i_ty == pytest.approx(1.0, abs=1e-12)  # T determines Y, H(Y) = 1 bit
    # without x_ids every sample is its own input: I(X;T) = H(T), still 3 bits
    assert binning_mi(t, y, bins=30)[0] == pytest.approx(3.0, abs=1e-12)


def test_binning_mi_with_x_ids_subtracts_h_t_given_x():
    # X = 0 gives T in bins 0 or 1, X = 1 gives T in bins 2 or 3: H(T) = 2, H(T|X) = 1, I(X;T) = 1
    t = np.array([0.0, 1.0, 2.0, 3.0] * 5)[:, None]
    x = np.array([0, 0, 1, 1] * 5)
    i_xt, _ = binning_mi(t, np.zeros(20, int), bins=4, x_ids=x)
    assert i_xt == pytest.approx(1.0, abs=1e-12)
    assert binning_mi(t, np.zeros(20, int), bins=4)[0] == pytest.approx(2.0, abs=1e-12)


def test_binning_i_ty_near_zero_for_t_independent_of_y():
    """T independent of Y: only the plug-in bias remains.

    With |T| occupied symbols, |Y| labels and n samples, 2 n ln2 * I_plugin is
    asymptotically chi-squared with (|T|-1)(|Y|-1) degrees of freedom: mean
    (|T|-1)(|Y|-1) / (2 n ln 2) bits. Here 1 unit, 4 bins, 2 labels,
    n = 20000: mean 3 / 27726 = 1.1e-4 bits, and the chi2(3) 99.99% quantile
    21.1 gives 7.6e-4 bits; the tolerance 2e-3 bits is far above that and
    far below the 1 bit a label-determined T would give.
    """
    rng = np.random.default_rng(7)
    n = 20_000
    t = rng.uniform(-1, 1, size=(n, 1))
    y = rng.integers(0, 2, size=n)
    _, i_ty = binning_mi(t, y, bins=4)
    assert 0.0 <= i_ty < 2e-3
    assert i_ty > 0.0  # the plug-in estimate is biased upwards, never exactly 0 here


def test_binning_regression_y_is_discretised_into_y_bins():
    rng = np.random.default_rng(3)
    y = rng.normal(size=500)
    t = y[:, None].copy()  # T = Y
    # with equal bins and ranges, binned T and binned Y are the same partition: I(T;Y) = H(T)
    i_xt, i_ty = binning_mi(t, y, bins=10, y_bins=10)
    assert i_ty == pytest.approx(binned_entropy(t, bins=10), abs=1e-12)
    assert i_ty == pytest.approx(i_xt, abs=1e-12)
    # a single y bin carries no information
    assert binning_mi(t, y, bins=10, y_bins=1)[1] == 0.0
    # y_bins=None: every distinct float value is a label, so H(Y) = log2 500 and I(T;Y) = H(T)
    assert binning_mi(t, y, bins=10, y_bins=None)[1] == pytest.approx(i_xt, abs=1e-12)


def test_binning_float_labels_with_few_integer_values_stay_distinct():
    y_int = np.repeat(np.arange(10), 20)
    t = (y_int * 0.1)[:, None]
    by_int = binning_mi(t, y_int, bins=30)
    by_float = binning_mi(t, y_int.astype(np.float32), bins=30)  # 10 values, 30 bins: no merge
    assert by_float == pytest.approx(by_int, abs=1e-12)
    assert by_int[1] == pytest.approx(math.log2(10), abs=1e-12)


def test_binning_accepts_column_y_and_string_labels():
    t = np.array([0.0, 0.0, 1.0, 1.0])[:, None]
    assert binning_mi(t, np.array([[0], [0], [1], [1]]), bins=2)[1] == pytest.approx(1.0)
    assert binning_mi(t, np.array(["a", "a", "b", "b"]), bins=2)[1] == pytest.approx(1.0)


@st.composite
def activations_and_labels(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, 120))
    units = draw(st.integers(1, 6))
    classes = draw(st.integers(1, 6))
    levels = draw(st.sampled_from([2, 5, None]))  # None: continuous values, else heavy ties
    rng = np.random.default_rng(seed)
    t = rng.normal(size=(n, units))
    if levels is not None:
        t = rng.integers(0, levels, size=(n, units)).astype(float)
    y = rng.integers(0, classes, size=n)
    return t, y


@PROPERTY
@given(data=activations_and_labels(), bins=st.integers(1, 40))
def test_property_binning_mi_bounds(data, bins):
    t, y = data
    n = len(y)
    i_xt, i_ty = binning_mi(t, y, bins=bins)
    h_t = binned_entropy(t, bins=bins)
    h_y = naive_entropy_bits(y.tolist())
    assert 0.0 <= i_ty <= min(h_t, h_y) + 1e-9
    assert 0.0 <= i_xt <= math.log2(n) + 1e-9
    assert i_xt == pytest.approx(h_t, abs=1e-12)
    # identity x_ids (all inputs distinct) changes nothing
    assert binning_mi(t, y, bins=bins, x_ids=np.arange(n))[0] == pytest.approx(i_xt, abs=1e-9)


@PROPERTY
@given(data=activations_and_labels(), bins=st.integers(1, 40))
def test_property_binning_matches_naive_plug_in(data, bins):
    t, y = data
    rows = naive_binned_rows(t, bins, t.min(), t.max())
    h_t = naive_entropy_bits(rows)
    h_y = naive_entropy_bits(y.tolist())
    h_ty = naive_entropy_bits(list(zip(rows, y.tolist())))
    i_xt, i_ty = binning_mi(t, y, bins=bins)
    assert i_xt == pytest.approx(h_t, abs=1e-9)
    assert i_ty == pytest.approx(h_t + h_y - h_ty, abs=1e-9)


# ----------------------------------------------------------------------------
# binning over a range fixed for the run (issue 12): known cases


def test_tiny_tanh_outputs_in_one_bin_give_zero_bits_over_tanhs_range():
    """Outputs within 0.03 of zero: over tanh's [-1, 1] they share one or two bins per unit."""
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, size=500)
    one_side = rng.uniform(0.0, 0.03, size=(500, 8))  # all inside the bin [0, 1/15)
    i_xt, i_ty = binning_mi(one_side, y, bins=30, value_range=(-1, 1))
    assert i_xt == 0.0 and i_ty == 0.0
    # with 29 bins (Shwartz-Ziv & Tishby's np.linspace(-1, 1, 30) edges) zero is a bin centre:
    # outputs within +-1/29 of it all share one bin, whatever their signs
    both_sides = rng.uniform(-0.03, 0.03, size=(500, 8))
    assert binning_mi(both_sides, y, bins=29, value_range=(-1, 1)) == (0.0, 0.0)
    # with 30 bins zero is an edge, so only the signs are told apart: at most 1 bit per unit
    assert binning_mi(both_sides[:, :1], y, bins=30, value_range=(-1, 1))[0] <= 1.0
    # the range of each call's own data (the old default) spreads them over 30 bins per unit
    assert binning_mi(both_sides, y, bins=30)[0] > 8.5  # log2(500) = 8.97: nearly saturated


def test_fixed_range_estimate_depends_only_on_the_outputs():
    """With a fixed range, the estimate of an output batch is the same whatever else is measured;
    with the data's own range it changes when one outlier stretches the range."""
    rng = np.random.default_rng(6)
    t = np.tanh(rng.normal(scale=0.05, size=(300, 1)))
    y = rng.integers(0, 2, size=300)
    fixed = binning_mi(t, y, bins=30, value_range=(-1, 1))
    assert binning_mi(t.copy(), y, bins=30, value_range=(-1, 1)) == fixed
    stretched, y2 = np.vstack([t, [[0.999]]]), np.r_[y, 0]  # one more sample, far out
    assert binning_mi(stretched, y2, bins=30, value_range=(-1, 1))[0] == pytest.approx(fixed[0], abs=0.05)
    own_range = binning_mi(t, y, bins=30)[0]
    assert own_range > fixed[0] + 1.0  # the bulk spread over all 30 bins
    assert binning_mi(stretched, y2, bins=30)[0] < own_range - 1.0  # and squeezed by one outlier


@st.composite
def discrete_inputs_and_layers(draw):
    """A discrete X (ids with repeats), T a function of X (a layer) or not, and labels."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(2, 200))
    inputs = draw(st.integers(1, 64))
    units = draw(st.integers(1, 6))
    rng = np.random.default_rng(seed)
    x_ids = rng.integers(0, inputs, size=n)
    table = np.tanh(rng.normal(scale=draw(st.sampled_from([0.01, 1.0, 10.0])), size=(inputs, units)))
    t = table[x_ids] if draw(st.booleans()) else rng.uniform(-1, 1, size=(n, units))
    return x_ids, t, rng.integers(0, 3, size=n)


@PROPERTY
@given(data=discrete_inputs_and_layers(), bins=st.integers(1, 40))
def test_property_binning_i_xt_never_exceeds_h_x_or_log2_n(data, bins):
    x_ids, t, y = data
    n = len(x_ids)
    h_x = naive_entropy_bits(x_ids.tolist())
    i_xt, _ = binning_mi(t, y, bins=bins, value_range=(-1, 1), x_ids=x_ids)
    assert 0.0 <= i_xt <= min(h_x, math.log2(n)) + 1e-9
    # without x_ids every sample counts as its own input: still at most log2 n
    assert binning_mi(t, y, bins=bins, value_range=(-1, 1))[0] <= math.log2(n) + 1e-9


# ----------------------------------------------------------------------------
# KDE


def test_kde_entropy_and_mi_match_double_loop_reference():
    rng = np.random.default_rng(11)
    h = rng.normal(scale=0.5, size=(40, 3))
    y = rng.integers(0, 3, size=40)
    var = 0.1
    h_upper = naive_kde_entropy_nats(h, var)
    assert kde_entropy(h, var) == pytest.approx(h_upper / math.log(2), abs=1e-10)
    # reference I(T;Y): H_upper(T) - sum_y p(y) H_upper(T | Y=y), as in ibsgd's ComputeMI
    h_given_y = sum(np.mean(y == c) * naive_kde_entropy_nats(h[y == c], var) for c in range(3))
    h_given_x = 3 / 2 * math.log(2 * math.pi * math.e * var)  # kde_condentropy
    i_xt, i_ty = kde_mi(h, y, noise_var=var)
    assert i_xt == pytest.approx((h_upper - h_given_x) / math.log(2), abs=1e-10)
    assert i_ty == pytest.approx((h_upper - h_given_y) / math.log(2), abs=1e-10)


def test_kde_row_blocks_give_the_same_answer(monkeypatch):
    rng = np.random.default_rng(12)
    h = rng.normal(size=(301, 4))
    y = rng.integers(0, 5, size=301)
    monkeypatch.setattr(est, "_KDE_GEMM_WORK", 1 << 60)
    whole = kde_mi(h, y)  # one block: the whole 301 x 301 matrix
    monkeypatch.setattr(est, "_KDE_BLOCK_ELEMENTS", 301 * 7)  # 7-row blocks, last one partial
    assert kde_mi(h, y) == pytest.approx(whole, abs=1e-12)
    assert kde_entropy(h) == pytest.approx(whole[0] + 2 * math.log2(2 * math.pi * math.e * 0.1), abs=1e-12)


def test_kde_i_xt_is_exactly_log2_n_for_well_separated_points():
    # every kernel sum is the self term exp(0) = 1: I(X;T) = log2 n exactly (no rounding from
    # the |a|^2 + |b|^2 - 2ab cancellation, which is ~1e-5 in the exponent at this scale)
    h = np.random.default_rng(14).normal(scale=1e4, size=(128, 3))
    i_xt, i_ty = kde_mi(h, np.arange(128) % 2, noise_var=1e-3)
    assert i_xt == pytest.approx(7.0, abs=1e-12)
    assert i_ty == pytest.approx(1.0, abs=1e-12)


def test_kde_is_shift_invariant_and_accurate_for_offset_activations():
    rng = np.random.default_rng(13)
    h = rng.normal(scale=0.3, size=(200, 2))
    y = rng.integers(0, 2, size=200)
    assert kde_mi(h + 1e4, y) == pytest.approx(kde_mi(h, y), abs=1e-9)


@pytest.mark.parametrize("d", [1, 2])
def test_kde_entropy_of_gaussian_activations_against_analytic_limit(d):
    """h ~ N(0, s^2 I_d), n = 2000, T = h + N(0, var I).

    The maths: as n -> inf, (1/n) sum_j exp(-|h_i-h_j|^2/(2 var)) ->
    (2 pi var)^(d/2) N(h_i; 0, (s^2+var) I), and averaging -log of it over
    h_i (E|h|^2 = d s^2) gives the limit
        H_KDE = (d/2) log(2 pi e (s^2+var)) + (d/2) s^2/(s^2+var)   nats,
    i.e. the Gaussian entropy H(T) plus a gap of (d/2) s^2/(s^2+var) nats:
    the KL bound is an upper bound that is tight only when the noise
    dominates (s^2 << var) or the points form well-separated clusters.
    Finite n: the estimate fluctuates mostly through the sample mean of
    |h|^2, sd sqrt(2d/n) s^2/(2(s^2+var)) nats = 0.015 (d=1) / 0.029 (d=2)
    bits here (measured over 10 seeds: 0.014 / 0.024 bits), so 0.1 bits is
    > 3.4 sd while the gap we check for (0.66 / 1.31 bits) is much larger.
    """
    s2, var, n = 1.0, 0.1, 2000
    h = np.random.default_rng(100 + d).normal(scale=math.sqrt(s2), size=(n, d))
    estimate = kde_entropy(h, var)
    gaussian = d / 2 * math.log2(2 * math.pi * math.e * (s2 + var))
    gap = d / 2 * s2 / (s2 + var) / math.log(2)
    assert estimate == pytest.approx(gaussian + gap, abs=0.1)
    assert estimate > gaussian + gap / 2  # from above, by the predicted gap


@pytest.mark.parametrize("d,s2", [(1, 0.01), (2, 0.005)])
def test_kde_entropy_approaches_gaussian_entropy_when_noise_dominates(d, s2):
    """Same maths with s^2 << var: the gap (d/2) s^2/(s^2+var) nats is 0.066 bits for
    (d=1, s^2=0.01) and 0.069 bits for (d=2, s^2=0.005); the sampling sd is
    < 0.005 bits, so the estimate lies in [H(T), H(T) + 0.15 bits]."""
    var, n = 0.1, 2000
    h = np.random.default_rng(200 + d).normal(scale=math.sqrt(s2), size=(n, d))
    estimate = kde_entropy(h, var)
    gaussian = d / 2 * math.log2(2 * math.pi * math.e * (s2 + var))
    assert gaussian < estimate < gaussian + 0.15


def test_kde_two_far_apart_classes_give_one_bit_of_label_information():
    rng = np.random.default_rng(5)
    n = 400
    y = np.repeat([0, 1], n // 2)
    h = np.where(y[:, None] == 0, -10.0, 10.0) + rng.normal(scale=0.05, size=(n, 2))
    i_xt, i_ty = kde_mi(h, y, noise_var=0.1)
    # cross-class kernel terms are exp(-400/0.2) = 0, so S_i = S_i,y and I(T;Y) = H(Y) exactly
    assert i_ty == pytest.approx(1.0, abs=1e-9)
    assert 1.0 <= i_xt <= math.log2(n)


def test_kde_mi_for_identical_activations_is_zero():
    i_xt, i_ty = kde_mi(np.zeros((64, 3)), np.arange(64) % 4)
    assert i_xt == pytest.approx(0.0, abs=1e-12)
    assert i_ty == pytest.approx(0.0, abs=1e-12)


def test_kde_mi_regression_y_uses_y_bins():
    rng = np.random.default_rng(8)
    y = rng.normal(size=300)
    h = 20 * y[:, None]
    assert kde_mi(h, y, y_bins=1)[1] == pytest.approx(0.0, abs=1e-12)
    assert kde_mi(h, y, y_bins=4)[1] > 0.5


@PROPERTY
@given(data=activations_and_labels(), noise_var=st.sampled_from([1e-3, 0.1, 1.0]))
def test_property_kde_i_xt_between_zero_and_log2_n(data, noise_var):
    t, y = data
    i_xt, i_ty = kde_mi(t, y, noise_var=noise_var)
    assert -1e-9 <= i_xt <= math.log2(len(y)) + 1e-9
    assert math.isfinite(i_ty)
    # H_upper(T) = I(X;T) + the noise entropy
    d = t.shape[1]
    noise = d / 2 * math.log2(2 * math.pi * math.e * noise_var)
    assert kde_entropy(t, noise_var) == pytest.approx(i_xt + noise, abs=1e-9)


# ----------------------------------------------------------------------------
# KDE lower bound (issue 12)


def naive_kde_lower_entropy_nats(h, var):
    """Pairwise-Bhattacharyya lower bound, as artemyk/ibsgd entropy_estimator_bd: KL at 4 var, minus (d/2) log 4."""
    d = h.shape[1]
    return naive_kde_entropy_nats(h, 4 * var) + d / 2 * math.log(0.25)


def test_kde_lower_bound_matches_the_reference_formula():
    rng = np.random.default_rng(13)
    h = rng.normal(scale=0.5, size=(40, 3))
    y = rng.integers(0, 3, size=40)
    var = 0.1
    h_given_x = 3 / 2 * math.log(2 * math.pi * math.e * var)
    h_lower = naive_kde_lower_entropy_nats(h, var)
    h_given_y = sum(np.mean(y == c) * naive_kde_lower_entropy_nats(h[y == c], var) for c in range(3))
    upper, lower = kde_mi_bounds(h, y, noise_var=var)
    assert upper == pytest.approx(kde_mi(h, y, noise_var=var), abs=1e-12)
    assert lower[0] == pytest.approx((h_lower - h_given_x) / math.log(2), abs=1e-10)
    assert lower[1] == pytest.approx((h_lower - h_given_y) / math.log(2), abs=1e-10)


def test_kde_bounds_row_blocks_give_the_same_answer(monkeypatch):
    rng = np.random.default_rng(15)
    h = rng.normal(size=(203, 3))
    y = rng.integers(0, 4, size=203)
    monkeypatch.setattr(est, "_KDE_GEMM_WORK", 1 << 60)
    whole = kde_mi_bounds(h, y)
    monkeypatch.setattr(est, "_KDE_BLOCK_ELEMENTS", 203 * 5)
    blocks = kde_mi_bounds(h, y)
    np.testing.assert_allclose(np.ravel(blocks), np.ravel(whole), rtol=0, atol=1e-12)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 120), d=st.integers(1, 8),
       scale=st.sampled_from([1e-3, 0.1, 1.0, 30.0]), noise_var=st.sampled_from([1e-4, 0.01, 0.1, 1.0, 10.0]),
       classes=st.integers(1, 4), ties=st.booleans())
def test_property_kde_lower_never_exceeds_upper_for_i_xt(seed, n, d, scale, noise_var, classes, ties):
    rng = np.random.default_rng(seed)
    t = rng.normal(scale=scale, size=(n, d))
    if ties:
        t = t[rng.integers(0, max(1, n // 3), size=n)]  # repeated rows
    y = rng.integers(0, classes, size=n)
    (up_xt, up_ty), (lo_xt, lo_ty) = kde_mi_bounds(t, y, noise_var=noise_var)
    assert 0.0 <= lo_xt <= up_xt <= math.log2(n) + 1e-9
    assert np.isfinite([up_ty, lo_ty]).all()


def test_kde_bounds_tend_to_h_x_as_the_noise_vanishes_on_discrete_inputs():
    """Discrete X with repeats, T an injective function of X: both bounds -> H(X) as noise_var -> 0."""
    rng = np.random.default_rng(16)
    x_ids = rng.integers(0, 20, size=400)
    h_x = naive_entropy_bits(x_ids.tolist())
    table = rng.uniform(-1, 1, size=(20, 3))  # 20 distinct points, >= ~0.05 apart
    t = table[x_ids]
    y = x_ids % 2
    gaps = []
    for noise_var in (1.0, 1e-1, 1e-2, 1e-3, 1e-5):
        (up, _), (lo, _) = kde_mi_bounds(t, y, noise_var=noise_var)
        assert lo <= up
        gaps.append((h_x - lo, h_x - up))
    lo_gaps, up_gaps = zip(*gaps)
    assert all(a >= b - 1e-12 for a, b in zip(lo_gaps, lo_gaps[1:])), lo_gaps  # both approach H(X)
    assert all(a >= b - 1e-12 for a, b in zip(up_gaps, up_gaps[1:])), up_gaps
    assert lo_gaps[-1] == pytest.approx(0.0, abs=1e-6) and up_gaps[-1] == pytest.approx(0.0, abs=1e-6)
    assert lo_gaps[0] > 1.0  # with a lot of noise they are far from it


def test_label_entropy():
    assert label_entropy([0, 1, 0, 1]) == pytest.approx(1.0)
    assert label_entropy(["a", "b", "c", "d"]) == pytest.approx(2.0)
    assert label_entropy([3, 3, 3]) == 0.0
    assert label_entropy(np.linspace(0, 1, 64), y_bins=4) == pytest.approx(2.0)  # floats are binned


# ----------------------------------------------------------------------------
# PCA for the clustering view


def test_pca_2d_projects_on_the_two_main_axes_with_their_variance_shares():
    rng = np.random.default_rng(17)
    base = rng.normal(size=(500, 2)) * [3.0, 1.0]
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    t = np.c_[base, np.zeros(500)] @ rotation.T + [5.0, -2.0, 1.0]  # 3 units, a flat cloud
    view, share = pca_2d(t[None], labels=base[:, 0] > 0)
    assert view.shape == (1, 500, 2) and share.shape == (1, 2)
    np.testing.assert_allclose(share[0], [9 / 10, 1 / 10], atol=0.03)
    # the projection is the centred cloud in its own coordinates, up to the sign of each axis
    centred = base - base.mean(axis=0)
    np.testing.assert_allclose(np.abs(view[0]), np.abs(centred), atol=0.25)
    assert np.corrcoef(view[0, :, 0], centred[:, 0])[0, 1] > 0.99  # axis 1 oriented towards class 1


def test_pca_2d_orientation_is_fixed_by_the_labels():
    rng = np.random.default_rng(18)
    y = rng.integers(0, 2, size=300)
    t = rng.normal(size=(300, 4)) + 2.0 * y[:, None] * [1.0, -1.0, 0.5, 0.0]
    view, _ = pca_2d(t[None], labels=y)
    flipped, _ = pca_2d(-t[None], labels=y)
    np.testing.assert_allclose(flipped, view, atol=1e-9)
    assert view[0, y == 1, 0].mean() > view[0, y == 0, 0].mean()


def test_pca_2d_subset_one_unit_and_constant_outputs():
    rng = np.random.default_rng(19)
    t = np.stack([rng.normal(size=(50, 1)), np.full((50, 1), 0.3)])  # 2 interfaces of 1 unit
    view, share = pca_2d(t, index=np.array([0, 10, 20]))
    assert view.shape == (2, 3, 2)
    np.testing.assert_array_equal(view[:, :, 1], 0.0)  # one unit: no second axis
    np.testing.assert_allclose(view[1], 0.0, atol=1e-12)  # constant outputs sit at the origin
    np.testing.assert_allclose(share, [[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(np.abs(view[0, :, 0]), np.abs(t[0, [0, 10, 20], 0] - t[0, :, 0].mean()))


# ----------------------------------------------------------------------------
# kernel cosine similarity


def test_kernel_cosine_similarity_basic_properties():
    rng = np.random.default_rng(21)
    kernels = rng.normal(size=(6, 5, 3))
    sim = kernel_cosine_similarity(kernels)
    assert sim.shape == (6, 6)
    assert np.array_equal(sim, sim.T)
    assert np.array_equal(np.diag(sim), np.ones(6))
    assert np.all(np.abs(sim) <= 1.0)
    flat = kernels.reshape(6, -1)
    for i in range(6):
        for j in range(6):
            ref = flat[i] @ flat[j] / (np.linalg.norm(flat[i]) * np.linalg.norm(flat[j]))
            assert sim[i, j] == pytest.approx(ref, abs=1e-12)


def test_kernel_cosine_similarity_known_values():
    a = np.zeros((4, 2))
    a[0, 0] = 1.0
    b = np.zeros((4, 2))
    b[1, 1] = 2.0  # orthogonal to a
    kernels = np.stack([a, b, 3 * a, -a, np.zeros((4, 2))])
    sim = kernel_cosine_similarity(kernels)
    assert sim[0, 1] == 0.0 and sim[1, 0] == 0.0
    assert sim[0, 2] == pytest.approx(1.0)
    assert sim[0, 3] == pytest.approx(-1.0)
    # the all-zero kernel: 0 with the others, 1 with itself, never NaN
    assert not np.isnan(sim).any()
    assert np.array_equal(sim[4, :4], np.zeros(4)) and np.array_equal(sim[:4, 4], np.zeros(4))
    assert sim[4, 4] == 1.0


# ----------------------------------------------------------------------------
# histograms with fixed edges


def test_histogram_fixed_matches_np_histogram_inside_the_edges():
    rng = np.random.default_rng(31)
    values = rng.uniform(-1, 1, size=(5, 200))
    edges = np.linspace(-1, 1, 11)
    counts = histogram_fixed(values, edges)
    assert counts.shape == (5, 10) and counts.dtype.kind == "i"
    for r in range(5):
        np.testing.assert_array_equal(counts[r], np.histogram(values[r], edges)[0])


def test_histogram_fixed_clips_outliers_into_end_bins_and_keeps_every_value():
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    values = np.array([[-100.0, 0.0, 0.5, 1.0, 2.999, 3.0, 100.0], [1.5] * 7])
    counts = histogram_fixed(values, edges)
    np.testing.assert_array_equal(counts, [[3, 1, 3], [0, 7, 0]])
    np.testing.assert_array_equal(counts.sum(axis=1), [7, 7])


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 5), k=st.integers(1, 60), bins=st.integers(1, 12),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_property_histogram_matches_locating_every_value(seed, rows, k, bins, dtype):
    """The sort-based counts equal the direct rule: bin = (edges <= v) - 1, clipped to the end bins."""
    rng = np.random.default_rng(seed)
    edges = np.round(np.linspace(-1, 1, bins + 1), 3)
    values = rng.choice(np.r_[edges, rng.uniform(-1.5, 1.5, size=20)], size=(rows, k)).astype(dtype)
    codes = np.clip(np.searchsorted(edges, values.astype(np.float64), side="right") - 1, 0, bins - 1)
    expected = np.stack([np.bincount(c, minlength=bins) for c in codes])
    np.testing.assert_array_equal(histogram_fixed(values, edges), expected)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(0, 8), k=st.integers(0, 50), bins=st.integers(1, 12))
def test_property_histogram_counts_sum_to_row_length(seed, rows, k, bins):
    rng = np.random.default_rng(seed)
    values = rng.normal(scale=3, size=(rows, k))
    edges = -2 + np.cumsum(rng.uniform(0.01, 1, size=bins + 1))  # strictly increasing
    counts = histogram_fixed(values, edges)
    assert counts.shape == (rows, bins)
    np.testing.assert_array_equal(counts.sum(axis=1), np.full(rows, k))


def test_fixed_edges_widen_the_sample_range_by_the_margin():
    sample = np.array([-1.0, 0.0, 3.0])
    edges = fixed_edges(sample, bins=8, margin=0.5)
    assert edges.shape == (9,)
    assert edges[0] == pytest.approx(-3.0) and edges[-1] == pytest.approx(5.0)
    assert np.all(np.diff(edges) > 0)
    np.testing.assert_allclose(fixed_edges(sample, bins=4, margin=0), [-1, 0, 1, 2, 3])


def test_fixed_edges_for_a_constant_sample_have_a_sane_width():
    zeros = fixed_edges(np.zeros(10))
    assert zeros.shape == (41,)
    np.testing.assert_allclose([zeros[0], zeros[-1]], [-1.0, 1.0])
    fives = fixed_edges(np.full(3, 5.0), bins=4)
    np.testing.assert_allclose([fives[0], fives[-1]], [0.0, 10.0])
    assert np.all(np.diff(fixed_edges(np.full(3, 1e16))) > 0)


def test_fixed_edges_then_histogram_keeps_the_whole_sample_inside():
    sample = np.random.default_rng(41).normal(size=(4, 100))
    edges = fixed_edges(sample)
    counts = histogram_fixed(sample, edges)
    assert counts.sum() == sample.size
    assert sample.min() > edges[0] and sample.max() < edges[-1]


# ----------------------------------------------------------------------------
# labels


def test_estimator_labels():
    assert estimator_label("binning", bins=30) == "binning, 30 bins (Shwartz-Ziv & Tishby 2017)"
    assert estimator_label("binning") == "binning, 30 bins (Shwartz-Ziv & Tishby 2017)"
    assert (
        estimator_label("binning", bins=12, value_range=(-1, 1))
        == "binning, 12 bins over [-1, 1] (Shwartz-Ziv & Tishby 2017)"
    )
    assert estimator_label("kde", noise_var=0.1) == "KDE upper bound, σ²=0.1 (Saxe et al. 2018)"
    assert estimator_label("kde", noise_var=1e-3) == "KDE upper bound, σ²=0.001 (Saxe et al. 2018)"
    assert (
        estimator_label("kde", noise_var=0.1, lower=True)
        == "KDE lower and upper bounds, σ²=0.1 (Saxe et al. 2018)"
    )


# ----------------------------------------------------------------------------
# input validation: ValueError naming the received value

GOOD_T = np.zeros((4, 2))
GOOD_Y = np.array([0, 1, 0, 1])


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: percentile_bands(np.array([])), r"values must not be empty, got array of shape \(0,\)"),
        (lambda: percentile_bands([1.0, np.nan]), r"values must be finite.*1 NaN/inf"),
        (lambda: percentile_bands(["a", "b"]), r"real numeric array, got array of shape \(2,\) and dtype <U1"),
        (lambda: percentile_bands_per_row(np.ones(5)), r"values_2d must have shape \(rows, k\).*got array of shape \(5,\)"),
        (lambda: binned_entropy(GOOD_T, bins=0), r"bins must be an integer >= 1, got 0"),
        (lambda: binned_entropy(GOOD_T, bins=2.5), r"bins must be an integer >= 1, got 2.5"),
        (lambda: binned_entropy(GOOD_T, bins=True), r"bins must be an integer >= 1, got True"),
        (lambda: binned_entropy(np.zeros((2, 2, 2))), r"t must have shape \(n_samples, units\).*got array of shape \(2, 2, 2\)"),
        (lambda: binned_entropy(np.zeros((0, 3))), r"got array of shape \(0, 3\)"),
        (lambda: binned_entropy([[np.inf, 0.0]]), r"t must be finite.*1 NaN/inf"),
        (lambda: binned_entropy(GOOD_T, value_range=(1, 1)), r"value_range must be .* got \(1, 1\)"),
        (lambda: binned_entropy(GOOD_T, value_range=3), r"value_range must be .* got 3"),
        (lambda: binning_mi(GOOD_T, [0, 1]), r"y must have one label per sample \(4\), got array of shape \(2,\)"),
        (lambda: binning_mi(GOOD_T, np.eye(4)), r"y must be 1-D labels .*argmax.*got array of shape \(4, 4\)"),
        (lambda: binning_mi(GOOD_T, [0.0, 1.0, np.nan, 0.0]), r"y must be finite"),
        (lambda: binning_mi(GOOD_T, [0.0, 1.0, 2.0, 3.0], y_bins=0), r"y_bins must be an integer >= 1, got 0"),
        (lambda: binning_mi(GOOD_T, GOOD_Y, x_ids=[0.5, 1, 2, 3]), r"x_ids must be a 1-D integer array .*dtype float64"),
        (lambda: binning_mi(GOOD_T, GOOD_Y, x_ids=[0, 1]), r"x_ids .* one id per sample \(4\), got array of shape \(2,\)"),
        (lambda: kde_mi(GOOD_T, GOOD_Y, noise_var=0), r"noise_var must be a positive finite number, got 0.0"),
        (lambda: kde_mi(GOOD_T, GOOD_Y, noise_var="0.1"), r"noise_var must be a positive finite number, got '0.1'"),
        (lambda: kde_entropy(GOOD_T, noise_var=-1), r"noise_var .* got -1.0"),
        (lambda: kde_mi_bounds(GOOD_T, GOOD_Y, noise_var=0), r"noise_var must be a positive finite number, got 0.0"),
        (lambda: kde_mi_bounds(GOOD_T, [0, 1]), r"y must have one label per sample \(4\)"),
        (lambda: label_entropy([]), r"y must hold at least one label"),
        (lambda: pca_2d(np.ones((2, 3))), r"outputs must have shape \(N, B, units\).*got array of shape \(2, 3\)"),
        (lambda: pca_2d(np.ones((2, 3, 1)), index=[3]), r"index must be 1-D integer positions in \[0, 3\)"),
        (lambda: pca_2d(np.ones((2, 3, 1)), labels=[0, 1]), r"labels must have one value per sample \(3\)"),
        (lambda: pca_2d(np.full((1, 2, 2), np.nan)), r"outputs must be finite"),
        (lambda: kernel_cosine_similarity(np.ones(3)), r"kernels must have shape .*got array of shape \(3,\)"),
        (lambda: kernel_cosine_similarity(np.ones((2, 0, 3))), r"got array of shape \(2, 0, 3\)"),
        (lambda: histogram_fixed(np.ones(3), [0, 1]), r"values_2d must have shape \(rows, k\), got array of shape \(3,\)"),
        (lambda: histogram_fixed(np.ones((1, 3)), [0, 2, 1]), r"edges must be .*strictly increasing.*shape \(3,\)"),
        (lambda: histogram_fixed(np.ones((1, 3)), [0]), r"edges must be .*got array of shape \(1,\)"),
        (lambda: histogram_fixed([[np.nan]], [0, 1]), r"values_2d must be finite"),
        (lambda: fixed_edges([], bins=4), r"sample must not be empty"),
        (lambda: fixed_edges([1.0], bins=0), r"bins must be an integer >= 1, got 0"),
        (lambda: fixed_edges([1.0], margin=-0.1), r"margin must be a finite number >= 0, got -0.1"),
        (lambda: estimator_label("knn"), r"kind must be 'binning' or 'kde', got 'knn'"),
        (lambda: estimator_label("kde", sigma=1), r"takes noise_var, lower; got \['sigma'\]"),
        (lambda: estimator_label("binning", bins=-3), r"bins must be an integer >= 1, got -3"),
    ],
)
def test_invalid_inputs_raise_value_error_naming_the_value(call, match):
    with pytest.raises(ValueError, match=match):
        call()

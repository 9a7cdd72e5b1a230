"""infoif.train.probes: the probe batch and what stays fixed for a run, one measurement, saturation notes."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest

from infoif.train import probes as P
from infoif.train.probes import InfoEstimate, ProbeConfig, ProbeSetup, measure, probe_setup


def make_dataset(n_train=300, n_val=120, d=3, seed=0, name="table"):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_train + n_val, d)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    return SimpleNamespace(name=name, x_train=x[:n_train], y_train=y[:n_train], x_val=x[n_train:],
                           y_val=y[n_train:])


class ScriptedProbe:
    """Stands in for an InterfaceProbe: returns whatever outputs the test sets."""

    def __init__(self, outputs, kernels=None):
        self.outputs_now = np.asarray(outputs, np.float32)  # (B, N, units)
        b, n, units = self.outputs_now.shape
        self._kernels = np.ones((n, 3, units), np.float32) if kernels is None else kernels

    def outputs(self, x):
        assert len(x) == len(self.outputs_now)
        return self.outputs_now

    def __call__(self, x):
        out = self.outputs(x)
        power = np.mean(out ** 2, axis=2)
        return out, np.cumsum(power, axis=0).astype(np.float32)

    def kernels(self):
        return self._kernels

    def biases(self):
        return np.zeros(self._kernels[:, 0, :].shape, np.float32)


def setup_for(outputs, activation="tanh", config=None, dataset=None):
    dataset = dataset or make_dataset(n_val=len(outputs))
    probe = ScriptedProbe(outputs)
    config = config or ProbeConfig()
    return probe, probe_setup(dataset, activation, probe.outputs, config, np.random.default_rng(0)), config


# ---------------------------------------------------------------- the probe batch


def test_probe_batch_is_the_whole_validation_set_up_to_probe_size():
    ds = make_dataset(n_val=120)
    probe = ScriptedProbe(np.zeros((120, 2, 3)))
    setup = probe_setup(ds, "tanh", probe.outputs, ProbeConfig(), np.random.default_rng(0))
    np.testing.assert_array_equal(setup.x, ds.x_val)
    np.testing.assert_array_equal(setup.y, ds.y_val)
    assert setup.source == "validation" and setup.description == "all 120 validation samples"
    assert setup.size == 120


def test_probe_batch_beyond_probe_size_is_a_fixed_random_subset_in_order():
    ds = make_dataset(n_val=500)
    probe = ScriptedProbe(np.zeros((64, 2, 3)))
    config = ProbeConfig(probe_size=64)
    a = probe_setup(ds, "tanh", probe.outputs, config, np.random.default_rng(3))
    b = probe_setup(ds, "tanh", probe.outputs, config, np.random.default_rng(3))
    np.testing.assert_array_equal(a.x, b.x)
    assert a.size == 64 and a.description == "64 of 500 validation samples"
    rows = [int(np.flatnonzero((ds.x_val == row).all(axis=1))[0]) for row in a.x]
    assert rows == sorted(rows) and len(set(rows)) == 64


def test_the_12_bit_sample_probes_every_pattern_in_file_order():
    from infoif.datasets import BITS12_SAMPLE, prepare_sample

    ds = prepare_sample(BITS12_SAMPLE)
    assert len(ds.x_val) < 4096  # the validation set alone would not do
    probe = ScriptedProbe(np.zeros((4096, 4, 5)))
    setup = probe_setup(ds, "tanh", probe.outputs, ProbeConfig(), np.random.default_rng(0))
    assert setup.source == "all rows" and setup.size == 4096
    assert "every input pattern" in setup.description
    bits = setup.x > 0  # standardized 0/1 inputs: above zero is a 1
    as_numbers = bits @ (1 << np.arange(11, -1, -1))
    np.testing.assert_array_equal(as_numbers, np.arange(4096))  # row k is the pattern k
    assert setup.h_y == pytest.approx(1.0)
    # a renamed copy (an upload, say) is probed like any table: on its validation set
    other = dataclasses.replace(ds, name="bits12.csv")
    assert probe_setup(other, "tanh", ScriptedProbe(np.zeros((len(ds.x_val), 4, 5))).outputs, ProbeConfig(),
                       np.random.default_rng(0)).source == "validation"


def test_probe_setup_is_frozen_and_read_only():
    _, setup, _ = setup_for(np.zeros((50, 2, 3)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setup.x = None
    for name in ("x", "y", "hist_edges", "kde_index", "view_index"):
        with pytest.raises(ValueError):
            getattr(setup, name)[0] = 1


# ---------------------------------------------------------------- the binning range


@pytest.mark.parametrize("activation, expected", [("tanh", (-1.0, 1.0)), ("sigmoid", (0.0, 1.0))])
def test_bounded_activations_bin_over_their_exact_range(activation, expected):
    lo, hi, note = P.value_range(activation, np.full((10, 2, 3), 0.01))
    assert (lo, hi) == expected
    assert f"[{expected[0]:g}, {expected[1]:g}]" in note and activation in note


def test_unbounded_activations_bin_over_the_first_probes_range_with_a_margin():
    first = np.linspace(0.0, 2.0, 60).reshape(10, 2, 3)
    lo, hi, note = P.value_range("linear", first)
    assert (lo, hi) == pytest.approx((-1.0, 3.0))
    assert "first probe" in note and "end bins" in note
    lo, hi, note = P.value_range("relu", first)  # relu outputs are never negative
    assert (lo, hi) == pytest.approx((0.0, 3.0)) and ">= 0" in note
    np.testing.assert_allclose(P.histogram_edges("relu", first, 4), [0.0, 0.75, 1.5, 2.25, 3.0])


# ---------------------------------------------------------------- one measurement


def tanh_outputs(seed, b=200, n=3, units=4, scale=1.0):
    return np.tanh(np.random.default_rng(seed).normal(scale=scale, size=(b, n, units)))


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_same_outputs_give_the_same_estimate_at_any_epoch_whatever_the_others(activation):
    """Bins are fixed for the run: epoch 1's outputs measured again at epoch 5 read the same,
    although epochs 2-4 spread far wider (with per-epoch ranges they would not)."""
    first = np.abs(tanh_outputs(1, scale=0.3)) if activation == "relu" else tanh_outputs(1, scale=0.3)
    probe, setup, config = setup_for(first, activation)
    before = measure(probe, setup, config)
    for seed in (2, 3, 4):
        probe.outputs_now = (5.0 * tanh_outputs(seed)).astype(np.float32)
        measure(probe, setup, config)
    probe.outputs_now = first.astype(np.float32)
    again = measure(probe, setup, config)
    for key in ("binning", "kde"):
        for name in ("i_xt", "i_ty", "i_xt_lower", "i_ty_lower"):
            a, b = getattr(before.info[key], name), getattr(again.info[key], name)
            assert (a is None and b is None) or np.array_equal(a, b), (key, name)
    np.testing.assert_array_equal(before.output_hist, again.output_hist)


def test_tiny_tanh_outputs_read_about_zero_bits_where_per_epoch_ranges_read_log2_n():
    """The measured case of issue 12: all outputs within 0.03 of zero (here of one sign)."""
    tiny = 0.03 * np.random.default_rng(7).uniform(size=(189, 8, 8))
    probe, setup, config = setup_for(tiny, "tanh")
    p = measure(probe, setup, config)
    np.testing.assert_array_equal(p.info["binning"].i_xt, 0.0)
    np.testing.assert_array_equal(p.entropy, 0.0)
    # what the estimator said before: each call's own range
    from infoif.train import estimators as est

    assert est.binning_mi(tiny[:, 0], setup.y)[0] > 7.0  # log2(189) = 7.56


def test_a_measurement_holds_both_kde_bounds_and_binning_with_its_range():
    probe, setup, config = setup_for(tanh_outputs(5), "tanh")
    p = measure(probe, setup, config)
    binning, kde = p.info["binning"], p.info["kde"]
    assert binning.i_xt_lower is None and binning.i_ty_lower is None
    assert (kde.i_xt_lower <= kde.i_xt).all() and kde.i_xt_lower.shape == (3,)
    assert "over [-1, 1]" in binning.label and binning.params["range_note"] == setup.range_note
    assert (binning.params["range_lo"], binning.params["range_hi"]) == (-1.0, 1.0)
    assert "lower and upper" in kde.label and "0.1" in kde.label
    assert binning.samples == 200 and kde.samples == len(setup.kde_index) == 200
    assert binning.ceiling_xt == pytest.approx(math.log2(200))
    assert binning.h_y == pytest.approx(setup.h_y) and 0.9 < binning.h_y <= 1.0
    # (float32 records: within rounding of their ceilings)
    assert (binning.i_xt <= math.log2(200) + 1e-6).all() and (binning.i_ty <= binning.h_y + 1e-6).all()
    np.testing.assert_array_equal(binning.outside, 0.0)  # tanh never leaves [-1, 1]
    assert p.probe_size == 200


def test_values_beyond_a_first_probe_range_are_counted_and_reported():
    probe, setup, config = setup_for(tanh_outputs(8, n=2, scale=0.1), "linear")
    lo, hi = setup.value_range
    probe.outputs_now = probe.outputs_now.copy()
    probe.outputs_now[:50, 0, :] = hi + 10  # a quarter of interface 0's outputs run off the top
    p = measure(probe, setup, config)
    np.testing.assert_allclose(p.info["binning"].outside, [0.25, 0.0])
    assert p.output_hist[0, -1] >= 50 * 4


def test_records_are_read_only_and_plain():
    probe, setup, config = setup_for(tanh_outputs(9), "tanh")
    p = measure(probe, setup, config)
    plain = (np.ndarray, float, int, str, bool, type(None))

    def check(value, where):
        if isinstance(value, np.ndarray):
            assert not value.flags.writeable, where
            assert value.dtype.kind in "biuf", where
        elif isinstance(value, (dict, tuple, list)) or hasattr(value, "items"):
            items = value.items() if hasattr(value, "items") else enumerate(value)
            for k, v in items:
                check(v, f"{where}.{k}")
        else:
            assert isinstance(value, plain), (where, type(value))

    for f in dataclasses.fields(p):
        value = getattr(p, f.name)
        if f.name == "info":
            for key, estimate in value.items():
                assert isinstance(estimate, InfoEstimate)
                for g in dataclasses.fields(estimate):
                    check(getattr(estimate, g.name), f"info.{key}.{g.name}")
        else:
            check(value, f.name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.info["kde"].i_xt_lower = None


def test_energy_curve_is_kept_for_the_first_curve_size_samples():
    probe, setup, _ = setup_for(tanh_outputs(10, b=300), "tanh")
    p = measure(probe, setup, ProbeConfig(curve_size=100))
    assert p.energy_curve.shape == (100, 3)
    np.testing.assert_array_equal(p.energy_final, p.energy_curve[-1])
    p = measure(probe, setup, ProbeConfig())
    assert p.energy_curve.shape == (300, 3)


def test_the_clustering_view_keeps_a_fixed_subset_on_two_pca_axes():
    config = ProbeConfig(view_size=50)
    probe, setup, _ = setup_for(tanh_outputs(11), "tanh", config)
    p = measure(probe, setup, config)
    assert p.view.shape == (3, 50, 2) and p.view_variance.shape == (3, 2)
    np.testing.assert_array_equal(p.view_labels, setup.y[setup.view_index])
    assert ((p.view_variance >= 0) & (p.view_variance <= 1)).all()
    assert (p.view_variance.sum(axis=1) <= 1 + 1e-6).all()


# ---------------------------------------------------------------- cost


def test_kde_samples_shrink_with_many_interfaces_to_keep_the_cost_bounded():
    config = ProbeConfig()
    assert config.kde_samples(4096, 8) == 512
    assert config.kde_samples(4096, 64) == 256
    assert config.kde_samples(4096, 256) == 128
    assert config.kde_samples(100, 8) == 100
    assert config.kde_samples(1, 8) == 1
    probe, setup, _ = setup_for(np.zeros((600, 64, 2)), "tanh", config)
    assert len(setup.kde_index) == 256 and (np.diff(setup.kde_index) > 0).all()


def test_probe_interval_keeps_to_the_cost_fraction_even_beyond_max_interval():
    config = ProbeConfig(cost_fraction=0.1, min_interval=0.25, max_interval=1.0)
    assert config.interval(0.001) == 0.25
    assert config.interval(0.05) == pytest.approx(0.5)
    assert config.interval(0.1) == pytest.approx(1.0)
    assert config.interval(0.3) == pytest.approx(3.0)  # a probe of 0.3 s: at most a tenth of the time


@pytest.mark.parametrize("kwargs, match", [
    (dict(kde_pairs=0), r"`kde_pairs` must be a positive integer. Received: kde_pairs=0"),
    (dict(view_size=1.5), r"Received: view_size=1.5"),
    (dict(curve_size=True), r"Received: curve_size=True"),
    (dict(probe_size=-1), r"Received: probe_size=-1"),
])
def test_probe_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ProbeConfig(**kwargs)


# ---------------------------------------------------------------- saturation


def estimate(i_xt, samples=189, kind="binning"):
    i_xt = np.asarray(i_xt, np.float32)
    return InfoEstimate(kind, "binning, 30 bins", {}, i_xt, np.zeros_like(i_xt), samples=samples, h_y=1.0)


def test_saturation_note_when_almost_every_sample_has_a_bin_of_its_own():
    ceiling = math.log2(189)
    assert P.saturation_note(estimate([2.0, 3.0])) is None
    note = P.saturation_note(estimate([ceiling, ceiling - 0.05]))
    assert note.startswith("Every interface puts almost every one of the 189 probe samples")
    assert "7.56 bits" in note and "fewer bins" in note and "fewer units" in note and "KDE" in note
    assert P.saturation_note(estimate([ceiling, 1.0, 1.0])).startswith("1 of 3 interfaces puts")
    assert P.saturation_note(estimate([ceiling, ceiling, 1.0])).startswith("2 of 3 interfaces put ")
    assert P.saturation_note(estimate([ceiling], kind="kde")) is None  # only binning has bins


def test_measured_saturation_on_a_small_batch_of_wide_interfaces():
    """The second case of issue 12: 8 tanh units per interface, a small probe batch: every sample
    lands in a bin of its own, so binning sits at log2(n), and the note says so."""
    wide = tanh_outputs(12, b=189, n=2, units=8)
    probe, setup, config = setup_for(wide, "tanh")
    p = measure(probe, setup, config)
    np.testing.assert_allclose(p.info["binning"].i_xt, math.log2(189), atol=P.SATURATION_BITS)
    assert P.saturated(p.info["binning"]).all()
    assert P.saturation_note(p.info["binning"]) is not None
    assert not P.saturated(p.info["kde"]).any()


def test_setup_record_type():
    _, setup, _ = setup_for(np.zeros((20, 1, 1)))
    assert isinstance(setup, ProbeSetup)


# ---------------------------------------------------------------- on disk and across processes


def assert_same_record(a, b):
    assert type(a) is type(b)
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "info":
            assert set(x) == set(y)
            for key in x:
                assert_same_record(x[key], y[key])
        elif f.name == "params":
            assert dict(x) == dict(y)
        elif isinstance(x, np.ndarray):
            assert isinstance(y, np.ndarray) and not y.flags.writeable, f.name
            assert x.dtype == y.dtype and np.array_equal(x, y), f.name
        else:
            assert x == y and type(x) is type(y), (f.name, x, y)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_records_round_trip_through_npz_without_pickle(activation, tmp_path):
    outputs = np.abs(tanh_outputs(13)) if activation == "relu" else tanh_outputs(13)
    probe, setup, config = setup_for(outputs, activation)
    p = measure(probe, setup, config)
    np.savez(tmp_path / "probes.npz", **p.to_flat())
    np.savez(tmp_path / "setup.npz", **setup.to_flat())
    with np.load(tmp_path / "probes.npz", allow_pickle=False) as flat:
        assert all(flat[k].dtype.kind in "biufU" for k in flat.files)
        assert_same_record(p, P.Probes.from_flat(dict(flat)))
    with np.load(tmp_path / "setup.npz", allow_pickle=False) as flat:
        assert_same_record(setup, ProbeSetup.from_flat(dict(flat)))
    # without kernels, the field stays None
    assert P.Probes.from_flat(p.without_kernels().to_flat()).kernels is None


def test_records_pickle_for_worker_processes():
    import pickle

    probe, setup, config = setup_for(tanh_outputs(14), "tanh")
    p = measure(probe, setup, config)
    assert_same_record(p, pickle.loads(pickle.dumps(p)))
    assert_same_record(setup, pickle.loads(pickle.dumps(setup)))

"""infoif.datasets: the Playground generators and the sample datasets in sample_data/."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from infoif import datasets
from infoif.data import Dataset
from infoif.datasets import (
    BITS12_SAMPLE,
    DEFAULT_SAMPLE,
    GENERATORS,
    SAMPLE_DIR,
    SAMPLES,
    bits12,
    circle,
    gaussian,
    load_sample,
    prepare_sample,
    sample_path,
    spiral,
    xor,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- generators --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(GENERATORS))
@pytest.mark.parametrize("n", [2, 7, 500])
def test_generator_shape_and_labels(name, n):
    df = GENERATORS[name](n=n, noise=0.2, seed=3)
    assert list(df.columns) == ["x1", "x2", "label"] and len(df) == n
    assert df["x1"].dtype == np.float64 and df["label"].dtype == np.int64
    assert set(df["label"]) <= {0, 1}
    assert np.isfinite(df[["x1", "x2"]].to_numpy()).all()


@pytest.mark.parametrize("name", list(GENERATORS))
def test_generator_is_deterministic_per_seed(name):
    generate = GENERATORS[name]
    pd.testing.assert_frame_equal(generate(seed=5), generate(seed=5))
    assert not generate(seed=5).equals(generate(seed=6))
    assert not generate(seed=None).equals(generate(seed=None))


@pytest.mark.parametrize("generate", [circle, gaussian, spiral])
def test_two_halves(generate):
    assert np.bincount(generate(n=501, noise=0.0)["label"]).tolist() == [250, 251]


def test_rows_are_shuffled():
    labels = spiral(n=500)["label"].to_numpy()
    assert 100 < np.count_nonzero(np.diff(labels)) < 400  # not two blocks


def test_circle_geometry():
    df = circle(n=1000, noise=0.0)
    r = np.hypot(df["x1"], df["x2"])
    assert ((r < 2.5) == (df["label"] == 1)).all()  # without noise the label is the disc
    assert r[df["label"] == 0].between(3.5, 5.0).all()
    noisy = circle(n=1000, noise=0.5)
    r = np.hypot(noisy["x1"], noisy["x2"])
    flipped = ((r < 2.5) != (noisy["label"] == 1)).mean()
    assert 0.05 < flipped < 0.5  # the label comes from the point plus noise


def test_xor_geometry():
    df = xor(n=1000, noise=0.0)
    assert ((df["x1"] * df["x2"] >= 0) == (df["label"] == 1)).all()
    assert (df[["x1", "x2"]].abs() >= 0.3).all().all()  # padding away from the axes
    assert (df[["x1", "x2"]].abs() <= 5.3).all().all()


def test_gaussian_geometry():
    df = gaussian(n=4000, noise=0.2)  # variance 0.5 + 7 * 0.2 = 1.9
    pos = df[df["label"] == 1]
    assert pos["x1"].mean() == pytest.approx(2, abs=0.1)
    assert df[df["label"] == 0]["x2"].mean() == pytest.approx(-2, abs=0.1)
    assert pos["x1"].var() == pytest.approx(1.9, rel=0.1)


def test_spiral_geometry():
    df = spiral(n=1000, noise=0.0)
    r = np.hypot(df["x1"], df["x2"])
    assert r.max() < 5 and r.max() > 4.9
    pos = df[df["label"] == 1]
    neg = df[df["label"] == 0]
    # the negative spiral is the positive one turned by half a turn
    np.testing.assert_allclose(np.sort(pos["x1"]), np.sort(-neg["x1"]), atol=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [{"n": 1}, {"n": 2.5}, {"n": True}, {"noise": -0.1}, {"noise": 2}, {"noise": "0.1"}, {"seed": -1}],
)
def test_generator_arguments_are_checked(kwargs):
    with pytest.raises(ValueError):
        circle(**kwargs)


# --- the sample registry and files -------------------------------------------------------------


def test_registry():
    assert DEFAULT_SAMPLE in SAMPLES
    assert {"Circle", "XOR", "Gaussian", "Spiral", "Iris", "Palmer penguins", "Diabetes",
            BITS12_SAMPLE} <= set(SAMPLES)
    assert {s.task for s in SAMPLES.values()} == {"binary", "multiclass", "regression"}
    for name, sample in SAMPLES.items():
        assert sample.name == name
        assert sample_path(name) == SAMPLE_DIR / sample.file
        assert sample.path.is_file(), f"{sample.file} is missing; run python sample_data/export.py"
        assert sample.description and sample.source and sample.licence


def test_sample_dir_is_next_to_the_package():
    assert SAMPLE_DIR == (
        __import__("pathlib").Path(datasets.__file__).resolve().parent.parent / "sample_data"
    )


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_sample_loads_and_prepares(name):
    sample = SAMPLES[name]
    df = load_sample(name)
    assert sample.target in df.columns
    ds = prepare_sample(name)
    assert isinstance(ds, Dataset)
    assert ds.task == sample.task and ds.target == sample.target and ds.name == name
    assert ds.n_train > ds.n_val > 0 and ds.n_train + ds.n_val <= len(df)
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.x_val).all()


def test_sample_contents():
    iris = prepare_sample("Iris")
    assert iris.n_train + iris.n_val == 150 and iris.class_names == ["setosa", "versicolor", "virginica"]
    penguins = load_sample("Palmer penguins")
    assert len(penguins) == 344 and penguins.isna().any().any()
    assert penguins["island"].dtype == "str" and penguins["sex"].dtype == "str"
    ds = prepare_sample("Palmer penguins")
    assert "island=Dream" in ds.feature_names and "sex=female" in ds.feature_names
    diabetes = prepare_sample("Diabetes")
    assert diabetes.task == "regression" and diabetes.n_train + diabetes.n_val == 442
    assert diabetes.input_dim == 10 and diabetes.target_std > 0


@pytest.mark.parametrize("name", list(GENERATORS))
def test_playground_csv_matches_its_generator(name):
    sample = next(s for s in SAMPLES.values() if s.file == f"{name}.csv")
    committed = pd.read_csv(sample.path)
    fresh = GENERATORS[name](n=500, noise=0.1, seed=0)
    np.testing.assert_allclose(committed[["x1", "x2"]], fresh[["x1", "x2"]], atol=6e-6)
    np.testing.assert_array_equal(committed["label"], fresh["label"])


# --- the 12-bit sample ------------------------------------------------------------------------


def test_12_bit_sample_is_every_pattern_once_with_a_balanced_label():
    df = load_sample(BITS12_SAMPLE)
    bits = df[[f"b{i}" for i in range(12)]].to_numpy()
    assert len(df) == 4096 and set(np.unique(bits)) == {0, 1}
    numbers = bits @ (1 << np.arange(11, -1, -1))
    np.testing.assert_array_equal(numbers, np.arange(4096))  # all 4,096 distinct patterns, in order
    assert df["label"].sum() == 2048  # balanced: H(Y) = 1 bit
    pd.testing.assert_frame_equal(df.reset_index(drop=True), bits12(), check_dtype=False)


def test_12_bit_rule_is_symmetric_on_the_ring_and_not_linearly_separable():
    df = bits12()
    bits = df[[f"b{i}" for i in range(12)]].to_numpy()
    label = df["label"].to_numpy()
    weights = 1 << np.arange(11, -1, -1)

    def label_of(patterns):
        return label[patterns @ weights]

    for moved in (np.roll(bits, 1, axis=1), np.roll(bits, 5, axis=1), bits[:, ::-1], 1 - bits):
        np.testing.assert_array_equal(label_of(moved), label)  # rotate, mirror, flip every bit
    # flipping every bit keeps the label, so no linear rule w.x > c separates the classes:
    # it would need w.x > c and w.(1 - x) > c for class 1, so w.1 > 2c, and the reverse for class 0
    assert label[0] == label[4095] == 1 and label_of(1 - bits[[7]])[0] == label[7]
    assert 0 < label.mean() < 1


def test_12_bit_sample_prepares_and_asks_for_every_row_in_the_probe_batch():
    ds = prepare_sample(BITS12_SAMPLE)
    assert ds.task == "binary" and ds.input_dim == 12 and ds.n_train + ds.n_val == 4096
    assert datasets.probes_every_row(ds)
    assert not datasets.probes_every_row(prepare_sample("Circle"))
    # a table that only carries the name, but not the 4,096 patterns, is not taken for it
    half = __import__("dataclasses").replace(ds, x_train=ds.x_train[:100], y_train=ds.y_train[:100])
    assert not datasets.probes_every_row(half)


def test_12_bit_csv_matches_its_generator():
    committed = pd.read_csv(SAMPLES[BITS12_SAMPLE].path)
    pd.testing.assert_frame_equal(committed, bits12())


def test_unknown_sample():
    with pytest.raises(KeyError, match="There is no sample dataset 'Titanic'"):
        load_sample("Titanic")


def test_readme_gives_source_and_licence_of_every_file():
    readme = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    for sample in SAMPLES.values():
        assert f"`{sample.file}`" in readme
    for word in ("CC0", "CC BY 4.0", "BSD-3-Clause", "Apache-2.0", "export.py", "Shwartz-Ziv"):
        assert word in readme


def test_samples_load_without_the_packages_they_were_exported_from():
    code = (
        "import sys\n"
        "sys.modules['sklearn'] = None\n"
        "sys.modules['palmerpenguins'] = None\n"
        "from infoif.datasets import SAMPLES, prepare_sample\n"
        "for name in SAMPLES:\n"
        "    prepare_sample(name)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_datasets_module_imports_no_keras_tensorflow_or_streamlit():
    code = (
        "import sys, infoif.datasets\n"
        "heavy = [m for m in ('keras', 'tensorflow', 'streamlit', 'sklearn', 'palmerpenguins') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)

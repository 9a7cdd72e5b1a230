"""Property-based: whatever comes in, nothing but a DataError comes out, and valid tables prepare."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import pandas as hpd

from infoif.constants import TASKS
from infoif.data import DataError, Dataset, load_table, prepare
from tests.data.helpers import csv_bytes

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


NAMES = st.sampled_from([None, "x.csv", "x.tsv", "x.txt", "x.json", "x.jsonl", "x.parquet", "x.xlsx", "x"])


def check_invariants(ds: Dataset, df: pd.DataFrame) -> None:
    assert ds.task in TASKS
    for x in (ds.x_train, ds.x_val):
        assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == ds.input_dim >= 1
        assert np.isfinite(x).all()
    assert len(ds.feature_names) == ds.input_dim
    assert len(ds.y_train) == ds.n_train >= 1 and len(ds.y_val) == ds.n_val >= 1
    if ds.task == "regression":
        assert ds.y_train.dtype == np.float32 and np.isfinite(ds.y_train).all()
        assert ds.class_names is None and ds.target_std > 0
    else:
        assert ds.y_train.dtype == np.int64 and ds.num_classes == len(ds.class_names) >= 2
        assert 0 <= ds.y_train.min() and max(ds.y_train.max(), ds.y_val.max()) < ds.num_classes
    rows = np.concatenate([ds.train_rows, ds.val_rows])
    assert len(set(rows)) == len(rows) and rows.min() >= 0 and rows.max() < len(df)
    np.testing.assert_array_equal(ds.transform(df.iloc[ds.train_rows]), ds.x_train)
    assert all(isinstance(r, str) and r for r in ds.report)


def load_then_prepare(data, name, target_pick, task, val_fraction=0.2, missing="impute"):
    """load_table then prepare; returns None when a DataError explains the problem."""
    try:
        df = load_table(data, name)
    except DataError as e:
        assert str(e).strip()
        return None
    assert isinstance(df, pd.DataFrame) and len(df) >= 1 and df.shape[1] >= 1
    assert df.columns.is_unique and all(isinstance(c, str) and c for c in df.columns)
    target = df.columns[target_pick % df.shape[1]]
    try:
        ds = prepare(df, target, task=task, val_fraction=val_fraction, missing=missing)
    except DataError as e:
        assert str(e).strip()
        return None
    check_invariants(ds, df)
    return ds


@FUZZ
@given(data=st.binary(max_size=3000), name=NAMES, pick=st.integers(0, 50))
def test_arbitrary_bytes_raise_only_dataerror(data, name, pick):
    load_then_prepare(data, name, pick, None)


CSVISH = st.text(
    alphabet=st.sampled_from(list(',;\t|"\n\r 0123456789.-eE+abcxyNA?#{}[]:\'é中\x00\x0b')),
    max_size=600,
)


@FUZZ
@given(
    text=CSVISH,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "utf-16-le"]),
    name=NAMES,
    pick=st.integers(0, 50),
    task=st.sampled_from([None, *TASKS]),
)
def test_arbitrary_csv_like_text_raises_only_dataerror(text, encoding, name, pick, task):
    load_then_prepare(text.encode(encoding, errors="replace"), name, pick, task)


def _column(i: int):
    elements = st.sampled_from(
        [
            st.floats(allow_nan=True, allow_infinity=True, width=64),
            st.floats(-1e6, 1e6),
            st.integers(-(2**63), 2**63 - 1),
            st.integers(0, 3),
            st.booleans(),
            st.sampled_from(["red", "green", "blue", " red ", "", "NA"]),
            st.text(max_size=8),
            st.one_of(st.none(), st.floats(-100, 100), st.text(max_size=3)),
        ]
    )
    return elements.map(lambda e: hpd.column(f"c{i}", elements=e))


@st.composite
def small_frames(draw):
    n_cols = draw(st.integers(1, 5))
    columns = [draw(_column(i)) for i in range(n_cols)]
    df = draw(hpd.data_frames(columns=columns, index=hpd.range_indexes(min_size=0, max_size=40)))
    names = draw(st.lists(st.text(max_size=6), min_size=n_cols, max_size=n_cols))
    return df.set_axis(names, axis=1)


def serialize(df: pd.DataFrame, fmt: str) -> tuple[bytes, str]:
    if fmt == "parquet":
        buf = io.BytesIO()
        try:
            df.set_axis([f"{c}_{i}" for i, c in enumerate(df.columns)], axis=1).to_parquet(buf)
            return buf.getvalue(), "t.parquet"
        except Exception:  # mixed-type object columns cannot be written; test CSV instead
            fmt = "csv"
    if fmt == "json":
        try:
            return df.to_json(orient="records").encode(), "t.json"
        except Exception:  # duplicate names
            fmt = "csv"
    sep = {"csv": ",", "semicolon": ";", "tsv": "\t"}[fmt]
    return df.to_csv(index=False, sep=sep).encode("utf-8", errors="replace"), "t.csv"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    df=small_frames(),
    fmt=st.sampled_from(["csv", "semicolon", "tsv", "json", "parquet"]),
    pick=st.integers(0, 10),
    task=st.sampled_from([None, *TASKS]),
    val_fraction=st.floats(0.05, 0.5),
    missing=st.sampled_from(["impute", "drop"]),
)
def test_small_dataframes_through_a_file_raise_only_dataerror(df, fmt, pick, task, val_fraction, missing):
    data, name = serialize(df, fmt)
    load_then_prepare(data, name, pick, task, val_fraction, missing)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(df=small_frames(), pick=st.integers(0, 10), task=st.sampled_from([None, *TASKS]))
def test_small_dataframes_directly_raise_only_dataerror(df, pick, task):
    assume(df.shape[1] >= 1)
    target = df.columns[pick % df.shape[1]]
    try:
        ds = prepare(df, target, task=task)
    except DataError as e:
        assert str(e).strip()
        return
    check_invariants(ds, df)


@FUZZ
@given(n=st.integers(10, 60), seed=st.integers(0, 2**32 - 1), noise=st.floats(0, 3))
def test_valid_random_tables_always_prepare(n, seed, noise):
    """A table with a real signal and a few of each problem always prepares."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    df = pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.1, np.nan, x),
            "z": rng.normal(size=n),
            "kind": rng.choice(["a", "b"], n),
            "y": (x + noise * rng.normal(size=n) > 0).astype(int),
        }
    )
    df.loc[0, "y"], df.loc[1, "y"] = 0, 1  # both classes present
    ds = prepare(load_table(csv_bytes(df), "t.csv"), "y", seed=seed % 1000)
    check_invariants(ds, df)

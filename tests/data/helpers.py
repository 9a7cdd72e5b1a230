"""Shared helpers of the data tests: small tables, files made from them, and error checks."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from infoif.data import DataError, Dataset, prepare, read_table

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """A small valid table: two numeric features, a text category, a binary label."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "height": rng.normal(170, 10, n).round(2),
            "weight": rng.normal(70, 8, n).round(2),
            "color": rng.choice(["red", "green", "blue"], n),
            "label": np.tile([0, 1], n // 2 + 1)[:n],
        }
    )


def csv_bytes(df: pd.DataFrame, sep: str = ",", **kwargs) -> bytes:
    return df.to_csv(index=False, sep=sep, lineterminator="\n", **kwargs).encode()


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "Traceback" not in message and message.strip()
    return message


def check_prepared(df: pd.DataFrame, target: str = "label", **kwargs) -> Dataset:
    ds = prepare(df, target, **kwargs)
    assert ds.x_train.dtype == np.float32 and ds.x_val.dtype == np.float32
    assert ds.x_train.shape == (ds.n_train, ds.input_dim) and ds.x_val.shape[1] == ds.input_dim
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.x_val).all()
    assert len(ds.feature_names) == ds.input_dim
    return ds


def accented(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "prénom": rng.choice(["José", "Zoë", "Łukasz", "Ángel"], n),
            "âge": rng.integers(18, 90, n),
            "ville": rng.choice(["Zürich", "Malmö", "Genève"], n),
            "label": np.tile([0, 1], n)[:n],
        }
    )


def notes_of(data, name=None, **options) -> list[str]:
    """What `read_table` detected and changed while reading `data`."""
    return list(read_table(data, name, **options).report.notes)

"""The fitted pipeline: one object that prepares new rows in numpy and as Keras layers, alike."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infoif.data import DataError, Pipeline, prepare
from infoif.data.columns import float_column, text_values
from infoif.data.pipeline import CLIP, FeatureColumn, input_names, model_inputs
from tests.data.helpers import frame


def test_text_values_are_canonical():
    assert text_values(pd.Series([1.0, 2.0, np.nan, 2.5])).to_pylist() == ["1", "2", None, "2.5"]
    assert text_values(pd.Series([1, 2, 3])).to_pylist() == ["1", "2", "3"]
    assert text_values(pd.Series([" red ", "", "\tblue\n", None], dtype="str")).to_pylist() == [
        "red", None, "blue", None]
    assert text_values(pd.Series([True, False])).to_pylist() == ["True", "False"]
    assert text_values(pd.Series([1, "x", 2.0, None], dtype=object)).to_pylist() == ["1", "x", "2", None]


def test_float_column_reads_numbers_in_any_form():
    assert float_column(pd.Series(["1,5", " 2 ", "x"], dtype="str"), decimal_comma=True)[:2].tolist() == [1.5, 2.0]
    values = float_column(pd.Series([1, "2", 3.5, None, "inf"], dtype=object))
    assert values[:3].tolist() == [1.0, 2.0, 3.5] and np.isnan(values[3]) and np.isinf(values[4])


def test_input_names_are_accepted_by_keras_and_unique():
    names = input_names(["a", "a/b", "A", "1st", "", "Größe", "tip €", "infoif_x", "x.y-z", "中文", "中文 2"])
    assert names == ["a", "a_b", "A_2", "c_1st", "c", "Grosse", "tip_EUR", "c_infoif_x", "x.y-z", "c_2", "c_2_2"]
    assert len({n.lower() for n in names}) == len(names)


def test_pipeline_config_is_json_and_round_trips():
    df = frame(80)
    df.loc[3, "height"] = np.nan
    ds = prepare(df, "label")
    config = json.loads(json.dumps(ds.pipeline.to_config()))
    again = Pipeline.from_config(config)
    np.testing.assert_array_equal(again.transform(df), ds.transform(df))
    assert again.feature_names == ds.feature_names and again.raw_columns == ds.raw_feature_columns
    assert json.loads(json.dumps(ds.target_encoding.to_config()))["class_names"] == ["0", "1"]


def test_model_inputs_are_what_an_exported_model_reads():
    ds = prepare(frame(80), "label")
    new = pd.DataFrame({"height": [170, None], "weight": ["70", 80], "color": [" red", None], "x": [1, 2]})
    inputs = model_inputs(ds.columns, new)
    assert list(inputs) == ["height", "weight", "color"]
    assert inputs["height"].dtype == np.float64 and inputs["height"].shape == (2, 1) and np.isnan(inputs["height"][1, 0])
    assert inputs["color"].tolist() == [["red"], [""]]


def test_transform_is_lenient_where_model_inputs_are_strict():
    ds = prepare(frame(80), "label")
    new = frame(3).astype({"height": object})
    new.loc[0, "height"] = "tall"
    assert ds.transform(new).shape == (3, ds.input_dim), "as in training: text in a number column is missing"
    with pytest.raises(DataError, match="Column 'height' holds numbers in the training data"):
        ds.pipeline.model_inputs(new)


# --- numpy and Keras agree ------------------------------------------------------------------------


def keras_transform(pipeline: Pipeline, rows: pd.DataFrame) -> np.ndarray:
    import keras

    inputs = pipeline.keras_inputs()
    model = keras.Model(inputs, pipeline.keras_features(inputs))
    return keras.ops.convert_to_numpy(model(pipeline.model_inputs(rows)))


def nasty_frame(seed: int, n: int = 60) -> pd.DataFrame:
    """Numbers across scales (huge, tiny, negative), gaps, infinities, text with spaces and case."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-12, 300)
    df = pd.DataFrame({
        "big": rng.normal(size=n) * scale,
        "year": rng.integers(1990, 2030, n).astype(float),
        "tiny": rng.normal(size=n) * 1e-10,
        "flag": rng.integers(0, 2, n).astype(bool),
        "kind": rng.choice(["a", " a", "B", "b ", "ç", "中"], n),
        "label": rng.integers(0, 2, n),
    })
    df.loc[rng.random(n) < 0.1, "big"] = np.nan
    df.loc[rng.random(n) < 0.05, "year"] = np.inf
    df.loc[rng.random(n) < 0.1, "kind"] = None
    return df


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
def test_keras_layers_prepare_exactly_as_numpy(seed):
    df = nasty_frame(seed)
    ds = prepare(df, "label", kinds={"year": "categorical"} if seed % 3 == 0 else None)
    rows = pd.concat([df, nasty_frame(seed + 1, 20)], ignore_index=True)  # unseen values too
    expected = ds.transform(rows)
    got = keras_transform(ds.pipeline, rows)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    assert np.abs(got).max() <= CLIP


def test_keras_layers_for_extreme_values():
    df = frame(40).assign(height=[1e308, -1e308] * 20, weight=[1e-300, 0.0] * 20)
    ds = prepare(df, "label")
    rows = df.head(6).assign(height=[1e308, -1e308, np.inf, -np.inf, np.nan, 0.0])
    np.testing.assert_array_equal(keras_transform(ds.pipeline, rows), ds.transform(rows))


def test_feature_column_needs_no_keras():
    col = FeatureColumn("x", "numeric", fill=2.0)
    assert col.values(pd.Series([1.0, np.nan])).tolist() == [1.0, 2.0]

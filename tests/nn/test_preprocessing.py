"""infoif.nn.preprocessing: the layers that run a fitted preparation inside an exported model."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from infoif.nn.preprocessing import ClassProbabilities, FillMissing, FiniteClip, JoinColumns, RawColumns, Standardize

COLUMNS = [{"column": "a/b", "input": "a_b", "kind": "numeric"},
           {"column": "colour", "input": "colour", "kind": "category", "decimal_comma": False}]
LAYERS = [
    (RawColumns, dict(columns=COLUMNS, target="y", task="binary")),
    (JoinColumns, dict(keep=[0, 2])),
    (FillMissing, dict(values=[1.5, 0.0])),
    (Standardize, dict(mean=[10.0, 0.5], std=[2.0, 0.5], invert=False)),
    (FiniteClip, dict(limit=1e6)),
    (ClassProbabilities, dict(class_names=["no", "yes"], class_values=[0, 1])),
]


@pytest.mark.parametrize("layer_cls, kwargs", LAYERS, ids=[c.__name__ for c, _ in LAYERS])
def test_config_and_json_round_trips(layer_cls, kwargs):
    layer = layer_cls(**kwargs)
    config = layer.get_config()
    for key in kwargs:
        assert key in config, f"get_config() misses {key!r}"
    assert layer_cls.from_config(config).get_config() == config
    serialized = keras.saving.serialize_keras_object(layer)
    assert serialized["registered_name"] == f"infoif>{layer_cls.__name__}"
    revived = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert type(revived) is layer_cls and revived.get_config() == config
    assert not layer.weights


def test_raw_columns_strips_text_and_passes_numbers_as_float64():
    layer = RawColumns(COLUMNS)
    numbers, text = layer([np.array([[1.5]], "float32"), tf.constant([["  red \t"]])])
    assert numbers.dtype == tf.float64 and numbers.numpy().tolist() == [[1.5]]
    assert text.numpy().tolist() == [[b"red"]]
    symbolic = layer([keras.KerasTensor((None, 1), "float64"), keras.KerasTensor((None, 1), "string")])
    assert [s.dtype for s in symbolic] == ["float64", "string"]


def test_join_columns_keeps_the_chosen_positions():
    out = JoinColumns([0, 2, 3])([np.array([[5.0]]), np.array([[1, 0, 1]], "int64")])
    assert out.dtype == tf.float64 and out.numpy().tolist() == [[5.0, 0.0, 1.0]]


def test_fill_missing_replaces_nan_and_infinities():
    out = FillMissing([7.0, -1.0])(np.array([[np.nan, np.inf], [2.0, -np.inf], [3.0, 4.0]]))
    assert out.numpy().tolist() == [[7.0, -1.0], [2.0, -1.0], [3.0, 4.0]]


def test_standardize_is_exact_in_float64_and_inverts():
    mean, std = [2008.0291262135922, 1e300], [0.8, 3e299]
    x = np.array([[2009.0, 2e300]])
    out = Standardize(mean, std)(x).numpy()
    np.testing.assert_array_equal(out, (x - np.array(mean)) / np.array(std))
    back = Standardize(mean, std, invert=True)(out).numpy()
    np.testing.assert_allclose(back, x, rtol=1e-15)


def test_finite_clip_bounds_and_gives_float32():
    out = FiniteClip(10.0)(np.array([[np.inf, -50.0, np.nan, 3.0]]))
    assert out.dtype == tf.float32 and out.numpy().tolist() == [[10.0, -10.0, 0.0, 3.0]]


def test_class_probabilities_for_binary_and_multiclass_heads():
    assert ClassProbabilities(["no", "yes"])(np.array([[0.25]], "float32")).numpy().tolist() == [[0.75, 0.25]]
    three = np.array([[0.2, 0.3, 0.5]], "float32")
    np.testing.assert_array_equal(ClassProbabilities(["a", "b", "c"])(three), three)
    two = np.array([[0.4, 0.6]], "float32")  # multiclass with two classes: softmax over two units
    np.testing.assert_array_equal(ClassProbabilities(["a", "b"])(two), two)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: RawColumns([]), "Received: columns=\\[\\]"),
        (lambda: RawColumns([{"column": "a", "input": "a", "kind": "date"}]), "Received: columns="),
        (lambda: RawColumns(COLUMNS, task="clustering"), "Received: task='clustering'"),
        (lambda: JoinColumns([]), "Received: keep=\\[\\]"),
        (lambda: JoinColumns([0, -1]), "Received: keep=\\[0, -1\\]"),
        (lambda: FillMissing([np.nan]), "Received: values=\\[nan\\]"),
        (lambda: Standardize([0.0], [0.0]), "must be a non-empty list of finite numbers > 0. Received: std=\\[0.0\\]"),
        (lambda: Standardize([0.0, 1.0], [1.0]), "one value per column"),
        (lambda: FiniteClip(0), "Received: limit=0"),
        (lambda: ClassProbabilities(["only"]), "Received: class_names=\\['only'\\]"),
        (lambda: ClassProbabilities(["a", "b"], [1]), "Received: class_values=\\[1\\]"),
    ],
)
def test_bad_arguments_say_what_was_received(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_wrong_width_fails_clearly():
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 2"):
        FillMissing([1.0, 2.0])(np.ones((1, 3)))

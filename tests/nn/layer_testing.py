"""`run_layer_test`: our small version of Keras' own layer test harness.

Keras tests every layer with `keras.src.testing.TestCase.run_layer_test`,
which is private API. This checks the same things for our layers:
config round trip, JSON serialization, weight counts after build, symbolic
and eager call shapes and dtypes, one `fit` step, and a `mixed_float16` run
in which the weights stay float32.
"""

from __future__ import annotations

import json

import keras
import numpy as np


def run_layer_test(
    layer_cls,
    init_kwargs: dict,
    input_shape: tuple,
    expected_output_shape: tuple,
    expected_num_trainable_weights: int,
    expected_num_losses: int = 0,
    expected_output_dtype: str = "float32",
):
    rng = np.random.default_rng(0)
    x = rng.normal(size=input_shape).astype("float32")

    # Config round trip: from_config(get_config()) gives the same config.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    for key in init_kwargs:
        assert key in config, f"get_config() misses the __init__ argument {key!r}"
    revived = layer_cls.from_config(config)
    assert revived.get_config() == config

    # JSON serialization through Keras' registry (registered name, package).
    serialized = keras.saving.serialize_keras_object(layer)
    assert serialized["registered_name"].startswith("infoif>"), serialized
    revived = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert type(revived) is layer_cls
    assert revived.get_config() == config

    # Build: weight counts.
    layer = layer_cls(**init_kwargs)
    layer.build(input_shape)
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == 0

    # Symbolic call: shape and dtype, and compute_output_shape agrees.
    symbolic = keras.KerasTensor(input_shape, dtype="float32")
    out = layer_cls(**init_kwargs)(symbolic)
    assert tuple(out.shape) == tuple(expected_output_shape)
    assert out.dtype == expected_output_dtype
    fresh = layer_cls(**init_kwargs)
    assert tuple(fresh.compute_output_shape(input_shape)) == tuple(expected_output_shape)

    # Eager call: shape, dtype, finite values, the losses it adds.
    layer = layer_cls(**init_kwargs)
    out = layer(x)
    assert tuple(out.shape) == tuple(expected_output_shape)
    assert keras.backend.standardize_dtype(out.dtype) == expected_output_dtype
    assert np.isfinite(keras.ops.convert_to_numpy(out)).all()
    assert len(layer.losses) == expected_num_losses

    # One training step with the layer inside a model.
    inputs = keras.Input(input_shape[1:])
    h = keras.layers.Flatten()(layer_cls(**init_kwargs)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1)(h))
    model.compile(optimizer="adam", loss="mse")
    before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    history = model.fit(x, rng.normal(size=(input_shape[0], 1)), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    changed = [not np.allclose(a, keras.ops.convert_to_numpy(w)) for a, w in zip(before, model.trainable_weights)]
    assert all(changed), "a trainable weight did not move in one fit step"

    # mixed_float16: computation in float16, variables in float32.
    layer = layer_cls(**init_kwargs, dtype="mixed_float16")
    out = layer(x)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    for w in layer.weights:
        assert w.dtype == "float32", f"{w.path} is {w.dtype} under mixed_float16"
    assert np.isfinite(keras.ops.convert_to_numpy(out)).all()

"""ModelSpec, build_model and InterfaceProbe."""

import keras
import numpy as np
import pytest

from infoif.nn.layers import EnergyReservoir, InformationInterfaces
from infoif.nn.models import InterfaceProbe, ModelSpec, build_model

RNG = np.random.default_rng(7)
X = RNG.normal(size=(256, 3)).astype("float32")


@pytest.mark.parametrize(
    "task, num_classes, y, loss, metric, out_units, out_activation",
    [
        ("binary", None, (X[:, 0] > 0).astype("int64"), "binary_crossentropy", "accuracy", 1, "sigmoid"),
        ("multiclass", 3, (X[:, 0] > 0).astype("int64") + (X[:, 1] > 0), "sparse_categorical_crossentropy", "accuracy", 3, "softmax"),
        ("regression", None, X[:, 0] * 2.0, "mse", "mae", 1, "linear"),
    ],
)
def test_build_model_per_task(task, num_classes, y, loss, metric, out_units, out_activation):
    model = build_model(ModelSpec(num_interfaces=4, units=5), 3, task, num_classes, seed=0)
    assert [layer.name for layer in model.layers] == ["features", "interfaces", "reservoir", "merge", "head"]
    assert isinstance(model.get_layer("interfaces"), InformationInterfaces)
    assert isinstance(model.get_layer("reservoir"), EnergyReservoir)
    head = model.get_layer("head")
    assert head.units == out_units and head.activation.__name__ == out_activation
    assert model.loss == loss
    history = model.fit(X, y, epochs=30, batch_size=64, verbose=0, validation_split=0.25)
    assert metric in history.history and f"val_{metric}" in history.history
    first, last = history.history["loss"][0], history.history["loss"][-1]
    assert last < 0.7 * first, f"{task} did not learn: loss {first:.3f} -> {last:.3f}"


def test_merge_and_hidden_shapes():
    concat = build_model(ModelSpec(num_interfaces=6, units=4, merge="concat"), 3, "binary")
    assert concat.get_layer("merge").output.shape == (None, 24)
    mean = build_model(ModelSpec(num_interfaces=6, units=4, merge="mean", hidden=7), 3, "binary")
    assert mean.get_layer("merge").output.shape == (None, 4)
    assert mean.get_layer("hidden").output.shape == (None, 7)
    # mean really is the mean over interfaces
    x = X[:5]
    t = keras.ops.convert_to_numpy(mean.get_layer("interfaces")(x))
    merged = keras.Model(mean.input, mean.get_layer("merge").output).predict(x, verbose=0)
    np.testing.assert_allclose(merged, t.mean(axis=1), rtol=1e-5, atol=1e-6)


def test_units_none_means_input_width_and_linear_activation():
    model = build_model(ModelSpec(num_interfaces=2, units=None, activation="linear"), 5, "regression")
    layer = model.get_layer("interfaces")
    assert layer.kernel.shape == (5, 2, 5) and layer.activation.__name__ == "linear"


def test_penalty_and_learning_rate_reach_the_model():
    model = build_model(ModelSpec(penalty=0.3, leak=0.7, learning_rate=0.002), 3, "binary")
    reservoir = model.get_layer("reservoir")
    assert (reservoir.leak, reservoir.penalty) == (0.7, 0.3)
    assert np.isclose(float(model.optimizer.learning_rate), 0.002)


def test_same_seed_same_weights_different_seed_different():
    spec = ModelSpec(num_interfaces=3)
    a = build_model(spec, 4, "binary", seed=1).get_weights()
    b = build_model(spec, 4, "binary", seed=1).get_weights()
    c = build_model(spec, 4, "binary", seed=2).get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_saved_model_round_trip(tmp_path):
    model = build_model(ModelSpec(num_interfaces=3, penalty=0.1, merge="mean", hidden=4), 3, "multiclass", 3, seed=0)
    model.fit(X, (X[:, 0] > 0).astype("int64"), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


@pytest.mark.parametrize(
    "field, value",
    [
        ("num_interfaces", 0), ("num_interfaces", 2.5), ("num_interfaces", "3"), ("num_interfaces", None),
        ("num_interfaces", 257), ("units", 0), ("activation", "swishy"), ("leak", 1.5),
        ("penalty", -1.0), ("merge", "sum"), ("hidden", 0), ("learning_rate", 0.0),
    ],
)
def test_model_spec_validation_names_the_value(field, value):
    with pytest.raises(ValueError, match=rf"Received: {field}={value!r}"):
        ModelSpec(**{field: value})


def test_model_spec_dict_round_trip_and_unknown_keys():
    spec = ModelSpec(num_interfaces=5, units=None, hidden=3)
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError, match=r"Unknown ModelSpec field\(s\) \['colour'\]"):
        ModelSpec.from_dict({"colour": "red"})


@pytest.mark.parametrize(
    "args, message",
    [
        ((ModelSpec(), 0, "binary"), "Received: input_dim=0"),
        ((ModelSpec(), 3, "ranking"), "Received: task='ranking'"),
        ((ModelSpec(), 3, "multiclass"), "Received: num_classes=None"),
        ((ModelSpec(), 3, "multiclass", 1), "Received: num_classes=1"),
        (({"num_interfaces": 3}, 3, "binary"), "must be a ModelSpec"),
    ],
)
def test_build_model_validation(args, message):
    with pytest.raises(ValueError, match=message):
        build_model(*args)


def test_probe_reads_outputs_and_energy_without_rebuilding():
    spec = ModelSpec(num_interfaces=4, units=2, leak=0.25)
    model = build_model(spec, 3, "binary", seed=0)
    probe = InterfaceProbe(model)
    outputs, energy = probe(X[:64])
    assert outputs.shape == (64, 4, 2) and energy.shape == (64, 4)
    # outputs are what the layer computes; energy is the layer's own curve.
    np.testing.assert_allclose(outputs, keras.ops.convert_to_numpy(model.get_layer("interfaces")(X[:64])), rtol=1e-6)
    p = (outputs.astype(np.float64) ** 2).mean(axis=2)
    e = np.zeros(4)
    for b in range(64):
        e = 0.75 * e + p[b]
    np.testing.assert_allclose(energy[-1], e, rtol=1e-5)
    # per-interface kernels agree with the layer's accessor
    kernels = probe.kernels()
    assert kernels.shape == (4, 3, 2)
    np.testing.assert_array_equal(kernels[2], model.get_layer("interfaces").interface_weights(2)[0])
    assert probe.biases().shape == (4, 2)
    # it follows training: after a fit step the outputs change, the model is the same object
    model.fit(X, (X[:, 0] > 0).astype("int64"), epochs=1, verbose=0)
    again, _ = probe(X[:64])
    assert not np.allclose(again, outputs)
    assert len(model.layers) == 5


def test_probe_refuses_foreign_models():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match="named 'interfaces' and 'reservoir'"):
        InterfaceProbe(model)


@pytest.mark.parametrize("spec, dim, task, classes", [
    (ModelSpec(), 2, "binary", None),
    (ModelSpec(num_interfaces=13, units=None, merge="mean", hidden=7), 5, "multiclass", 4),
    (ModelSpec(num_interfaces=1, units=3, hidden=2), 9, "regression", None),
])
def test_parameter_counts_from_the_spec_match_keras(spec, dim, task, classes):
    """The Model page counts parameters without building a model (the server never imports TF)."""
    from infoif.nn.spec import parameter_counts

    model = build_model(spec, dim, task, classes, seed=0)
    counts = parameter_counts(spec, dim, task, classes)
    assert counts == {layer.name: layer.count_params() for layer in model.layers if layer.name != "features"}
    assert sum(counts.values()) == model.count_params()

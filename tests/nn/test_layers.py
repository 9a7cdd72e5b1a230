"""InformationInterfaces and EnergyReservoir: conventions, semantics, numerics, saving."""

import json

import keras
import numpy as np
import pytest

import infoif
from infoif.nn.layers import EnergyReservoir, InformationInterfaces
from tests.nn.layer_testing import run_layer_test

RNG = np.random.default_rng(42)


# ---------------------------------------------------------------- harness


@pytest.mark.parametrize(
    "kwargs, input_shape, output_shape, n_weights",
    [
        ({"num_interfaces": 4}, (3, 5), (3, 4, 5), 2),  # the seed's call
        ({"num_interfaces": 3, "units": 2, "activation": "tanh"}, (3, 5), (3, 3, 2), 2),
        ({"num_interfaces": 2, "units": 4, "use_bias": False}, (3, 6, 5), (3, 2, 6, 4), 1),
        (
            {
                "num_interfaces": 2,
                "units": 3,
                "kernel_regularizer": "l2",
                "bias_regularizer": "l1",
                "kernel_constraint": "max_norm",
                "bias_constraint": "non_neg",
                "kernel_initializer": "he_normal",
                "bias_initializer": "ones",
            },
            (4, 2, 2, 5),
            (4, 2, 2, 2, 3),
            2,
        ),
    ],
)
def test_information_interfaces_harness(
    kwargs, input_shape, output_shape, n_weights, float32_policy_after
):
    n_losses = 2 if "kernel_regularizer" in kwargs else 0
    run_layer_test(
        InformationInterfaces,
        kwargs,
        input_shape,
        output_shape,
        n_weights,
        expected_num_losses=n_losses,
    )


@pytest.mark.parametrize(
    "kwargs, input_shape, n_losses",
    [
        ({"leak": 0.1}, (4, 3, 5), 0),
        ({"leak": 0.0, "penalty": 0.5}, (4, 3, 5), 1),
        ({"leak": 1.0, "penalty": 1.0}, (4, 7), 1),
    ],
)
def test_energy_reservoir_harness(kwargs, input_shape, n_losses, float32_policy_after):
    run_layer_test(
        EnergyReservoir, kwargs, input_shape, input_shape, 0, expected_num_losses=n_losses
    )


def test_energy_reservoir_trains_inside_a_model():
    """The harness' fit step needs trainable weights elsewhere; here the penalty flows."""
    x = RNG.normal(size=(64, 4)).astype("float32")
    inputs = keras.Input((4,))
    t = InformationInterfaces(3, units=2)(inputs)
    t = EnergyReservoir(leak=0.1, penalty=10.0)(t)
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(t)))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    power_before = float(EnergyReservoir(0.1).average_power(model.layers[1](x)))
    model.fit(x, np.zeros((64, 1)), epochs=20, batch_size=64, verbose=0)
    power_after = float(EnergyReservoir(0.1).average_power(model.layers[1](x)))
    assert power_after < 0.5 * power_before, (power_before, power_after)


# ---------------------------------------------------------------- semantics


def seed_reference(x, kernels, biases, activation=None):
    """The seed's layer: a Python list of Dense layers, outputs stacked on axis 1."""
    outputs = []
    for kernel, bias in zip(kernels, biases):
        dense = keras.layers.Dense(kernel.shape[1], activation=activation)
        dense.build(x.shape)
        dense.set_weights([kernel, bias])
        outputs.append(keras.ops.convert_to_numpy(dense(x)))
    return np.stack(outputs, axis=1)


@pytest.mark.parametrize("n", [1, 3, 8])
@pytest.mark.parametrize("units", [None, 1, 4])
@pytest.mark.parametrize("activation", [None, "tanh", "relu"])
@pytest.mark.parametrize("input_shape", [(7, 5), (7, 3, 5)])
def test_equivalent_to_seed_style_dense_list(n, units, activation, input_shape):
    x = RNG.normal(size=input_shape).astype("float32")
    d_in = input_shape[-1]
    u = d_in if units is None else units
    kernels = [RNG.normal(size=(d_in, u)).astype("float32") for _ in range(n)]
    biases = [RNG.normal(size=(u,)).astype("float32") for _ in range(n)]

    layer = InformationInterfaces(n, units=units, activation=activation)
    layer.build(input_shape)
    for i in range(n):
        layer.set_interface_weights(i, kernels[i], biases[i])

    ours = keras.ops.convert_to_numpy(layer(x))
    ref = seed_reference(x, kernels, biases, activation)
    assert ours.shape == ref.shape == (input_shape[0], n, *input_shape[1:-1], u)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
    for i in range(n):
        k, b = layer.interface_weights(i)
        np.testing.assert_array_equal(k, kernels[i])
        np.testing.assert_array_equal(b, biases[i])


def test_units_default_to_input_width_as_in_the_seed():
    layer = InformationInterfaces(4)
    assert layer(np.ones((2, 9), "float32")).shape == (2, 4, 9)
    assert layer.kernel.shape == (9, 4, 9)
    assert layer.get_config()["units"] is None


def test_interface_weights_without_bias_are_zero_bias():
    layer = InformationInterfaces(2, units=3, use_bias=False)
    layer.build((None, 4))
    kernel, bias = layer.interface_weights(1)
    assert kernel.shape == (4, 3) and bias.shape == (3,) and not bias.any()
    with pytest.raises(ValueError, match="use_bias=False"):
        layer.set_interface_weights(0, kernel, np.ones(3))


def test_each_interface_initialised_like_its_own_dense():
    """Fused kernel must not shrink with N: each interface has Dense's glorot scale."""
    d_in, units = 64, 16
    limit = np.sqrt(6.0 / (d_in + units))
    for n in (1, 64):
        layer = InformationInterfaces(
            n, units=units, kernel_initializer=keras.initializers.GlorotUniform(seed=3)
        )
        layer.build((None, d_in))
        k = np.asarray(layer.kernel)
        assert np.abs(k).max() <= limit
        # Uniform(-limit, limit) has std limit / sqrt(3).
        np.testing.assert_allclose(k.std(), limit / np.sqrt(3), rtol=0.1)
    # A seeded initializer still gives different interfaces.
    assert not np.allclose(k[:, 0], k[:, 1])


def test_wrong_input_width_fails_clearly():
    layer = InformationInterfaces(2)
    layer(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.ones((1, 4), "float32"))


@pytest.mark.parametrize("bad", [0, -2, 2.5, "3", None, True, 4.0])
def test_num_interfaces_must_be_positive_int(bad):
    with pytest.raises(ValueError, match=r"`num_interfaces` must be a positive integer\. "
                                         rf"Received: num_interfaces={bad!r}"):
        InformationInterfaces(bad)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "8"])
def test_units_must_be_positive_int(bad):
    with pytest.raises(ValueError, match=rf"Received: units={bad!r}"):
        InformationInterfaces(2, units=bad)


def test_bad_use_bias_and_activation_are_refused():
    with pytest.raises(ValueError, match=r"Received: use_bias='yes'"):
        InformationInterfaces(2, use_bias="yes")
    with pytest.raises(ValueError, match="Could not interpret activation"):
        InformationInterfaces(2, activation="no-such-activation")


@pytest.mark.parametrize("bad", [-1, 2, 1.5, True, "0"])
def test_interface_index_is_checked(bad):
    layer = InformationInterfaces(2)
    layer.build((None, 3))
    with pytest.raises(ValueError, match=rf"Received: i={bad!r}"):
        layer.interface_weights(bad)


def test_interface_access_needs_built_layer_and_right_shapes():
    layer = InformationInterfaces(2, units=3)
    with pytest.raises(ValueError, match="call it on data or build it first"):
        layer.interface_weights(0)
    layer.build((None, 4))
    with pytest.raises(ValueError, match=r"kernel must have shape \(4, 3\). Received: kernel.shape=\(3, 4\)"):
        layer.set_interface_weights(0, np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\). Received: bias.shape=\(4,\)"):
        layer.set_interface_weights(0, np.zeros((4, 3)), np.zeros(4))


# ---------------------------------------------------------------- energy


def loop_energy(x, leak):
    """The specification, sample by sample, in float64."""
    x = np.asarray(x, np.float64)
    p = (x**2).reshape(x.shape[0], -1).mean(axis=1, keepdims=True) if x.ndim == 2 else (
        (x**2).reshape(x.shape[0], x.shape[1], -1).mean(axis=2)
    )
    energy = np.zeros_like(p)
    acc = np.zeros(p.shape[1])
    for b in range(p.shape[0]):
        acc = (1.0 - leak) * acc + p[b]
        energy[b] = acc
    return energy


@pytest.mark.parametrize("leak", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("batch", [1, 2, 3, 17, 256, 4096])
def test_integrate_matches_plain_loop(leak, batch):
    x = (RNG.normal(size=(batch, 3, 4)) * 100).astype("float32")  # activations in the hundreds
    got = np.asarray(keras.ops.convert_to_numpy(EnergyReservoir(leak=leak).integrate(x)))
    want = loop_energy(x, leak)
    assert got.shape == (batch, 3) and got.dtype == np.float32
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=2e-6 * np.log2(batch + 1) + 1e-6)
    final = keras.ops.convert_to_numpy(EnergyReservoir(leak=leak).final_energy(x))
    np.testing.assert_allclose(final, want[-1], rtol=1e-5)


def test_integrate_rank2_has_one_channel_and_tiny_example():
    x = np.array([[1.0, 1.0], [2.0, 0.0], [0.0, 0.0]], "float32")  # p = 1, 2, 0
    e = keras.ops.convert_to_numpy(EnergyReservoir(leak=0.5).integrate(x))
    np.testing.assert_allclose(e, [[1.0], [2.5], [1.25]])
    e0 = keras.ops.convert_to_numpy(EnergyReservoir(leak=0.0).integrate(x))
    np.testing.assert_allclose(e0, [[1.0], [3.0], [3.0]])
    e1 = keras.ops.convert_to_numpy(EnergyReservoir(leak=1.0).integrate(x))
    np.testing.assert_allclose(e1, [[1.0], [2.0], [0.0]])


def test_integrate_is_float32_under_mixed_precision(float32_policy_after):
    keras.config.set_dtype_policy("mixed_float16")
    x = (RNG.normal(size=(4096, 2, 8)) * 200).astype("float16")  # x**2 overflows float16
    reservoir = EnergyReservoir(leak=0.0)
    assert keras.backend.standardize_dtype(reservoir(x).dtype) == "float16"
    e = keras.ops.convert_to_numpy(reservoir.integrate(x))
    assert e.dtype == np.float32 and np.isfinite(e).all()
    np.testing.assert_allclose(e, loop_energy(x.astype("float32"), 0.0), rtol=1e-4)


def test_call_returns_input_unchanged():
    x = RNG.normal(size=(5, 3, 2)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(EnergyReservoir(0.3, 1.0)(x)), x)


@pytest.mark.parametrize("leak", [0.0, 0.1, 0.9, 1.0])
def test_penalty_is_weighted_average_power_and_batch_size_invariant(leak):
    """Stationary power p: the loss is penalty * p, whatever the batch size."""
    losses = []
    for batch in (1, 8, 64, 1024):
        x = np.full((batch, 4, 3), 2.0, "float32")  # power 4 for every sample
        layer = EnergyReservoir(leak=leak, penalty=0.25)
        layer(x)
        (loss,) = layer.losses
        losses.append(float(keras.ops.convert_to_numpy(loss)))
        # Against the formula with the loop's E[last].
        e_last = loop_energy(x, leak)[-1]
        norm = sum((1 - leak) ** k for k in range(batch))
        np.testing.assert_allclose(losses[-1], 0.25 * np.mean(e_last / norm), rtol=1e-5)
    np.testing.assert_allclose(losses, [1.0] * 4, rtol=1e-5)


def test_no_penalty_adds_no_loss():
    layer = EnergyReservoir(leak=0.2)
    layer(np.ones((3, 2), "float32"))
    assert layer.losses == []


@pytest.mark.parametrize("bad", [-0.1, 1.01, float("nan"), "0.1", None, True])
def test_leak_must_be_in_unit_interval(bad):
    with pytest.raises(ValueError, match=rf"`leak` must be a number in \[0, 1\]\. Received: leak={bad!r}"):
        EnergyReservoir(leak=bad)


@pytest.mark.parametrize("bad", [-1.0, float("inf"), float("nan"), "1", None])
def test_penalty_must_be_non_negative(bad):
    with pytest.raises(ValueError, match=rf"Received: penalty={bad!r}"):
        EnergyReservoir(penalty=bad)


# ---------------------------------------------------------------- saving


def _trained_model(tmp_path):
    x = RNG.normal(size=(128, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    inputs = keras.Input((6,))
    t = InformationInterfaces(5, units=3, activation="tanh", name="interfaces")(inputs)
    t = EnergyReservoir(leak=0.2, penalty=0.01, name="reservoir")(t)
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Flatten()(t))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    return model, x


def test_keras_file_round_trip_without_custom_objects(tmp_path):
    model, x = _trained_model(tmp_path)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # no custom_objects
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.get_layer("interfaces"), InformationInterfaces)
    assert loaded.get_layer("reservoir").get_config()["penalty"] == 0.01
    config = json.loads(json.dumps(loaded.get_config()))
    assert config["layers"][1]["registered_name"] == "infoif>InformationInterfaces"


@pytest.mark.parametrize("order", ["infoif, keras", "keras, infoif"])
def test_import_infoif_alone_registers_layers_in_a_fresh_process(tmp_path, order):
    """`import infoif` (which defers Keras) is all a user needs before load_model."""
    import subprocess
    import sys

    model, x = _trained_model(tmp_path)
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "p.npy", model.predict(x, verbose=0))
    code = (
        f"import {order}, numpy as np, sys\n"
        f"m = keras.models.load_model({str(tmp_path / 'm.keras')!r})\n"
        f"p = m.predict(np.load({str(tmp_path / 'x.npy')!r}), verbose=0)\n"
        f"assert np.array_equal(p, np.load({str(tmp_path / 'p.npy')!r}))\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


def test_import_infoif_does_not_import_keras():
    import subprocess
    import sys

    code = "import sys, infoif; print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr
    assert infoif.InformationInterfaces is InformationInterfaces  # lazy attribute works

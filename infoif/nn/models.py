"""Model building: a `ModelSpec` describes a small interface model, `build_model` makes it.

    Input -> InformationInterfaces -> EnergyReservoir -> merge -> [hidden] -> head

The layer names are fixed ("interfaces", "reservoir", "merge", "hidden",
"head") so that probes, figures and saved files can find them.
`InterfaceProbe` reads, for a batch, every interface's outputs and the
reservoir's energy curve from a built model without rebuilding anything.
"""

from __future__ import annotations

import keras
import numpy as np

from infoif.constants import TASKS
from infoif.nn.layers import EnergyReservoir, InformationInterfaces
from infoif.nn.spec import ACTIVATIONS, MERGES, ModelSpec, head_units
from infoif.validate import check as _check
from infoif.validate import is_int as _is_int

__all__ = ["ModelSpec", "build_model", "InterfaceProbe", "TASKS", "MERGES", "ACTIVATIONS"]

def _head(task: str, num_classes: int | None):
    """(units, activation, loss, metrics) of the output layer for a task."""
    units = head_units(task, num_classes)
    if task == "binary":
        return units, "sigmoid", "binary_crossentropy", ["accuracy"]
    if task == "multiclass":
        return units, "softmax", "sparse_categorical_crossentropy", ["accuracy"]
    return units, None, "mse", ["mae"]


def build_model(
    spec: ModelSpec,
    input_dim: int,
    task: str,
    num_classes: int | None = None,
    seed: int | None = None,
    steps_per_execution: int = 1,
) -> keras.Model:
    """Builds and compiles `Input -> interfaces -> reservoir -> merge -> head`.

    Args:
        spec: the `ModelSpec`.
        input_dim: number of input features.
        task: "binary" (one sigmoid unit, binary cross-entropy, accuracy),
            "multiclass" (softmax over `num_classes`, sparse categorical
            cross-entropy, accuracy) or "regression" (one linear unit, MSE, MAE).
        num_classes: required for "multiclass" (>= 2).
        seed: seeds every initializer, so the same seed gives the same model.
        steps_per_execution: passed to `compile` (batches per compiled call).

    Returns:
        A compiled `keras.Model` named "infoif".
    """
    _check(isinstance(spec, ModelSpec), f"`spec` must be a ModelSpec. Received: spec={spec!r}")
    _check(
        _is_int(input_dim) and input_dim >= 1,
        f"`input_dim` must be a positive integer. Received: input_dim={input_dim!r}",
    )
    _check(task in TASKS, f"`task` must be one of {list(TASKS)}. Received: task={task!r}")
    if task == "multiclass":
        _check(
            _is_int(num_classes) and num_classes >= 2,
            "A multiclass model needs `num_classes` >= 2. "
            f"Received: num_classes={num_classes!r}",
        )
    _check(
        _is_int(steps_per_execution) and steps_per_execution >= 1,
        "`steps_per_execution` must be a positive integer. "
        f"Received: steps_per_execution={steps_per_execution!r}",
    )

    seeds = iter(range(0 if seed is None else int(seed) * 4, 10**9))

    def glorot():
        return keras.initializers.GlorotUniform(seed=None if seed is None else next(seeds))

    activation = None if spec.activation == "linear" else spec.activation
    inputs = keras.Input((int(input_dim),), name="features")
    t = InformationInterfaces(
        spec.num_interfaces,
        units=spec.units,
        activation=activation,
        kernel_initializer=glorot(),
        name="interfaces",
    )(inputs)
    t = EnergyReservoir(leak=spec.leak, penalty=spec.penalty, name="reservoir")(t)
    if spec.merge == "concat":
        h = keras.layers.Flatten(name="merge")(t)
    else:  # mean over the interface axis (axis 1)
        h = keras.layers.GlobalAveragePooling1D(name="merge")(t)
    if spec.hidden is not None:
        h = keras.layers.Dense(
            spec.hidden, activation=activation, kernel_initializer=glorot(), name="hidden"
        )(h)
    units, head_activation, loss, metrics = _head(task, num_classes)
    outputs = keras.layers.Dense(
        units, activation=head_activation, kernel_initializer=glorot(), name="head"
    )(h)
    model = keras.Model(inputs, outputs, name="infoif")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=spec.learning_rate),
        loss=loss,
        metrics=metrics,
        jit_compile=False,  # XLA made these small models slower on CPU (measured)
        steps_per_execution=steps_per_execution,
    )
    return model


class InterfaceProbe:
    """Reads every interface's outputs and the reservoir's energy curve for a batch.

    Made once per model; each call reuses the model's own layers (no
    rebuilding, no retracing per call), so it is cheap enough to run every
    epoch.

    Example:
        probe = InterfaceProbe(model)
        outputs, energy = probe(x)   # (batch, N, units), (batch, N)
    """

    def __init__(self, model: keras.Model):
        try:
            self.interfaces = model.get_layer("interfaces")
            self.reservoir = model.get_layer("reservoir")
        except ValueError:
            layer_names = [layer.name for layer in model.layers]
            raise ValueError(
                "InterfaceProbe needs a model made by build_model, with layers "
                f"named 'interfaces' and 'reservoir'. Received layers: {layer_names}"
            ) from None
        self.model = model
        self._compiled = {}  # batch shape -> compiled forward (TensorFlow backend)
        # False: a batch shape not traced yet (`trace`) runs eagerly instead of tracing on the spot;
        # a new run's first measurements then come at once while the tracing happens elsewhere.
        self.trace_on_call = True

    def _eager_forward(self, x):
        t = self.interfaces(x)
        return t, self.reservoir.integrate(t)

    def _forward(self, x: np.ndarray):
        """Eagerly, every operation is a Python dispatch holding the GIL; compiled, the
        forward pass is one call that leaves the GIL to the user interface. There is
        one compiled function per batch shape (a run's probe batch is fixed: one), made
        explicitly so that TensorFlow does not warn about retracing when many runs each
        compile theirs."""
        if keras.backend.backend() != "tensorflow":
            return self._eager_forward(keras.ops.convert_to_tensor(x))
        import tensorflow as tf

        fn = self._compiled.get(x.shape)
        if fn is None:
            if not self.trace_on_call:
                return self._eager_forward(tf.constant(x))
            fn = self.trace(x.shape)
        return fn(tf.constant(x))

    def traced(self, shape) -> bool:
        """Whether batches of `shape` run compiled."""
        return tuple(shape) in self._compiled

    def trace(self, shape, warm_with=None) -> object:
        """Compiles the forward pass for batches of `shape` (any thread may do it, once). With
        `warm_with` (a batch of that shape) it is also called once before callers see it: a
        compiled function's first call has one-time costs too (~0.1 s)."""
        import tensorflow as tf

        shape = tuple(shape)
        fn = self._compiled.get(shape)
        if fn is None:
            fn = tf.function(self._eager_forward).get_concrete_function(tf.TensorSpec(shape, tf.float32))
            if warm_with is not None:
                fn(tf.constant(np.asarray(warm_with, np.float32)))
            if len(self._compiled) >= 8:
                self._compiled.clear()
            self._compiled[shape] = fn
        return fn

    @property
    def num_interfaces(self) -> int:
        return self.interfaces.num_interfaces

    def outputs(self, x) -> np.ndarray:
        """Interface outputs for `x`, shape `(batch, N, units)`, float32 numpy."""
        return np.asarray(keras.ops.convert_to_numpy(self.interfaces(x)), dtype=np.float32)

    def __call__(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(outputs `(batch, N, units)`, energy curve `E` `(batch, N)`) for `x`."""
        t, energy = self._forward(np.asarray(x, dtype=np.float32))
        return (
            np.asarray(keras.ops.convert_to_numpy(t), dtype=np.float32),
            np.asarray(keras.ops.convert_to_numpy(energy), dtype=np.float32),
        )

    def kernels(self) -> np.ndarray:
        """All kernels as `(N, d_in, units)` numpy (one copy)."""
        k = np.asarray(keras.ops.convert_to_numpy(self.interfaces.kernel))
        return np.ascontiguousarray(np.transpose(k, (1, 0, 2)))

    def biases(self) -> np.ndarray:
        """All biases as `(N, units)` numpy (zeros without bias)."""
        if self.interfaces.bias is None:
            d_in, n, units = self.interfaces.kernel.shape
            return np.zeros((n, units), np.float32)
        return np.asarray(keras.ops.convert_to_numpy(self.interfaces.bias))

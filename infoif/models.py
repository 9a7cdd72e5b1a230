"""Model building: a `ModelSpec` describes a small interface model, `build_model` makes it.

    Input -> InformationInterfaces -> EnergyReservoir -> merge -> [hidden] -> head

The layer names are fixed ("interfaces", "reservoir", "merge", "hidden",
"head") so that probes, figures and saved files can find them.
`InterfaceProbe` reads, for a batch, every interface's outputs and the
reservoir's energy curve from a built model without rebuilding anything.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import keras
import numpy as np

from infoif.layers import EnergyReservoir, InformationInterfaces

__all__ = ["ModelSpec", "build_model", "InterfaceProbe", "TASKS", "MERGES", "ACTIVATIONS"]

TASKS = ("binary", "multiclass", "regression")
MERGES = ("concat", "mean")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "gelu", "elu", "softplus")
MAX_INTERFACES = 256  # far above the dashboard's slider (64); guards typos like 6400


def _check(condition: bool, message: str):
    if not condition:
        raise ValueError(message)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines an interface model, as plain values.

    Args:
        num_interfaces: number of parallel interfaces N (1 to 256).
        units: width of each interface; None means the input width.
        activation: activation of the interfaces (and of the hidden layer).
        leak: EnergyReservoir leak in [0, 1].
        penalty: EnergyReservoir energy penalty (>= 0; 0 means none).
        merge: "concat" flattens the interfaces to `(batch, N * units)`,
            "mean" averages them to `(batch, units)`.
        hidden: optional width of a Dense layer between merge and head.
        learning_rate: Adam's learning rate.
    """

    num_interfaces: int = 8
    units: int | None = 8
    activation: str = "tanh"
    leak: float = 0.1
    penalty: float = 0.0
    merge: str = "concat"
    hidden: int | None = None
    learning_rate: float = 0.01

    def __post_init__(self):
        n = self.num_interfaces
        _check(
            _is_int(n) and 1 <= n <= MAX_INTERFACES,
            f"`num_interfaces` must be an integer from 1 to {MAX_INTERFACES}. "
            f"Received: num_interfaces={n!r}",
        )
        _check(
            self.units is None or (_is_int(self.units) and self.units >= 1),
            f"`units` must be a positive integer or None. Received: units={self.units!r}",
        )
        _check(
            self.activation in ACTIVATIONS,
            f"`activation` must be one of {list(ACTIVATIONS)}. "
            f"Received: activation={self.activation!r}",
        )
        _check(
            _is_real(self.leak) and 0.0 <= self.leak <= 1.0,
            f"`leak` must be a number in [0, 1]. Received: leak={self.leak!r}",
        )
        _check(
            _is_real(self.penalty) and 0.0 <= self.penalty < float("inf"),
            f"`penalty` must be a finite number >= 0. Received: penalty={self.penalty!r}",
        )
        _check(
            self.merge in MERGES,
            f"`merge` must be one of {list(MERGES)}. Received: merge={self.merge!r}",
        )
        _check(
            self.hidden is None or (_is_int(self.hidden) and self.hidden >= 1),
            f"`hidden` must be a positive integer or None. Received: hidden={self.hidden!r}",
        )
        _check(
            _is_real(self.learning_rate) and 0.0 < self.learning_rate <= 10.0,
            "`learning_rate` must be a number in (0, 10]. "
            f"Received: learning_rate={self.learning_rate!r}",
        )

    def replace(self, **changes) -> "ModelSpec":
        """A copy with some fields changed (validated like a new spec)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ModelSpec":
        """Builds a spec from a dict, refusing unknown keys by name."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        _check(
            not unknown,
            f"Unknown ModelSpec field(s) {unknown}; expected some of {sorted(known)}. "
            f"Received: {values!r}",
        )
        return cls(**values)


def _head(task: str, num_classes: int | None):
    """(units, activation, loss, metrics) of the output layer for a task."""
    if task == "binary":
        return 1, "sigmoid", "binary_crossentropy", ["accuracy"]
    if task == "multiclass":
        return num_classes, "softmax", "sparse_categorical_crossentropy", ["accuracy"]
    return 1, None, "mse", ["mae"]


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

    @property
    def num_interfaces(self) -> int:
        return self.interfaces.num_interfaces

    def outputs(self, x) -> np.ndarray:
        """Interface outputs for `x`, shape `(batch, N, units)`, float32 numpy."""
        return np.asarray(keras.ops.convert_to_numpy(self.interfaces(x)), dtype=np.float32)

    def __call__(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(outputs `(batch, N, units)`, energy curve `E` `(batch, N)`) for `x`."""
        t = self.interfaces(np.asarray(x, dtype=np.float32))
        energy = self.reservoir.integrate(t)
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

"""ModelSpec: everything that defines an interface model, as plain validated values.

Kept free of Keras so that the parts of the app that only read or write
settings (the URL, the Data page) start without importing TensorFlow.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from infoif.constants import MAX_INTERFACES, MAX_LEARNING_RATE, TASKS
from infoif.validate import check as _check
from infoif.validate import is_int as _is_int
from infoif.validate import is_real as _is_real

__all__ = ["ModelSpec", "TASKS", "MERGES", "ACTIVATIONS", "MAX_INTERFACES", "head_units", "parameter_counts"]

MERGES = ("concat", "mean")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "gelu", "elu", "softplus")


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
            _is_real(self.learning_rate) and 0.0 < self.learning_rate <= MAX_LEARNING_RATE,
            f"`learning_rate` must be a number in (0, {MAX_LEARNING_RATE:g}]. "
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


def head_units(task: str, num_classes: int | None) -> int:
    """Units of the output layer: one for binary and regression, one per class otherwise."""
    _check(task in TASKS, f"`task` must be one of {list(TASKS)}. Received: task={task!r}")
    return int(num_classes) if task == "multiclass" else 1


def parameter_counts(spec: ModelSpec, input_dim: int, task: str, num_classes: int | None = None) -> dict[str, int]:
    """Parameters per layer of `infoif.nn.models.build_model(spec, input_dim, task, num_classes)`,
    computed from the settings alone (no Keras): what the Model page shows."""
    _check(_is_int(input_dim) and input_dim >= 1,
           f"`input_dim` must be a positive integer. Received: input_dim={input_dim!r}")
    n, units = spec.num_interfaces, spec.units or input_dim
    counts = {"interfaces": input_dim * n * units + n * units, "reservoir": 0, "merge": 0}
    width = n * units if spec.merge == "concat" else units
    if spec.hidden is not None:
        counts["hidden"] = width * spec.hidden + spec.hidden
        width = spec.hidden
    out = head_units(task, num_classes)
    counts["head"] = width * out + out
    return counts

"""Keras layers that run a fitted data preparation inside an exported model.

An exported model (`infoif.export`) reads the raw columns of a user's table
and prepares them with these layers and Keras' own `StringLookup` and
`Normalization`, exactly as `infoif.data.Pipeline.transform` does in numpy:

    RawColumns -> StringLookup (one-hot) -> JoinColumns -> FillMissing
        -> Standardize -> FiniteClip -> the trained model -> ClassProbabilities
                                                        (or Standardize(invert=True))

All are registered with Keras' serialization (package "infoif"), so a saved
model loads with `keras.models.load_model` after `import infoif`. Numbers are
prepared in float64, as numpy does, and handed to the model as float32.
`RawColumns` strips text with `tf.strings.strip`, so, like `StringLookup`,
it needs the TensorFlow backend.
"""

from __future__ import annotations

import keras
from keras import ops

from infoif.constants import CLASSIFICATION_TASKS, TASKS
from infoif.validate import check, is_real

__all__ = ["RawColumns", "JoinColumns", "FillMissing", "Standardize", "FiniteClip", "ClassProbabilities"]

_KINDS = ("numeric", "category")
_COLUMN_KEYS = ("column", "input", "kind", "decimal_comma", "text_is_missing")


def _check_columns(columns) -> list[dict]:
    check(isinstance(columns, (list, tuple)) and len(columns) >= 1,
          f"`columns` must be a non-empty list of column descriptions. Received: columns={columns!r}")
    out = []
    for c in columns:
        check(isinstance(c, dict) and {"column", "input", "kind"} <= set(c) and c["kind"] in _KINDS,
              "Every entry of `columns` must be a dict with 'column', 'input' and 'kind' "
              f"(one of {list(_KINDS)}). Received: columns={columns!r}")
        out.append({"column": str(c["column"]), "input": str(c["input"]), "kind": c["kind"],
                    "decimal_comma": bool(c.get("decimal_comma", False)),
                    "text_is_missing": bool(c.get("text_is_missing", False))})
    return out


@keras.saving.register_keras_serializable(package="infoif")
class RawColumns(keras.layers.Layer):
    """The raw table columns a model reads, one input per column, and what they are.

    Numbers pass as float64; text is stripped of surrounding spaces. The
    configuration maps each column's name in the table to its input's name
    (Keras and SavedModel refuse some names, such as ones containing '/'),
    and records the target column and task, so tools such as `infoif.predict`
    can feed a DataFrame and name the answer.

    Args:
        columns: one dict per column, in input order: {"column": name in the
            table, "input": input name, "kind": "numeric" or "category",
            "decimal_comma": bool, "text_is_missing": bool}.
        target: the name of the column the model predicts.
        task: "binary", "multiclass" or "regression".

    Input shape:
        A list of `(batch, 1)` tensors, float for numeric columns, string for
        category columns.

    Output shape:
        The same list: float64 numbers and stripped strings.

    Example:
        layer = RawColumns([{"column": "a/b", "input": "a_b", "kind": "numeric"}])
        layer([np.array([[1.5]])])[0]   # float64 [[1.5]]
    """

    def __init__(self, columns, target: str | None = None, task: str | None = None, **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(**kwargs)
        self.columns = _check_columns(columns)
        check(target is None or isinstance(target, str), f"`target` must be a string or None. Received: target={target!r}")
        check(task is None or task in TASKS, f"`task` must be one of {list(TASKS)} or None. Received: task={task!r}")
        self.target = target
        self.task = task

    def call(self, inputs):
        import tensorflow as tf

        out = []
        for spec, x in zip(self.columns, inputs):
            if spec["kind"] == "numeric":
                out.append(ops.cast(x, "float64"))
            else:
                out.append(tf.strings.strip(x))
        return out

    def compute_output_shape(self, input_shape):
        return [tuple(s) for s in input_shape]

    def compute_output_spec(self, inputs):
        return [
            keras.KerasTensor(x.shape, dtype="float64" if spec["kind"] == "numeric" else "string")
            for spec, x in zip(self.columns, inputs)
        ]

    def get_config(self):
        return {**super().get_config(), "columns": [dict(c) for c in self.columns], "target": self.target,
                "task": self.task}


@keras.saving.register_keras_serializable(package="infoif")
class JoinColumns(keras.layers.Layer):
    """Concatenates column blocks along the last axis and keeps the positions in `keep`.

    `out = concat(blocks)[:, keep]`, in float64. Used to drop the bucket that
    `StringLookup` keeps for unseen text, so that unseen and missing values get
    all zeros, as in training.

    Args:
        keep: the positions (in the concatenated blocks) to keep, in order.

    Input shape:
        A list of `(batch, d_i)` tensors (numbers or one-hot blocks).

    Output shape:
        `(batch, len(keep))`, float64.

    Example:
        JoinColumns([0, 2])([np.ones((2, 1)), np.eye(2)])   # [[1, 0], [1, 1]]
    """

    def __init__(self, keep, **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(**kwargs)
        check(isinstance(keep, (list, tuple)) and len(keep) >= 1
              and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in keep),
              f"`keep` must be a non-empty list of positions (integers >= 0). Received: keep={keep!r}")
        self.keep = [int(i) for i in keep]

    def call(self, inputs):
        blocks = [ops.cast(x, "float64") for x in (inputs if isinstance(inputs, (list, tuple)) else [inputs])]
        x = blocks[0] if len(blocks) == 1 else ops.concatenate(blocks, axis=-1)
        return ops.take(x, self.keep, axis=-1)

    def compute_output_shape(self, input_shape):
        first = input_shape[0] if isinstance(input_shape, list) else input_shape
        return (first[0], len(self.keep))

    def compute_output_spec(self, inputs):
        first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        return keras.KerasTensor((first.shape[0], len(self.keep)), dtype="float64")

    def get_config(self):
        return {**super().get_config(), "keep": list(self.keep)}


@keras.saving.register_keras_serializable(package="infoif")
class FillMissing(keras.layers.Layer):
    """Replaces missing (NaN) and infinite values with fixed fill values, per column.

    `out[:, j] = x[:, j] if isfinite(x[:, j]) else values[j]`, in float64.

    Args:
        values: one fill value per column (the training median of a numeric
            column; anything for one-hot columns, which are never missing).

    Input shape:
        `(batch, len(values))`.

    Output shape:
        The same.

    Example:
        FillMissing([0.5])(np.array([[np.nan], [2.0]]))   # [[0.5], [2.0]]
    """

    def __init__(self, values, **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(**kwargs)
        self.values = _finite_list("values", values)
        self.input_spec = keras.InputSpec(axes={-1: len(self.values)})

    def call(self, inputs):
        x = ops.cast(inputs, "float64")
        fill = ops.convert_to_tensor(self.values, dtype="float64")
        return ops.where(ops.isfinite(x), x, ops.broadcast_to(fill, ops.shape(x)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "values": list(self.values)}


def _finite_list(name: str, values, positive: bool = False) -> list[float]:
    ok = isinstance(values, (list, tuple)) and len(values) >= 1 and all(
        is_real(v) and v == v and abs(v) != float("inf") and (not positive or v > 0) for v in values)
    check(ok, f"`{name}` must be a non-empty list of finite numbers{' > 0' if positive else ''}. "
              f"Received: {name}={values!r}")
    return [float(v) for v in values]


@keras.saving.register_keras_serializable(package="infoif")
class Standardize(keras.layers.Layer):
    """Standardizes with fixed statistics in float64: `(x - mean) / std`, or back.

    `keras.layers.Normalization` with `mean` and `variance` does the same, but
    converts its statistics through float32 (a year column's mean of 2008.03
    comes back off by 5e-5, a tenth of a standard deviation's thousandth) and
    squares the standard deviation (infinite beyond 1e154), so an exported
    model would not match the arrays it was trained on.

    Args:
        mean: one mean per column.
        std: one standard deviation per column (> 0).
        invert: if True, `out = x * std + mean` (back to the original units).

    Input shape:
        `(batch, len(mean))`.

    Output shape:
        The same, float64.

    Example:
        Standardize([10.0], [2.0])(np.array([[14.0]]))   # [[2.0]]
    """

    def __init__(self, mean, std, invert: bool = False, **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(**kwargs)
        self.mean = _finite_list("mean", mean)
        self.std = _finite_list("std", std, positive=True)
        check(len(self.mean) == len(self.std),
              f"`mean` and `std` must have one value per column each. Received: std={std!r}")
        check(isinstance(invert, bool), f"`invert` must be True or False. Received: invert={invert!r}")
        self.invert = invert
        self.input_spec = keras.InputSpec(axes={-1: len(self.mean)})

    def call(self, inputs):
        x = ops.cast(inputs, "float64")
        mean = ops.convert_to_tensor(self.mean, dtype="float64")
        std = ops.convert_to_tensor(self.std, dtype="float64")
        if self.invert:
            return x * std + mean
        return (x - mean) / std

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape, dtype="float64")

    def get_config(self):
        return {**super().get_config(), "mean": list(self.mean), "std": list(self.std), "invert": self.invert}


@keras.saving.register_keras_serializable(package="infoif")
class FiniteClip(keras.layers.Layer):
    """Makes standardized inputs finite and bounded, then float32 for the model.

    `out = clip(nan_to_num(x, nan=0, posinf=limit, neginf=-limit), -limit, limit)`.

    Args:
        limit: the bound (> 0); 1e6 keeps float32 far from overflow.

    Input shape:
        Any.

    Output shape:
        The same, float32.

    Example:
        FiniteClip(10.0)(np.array([[np.inf, -50.0, np.nan]]))   # [[10, -10, 0]]
    """

    def __init__(self, limit: float = 1e6, **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(**kwargs)
        check(is_real(limit) and 0 < limit < float("inf"),
              f"`limit` must be a finite number > 0. Received: limit={limit!r}")
        self.limit = float(limit)

    def call(self, inputs):
        x = ops.nan_to_num(ops.cast(inputs, "float64"), nan=0.0, posinf=self.limit, neginf=-self.limit)
        return ops.cast(ops.clip(x, -self.limit, self.limit), "float32")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape, dtype="float32")

    def get_config(self):
        return {**super().get_config(), "limit": self.limit}


@keras.saving.register_keras_serializable(package="infoif")
class ClassProbabilities(keras.layers.Layer):
    """A classifier's head output as one probability per class, with the class names.

    Binary heads give P(class 1) in one unit: `out = [1 - p, p]`. Multiclass
    heads (softmax) pass through.

    Args:
        class_names: the classes' names, in output order.
        class_values: the classes as they are in the data (JSON scalars:
            numbers, booleans or text), in the same order; default the names.

    Input shape:
        `(batch, 1)` for two classes, else `(batch, len(class_names))`.

    Output shape:
        `(batch, len(class_names))`, float32.

    Example:
        ClassProbabilities(["no", "yes"])(np.array([[0.25]]))   # [[0.75, 0.25]]
    """

    def __init__(self, class_names, class_values=None, **kwargs):
        super().__init__(**kwargs)
        check(isinstance(class_names, (list, tuple)) and len(class_names) >= 2
              and all(isinstance(c, str) for c in class_names),
              f"`class_names` must be a list of at least 2 strings. Received: class_names={class_names!r}")
        values = list(class_names) if class_values is None else list(class_values)
        check(len(values) == len(class_names) and all(isinstance(v, (str, int, float, bool)) for v in values),
              "`class_values` must be one JSON scalar per class name. "
              f"Received: class_values={class_values!r}")
        self.class_names = list(class_names)
        self.class_values = values

    @property
    def task(self) -> str:
        return CLASSIFICATION_TASKS[0] if len(self.class_names) == 2 else CLASSIFICATION_TASKS[1]

    def call(self, inputs):
        if len(self.class_names) == 2 and inputs.shape[-1] == 1:
            return ops.concatenate([1.0 - inputs, inputs], axis=-1)
        return inputs

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.class_names))

    def get_config(self):
        return {**super().get_config(), "class_names": list(self.class_names),
                "class_values": list(self.class_values)}

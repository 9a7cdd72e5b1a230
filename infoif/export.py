"""Models you can use: exports that read raw rows and answer in the user's terms.

    model = raw_row_model(trained, dataset)      # raw columns in, probabilities or values out
    keras_bytes(model)                           # the .keras download
    saved_model_zip(model)                       # a TensorFlow SavedModel, zipped
    infoif.predict(model, frame)                 # a DataFrame: prediction (+ one probability per class)

The trained model (`infoif.build_model`'s, with one input `features`) is
wrapped in the dataset's fitted preparation as Keras layers (see
`infoif.data.Pipeline.keras_features`), so the file needs nothing else: it
loads with `import infoif, keras; keras.models.load_model(path)`. The
SavedModel's serving function runs with TensorFlow alone.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile

import keras
import numpy as np
import pandas as pd

from infoif.constants import PREDICTION  # the column of `predict`'s answer
from infoif.data import DataError, load_table
from infoif.data.columns import text_values
from infoif.data.pipeline import FeatureColumn, model_inputs
from infoif.nn.preprocessing import ClassProbabilities, RawColumns

__all__ = [
    "raw_row_model",
    "keras_bytes",
    "load_keras_bytes",
    "export_keras",
    "saved_model_zip",
    "describe",
    "predict",
    "score",
    "PREDICTION",
    "probability_column",
]

_BATCH = 8192


def probability_column(class_name: str) -> str:
    """The name of a class's probability column in `predict`'s answer."""
    return f"probability_{class_name}"


def _snapshot(model: keras.Model) -> keras.Model:
    """A copy of a trained model with its current weights, independent of further training."""
    copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def raw_row_model(model: keras.Model, dataset, *, copy: bool = True) -> keras.Model:
    """The trained `model` wrapped in `dataset`'s preparation: raw columns in, answers out.

    Args:
        model: a trained model whose input is the prepared features (as
            `infoif.build_model` makes it).
        dataset: the `infoif.data.Dataset` it was trained on.
        copy: wrap a snapshot of the weights (default), so later training does
            not change the export.

    Returns:
        A `keras.Model` named "infoif_raw_rows" with one input per raw feature
        column (named as in `describe(model)["columns"]`) and, for
        classification, one probability per class (`ClassProbabilities` holds
        the class names), or, for regression, the target in its own units
        (`Standardize(invert=True)`).
    """
    pipeline = getattr(dataset, "pipeline", None)
    if pipeline is None:
        raise ValueError(f"`dataset` must be an infoif.data.Dataset. Received: dataset={type(dataset).__name__}")
    width = model.inputs[0].shape[-1] if getattr(model, "inputs", None) else None
    if width != pipeline.width:
        raise ValueError(
            f"The model reads {width} features but the dataset makes {pipeline.width}; export a model "
            f"with the dataset it was trained on. Received: model input width={width}"
        )
    core = _snapshot(model) if copy else model
    inputs = pipeline.keras_inputs()
    features = pipeline.keras_features(inputs, dataset.target_encoding)
    answer = dataset.target_encoding.keras_answer(core(features))
    return keras.Model(inputs, answer, name="infoif_raw_rows")


def keras_bytes(model: keras.Model) -> bytes:
    """`model` as the bytes of a `.keras` file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def load_keras_bytes(data: bytes) -> keras.Model:
    """A model from the bytes of a `.keras` file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return keras.models.load_model(path)


def export_keras(model: keras.Model, dataset) -> bytes:
    """The download: `keras_bytes(raw_row_model(model, dataset))`.

    A dataset of bare arrays, without a fitted preparation (no `pipeline`),
    exports the trained model itself, which reads prepared features.
    """
    if getattr(dataset, "pipeline", None) is None:
        return keras_bytes(model)
    return keras_bytes(raw_row_model(model, dataset))


def describe(model: keras.Model) -> dict:
    """What an exported model reads and answers, as JSON values: its columns (name in the
    table, input name, kind), the target's name, the task and the class names."""
    raw = next((layer for layer in model.layers if isinstance(layer, RawColumns)), None)
    if raw is None:
        raise ValueError(
            "This model does not read raw rows: it was not exported by InfoIF (it has no "
            "RawColumns layer). Use the model from the app's download, or infoif.export.raw_row_model. "
            f"Received: model={getattr(model, 'name', model)!r}"
        )
    probabilities = next((layer for layer in model.layers if isinstance(layer, ClassProbabilities)), None)
    return {
        "columns": [dict(c) for c in raw.columns],
        "target": raw.target,
        "task": raw.task,
        "class_names": None if probabilities is None else list(probabilities.class_names),
        "class_values": None if probabilities is None else list(probabilities.class_values),
    }


def _columns(info: dict) -> list[FeatureColumn]:
    return [
        FeatureColumn(c["column"], c["kind"], decimal_comma=c["decimal_comma"],
                      text_is_missing=c["text_is_missing"], input=c["input"])
        for c in info["columns"]
    ]


def _as_model(model) -> keras.Model:
    if isinstance(model, (str, os.PathLike)):
        return keras.models.load_model(model)
    if not isinstance(model, keras.Model):
        raise ValueError(f"`model` must be a keras.Model or the path of a .keras file. Received: model={model!r}")
    return model


def _as_frame(rows) -> pd.DataFrame:
    if isinstance(rows, (str, os.PathLike, bytes)):
        return load_table(rows)
    if isinstance(rows, pd.DataFrame):
        return rows
    try:
        return pd.DataFrame(rows)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"The new rows are not a table ({str(exc)[:120]}). Give a DataFrame, a file, or a list "
            "of records like [{'a': 1, 'b': 2}]."
        ) from None


def _call(model: keras.Model, inputs: dict[str, np.ndarray], n: int) -> np.ndarray:
    import tensorflow as tf

    outputs = []
    for start in range(0, n, _BATCH):
        batch = {}
        for key, values in inputs.items():
            part = values[start : start + _BATCH]
            batch[key] = tf.constant(part, dtype=tf.string if part.dtype == object else tf.float64)
        outputs.append(keras.ops.convert_to_numpy(model(batch, training=False)))
    return np.concatenate(outputs, axis=0)


def predict(model, rows) -> pd.DataFrame:
    """Predictions for raw rows, in the user's terms.

    Args:
        model: an exported model (`keras.Model`, or the path of its `.keras` file).
        rows: a DataFrame (or a file, or records) with the columns the model
            was trained on. Extra columns are ignored; missing values and
            unseen categories are handled as in training.

    Returns:
        A DataFrame with the rows' index: `prediction` (the class label as in
        the training file, or the predicted value in the target's units) and,
        for classification, one `probability_<class>` column per class.

    Raises:
        DataError: rows lack a trained column, there are no rows, or a
            numeric column holds text (every problem in one message).
    """
    model = _as_model(model)
    info = describe(model)
    frame = _as_frame(rows)
    inputs = model_inputs(_columns(info), frame)
    out = _call(model, inputs, len(frame))
    if info["class_names"] is None:
        return pd.DataFrame({PREDICTION: out.reshape(len(out), -1)[:, 0].astype(np.float64)}, index=frame.index)
    values = np.array(info["class_values"], dtype=object)[np.argmax(out, axis=1)]
    table = {PREDICTION: pd.Series(list(values), index=frame.index).infer_objects()}
    for k, name in enumerate(info["class_names"]):
        table[probability_column(name)] = out[:, k].astype(np.float64)
    return pd.DataFrame(table, index=frame.index)


def score(model, rows, predictions: pd.DataFrame | None = None) -> dict | None:
    """How good `predictions` are when `rows` also hold the target column, else None.

    Classification: rows, accuracy and log loss (over rows with a target
    value; a label the model never saw counts as wrong). Regression: rows,
    MAE, RMSE and R².
    """
    model = _as_model(model)
    info = describe(model)
    frame = _as_frame(rows)
    target = info["target"]
    from infoif.data.tidy import clean_names

    names, _ = clean_names(list(frame.columns))
    if target is None or target not in names:
        return None
    truth = frame.iloc[:, names.index(target)]
    predictions = predict(model, frame) if predictions is None else predictions
    if info["class_names"] is None:
        y = pd.to_numeric(truth, errors="coerce").to_numpy(dtype=np.float64)
        ok = np.isfinite(y)
        if not ok.any():
            return None
        err = predictions[PREDICTION].to_numpy(dtype=np.float64)[ok] - y[ok]
        ss = float(np.sum((y[ok] - y[ok].mean()) ** 2))
        return {"rows": int(ok.sum()), "mae": float(np.mean(np.abs(err))),
                "rmse": float(np.sqrt(np.mean(err**2))),
                "r2": float(1 - np.sum(err**2) / ss) if ss > 0 else float("nan")}
    labels = text_values(truth).to_pylist()
    ok = np.array([label is not None for label in labels])
    if not ok.any():
        return None
    index = {name: k for k, name in enumerate(info["class_names"])}
    codes = np.array([index.get(label, -1) if label is not None else -1 for label in labels])[ok]
    probs = predictions[[probability_column(c) for c in info["class_names"]]].to_numpy(dtype=np.float64)[ok]
    picked = np.where(codes >= 0, probs[np.arange(len(codes)), np.maximum(codes, 0)], 0.0)
    return {"rows": int(ok.sum()), "accuracy": float(np.mean(np.argmax(probs, axis=1) == codes)),
            "log_loss": float(np.mean(-np.log(np.clip(picked, 1e-7, 1.0))))}


# --- SavedModel ---------------------------------------------------------------------------------

_README = """A TensorFlow SavedModel exported by InfoIF Lab.

It needs TensorFlow only (no infoif, no Keras objects):

    import tensorflow as tf
    model = tf.saved_model.load("{folder}")
    out = model.serve({example})
    # or, by keyword: model.signatures["serving_default"](**{{...}})

Inputs: one tensor of shape (rows, 1) per column of the training table:
{inputs}
Numbers are float64 (NaN where a value is missing); text is a string ("" where
missing). Unseen categories are treated as in training. infoif.json lists the
columns, the target and the classes.

Outputs: {outputs}
"""


def saved_model_zip(model: keras.Model, folder: str = "infoif_saved_model") -> bytes:
    """`model` (an exported model) as a zipped TensorFlow SavedModel.

    Its serving function takes the raw columns by input name (shape (rows, 1)
    each, float64 or string) and returns, for classification,
    `probabilities` (rows, classes) and `label` (the class names), else
    `prediction` (the target in its own units). The zip also holds
    `infoif.json` (`describe(model)`) and a README with an example call.
    """
    import tensorflow as tf

    info = describe(model)
    archive = keras.export.ExportArchive()
    archive.track(model)
    signature = {
        c["input"]: tf.TensorSpec((None, 1), tf.float64 if c["kind"] == "numeric" else tf.string, name=c["input"])
        for c in info["columns"]
    }
    if info["class_names"] is not None:
        names = tf.constant(info["class_names"])

        def serve(inputs):
            probabilities = tf.cast(model(inputs, training=False), tf.float32)
            return {"probabilities": probabilities, "label": tf.gather(names, tf.argmax(probabilities, axis=1))}

        outputs = ("probabilities (rows, classes) in the order of the class names "
                   f"{info['class_names']}, and label (the most likely class name).")
    else:

        def serve(inputs):
            return {"prediction": tf.cast(model(inputs, training=False), tf.float64)}

        outputs = f"prediction (rows, 1): {info['target']!r} in its own units."
    archive.add_endpoint("serve", serve, input_signature=[signature])
    example = ", ".join(
        f"'{c['input']}': tf.constant([[1.0]], tf.float64)" if c["kind"] == "numeric"
        else f"'{c['input']}': tf.constant([['text']])"
        for c in info["columns"][:3]
    ) + (", ..." if len(info["columns"]) > 3 else "")
    inputs = "\n".join(
        f"  {c['input']:<24} {'float64' if c['kind'] == 'numeric' else 'string ':<8} column {c['column']!r}"
        for c in info["columns"]
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, folder)
        archive.write_out(path, verbose=False)
        with open(os.path.join(path, "infoif.json"), "w", encoding="utf-8") as f:
            json.dump(info, f, indent=1, ensure_ascii=False)
        with open(os.path.join(path, "README.txt"), "w", encoding="utf-8") as f:
            f.write(_README.format(folder=folder, example="{" + example + "}", inputs=inputs, outputs=outputs))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for root, _, files in os.walk(path):
                for name in sorted(files):
                    full = os.path.join(root, name)
                    z.write(full, os.path.relpath(full, tmp))
        return buf.getvalue()

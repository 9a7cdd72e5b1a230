"""The fitted preparation: one object that turns raw rows into model inputs, in numpy and
as Keras layers, so that the two can never disagree.

    pipeline.transform(frame)          # float32 inputs, as the training arrays were made
    inputs = pipeline.keras_inputs()   # one Keras input per raw column
    features = pipeline.keras_features(inputs)   # the same preparation as layers

Every feature column is a `FeatureColumn`: a number (missing and infinite
values become the training median, `fill`) or a category (one 0/1 input per
category seen in training; unseen and missing values get all zeros). Then
every input is standardized with the training statistics, `(x - mean) / std`,
and clipped to +-1e6. Keras does exactly this, in float64 as numpy does, with
`FillMissing`, `StringLookup(output_mode="one_hot")`, `Standardize` and
`FiniteClip`; `TargetEncoding` turns the model's outputs back into the
user's terms.
Nothing here imports Keras until a `keras_*` method is called.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from infoif.constants import CLASSIFICATION_TASKS, TASKS
from infoif.data.columns import category_codes, float_column, present_non_numbers, text_values
from infoif.data.errors import DataError, data_rows, name_list, plural, quote
from infoif.data.tidy import clean_names

__all__ = [
    "CLIP",
    "FeatureColumn",
    "Pipeline",
    "TargetEncoding",
    "mean_std",
    "input_names",
]

CLIP = 1e6  # standardized inputs are clipped to +-this, so float32 never overflows
OOV_TOKEN = " [unseen]"  # StringLookup's bucket for unseen text: categories never start with a space
_INPUT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")
_RESERVED = "infoif"  # the exported model's own layers are named infoif_*
_SPELLED = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l",
                          "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "€": "EUR", "$": "USD", "£": "GBP", "%": "pct"})


def mean_std(x: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation without overflow; 1 for a constant."""
    if x.size == 0:
        return 0.0, 1.0
    scale = float(np.max(np.abs(x)))
    if not math.isfinite(scale) or scale == 0.0:
        return (0.0 if scale == 0.0 else float(np.mean(x))), 1.0
    xs = x / scale
    mean, sd = float(np.mean(xs)), float(np.std(xs))
    if not sd > 1e-12:
        return mean * scale, 1.0
    return mean * scale, sd * scale


def _standardize(z: np.ndarray, mean: float, std: float) -> np.ndarray:
    """(z - mean) / std in place, non-finite results clipped to +-CLIP (NaN to 0)."""
    z -= mean
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        z /= std
    np.nan_to_num(z, copy=False, nan=0.0, posinf=CLIP, neginf=-CLIP)
    np.clip(z, -CLIP, CLIP, out=z)
    return z


def input_names(columns) -> list[str]:
    """Names for an exported model's inputs, one per column: the column's own name when
    Keras and TensorFlow's SavedModel accept it (letters, digits, '_', '.', '-'), else a
    plain-ASCII version of it ('total/bill ($)' -> 'total_bill'), made unique."""
    out, taken = [], set()
    for column in columns:
        name = str(column)
        if not _INPUT_NAME.fullmatch(name) or name.lower().startswith(_RESERVED):
            spelled = name.translate(_SPELLED)
            ascii_name = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()
            name = re.sub(r"[^A-Za-z0-9_]+", "_", ascii_name).strip("_")
            if not name or not name[0].isalpha() or name.lower().startswith(_RESERVED):
                name = f"c_{name}".rstrip("_")
        base, k = name[:60], 1
        name = base
        while name.lower() in taken:
            k += 1
            name = f"{base}_{k}"
        taken.add(name.lower())
        out.append(name)
    return out


@dataclass(frozen=True)
class FeatureColumn:
    """How one raw column becomes model inputs (fitted on the training part).

    kind "numeric": one input; missing and infinite values become `fill`
    (the training median). Text that is not a number is an error in new rows,
    unless `text_is_missing` (training met such text and counted it as
    missing). kind "category": one 0/1 input per category in `categories`
    (seen in the training part); unseen or missing values get all zeros.
    `input` names the column's input in an exported model.
    """

    name: str
    kind: str
    fill: float = 0.0
    categories: tuple = ()
    decimal_comma: bool = False
    text_is_missing: bool = False
    input: str = ""

    @property
    def width(self) -> int:
        return 1 if self.kind == "numeric" else len(self.categories)

    @property
    def feature_names(self) -> list[str]:
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}={c}" for c in self.categories]

    def numbers(self, s: pd.Series) -> np.ndarray:
        """numeric: float64 values as they are (NaN where missing), what an exported model reads."""
        return float_column(s, self.decimal_comma)

    def values(self, s: pd.Series) -> np.ndarray:
        """numeric: float64 values, missing and infinite ones filled; category: int codes
        into `categories`, -1 for missing or unseen values."""
        if self.kind == "numeric":
            v = self.numbers(s)
            v[~np.isfinite(v)] = self.fill
            return v
        return category_codes(text_values(s), self.categories)

    def write(self, values: np.ndarray, out: np.ndarray, mean, std) -> None:
        """Writes the standardized inputs of `values` (from `values()`) into the float32
        columns `out` (shape (n, width)). Numeric `values` are standardized in place."""
        if self.kind == "numeric":
            out[:, 0] = _standardize(values, mean[0], std[0])
            return
        for k in range(self.width):
            hi, lo = _standardize(np.array([1.0, 0.0]), mean[k], std[k]).astype(np.float32)
            out[:, k] = np.where(values == k, hi, lo)

    def model_input(self, s: pd.Series) -> np.ndarray:
        """What an exported model reads for this column, shape (n, 1): float64 numbers with
        NaN for missing, or canonical text with "" for missing."""
        if self.kind == "numeric":
            return self.numbers(s)[:, None]
        text = text_values(s).fill_null("").to_numpy(zero_copy_only=False)
        return np.asarray(text, dtype=object)[:, None]

    def problems(self, s: pd.Series) -> list[str]:
        """What is wrong with this column in new rows (numbers expected, text found)."""
        if self.kind != "numeric" or self.text_is_missing:
            return []
        where, texts = present_non_numbers(s, self.decimal_comma)
        if not len(where):
            return []
        shown = ", ".join(f"{quote(t, 30)} ({data_rows([w])})" for t, w in zip(texts[:4], where[:4]))
        more = f" and {len(where) - 4:,} more" if len(where) > 4 else ""
        return [
            f"Column {quote(self.name)} holds numbers in the training data, but "
            f"{plural(len(where), 'new value')} {'is' if len(where) == 1 else 'are'} not a number: "
            f"{shown}{more}. Write numbers there, or leave the cells empty if the values are missing."
        ]

    def to_config(self) -> dict:
        return {
            "name": self.name, "kind": self.kind, "fill": self.fill, "categories": list(self.categories),
            "decimal_comma": self.decimal_comma, "text_is_missing": self.text_is_missing, "input": self.input,
        }

    @classmethod
    def from_config(cls, config: dict) -> "FeatureColumn":
        return cls(**{**config, "categories": tuple(config.get("categories", ()))})


def _rows_frame(frame) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        df = frame
    else:
        try:
            df = pd.DataFrame(frame)
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"The new rows are not a table ({str(exc)[:120]}). Give a DataFrame, or a list of "
                "records like [{'a': 1, 'b': 2}]."
            ) from None
    names, _ = clean_names(list(df.columns))
    return df.set_axis(names, axis=1)


def check_rows(frame, columns, strict: bool = True) -> pd.DataFrame:
    """New rows with cleaned column names, or a `DataError` naming every problem: missing
    columns, and with `strict` no rows at all, and text where numbers belong."""
    df = _rows_frame(frame)
    missing = [c.name for c in columns if c.name not in df.columns]
    problems = []
    if missing:
        problems.append(
            f"The new rows lack {plural(len(missing), 'column')} the model was trained "
            f"with: {name_list(missing)}. Add them (values may be empty)."
        )
    if strict and len(df) == 0:
        problems.append("There are no new rows: the table is empty. Give at least one row.")
    if strict:
        for c in columns:
            if c.name in df.columns:
                problems += c.problems(df[c.name])
    if problems:
        raise DataError(*problems)
    return df


@dataclass(frozen=True, eq=False)
class Pipeline:
    """The fitted feature preparation: columns in order, then the inputs' training mean and
    standard deviation (`mean`, `std`, one per input)."""

    columns: tuple[FeatureColumn, ...]
    mean: np.ndarray
    std: np.ndarray

    @property
    def width(self) -> int:
        return sum(c.width for c in self.columns)

    @property
    def feature_names(self) -> list[str]:
        return [f for c in self.columns for f in c.feature_names]

    @property
    def raw_columns(self) -> list[str]:
        return [c.name for c in self.columns]

    def transform(self, frame) -> np.ndarray:
        """New rows (with the `raw_columns`) to float32 inputs, exactly like the training rows.

        Lenient as training was: text in a numeric column counts as missing. Raises
        `DataError` when a column is absent.
        """
        df = check_rows(frame, self.columns, strict=False)
        out = np.empty((len(df), self.width), dtype=np.float32)
        j = 0
        for col in self.columns:
            w = col.width
            col.write(col.values(df[col.name]), out[:, j : j + w], self.mean[j : j + w], self.std[j : j + w])
            j += w
        return out

    def model_inputs(self, frame) -> dict[str, np.ndarray]:
        """What an exported model reads for new rows: {input name: (n, 1) array}; strict about
        absent columns, empty tables and text where numbers belong (`DataError`)."""
        return model_inputs(self.columns, frame)

    # --- Keras --------------------------------------------------------------------------

    def keras_inputs(self) -> dict:
        """One `keras.Input` per raw column, shape (1,): float64 numbers or text."""
        import keras

        return {
            c.input: keras.Input((1,), dtype="float64" if c.kind == "numeric" else "string", name=c.input)
            for c in self.columns
        }

    def keras_features(self, inputs: dict, target: "TargetEncoding | None" = None):
        """The preparation as Keras layers: raw inputs -> float32 model inputs (batch, width).

        `RawColumns` (which carries the column mapping, and the target's name
        and task) -> `StringLookup` one-hot per category column -> `JoinColumns`
        (drops the unseen buckets) -> `FillMissing` -> `Standardize` -> `FiniteClip`.
        """
        import keras

        from infoif.nn import preprocessing

        columns = [
            {"column": c.name, "input": c.input, "kind": c.kind, "decimal_comma": c.decimal_comma,
             "text_is_missing": c.text_is_missing}
            for c in self.columns
        ]
        raw = preprocessing.RawColumns(
            columns, target=None if target is None else target.name,
            task=None if target is None else target.task, name="infoif_raw_columns",
        )([inputs[c.input] for c in self.columns])
        blocks, keep, at = [], [], 0
        for i, (col, x) in enumerate(zip(self.columns, raw)):
            if col.kind == "numeric":
                blocks.append(x)
                keep.append(at)
                at += 1
                continue
            lookup = keras.layers.StringLookup(
                vocabulary=list(col.categories), num_oov_indices=1, oov_token=OOV_TOKEN,
                output_mode="one_hot", name=f"infoif_categories_{i}",
            )
            blocks.append(lookup(x))
            keep.extend(range(at + 1, at + 1 + col.width))  # position `at` is the unseen bucket
            at += 1 + col.width
        x = preprocessing.JoinColumns(keep, name="infoif_join")(blocks)
        fills = [c.fill if c.kind == "numeric" else 0.0 for c in self.columns for _ in range(c.width)]
        x = preprocessing.FillMissing(fills, name="infoif_fill_missing")(x)
        x = preprocessing.Standardize(self.mean.tolist(), self.std.tolist(), name="infoif_standardize")(x)
        return preprocessing.FiniteClip(CLIP, name="infoif_clip")(x)

    # --- Plain values -------------------------------------------------------------------

    def to_config(self) -> dict:
        """The fitted pipeline as JSON values."""
        return {"columns": [c.to_config() for c in self.columns], "mean": self.mean.tolist(),
                "std": self.std.tolist()}

    @classmethod
    def from_config(cls, config: dict) -> "Pipeline":
        return cls(
            tuple(FeatureColumn.from_config(c) for c in config["columns"]),
            np.asarray(config["mean"], dtype=np.float64), np.asarray(config["std"], dtype=np.float64),
        )


def model_inputs(columns, frame) -> dict[str, np.ndarray]:
    """{input name: (n, 1) array} for an exported model with these columns (see
    `FeatureColumn.model_input`); raises `DataError` for rows that do not fit."""
    df = check_rows(frame, columns, strict=True)
    return {c.input: c.model_input(df[c.name]) for c in columns}


@dataclass(frozen=True)
class TargetEncoding:
    """What the model's outputs mean: class probabilities with the class names (and the
    values as they were in the file), or the target standardized with `mean` and `std`."""

    name: str
    task: str
    class_names: tuple[str, ...] | None = None
    class_values: tuple | None = None
    mean: float | None = None
    std: float | None = None

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"`task` must be one of {list(TASKS)}. Received: task={self.task!r}")

    @property
    def classification(self) -> bool:
        return self.task in CLASSIFICATION_TASKS

    def standardize(self, y: np.ndarray) -> np.ndarray:
        """Regression targets to the float32 numbers the model learns."""
        z = np.array(y, dtype=np.float64)
        return _standardize(z, self.mean, self.std).astype(np.float32)

    def decode(self, outputs) -> np.ndarray:
        """Model outputs in the user's terms: class probabilities (n, classes), or the
        target in its own units (n,)."""
        out = np.asarray(outputs, dtype=np.float64)
        if self.task == "regression":
            return out.reshape(len(out), -1)[:, 0] * self.std + self.mean
        if self.task == "binary":
            p = out.reshape(len(out), -1)[:, 0]
            return np.stack([1.0 - p, p], axis=1)
        return out

    def keras_answer(self, outputs):
        """The same as Keras layers: `ClassProbabilities` (which stores the class names), or
        `Standardize(invert=True)` back to the target's units."""
        from infoif.nn import preprocessing

        if self.classification:
            return preprocessing.ClassProbabilities(
                list(self.class_names), list(self.class_values), name="infoif_probabilities"
            )(outputs)
        return preprocessing.Standardize([self.mean], [self.std], invert=True, name="infoif_target_units")(outputs)

    def to_config(self) -> dict:
        return {"name": self.name, "task": self.task,
                "class_names": None if self.class_names is None else list(self.class_names),
                "class_values": None if self.class_values is None else list(self.class_values),
                "mean": self.mean, "std": self.std}


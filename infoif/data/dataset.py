"""`Dataset`: the training and validation arrays, and the fitted preparation that made them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from infoif.data.pipeline import FeatureColumn, Pipeline, TargetEncoding

__all__ = ["Dataset"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Training and validation arrays plus the pipeline that made them.

    x_train, x_val: float32 of shape (rows, input_dim), standardized with the
    training part's statistics. y_train, y_val: int64 class indices 0..k-1
    (binary, multiclass) or float32 standardized targets (regression; see
    `target_mean`, `target_std`, `inverse_target`). `report` has one sentence
    per thing that was detected or changed; `decisions` says, per column,
    what preparation made of it. `transform(df)` turns new rows with the
    `raw_feature_columns` into inputs exactly like the training rows;
    `pipeline` and `target_encoding` are the fitted preparation (numpy and
    Keras). `options` are `prepare`'s arguments as JSON values: `prepare` with
    the same table and options gives the same arrays.
    """

    name: str
    target: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    report: list[str]
    pipeline: Pipeline
    target_encoding: TargetEncoding
    train_rows: np.ndarray  # positions (0-based) in the DataFrame given to `prepare`
    val_rows: np.ndarray
    decisions: dict = field(default_factory=dict)  # column -> what preparation made of it
    options: dict = field(default_factory=dict)

    # --- shape ---------------------------------------------------------------------------

    @property
    def input_dim(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_val(self) -> int:
        return int(self.x_val.shape[0])

    # --- the fitted preparation, by its parts ------------------------------------------------

    @property
    def columns(self) -> tuple[FeatureColumn, ...]:
        return self.pipeline.columns

    @property
    def raw_feature_columns(self) -> list[str]:
        return self.pipeline.raw_columns

    @property
    def feature_names(self) -> list[str]:
        return self.pipeline.feature_names

    @property
    def feature_mean(self) -> np.ndarray:
        return self.pipeline.mean

    @property
    def feature_std(self) -> np.ndarray:
        return self.pipeline.std

    @property
    def class_names(self) -> list[str] | None:
        names = self.target_encoding.class_names
        return None if names is None else list(names)

    @property
    def num_classes(self) -> int | None:
        return None if self.class_names is None else len(self.class_names)

    @property
    def target_mean(self) -> float | None:
        return self.target_encoding.mean

    @property
    def target_std(self) -> float | None:
        return self.target_encoding.std

    # --- using it ---------------------------------------------------------------------------

    def transform(self, df) -> np.ndarray:
        """New rows (with `raw_feature_columns`) to float32 inputs, like the training rows."""
        return self.pipeline.transform(df)

    def inverse_target(self, y) -> np.ndarray:
        """Regression outputs back in the target's own units (classification: unchanged)."""
        y = np.asarray(y, dtype=np.float64)
        if self.task != "regression":
            return y
        return y * self.target_std + self.target_mean

    def reference_row(self) -> dict:
        """A typical row: each numeric column's training median, each text column's most
        common training category. The 2-D view holds the other columns at these values."""
        row, j = {}, 0
        for col in self.columns:
            if col.kind == "numeric":
                row[col.name] = col.fill
            else:
                shares = self.feature_mean[j : j + col.width]  # share of each category in train
                row[col.name] = col.categories[int(np.argmax(shares))] if col.categories else None
            j += col.width
        return row

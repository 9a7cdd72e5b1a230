"""The input plane of a 2-D dataset: the model's decision surface and each interface's response.

Playground's signature view. A grid over the two raw feature columns goes
through the dataset's own preparation (`Dataset.transform`) and the model, so
the picture is in the user's units, not in standardized ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["PlaneView", "PlaneGrid", "is_planar", "plane_grid", "evaluate_plane", "plane_view"]


@dataclass(frozen=True)
class PlaneView:
    xx: np.ndarray  # (G,) grid along the first raw feature
    yy: np.ndarray  # (G,) grid along the second
    z: np.ndarray  # (G, G) prediction: P(class 1), predicted class, or value; z[j, i] at (xx[i], yy[j])
    responses: np.ndarray  # (N, G, G) mean output of each interface
    x_name: str
    y_name: str


def is_planar(dataset) -> bool:
    """True when the dataset has exactly two raw numeric feature columns."""
    columns = list(getattr(dataset, "raw_feature_columns", []) or [])
    return len(columns) == 2 and getattr(dataset, "input_dim", 0) == 2


@dataclass(frozen=True)
class PlaneGrid:
    """A run's fixed grid over the input plane: axes in raw units and the prepared features."""

    xx: np.ndarray
    yy: np.ndarray
    features: np.ndarray  # (G*G, 2) float32, through the dataset's own preparation
    x_name: str
    y_name: str


def plane_grid(dataset, frame: pd.DataFrame, resolution: int = 40, margin: float = 0.1) -> PlaneGrid:
    """A `resolution` x `resolution` grid over the two raw feature columns, with a margin."""
    if not is_planar(dataset):
        raise ValueError(
            "The input-plane view needs a dataset with exactly two numeric features. "
            f"Received: features={list(getattr(dataset, 'raw_feature_columns', []))}"
        )
    if not isinstance(resolution, int) or not 2 <= resolution <= 400:
        raise ValueError(f"`resolution` must be an integer from 2 to 400. Received: resolution={resolution!r}")
    x_name, y_name = dataset.raw_feature_columns
    axes = []
    for name in (x_name, y_name):
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        lo, hi = (float(values.min()), float(values.max())) if values.size else (-1.0, 1.0)
        pad = (hi - lo) * margin or 1.0
        axes.append(np.linspace(lo - pad, hi + pad, resolution))
    xx, yy = axes
    gx, gy = np.meshgrid(xx, yy)  # (G, G), row j = yy[j]
    grid = pd.DataFrame({x_name: gx.ravel(), y_name: gy.ravel()})
    features = np.asarray(dataset.transform(grid), np.float32)
    return PlaneGrid(xx, yy, features, x_name, y_name)


def evaluate_plane(model, dataset, grid: PlaneGrid) -> PlaneView:
    """The model's prediction and each interface's mean output over a `PlaneGrid`."""
    import keras

    resolution = len(grid.xx)
    prediction = keras.ops.convert_to_numpy(model(grid.features, training=False))
    if dataset.task == "multiclass":
        z = prediction.argmax(axis=1).astype(float)
    else:
        z = prediction[:, 0]
    if dataset.task == "regression" and getattr(dataset, "target_std", None):
        z = z * dataset.target_std + dataset.target_mean
    outputs = keras.ops.convert_to_numpy(model.get_layer("interfaces")(grid.features))  # (G*G, N, units)
    responses = outputs.mean(axis=2).T.reshape(-1, resolution, resolution)
    return PlaneView(grid.xx, grid.yy, np.asarray(z, np.float32).reshape(resolution, resolution),
                     np.asarray(responses, np.float32), grid.x_name, grid.y_name)


def plane_view(model, dataset, frame: pd.DataFrame, resolution: int = 40, margin: float = 0.1) -> PlaneView:
    """Evaluates the model and its interfaces on a `resolution` x `resolution` grid."""
    return evaluate_plane(model, dataset, plane_grid(dataset, frame, resolution, margin))

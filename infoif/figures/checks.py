"""Input checks that every figure builder runs first: its arrays as numpy arrays of the right
shape, or a `ValueError` that names the argument, the shape or value it got and what it needs.
The names are the package's own (underscored): the figure modules import them, nothing here is public.
"""

from __future__ import annotations

import numbers

import numpy as np


_F32 = np.float32


# ---------------------------------------------------------------- input checks


def _fail(message: str):
    raise ValueError(message)


def _numeric(value, name: str, ndim: int, shape: str, *, dtype=float) -> np.ndarray:
    """`value` as a numpy array of `ndim` dimensions, or a ValueError that names it and its shape."""
    if value is None:
        _fail(f"`{name}` must be an array of shape {shape}. Received: {name}=None")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        _fail(f"`{name}` must be an array of shape {shape}; it is ragged. Received: {name} of type "
              f"{type(value).__name__}")
    if arr.dtype.kind == "O":  # e.g. a list with None for missing values: None -> NaN
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            pass
    if arr.dtype.kind not in "biuf" or (arr.dtype.kind == "b" and dtype is not bool):
        _fail(f"`{name}` must hold numbers (shape {shape}). Received: {name} with dtype {arr.dtype}")
    if arr.ndim != ndim:
        _fail(f"`{name}` must be {ndim}-D with shape {shape}. Received: {name}.shape={arr.shape}")
    return np.array(arr, dtype=dtype) if dtype is not None else arr


def _finite(arr: np.ndarray, dtype=np.float64) -> np.ndarray:
    """Float copy with every non-finite value (inf too) as NaN: a gap in the plot.

    Probe data (kernels, outputs, energy: float32 where they are measured) are sent as
    float32, which halves what the browser receives every refresh; curves of a few
    values (losses, sweeps) stay float64.
    """
    out = np.array(arr, dtype=dtype)
    out[~np.isfinite(out)] = np.nan
    return out


def _epochs(epochs, name: str = "epochs") -> np.ndarray:
    """1-D numeric x values (kept integer when they are), at least one."""
    arr = _numeric(epochs, name, 1, "(E,)", dtype=None)
    if arr.size == 0:
        _fail(f"`{name}` is empty: there is nothing to plot before the first epoch. Received: {name}.shape=(0,)")
    if arr.dtype.kind == "b":
        _fail(f"`{name}` must hold numbers, not booleans. Received: {name} with dtype bool")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        _fail(f"`{name}` must be finite numbers. Received: {name} with {int((~np.isfinite(arr)).sum())} "
              "NaN/inf values")
    return np.array(arr, dtype=np.int64 if arr.dtype.kind in "iu" else float)


def _per_epoch(values, name: str, epochs: np.ndarray, shape: str, ndim: int = 2) -> np.ndarray:
    arr = _numeric(values, name, ndim, shape)
    if arr.shape[0] != epochs.shape[0]:
        _fail(f"`{name}` needs one row per epoch, shape {shape} with E=len(epochs)={epochs.shape[0]}. "
              f"Received: {name}.shape={arr.shape}")
    if ndim >= 2 and arr.shape[1] == 0:
        _fail(f"`{name}` has no interfaces (N=0). Received: {name}.shape={arr.shape}")
    return arr


def _smoothing(smoothing, name: str = "smoothing") -> float:
    if isinstance(smoothing, bool) or not isinstance(smoothing, numbers.Real) or not 0.0 <= smoothing < 1.0:
        _fail(f"`{name}` must be a number in [0, 1) (0 = raw curve; TensorBoard's default is 0.6). "
              f"Received: {name}={smoothing!r}")
    return float(smoothing)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        _fail(f"`{name}` must be a whole number >= 1. Received: {name}={value!r}")
    return int(value)


def _max_cols(max_cols) -> int:
    return _positive_int(max_cols, "max_cols")

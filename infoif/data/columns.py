"""What a column holds: numbers, text, nothing, or something a model cannot use.

`analyze` decides, once per column, and keeps what fitting needs: a text
column's values stay in Arrow as canonical strings (`text_values`), so
that categories, their codes and their counts are computed without Python
string objects. `float_column` is the one conversion to numbers, used when
fitting, when transforming new rows and when feeding an exported model.
"""

from __future__ import annotations

import decimal
import math
import numbers
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pacompute

__all__ = [
    "MISSING_MARKERS",
    "KINDS",
    "Analysis",
    "analyze",
    "float_column",
    "text_values",
    "class_label",
    "looks_like_id_name",
    "category_codes",
    "present_non_numbers",
]

# Text that means "no value" in a table (pyarrow's and pandas' lists, plus spreadsheet errors).
MISSING_MARKERS = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null", "None", "none", "NAN",
    "na", "?", "#VALUE!", "#DIV/0!", "#REF!", "#NUM!", "#NAME?", "#NULL!",
]  # fmt: skip
KINDS = ("numeric", "categorical")  # what a person may choose for a feature column
ASCII_SPACE = " \t\n\r\f\v"  # what text values are stripped of (TensorFlow's tf.strings.strip too)
NUMERIC_SHARE = 0.9  # a text column is numeric if this share of its values are numbers

_ID_NAME = re.compile(
    r"(?i)\s*(.*[\s_\-.])?(id|ids|uuid|guid|key|index|idx|row|rowid|row[\s_\-]?(id|num|number|no)"
    r"|record[\s_\-]?(id|no)|#|no\.?|nr\.?|serial|unnamed:?\s*\d*|row names)\s*"
)
_NESTED = (list, tuple, dict, set, frozenset, np.ndarray)
_TEMPORAL = ("datetime", "date", "time", "timedelta", "Timestamp", "Timedelta", "Period", "Interval")


def looks_like_id_name(name: str) -> bool:
    return bool(_ID_NAME.fullmatch(name))


# --- Numbers ------------------------------------------------------------------------------


def _to_float(values) -> np.ndarray:
    """Real numbers (any Python/numpy/Decimal scalars) to float64; overflow becomes +-inf."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        out = np.empty(len(values), dtype=np.float64)
        for i, v in enumerate(values):
            try:
                out[i] = float(v)
            except OverflowError:
                out[i] = math.inf if v > 0 else -math.inf
            except (TypeError, ValueError):
                out[i] = math.nan
        return out


def _float_or_nan(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _parse_numbers(strings: pa.Array, decimal_comma: bool) -> np.ndarray:
    """Text (an Arrow string array) to float64; anything that is not a number becomes NaN."""
    if decimal_comma:
        strings = pacompute.replace_substring(strings, ",", ".")
    s = strings.to_pandas()
    try:
        out = pd.to_numeric(s, errors="coerce")
    except (TypeError, ValueError, OverflowError):
        out = pd.Series([_float_or_nan(v) for v in s], dtype="float64")
    return np.array(out.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64, copy=True)


def _is_real(v) -> bool:
    return isinstance(v, (numbers.Real, np.bool_, decimal.Decimal))


def _dense(s: pd.Series) -> pd.Series:
    s = s.reset_index(drop=True)
    return s.sparse.to_dense() if isinstance(s.dtype, pd.SparseDtype) else s


def _is_number_dtype(dtype) -> bool:
    return pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
    )


def float_column(s: pd.Series, decimal_comma: bool = False, writable: bool = True) -> np.ndarray:
    """A column as float64 numbers: numbers as they are, text parsed, anything else NaN.

    The one conversion used when fitting, in `Dataset.transform` and to feed
    an exported model. With writable=False a float64 column comes back as a
    read-only view (no copy).
    """
    s = _dense(s)
    dtype = s.dtype
    if _is_number_dtype(dtype):
        v = _to_float(s.to_numpy(dtype=np.float64, na_value=np.nan))
        return v.copy() if writable and not v.flags.writeable else v
    if isinstance(dtype, pd.StringDtype):
        return _parse_numbers(text_values(s), decimal_comma)
    if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        arr = s.to_numpy(dtype=object)
        out = np.full(len(arr), np.nan)
        is_num = np.fromiter((_is_real(v) for v in arr), dtype=bool, count=len(arr))
        is_str = np.fromiter((isinstance(v, str) for v in arr), dtype=bool, count=len(arr))
        if is_num.any():
            out[is_num] = _to_float(arr[is_num])
        if is_str.any():
            out[is_str] = _parse_numbers(text_values(pd.Series(arr[is_str], dtype=object)), decimal_comma)
        return out
    return np.full(len(s), np.nan)


def present_non_numbers(s: pd.Series, decimal_comma: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(positions, texts) of values that are there but are not numbers (missing markers such as
    'NA' count as missing, not as text). Dates and other types count as not numbers."""
    s = _dense(s)
    if _is_number_dtype(s.dtype):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    text = text_values(s)
    present = ~np.asarray(pacompute.is_null(text).to_numpy(zero_copy_only=False), dtype=bool)
    markers = pacompute.is_in(text, value_set=pa.array(MISSING_MARKERS, type=text.type))
    present &= ~np.asarray(markers.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    bad = present & np.isnan(float_column(s, decimal_comma))
    where = np.flatnonzero(bad)
    return where, np.asarray(text.take(pa.array(where)).to_pylist(), dtype=object)


# --- Text --------------------------------------------------------------------------------


def class_label(v) -> str:
    """A value as a category or class name: 1.0 -> '1', 2.5 -> '2.5', True -> 'True'."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating, decimal.Decimal)):
        f = float(v)
        if math.isfinite(f) and f == round(f) and abs(f) < 1e15:
            return str(int(f))
        return repr(f)
    if isinstance(v, (numbers.Integral, np.integer)):
        return str(int(v))
    return str(v)


def _safe_str(v) -> str:
    s = v if isinstance(v, str) else class_label(v)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot be stored as UTF-8 text
        s = s.encode("utf-8", "replace").decode("utf-8")
    return s


def _labels_of_numbers(values: np.ndarray, missing: np.ndarray) -> pa.Array:
    """Canonical labels of float64 numbers, computed once per distinct value."""
    uniq, inverse = np.unique(np.where(missing, 0.0, values), return_inverse=True)
    labels = np.array([class_label(float(u)) for u in uniq], dtype=object)[inverse]
    return pa.array(labels, type=pa.large_string(), mask=missing)


def text_values(s: pd.Series) -> pa.Array:
    """A column as canonical text: stripped of spaces (ASCII), blank and missing values null,
    whole numbers without '.0' (1.0 -> '1'), booleans 'True'/'False'.

    The same function makes the categories when fitting and the text fed to an
    exported model, so a column that was float in training (it had a gap) and
    is integer in the new rows still finds its categories.
    """
    s = _dense(s)
    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype):
        arr = pa.array(s, from_pandas=True)
    elif pd.api.types.is_bool_dtype(dtype):
        missing = s.isna().to_numpy()
        arr = pa.array(np.where(s.fillna(False).to_numpy(dtype=bool), "True", "False"), type=pa.large_string(),
                       mask=missing)
    elif pd.api.types.is_integer_dtype(dtype) and not s.hasnans:
        arr = pa.array(s.astype(np.int64).astype(str).to_numpy(dtype=object), type=pa.large_string())
    elif _is_number_dtype(dtype):
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        arr = _labels_of_numbers(v, np.isnan(v))
    else:
        values = s.to_numpy(dtype=object)
        missing = pd.isna(values)
        if missing.ndim != 1:  # lists and arrays are not missing
            missing = np.zeros(len(values), dtype=bool)
        arr = pa.array([None if m else _safe_str(v) for v, m in zip(values, missing)], type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    arr = pacompute.utf8_trim(arr, characters=ASCII_SPACE)
    blank = pacompute.equal(arr, "")
    if pacompute.any(blank).as_py():
        arr = pacompute.if_else(blank, pa.scalar(None, arr.type), arr)
    return arr


def category_codes(text: pa.Array, categories) -> np.ndarray:
    """Index of each value in `categories`, -1 for missing or other values (int32)."""
    if not len(categories):
        return np.full(len(text), -1, dtype=np.int32)
    codes = pacompute.index_in(text, value_set=pa.array(list(categories), type=text.type))
    return np.asarray(codes.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int32)


# --- Analysis ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Analysis:
    """What a column holds, decided once.

    kind "numeric": `values` are float64 (possibly a read-only view of the
    column; not kept after fitting). kind "text": `text` holds the canonical
    strings in Arrow. "empty" and "unsupported" (with `reason`) are left out.
    """

    kind: str  # "numeric", "text", "empty" or "unsupported"
    values: np.ndarray | None = None
    text: pa.Array | None = None
    reason: str = ""
    from_text: bool = False  # numbers parsed from text
    decimal_comma: bool = False
    not_numbers: tuple = ()  # examples of text values treated as missing
    n_not_numbers: int = 0
    chosen: bool = False  # the kind was chosen by a person, not inferred


def _unsupported(s: pd.Series) -> str | None:
    """Why a column cannot be a feature at all, or None."""
    dtype = s.dtype
    if pd.api.types.is_complex_dtype(dtype):
        return "holds complex numbers"
    if _is_number_dtype(dtype) or isinstance(dtype, pd.StringDtype):
        return None
    if (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, (pd.PeriodDtype, pd.IntervalDtype))
    ):
        return "holds dates or times, which are not used as features"
    if not (pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)):
        return f"has the unsupported type {dtype}"
    arr = s.to_numpy(dtype=object)
    kinds = {type(v) for v in arr[~pd.isna(arr)]} if arr.size else set()
    if any(issubclass(k, _NESTED) for k in kinds):
        return "holds lists or nested records"
    if any(issubclass(k, (bytes, bytearray, memoryview)) for k in kinds):
        return "holds binary data"
    if any(k.__name__ in _TEMPORAL or issubclass(k, pd.Timestamp) for k in kinds):
        return "holds dates or times, which are not used as features"
    if any(issubclass(k, numbers.Complex) and not issubclass(k, numbers.Real) for k in kinds):
        return "holds complex numbers"
    return None


def _all_real(s: pd.Series) -> bool:
    if not (pd.api.types.is_object_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype)):
        return False
    arr = s.to_numpy(dtype=object)
    nonnull = arr[~pd.isna(arr)]
    return len(nonnull) > 0 and all(_is_real(v) for v in nonnull[:1000]) and all(_is_real(v) for v in nonnull)


def _numbers_in_text(s: pd.Series, text: pa.Array, n_present: int, force: bool) -> Analysis | None:
    """The numbers in a text column, if most values are numbers (or a person said so)."""
    present_idx = pacompute.indices_nonzero(pacompute.is_valid(text))
    sample = text.take(present_idx[:2000])
    best = None
    for comma in (False, True):
        if comma and not pacompute.any(pacompute.match_substring(sample, ",")).as_py():
            continue
        share = float((~np.isnan(_parse_numbers(sample, comma))).mean()) if len(sample) else 0.0
        if (share >= NUMERIC_SHARE or force) and (best is None or share > best[1]):
            best = (comma, share)
    if best is None:
        return None
    values = float_column(s, best[0])
    parsed = ~np.isnan(values)
    present = np.asarray(pacompute.is_valid(text).to_numpy(zero_copy_only=False), dtype=bool)
    n_parsed = int((parsed & present).sum())
    if n_parsed == 0 or (not force and n_parsed < NUMERIC_SHARE * n_present):
        return None
    bad = present & ~parsed
    examples = tuple(pacompute.unique(text.filter(pa.array(bad))).to_pylist()[:3])
    return Analysis("numeric", values, from_text=True, decimal_comma=best[0], not_numbers=examples,
                    n_not_numbers=int(bad.sum()), chosen=force)


def analyze(s: pd.Series, kind: str | None = None) -> Analysis:
    """Decides whether a column holds numbers, text, nothing, or something unusable.

    `kind` is a person's choice ("numeric" or "categorical"; None infers it):
    "categorical" reads any column as text categories, "numeric" reads the
    numbers in a text column however few they are (the rest count as missing).
    """
    s = _dense(s)
    reason = _unsupported(s)
    if reason is not None:
        return Analysis("unsupported", reason=reason)
    if kind == "categorical":
        text = text_values(s)
        return Analysis("text" if text.null_count < len(text) else "empty", text=text, chosen=True)
    if _is_number_dtype(s.dtype) or _all_real(s):
        values = float_column(s, writable=False)
        return Analysis("numeric" if not np.isnan(values).all() else "empty", values, chosen=kind is not None)
    text = text_values(s)
    n_present = len(text) - text.null_count
    if n_present == 0:
        return Analysis("empty")
    numeric = _numbers_in_text(s, text, n_present, force=kind == "numeric")
    if numeric is not None:
        return numeric
    if kind == "numeric":
        return Analysis("empty", reason="was chosen as numeric, but none of its values is a number")
    return Analysis("text", text=text)

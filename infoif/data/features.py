"""The feature columns: which become model inputs and why the others do not, then fitting.

    choose_features   analyses each candidate column once and decides -> Features
    fit_features      fits each column on the training rows, writes the inputs -> Fitted
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pacompute

from infoif.data.columns import Analysis, analyze, category_codes, float_column, looks_like_id_name
from infoif.data.errors import DataError, data_rows, name_list, number_text, plural, quote
from infoif.data.limits import MIN_ROWS
from infoif.data.pipeline import FeatureColumn, Pipeline, input_names, mean_std

if TYPE_CHECKING:
    from infoif.data.split import Options, Split

__all__ = ["Features", "choose_features", "Fitted", "fit_features"]


@dataclass
class Features:
    usable: list[tuple[str, Analysis]]  # numeric analyses keep values only when parsed from text
    decisions: dict[str, str]
    notes: list[str]
    problems: list[str]
    missing_rows: np.ndarray | None  # with missing="drop": rows (of `keep`) lacking a feature


def _numeric_reason(c: str, a: Analysis) -> tuple[str | None, np.ndarray]:
    """Why a numeric column is left out (None: it is used), and which values are not finite."""
    v = a.values
    is_finite = np.isfinite(v)
    n_finite = int(is_finite.sum())
    if n_finite == 0:
        return "empty", is_finite
    finite = v if n_finite == v.size else v[is_finite]  # no copy in the usual case
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:  # missing values would be filled with that value too
        where = "every row" if n_finite == v.size else "every row that has a value"
        return f"has the same value ({number_text(lo)}) in {where}", is_finite
    if (
        not a.chosen
        and n_finite == v.size
        and v.size >= MIN_ROWS
        and hi - lo + 1 >= v.size  # room for a different whole number in every row
        and (looks_like_id_name(c) or hi - lo + 1 <= 1.1 * v.size)
        and np.all(np.floor(finite) == finite)
        and np.unique(finite).size == v.size
    ):
        return "looks like an identifier (a different whole number in every row)", is_finite
    return None, is_finite


def _text_reason(c: str, a: Analysis, max_categories: int) -> tuple[str | None, int]:
    """Why a text column is left out (None: it is used), and its number of categories."""
    counts = pacompute.value_counts(a.text.drop_null())
    k = len(counts)
    n_present = len(a.text) - a.text.null_count
    if k == 1:
        return f"has the same text ({quote(counts.field('values')[0].as_py(), 30)}) in every row", k
    if a.chosen:
        return None, k
    if n_present >= MIN_ROWS and (k >= 0.9 * n_present or (looks_like_id_name(c) and k == n_present)):
        return (
            f"looks like an identifier or free text ({k:,} different values in {n_present:,} rows, "
            "so the values hardly repeat)"
        ), k
    if k > max_categories:
        return (f"is text with {k:,} different values, more than the {max_categories} categories that "
                "are one-hot encoded"), k
    return None, k


def choose_features(frame: pd.DataFrame, col: str, keep: np.ndarray, options: Options) -> Features:
    """Analyses each candidate column once (on the rows with a target) and decides."""
    names = list(frame.columns)
    notes, problems = [], []
    if options.features is None:
        candidates = [c for c in names if c != col]
    else:
        unknown = [f for f in options.features if f not in names]
        if unknown:
            problems.append(f"There is no column {name_list(unknown)}; the columns are {name_list(names, 30)}.")
        candidates = [c for c in dict.fromkeys(options.features) if c in names and c != col]
        if col in options.features:
            notes.append(f"The target {quote(col)} is not also used as a feature.")
    unknown_kinds = [c for c in options.kinds if c not in names]
    if unknown_kinds:
        problems.append(f"There is no column {name_list(unknown_kinds)} to choose a kind for; the columns are "
                        f"{name_list(names, 30)}.")
    drop = options.missing == "drop"
    missing_rows = np.zeros(len(keep), dtype=bool) if drop else None
    usable, dropped = [], []
    subset = len(keep) < len(frame)
    for c in candidates:
        a = analyze(frame[c].iloc[keep] if subset else frame[c], options.kinds.get(c))
        if a.kind in ("empty", "unsupported"):
            dropped.append((c, a.reason or "empty"))
            continue
        if a.kind == "numeric":
            reason, finite = _numeric_reason(c, a)
            if reason is None and drop:
                missing_rows |= ~finite
            kept = dataclasses.replace(a, values=a.values if a.from_text else None)
        else:
            reason, k = _text_reason(c, a, options.max_categories)
            if reason is None and drop:
                missing_rows |= np.asarray(pacompute.is_null(a.text).to_numpy(zero_copy_only=False), dtype=bool)
            kept = a
        if reason is None:
            usable.append((c, kept))
        else:
            dropped.append((c, reason))
    for c, reason in dropped:
        notes.append(f"Left out column {quote(c)}: it {'has no values' if reason == 'empty' else reason}.")
    if not usable:
        problems += _no_feature_problems(candidates, dropped, frame.shape[1])
    if drop and usable and missing_rows.any():
        notes.append(
            f"Left out {plural(int(missing_rows.sum()), 'row')} with a missing or infinite "
            f"feature value ({data_rows(keep[missing_rows])})."
        )
        usable = [(c, _rows_of(a, ~missing_rows)) for c, a in usable]
    decisions = {c: "not used" for c in names if c != col and c not in candidates}
    decisions.update({c: "left out: " + ("it has no values" if r == "empty" else f"it {r}") for c, r in dropped})
    return Features(usable, decisions, notes, problems, missing_rows if drop and usable else None)


def _rows_of(a: Analysis, mask: np.ndarray) -> Analysis:
    """The analysis of the rows where `mask` is true (what stays when rows are dropped)."""
    return dataclasses.replace(
        a, values=None if a.values is None else a.values[mask],
        text=None if a.text is None else a.text.filter(pa.array(mask)),
    )


def _no_feature_problems(candidates, dropped, n_columns) -> list[str]:
    if candidates and all(r == "empty" for _, r in dropped):
        return [
            f"Every feature column is empty: {name_list(candidates)} "
            f"{'has' if len(candidates) == 1 else 'have'} no values. Fill in the data, or "
            "choose a file where the feature columns have values."
        ]
    if candidates:
        why = "; ".join(f"{quote(c)} {'has no values' if r == 'empty' else r}" for c, r in dropped[:8])
        more = f"; and {len(dropped) - 8} more" if len(dropped) > 8 else ""
        return [
            f"No column can be used as a feature: {why}{more}. A model needs at least one "
            "column of numbers or categories besides the target."
        ]
    if n_columns > 1:
        return ["No feature column is left besides the target. Choose at least one other column."]
    return []


@dataclass
class Fitted:
    pipeline: Pipeline
    x_train: np.ndarray
    x_val: np.ndarray
    notes: list[str]
    decisions: dict[str, str]


def _fit_numeric(c: str, a: Analysis, raw: pd.Series, rows: Split):
    """(FeatureColumn, filled values, [mean], [std], notes) of a numeric column."""
    v = a.values if a.values is not None else float_column(raw, a.decimal_comma)
    bad = ~np.isfinite(v)
    n_bad = int(bad.sum())
    n_inf = int(np.isinf(v).sum()) if n_bad else 0
    n_nan = n_bad - n_inf
    tv = v[rows.train]
    if n_bad:
        tv = tv[np.isfinite(tv)]
    fill = float(np.median(tv, overwrite_input=True)) if tv.size else 0.0
    del tv
    if n_bad:
        v[bad] = fill
    fc = FeatureColumn(c, "numeric", fill=fill, decimal_comma=a.decimal_comma,
                       text_is_missing=a.from_text and a.n_not_numbers > 0)
    notes = []
    if a.from_text:
        extra = (
            f"; {plural(a.n_not_numbers, 'value')} that {'is' if a.n_not_numbers == 1 else 'are'} not a "
            f"number ({name_list(a.not_numbers)}) count as missing" if a.n_not_numbers else ""
        )
        notes.append(f"Column {quote(c)} is text holding numbers, read as numbers{extra}.")
    if n_inf or n_nan:
        parts = [plural(n, what) for n, what in ((n_nan, "missing value"), (n_inf, "infinite value")) if n]
        notes.append(
            f"Column {quote(c)}: {' and '.join(parts)} filled with the median of the training part "
            f"({number_text(fill)})."
        )
    m, sd = mean_std(v[rows.train])
    return fc, v, [m], [sd], notes


def _fit_category(c: str, a: Analysis, rows: Split):
    """(FeatureColumn or None, codes, means, stds, notes) of a category column: inputs are 0/1,
    so mean = the category's share p and std = sqrt(p (1 - p))."""
    text = a.text
    cats = tuple(sorted(pacompute.unique(text.take(pa.array(rows.train)).drop_null()).to_pylist()))
    if not cats:
        return None, None, [], [], [f"Left out column {quote(c)}: it has no values in the training rows."]
    v = category_codes(text, cats)
    n_nan = text.null_count
    unseen = int(((v < 0) & ~np.asarray(pacompute.is_null(text).to_numpy(zero_copy_only=False))).sum())
    msg = (f"Column {quote(c)} is text with {len(cats)} categories ({name_list(cats, 6)}), one-hot "
           f"encoded into {len(cats)} inputs")
    if a.chosen:
        msg = (f"Column {quote(c)} is used as categories, as chosen: {len(cats)} of them "
               f"({name_list(cats, 6)}), one-hot encoded into {len(cats)} inputs")
    if n_nan:
        msg += f"; its {plural(n_nan, 'missing value')} get no category"
    if unseen:
        msg += f"; {plural(unseen, 'value')} seen only in validation rows get no category"
    train_codes = v[rows.train]
    means, stds = [], []
    for k in range(len(cats)):
        p = np.count_nonzero(train_codes == k) / max(1, len(train_codes))
        sd = math.sqrt(p * (1.0 - p))
        means.append(p)
        stds.append(sd if sd > 1e-12 else 1.0)
    return FeatureColumn(c, "category", categories=cats), v, means, stds, [msg + "."]


def fit_features(frame: pd.DataFrame, usable, keep: np.ndarray, rows: Split, n_all: int) -> Fitted:
    """Fits each column on the training part and writes its standardized inputs, one column at a
    time, so that only one column's values are in memory besides the output arrays."""
    width = sum(1 if a.kind == "numeric" else len(pacompute.unique(a.text.drop_null())) for _, a in usable)
    x_train = np.empty((len(rows.train), width), dtype=np.float32)
    x_val = np.empty((len(rows.val), width), dtype=np.float32)
    cols, means, stds, notes, decisions = [], [], [], [], {}
    subset = len(keep) < n_all
    for c, a in usable:
        if a.kind == "numeric":
            raw = frame[c].iloc[keep] if subset else frame[c]
            fc, v, m, sd, more = _fit_numeric(c, a, raw, rows)
            decisions[c] = "numeric" + (" (read from text)" if a.from_text else "")
        else:
            fc, v, m, sd, more = _fit_category(c, a, rows)
            decisions[c] = f"categories ({fc.width})" if fc is not None else "left out: no values in training"
        notes += more
        if fc is None:
            continue
        j = len(means)
        means += m
        stds += sd
        cols.append(fc)
        mean_arr, std_arr = np.array(m), np.array(sd)
        fc.write(v[rows.train], x_train[:, j : j + fc.width], mean_arr, std_arr)
        fc.write(v[rows.val], x_val[:, j : j + fc.width], mean_arr, std_arr)
        del v
    d = len(means)
    if d == 0:
        raise DataError(
            "No column can be used as a feature: the feature columns have no values in the "
            "training rows. Fill in the data, or choose other feature columns."
        )
    if width != d:
        x_train, x_val = x_train[:, :d].copy(), x_val[:, :d].copy()
    cols = [dataclasses.replace(fc, input=key) for fc, key in zip(cols, input_names(fc.name for fc in cols))]
    pipeline = Pipeline(tuple(cols), np.array(means, dtype=np.float64), np.array(stds, dtype=np.float64))
    notes.append(
        f"Standardized the {plural(d, 'input')} to mean 0 and standard deviation 1 with "
        "statistics from the training part only."
    )
    return Fitted(pipeline, x_train, x_val, notes, decisions)

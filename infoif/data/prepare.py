"""`prepare`: a table in, standardized training and validation arrays out, with a report.

`prepare` orchestrates stages, each a function that returns a small
dataclass and can be tested alone:

    _arguments        the options, checked (programmer errors) -> Options
    _start            the table, its name and the load notes -> Start
    resolve_target    which column is the target -> TargetChoice
    read_target       its values and missing rows -> TargetValues
    choose_features   which columns become features, and why the others not -> Features
    decide_task       task, classes and their names -> TaskPlan
    split             train and validation rows -> Split
    fit_features      the fitted Pipeline and the input arrays -> Fitted
    fit_target        the TargetEncoding and the target arrays -> FittedTarget

Every problem a user can cause is collected and raised together as one
`DataError`. Given the same table, options and seed, `prepare` gives the
same arrays, in any process.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pacompute

from infoif.constants import CLASSIFICATION_TASKS, TASKS
from infoif.data.columns import KINDS, Analysis, analyze, category_codes, class_label, float_column, looks_like_id_name
from infoif.data.dataset import Dataset
from infoif.data.errors import DataError, data_rows, name_list, number_text, plural, quote
from infoif.data.limits import MAX_CATEGORIES, MAX_CLASSES, MAX_FEATURES, MIN_ROWS
from infoif.data.load import Loaded
from infoif.data.pipeline import FeatureColumn, Pipeline, TargetEncoding, input_names, mean_std
from infoif.data.tidy import clean_names

__all__ = ["prepare", "Options", "MISSING", "MISSING_TARGET"]

MISSING = ("impute", "drop")
MISSING_TARGET = ("drop", "error")


def prepare(
    df,
    target: str,
    task: str | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    *,
    features: list[str] | None = None,
    kinds: dict[str, str] | None = None,
    name: str | None = None,
    missing: str = "impute",
    missing_target: str = "drop",
    max_categories: int = MAX_CATEGORIES,
) -> Dataset:
    """Turns a table into standardized training and validation arrays.

    Args:
        df: the table: a DataFrame, or what `read_table` returns (its load
            notes then head the report, and its file name names the dataset).
        target: the column to predict.
        task: "binary", "multiclass" or "regression"; None infers it: a target
            with two values is binary; text, or whole numbers with 3 to 20
            values and at least 5 rows per value, is multiclass; other numbers
            are regression.
        val_fraction: share of rows held out for validation (0 < f <= 0.5);
            the split is random with `seed`, stratified by class.
        features: columns to use (default: all but the target). Numeric
            columns are used as they are; text columns with at most
            `max_categories` values are one-hot encoded; identifiers,
            constants, empty columns, free text and dates are left out with a
            note in the report.
        kinds: a person's choice per column, "numeric" or "categorical"
            (e.g. {"zip": "categorical"}); chosen columns skip the guesses
            about identifiers and the `max_categories` limit.
        name: a name for the dataset (default: the file's name, or "data").
        missing: "impute" (numbers get the training median, text gets no
            category) or "drop" (rows with a missing feature are left out).
            Infinite numbers count as missing.
        missing_target: "drop" leaves out rows without a target value (with a
            note); "error" raises `DataError` naming those rows.
        max_categories: most values a text column may have to be one-hot encoded.

    Every option is a plain JSON value; `Dataset.options` records them.

    Returns:
        A `Dataset`.

    Raises:
        DataError: a user-caused problem (every one found is in the message).
    """
    options = _arguments(df, target, task, val_fraction, seed, features, kinds, missing, missing_target,
                         max_categories)
    start = _start(df, name)
    report, frame, n_all = start.report, start.frame, len(start.frame)
    choice = resolve_target(start.names, target)
    problems = start.problems + choice.problems + _setting_problems(task, val_fraction, seed)
    report += choice.notes
    if problems and (choice.column is None or frame.shape[1] == 1):
        raise DataError(*problems)
    val_fraction = 0.2 if problems else float(val_fraction)  # keep looking with a valid value
    col = choice.column
    y = read_target(frame[col], col, missing_target)
    report += y.notes
    problems += y.problems
    keep = np.flatnonzero(~y.missing)
    feats = choose_features(frame, col, keep, options)
    report += feats.notes
    problems += feats.problems
    keep = keep[~feats.missing_rows] if feats.missing_rows is not None else keep
    plan = decide_task(y, keep, task, col, pd.api.types.is_bool_dtype(frame[col].dtype))
    problems += plan.problems + _size_problems(len(keep), n_all, val_fraction, feats.usable)
    if problems:
        raise DataError(*problems)
    report.append(plan.note)
    rows = split(plan.codes, len(keep), plan.classification, val_fraction, seed)
    report.append(rows.note)
    fitted = fit_features(frame, feats.usable, keep, rows, n_all)
    report += fitted.notes
    answer = fit_target(plan, rows, col, task_name=plan.task)
    report += answer.notes
    decisions = {**feats.decisions, **fitted.decisions}
    return Dataset(
        name=start.name, target=col, task=plan.task,
        x_train=fitted.x_train, y_train=answer.y_train, x_val=fitted.x_val, y_val=answer.y_val,
        report=report, pipeline=fitted.pipeline, target_encoding=answer.encoding,
        train_rows=keep[rows.train].astype(np.int64), val_rows=keep[rows.val].astype(np.int64),
        decisions={c: decisions[c] for c in start.names if c in decisions}, options=options.to_dict(),
    )


# --- Arguments and the table -----------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """`prepare`'s options as plain values (what a worker needs to prepare the same arrays)."""

    target: str | None
    task: str | None
    val_fraction: float
    seed: int
    features: list[str] | None
    kinds: dict[str, str]
    missing: str
    missing_target: str
    max_categories: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _arguments(df, target, task, val_fraction, seed, features, kinds, missing, missing_target,
               max_categories) -> Options:
    """Programmer errors raise at once (TypeError/ValueError); a user's settings are checked
    later, with the data, so that all their problems come in one message."""
    if not isinstance(df, (pd.DataFrame, Loaded)):
        raise TypeError(f"`df` must be a pandas DataFrame or a Loaded table. Received: df={type(df).__name__}")
    if missing not in MISSING:
        raise ValueError(f"`missing` must be one of {list(MISSING)}. Received: missing={missing!r}")
    if missing_target not in MISSING_TARGET:
        raise ValueError(
            f"`missing_target` must be one of {list(MISSING_TARGET)}. Received: missing_target={missing_target!r}"
        )
    if features is not None and (isinstance(features, str) or not all(isinstance(f, str) for f in features)):
        raise ValueError(f"`features` must be a list of column names or None. Received: features={features!r}")
    kinds = dict(kinds or {})
    if not all(isinstance(k, str) and v in KINDS for k, v in kinds.items()):
        raise ValueError(f"`kinds` must map column names to one of {list(KINDS)}. Received: kinds={kinds!r}")
    if isinstance(max_categories, bool) or not isinstance(max_categories, numbers.Integral) or max_categories < 1:
        raise ValueError(f"`max_categories` must be a positive integer. Received: max_categories={max_categories!r}")
    json_seed = int(seed) if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) else seed
    json_fraction = float(val_fraction) if isinstance(val_fraction, numbers.Real) else val_fraction
    return Options(None if target is None else str(target), task, json_fraction, json_seed,
                   None if features is None else [str(f) for f in features], kinds, missing, missing_target,
                   int(max_categories))


def _setting_problems(task, val_fraction, seed) -> list[str]:
    problems = []
    if task is not None and task not in TASKS:
        problems.append(f"The task {quote(task)} is unknown; choose binary, multiclass or regression.")
    if not (isinstance(val_fraction, numbers.Real) and 0 < float(val_fraction) <= 0.5):
        problems.append(
            f"The validation share must be a number above 0 and at most 0.5; it is {val_fraction!r}."
        )
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        problems.append(f"The seed must be a whole number of 0 or more; it is {seed!r}.")
    return problems


@dataclass
class Start:
    frame: pd.DataFrame  # with clean, unique column names
    names: list[str]
    name: str
    report: list[str]
    problems: list[str]


def _start(df, name) -> Start:
    report: list[str] = []
    if isinstance(df, Loaded):
        report += list(df.report.notes)
        name = name or df.report.name
        df = df.frame
    names, notes = clean_names(list(df.columns))
    report += [n for n in notes if n not in report]
    frame = df.set_axis(names, axis=1)
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError("The table is empty: it has no rows or no columns. Choose a file with data.")
    problems = []
    if frame.shape[1] == 1:
        problems.append(
            f"The table has only one column ({quote(names[0])}), but a model needs a target column "
            "and at least one feature column. If the file has more columns, its separator was "
            "not recognised: use commas, semicolons, tabs or | between values."
        )
    return Start(frame, names, str(name or "data"), report, problems)


# --- The target ------------------------------------------------------------------------------


@dataclass
class TargetChoice:
    column: str | None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def resolve_target(names: list[str], target) -> TargetChoice:
    """The target column: exact, or the one name that matches ignoring case and spaces."""
    if target is None or (isinstance(target, str) and not target.strip()):
        return TargetChoice(None, problems=[
            f"No target column was chosen. Choose the column to predict; the columns are "
            f"{name_list(names, 30)}."
        ])
    target = str(target)
    if target in names:
        return TargetChoice(target)
    loose = [n for n in names if n.strip().casefold() == target.strip().casefold()]
    if len(loose) == 1:
        return TargetChoice(loose[0], notes=[f"Used the column {quote(loose[0])} as the target {quote(target)}."])
    return TargetChoice(None, problems=[
        f"There is no column {quote(target)} to use as the target. The columns are "
        f"{name_list(names, 30)}; choose one of them."
    ])


@dataclass
class TargetValues:
    kind: str  # "numeric" or "text"
    values: object  # float64 array (numeric, infinities as NaN) or Arrow text
    missing: np.ndarray  # bool per row
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_target(s: pd.Series, col: str, missing_target: str) -> TargetValues:
    """The target's values and which rows lack one (raises when there is nothing to predict)."""
    a = analyze(s)
    if a.kind not in ("numeric", "text"):
        reason = "has no values" if a.kind == "empty" else a.reason
        raise DataError(
            f"The target column {quote(col)} {reason}, so there is nothing to predict. Choose a column "
            "that holds a label or a number for every row."
        )
    notes, problems = [], []
    n_inf = 0
    if a.kind == "numeric":
        values = np.asarray(a.values, dtype=np.float64)
        n_inf = int(np.isinf(values).sum())
        if n_inf:
            values = np.where(np.isinf(values), np.nan, values)
        missing = np.isnan(values)
        if a.from_text and a.n_not_numbers:
            notes.append(
                f"The target {quote(col)} holds numbers; {plural(a.n_not_numbers, 'value')} that "
                f"{'is' if a.n_not_numbers == 1 else 'are'} not a number ({name_list(a.not_numbers)}) "
                "count as missing."
            )
    else:
        values = a.text
        missing = np.asarray(pacompute.is_null(values).to_numpy(zero_copy_only=False), dtype=bool)
    n_missing = int(missing.sum())
    if n_missing == len(missing):
        raise DataError(
            f"The target column {quote(col)} has no values in any row, so there is nothing to learn "
            "from. Choose a column that holds a label or a number for every row."
        )
    if n_missing:
        where = data_rows(np.flatnonzero(missing))
        inf_note = f" ({n_inf} of them infinite)" if n_inf else ""
        if missing_target == "error":
            problems.append(
                f"The target column {quote(col)} has {plural(n_missing, 'missing value')}{inf_note} "
                f"({where}). Fill in those values, or remove those rows."
            )
        else:
            notes.append(f"Left out {plural(n_missing, 'row')} whose target {quote(col)} is missing{inf_note} ({where}).")
    return TargetValues(a.kind, values, missing, notes, problems)


# --- Features --------------------------------------------------------------------------------


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


# --- The task ---------------------------------------------------------------------------------


@dataclass
class TaskPlan:
    task: str | None
    classification: bool
    codes: np.ndarray | None  # classification: class index per kept row
    floats: np.ndarray | None  # regression: target per kept row
    class_names: list[str] | None
    class_values: tuple | None
    note: str = ""
    problems: list[str] = field(default_factory=list)


def decide_task(y: TargetValues, keep: np.ndarray, task: str | None, col: str, bool_target: bool) -> TaskPlan:
    """The task (inferred or checked), and the classes with their names, on the kept rows."""
    n = len(keep)
    problems = []
    how = "chosen" if task is not None else "inferred"
    codes = floats = class_names = values = None
    if y.kind == "numeric":
        yv = y.values[keep] if len(keep) < len(y.values) else y.values
        uniq = np.unique(yv)
        k = uniq.size
        integral = bool(np.all(np.floor(uniq) == uniq))
        if task is None:
            task = "binary" if k == 2 else "multiclass" if integral and 3 <= k <= 20 and k * 5 <= n else "regression"
        if task == "regression":
            if k <= 1:
                problems.append(
                    f"The target {quote(col)} has the same value ({number_text(uniq[0]) if k else '-'}) in "
                    "every row, so there is nothing to predict. Choose a column whose values vary."
                )
            floats = yv
        else:
            codes = np.searchsorted(uniq, yv).astype(np.int64, copy=False)
            if bool_target:
                class_names, values = [str(bool(u)) for u in uniq], tuple(bool(u) for u in uniq)
            else:
                class_names = [class_label(float(u)) for u in uniq]
                values = tuple(int(u) if float(u).is_integer() and abs(u) < 1e15 else float(u) for u in uniq)
    else:
        text = y.values.take(pa.array(keep)) if len(keep) < len(y.values) else y.values
        uniq = sorted(pacompute.unique(text).to_pylist())
        k = len(uniq)
        codes = category_codes(text, uniq).astype(np.int64)
        if task == "regression":
            problems.append(
                f"The target {quote(col)} holds text (like {quote(uniq[0])}), but regression predicts "
                "numbers. Choose binary or multiclass, or a numeric target."
            )
        elif task is None:
            task = "binary" if k == 2 else "multiclass"
        class_names = [str(u) for u in uniq]
        values = tuple(class_names)
    classification = task in CLASSIFICATION_TASKS and class_names is not None
    if classification:
        problems += _class_problems(col, task, class_names, n, y.kind == "numeric")
    if not classification:
        note = f"Target {quote(col)}: regression (predicting a number); task {how}."
    elif problems:
        note = ""
    else:
        counts = np.bincount(codes, minlength=len(class_names))
        shown = ", ".join(f"{quote(c, 30)}: {m:,}" for c, m in list(zip(class_names, counts))[:10])
        if len(class_names) > 10:
            shown += f", and {len(class_names) - 10} more"
        note = (f"Target {quote(col)}: {task} classification with {len(class_names)} classes ({shown}); "
                f"task {how}.")
    return TaskPlan(task, classification, codes if classification else None, floats, class_names if classification
                    else None, values if classification else None, note, problems)


def _class_problems(col: str, task: str, class_names: list[str], n: int, numeric: bool) -> list[str]:
    k = len(class_names)
    if k < 2:
        only = class_names[0] if class_names else "-"
        return [
            f"The target {quote(col)} has only one class ({quote(only)}) in all {n:,} rows; a "
            "model needs examples of at least two classes. Choose another target, or add "
            "rows of the other classes."
        ]
    if k > MAX_CLASSES or (k > 2 and k > n / 2):
        return [
            f"The target {quote(col)} has {k:,} different values in {n:,} rows, so nearly every "
            "row is its own class and there is nothing to generalize from. Choose a column "
            "that holds a category (a label shared by many rows)"
            + (", or the task 'regression' if it is a measured number." if numeric else ".")
        ]
    if task == "binary" and k != 2:
        return [
            f"The task is binary, but the target {quote(col)} has {k} classes "
            f"({name_list(class_names)}). Choose multiclass, or a target with two values."
        ]
    return []


def _size_problems(n: int, n_all: int, val_fraction: float, usable) -> list[str]:
    problems = []
    if n < MIN_ROWS:
        lost = f" ({n_all - n:,} of the {n_all:,} rows were left out, see above)" if n < n_all else ""
        problems.append(
            f"Only {plural(n, 'row')} can be used{lost}, but at least {MIN_ROWS} are needed: most "
            f"train the model and the rest ({val_fraction:.0%}) check it. Add more rows."
        )
    width = sum(1 if a.kind == "numeric" else len(pacompute.unique(a.text.drop_null())) for _, a in usable)
    if width > MAX_FEATURES:
        problems.append(
            f"The columns would make {width:,} model inputs (each category becomes one); the "
            f"limit is {MAX_FEATURES:,}. Choose fewer columns."
        )
    return problems


# --- Split and fit ----------------------------------------------------------------------------


@dataclass
class Split:
    train: np.ndarray  # positions in the kept rows
    val: np.ndarray
    note: str


def split(codes, n: int, classification: bool, val_fraction: float, seed: int) -> Split:
    """A random split with `seed`, stratified by class: each class keeps its share."""
    rng = np.random.default_rng(seed)
    if classification:
        train, val = [], []
        for k in range(int(codes.max()) + 1):
            idx = np.flatnonzero(codes == k)
            rng.shuffle(idx)
            c = len(idx)
            nv = min(int(round(val_fraction * c)), c - 1) if c >= 2 else 0
            val.append(idx[:nv])
            train.append(idx[nv:])
        train, val = np.concatenate(train), np.concatenate(val)
        if len(val) == 0:  # tiny classes: move one row of the largest class
            counts = np.bincount(codes[train])
            k = int(np.argmax(counts))
            pick = np.flatnonzero(codes[train] == k)[0]
            val = train[pick : pick + 1]
            train = np.delete(train, pick)
    else:
        perm = rng.permutation(n)
        nv = min(max(1, int(round(val_fraction * n))), n - 1)
        val, train = perm[:nv], perm[nv:]
    train, val = rng.permutation(train), rng.permutation(val)
    note = (
        f"Split the {n:,} rows at random (seed {seed}) into {len(train):,} for training and "
        f"{len(val):,} for validation ({val_fraction:.0%})"
        + (", keeping the share of each class." if classification else ".")
    )
    return Split(train, val, note)


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


@dataclass
class FittedTarget:
    encoding: TargetEncoding
    y_train: np.ndarray
    y_val: np.ndarray
    notes: list[str]


def fit_target(plan: TaskPlan, rows: Split, col: str, task_name: str) -> FittedTarget:
    """Class indices as they are; a regression target standardized with the training part's
    mean and standard deviation (kept in the `TargetEncoding` to answer in its units)."""
    if plan.classification:
        encoding = TargetEncoding(col, task_name, tuple(plan.class_names), plan.class_values)
        return FittedTarget(encoding, np.ascontiguousarray(plan.codes[rows.train]),
                            np.ascontiguousarray(plan.codes[rows.val]), [])
    mean, std = mean_std(plan.floats[rows.train])
    encoding = TargetEncoding(col, task_name, mean=mean, std=std)
    note = (
        f"Standardized the target {quote(col)} with the training part's mean ({mean:.4g}) and "
        f"standard deviation ({std:.4g}), so errors such as the MAE are in standard deviations of the "
        f"target: multiply by {std:.4g} to get them in the target's own units."
    )
    return FittedTarget(encoding, encoding.standardize(plan.floats[rows.train]),
                        encoding.standardize(plan.floats[rows.val]), [note])

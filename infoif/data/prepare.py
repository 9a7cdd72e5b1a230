"""`prepare`: a table in, standardized training and validation arrays out, with a report.

`prepare` orchestrates stages, each a function that returns a small
dataclass and can be tested alone:

    _arguments        the options, checked (programmer errors) -> Options     (here; Options in split.py)
    _start            the table, its name and the load notes -> Start         (here)
    resolve_target    which column is the target -> TargetChoice              (target.py)
    read_target       its values and missing rows -> TargetValues             (target.py)
    choose_features   which columns become features, and why not -> Features  (features.py)
    decide_task       task, classes and their names -> TaskPlan               (target.py)
    split             train and validation rows -> Split                      (split.py)
    fit_features      the fitted Pipeline and the input arrays -> Fitted      (features.py)
    fit_target        the TargetEncoding and the target arrays -> FittedTarget (target.py)

Every problem a user can cause is collected and raised together as one
`DataError`. Given the same table, options and seed, `prepare` gives the
same arrays, in any process.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pacompute

from infoif.constants import TASKS
from infoif.data.columns import KINDS
from infoif.data.dataset import Dataset
from infoif.data.errors import DataError, plural, quote
from infoif.data.features import choose_features, fit_features
from infoif.data.limits import MAX_CATEGORIES, MAX_FEATURES, MIN_ROWS
from infoif.data.load import Loaded
from infoif.data.split import Options, split
from infoif.data.target import decide_task, fit_target, read_target, resolve_target
from infoif.data.tidy import clean_names
from infoif.validate import one_of, positive_int

__all__ = ["prepare", "Options", "Split", "split", "MISSING", "MISSING_TARGET"]

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
    answer = fit_target(plan, rows, col)
    report += answer.notes
    decisions = {**feats.decisions, **fitted.decisions}
    return Dataset(
        name=start.name, target=col, task=plan.task,
        x_train=fitted.x_train, y_train=answer.y_train, x_val=fitted.x_val, y_val=answer.y_val,
        report=report, pipeline=fitted.pipeline, target_encoding=answer.encoding,
        train_rows=keep[rows.train].astype(np.int64), val_rows=keep[rows.val].astype(np.int64),
        decisions={c: decisions[c] for c in start.names if c in decisions}, options=options.to_dict(),
    )


# --- Arguments and the table ----------------------------------------------------------------


def _arguments(df, target, task, val_fraction, seed, features, kinds, missing, missing_target,
               max_categories) -> Options:
    """Programmer errors raise at once (TypeError/ValueError); a user's settings are checked
    later, with the data, so that all their problems come in one message."""
    if not isinstance(df, (pd.DataFrame, Loaded)):
        raise TypeError(f"`df` must be a pandas DataFrame or a Loaded table. Received: df={type(df).__name__}")
    one_of("missing", missing, MISSING)
    one_of("missing_target", missing_target, MISSING_TARGET)
    positive_int("max_categories", max_categories)
    if features is not None and (isinstance(features, str) or not all(isinstance(f, str) for f in features)):
        raise ValueError(f"`features` must be a list of column names or None. Received: features={features!r}")
    kinds = dict(kinds or {})
    if not all(isinstance(k, str) and v in KINDS for k, v in kinds.items()):
        raise ValueError(f"`kinds` must map column names to one of {list(KINDS)}. Received: kinds={kinds!r}")
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


# --- Limits and the split -----------------------------------------------------------------------


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

"""The target column: which one it is, its values, the task and classes, and its encoding.

    resolve_target   which column -> TargetChoice
    read_target      its values and the rows that lack one -> TargetValues
    decide_task      the task (inferred or checked) and the classes -> TaskPlan
    fit_target       the TargetEncoding and the target arrays -> FittedTarget
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pacompute

from infoif.constants import CLASSIFICATION_TASKS
from infoif.data.columns import analyze, category_codes, class_label
from infoif.data.errors import DataError, data_rows, name_list, number_text, plural, quote
from infoif.data.limits import MAX_CLASSES
from infoif.data.pipeline import TargetEncoding, mean_std

if TYPE_CHECKING:
    from infoif.data.split import Split

__all__ = ["TargetChoice", "resolve_target", "TargetValues", "read_target", "TaskPlan", "decide_task",
           "FittedTarget", "fit_target"]


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


@dataclass
class FittedTarget:
    encoding: TargetEncoding
    y_train: np.ndarray
    y_val: np.ndarray
    notes: list[str]


def fit_target(plan: TaskPlan, rows: Split, col: str) -> FittedTarget:
    """Class indices as they are; a regression target standardized with the training part's
    mean and standard deviation (kept in the `TargetEncoding` to answer in its units)."""
    if plan.classification:
        encoding = TargetEncoding(col, plan.task, tuple(plan.class_names), plan.class_values)
        return FittedTarget(encoding, np.ascontiguousarray(plan.codes[rows.train]),
                            np.ascontiguousarray(plan.codes[rows.val]), [])
    mean, std = mean_std(plan.floats[rows.train])
    encoding = TargetEncoding(col, plan.task, mean=mean, std=std)
    note = (
        f"Standardized the target {quote(col)} with the training part's mean ({mean:.4g}) and "
        f"standard deviation ({std:.4g}), so errors such as the MAE are in standard deviations of the "
        f"target: multiply by {std:.4g} to get them in the target's own units."
    )
    return FittedTarget(encoding, encoding.standardize(plan.floats[rows.train]),
                        encoding.standardize(plan.floats[rows.val]), [note])

"""A freshly read table made tidy: clean, unique column names; no empty unnamed columns
(a separator at the end of every line) and no empty rows; Arrow to pandas column by column."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pacompute

from infoif.data.errors import DataError, name_list, plural, quote

__all__ = ["clean_names", "tidy_arrow", "tidy_pandas", "arrow_to_pandas"]


def _dedupe(names: list[str]) -> tuple[list[str], list[str]]:
    """Makes column names unique the way pandas does ('a', 'a.1', ...)."""
    seen: set[str] = set()
    out, renamed = [], []
    for name in names:
        new, k = name, 0
        while new in seen:
            k += 1
            new = f"{name}.{k}"
        if new != name:
            renamed.append(f"{quote(name)} → {quote(new)}")
        seen.add(new)
        out.append(new)
    return out, renamed


def _unquoted(name: str) -> str:
    """'vote' -> vote and "vote" -> vote (a name in its own quotes); other names unchanged."""
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"`" and name[0] not in name[1:-1]:
        return name[1:-1].strip()
    return name


def clean_names(names) -> tuple[list[str], list[str]]:
    """Column names as stripped, unquoted, non-empty, unique strings, and notes on what changed."""
    notes = []
    clean, quoted = [], []
    for i, name in enumerate(names):
        s = "" if name is None else str(name)
        if i == 0:
            s = s.lstrip("\ufeff").removeprefix("ï»¿")
        s = s.strip()
        unquoted = _unquoted(s)
        if unquoted != s and unquoted:
            quoted.append(unquoted)
            s = unquoted
        clean.append(s if s else f"Unnamed: {i}")
    if quoted:
        notes.append(f"Took the quotes off the column {'name' if len(quoted) == 1 else 'names'} "
                     f"{name_list(quoted)}.")
    unnamed = [c for c, n in zip(clean, names) if not str("" if n is None else n).strip()]
    if unnamed:
        notes.append(f"Columns without a name were called {name_list(unnamed)}.")
    clean, renamed = _dedupe(clean)
    if renamed:
        notes.append(
            "Some column names appear more than once, so the repeats were renamed: "
            + ", ".join(renamed[:12])
            + ("." if len(renamed) <= 12 else f" and {len(renamed) - 12} more.")
        )
    return clean, notes


def tidy_arrow(table: pa.Table) -> tuple[pa.Table, list[str]]:
    """Clean names, drop empty unnamed columns (trailing separators) and empty rows."""
    notes = []
    raw = table.column_names
    if table.num_rows:
        keep = [
            i for i, name in enumerate(raw)
            if str(name).strip() or table.column(i).null_count < table.num_rows
        ]
        if keep and len(keep) < len(raw):
            table = table.select(keep)
            notes.append(
                f"Dropped {plural(len(raw) - len(keep), 'empty column')} without a name "
                "(usually a separator at the end of every line)."
            )
    names, name_notes = clean_names(table.column_names)
    table = table.rename_columns(names)
    notes = name_notes + notes
    if table.num_rows and table.num_columns and min(c.null_count for c in table.columns) > 0:
        empty = None
        for col in table.columns:
            nulls = pacompute.is_null(col)
            empty = nulls if empty is None else pacompute.and_(empty, nulls)
        n_empty = pacompute.sum(empty).as_py() or 0
        if n_empty:
            table = table.filter(pacompute.invert(empty))
            notes.append(f"Skipped {plural(n_empty, 'empty row')} (no value in any column).")
    return table, notes


def tidy_pandas(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Clean names and drop empty rows."""
    names, notes = clean_names(list(df.columns))
    df = df.set_axis(names, axis=1)
    if len(df) and df.shape[1]:
        empty = df.isna().all(axis=1).to_numpy()
        if empty.any():
            df = df.loc[~empty]
            notes.append(f"Skipped {plural(int(empty.sum()), 'empty row')} (no value in any column).")
    return df.reset_index(drop=True), notes


def arrow_to_pandas(holder: list, name: str) -> pd.DataFrame:
    """Column by column, giving each column's Arrow memory back before the next one.

    `holder` is a one-item list with the table, so that no caller keeps a reference.
    """
    table = holder.pop()
    pool = pa.default_memory_pool()
    names = table.column_names
    columns = {}
    try:
        for col_name in names:
            col = table.column(0)
            table = table.remove_column(0)
            try:
                columns[col_name] = col.to_pandas()
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, OverflowError):
                columns[col_name] = col.to_pandas(timestamp_as_object=True, date_as_object=True)
            del col
            pool.release_unused()
    except Exception as exc:
        raise DataError(
            f"Some columns of {quote(name)} have types that cannot be shown as a table "
            f"({str(exc)[:150]}). Export the file again with plain numbers and text."
        ) from None
    del table
    pool.release_unused()
    return pd.DataFrame(columns, copy=False)

"""`DataError` and the small helpers that write its messages.

Every problem a user can cause (a broken or unsuitable file, a bad choice of
target, new rows that do not fit a model) raises `DataError`, a `ValueError`
whose message says what is wrong and what to do, in plain sentences.
`DataError.problems` lists them one by one when there are several.

Rows in messages: "line N" is a line of the file (the header is line 1);
"data row N" counts the rows of the table from 1, header not counted.
Messages that more than one module gives are written here, once.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "DataError",
    "quote",
    "name_list",
    "number_list",
    "plural",
    "size_text",
    "number_text",
    "data_rows",
    "too_many_rows",
    "too_many_columns",
    "no_data_rows",
    "only_whitespace",
]


class DataError(ValueError):
    """A problem with the user's data, explained for the user.

    `problems` holds one plain sentence (or a few) per problem; `str(error)`
    joins them into one message.
    """

    def __init__(self, *problems: str):
        flat = []
        for p in problems:
            if isinstance(p, (list, tuple)):
                flat.extend(str(q) for q in p if q)
            elif p:
                flat.append(str(p))
        self.problems = flat or ["The data could not be used."]
        super().__init__(self._message())

    def _message(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0]
        return f"Found {len(self.problems)} problems:\n" + "\n".join(f"- {p}" for p in self.problems)


# --- Text helpers ---------------------------------------------------------------------------


def quote(value, limit: int = 60) -> str:
    """A value or column name quoted for a message, control characters made visible."""
    s = str(value)
    s = s.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t").replace("\x00", "\\0")
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return f"'{s}'"


def name_list(values, limit: int = 12) -> str:
    """'a', 'b', 'c' and 3 more."""
    values = list(values)
    shown = ", ".join(quote(v) for v in values[:limit])
    if len(values) > limit:
        shown += f" and {len(values) - limit} more"
    return shown


def number_list(values, limit: int = 8) -> str:
    """1, 2, 3 and 4 more."""
    values = [int(v) for v in values]
    shown = ", ".join(str(v) for v in values[:limit])
    if len(values) > limit:
        shown += f" and {len(values) - limit} more"
    return shown


def plural(n: int, word: str, plural_form: str | None = None) -> str:
    """'1 row', '2 rows', '1,000 rows'."""
    return f"{n:,} {word if n == 1 else (plural_form or word + 's')}"


def size_text(nbytes: int) -> str:
    """A size for people: '512 bytes', '1.5 KB', '200.0 MB'."""
    if nbytes < 1024:
        return f"{nbytes} bytes"
    if nbytes < 1024 * 1024:
        return f"{nbytes / 1024:.1f} KB"
    return f"{nbytes / (1024 * 1024):.1f} MB"


def number_text(v: float) -> str:
    """A number for people: whole numbers without a decimal point, others to 4 digits."""
    v = float(v)
    if math.isfinite(v) and v == round(v) and abs(v) < 1e15:
        return str(int(round(v)))
    return f"{v:.4g}"


def data_rows(positions) -> str:
    """'data rows 1, 5' from 0-based positions."""
    positions = np.asarray(positions)
    return f"data row{'s' if len(positions) != 1 else ''} {number_list(positions + 1)}"


# --- Messages given in more than one place ---------------------------------------------------


def too_many_rows(name: str, rows: int, limit: int) -> str:
    return (
        f"{quote(name)} has {rows:,} rows; the limit is {limit:,}. Use a random sample of the rows "
        "(a smaller file)."
    )


def too_many_columns(name: str, columns: int, limit: int) -> str:
    return (
        f"{quote(name)} has {columns:,} columns; the limit is {limit:,}. Keep fewer columns, or "
        "check that the separator is right."
    )


def no_data_rows(name: str, header=None) -> str:
    shown = f" ({name_list(header)})" if header is not None and len(header) else ""
    return (
        f"{quote(name)} has a header{shown} but no data rows below it. Add rows of data, one per "
        "line."
    )


def only_whitespace(name: str) -> str:
    return f"{quote(name)} contains only blank lines and whitespace. It holds no table."

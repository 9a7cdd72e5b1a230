"""Columns separated by runs of spaces or tabs, as R's `write.table` and statsmodels' data
files write them, read with pandas' C parser (`sep=r"\\s+"`).

Quotes may be double or single ('OBS' 'GPA'); a header one name short of the
rows is R's layout with row names, which become a column of their own.
"""

from __future__ import annotations

import io
import re

import pandas as pd

from infoif.data.columns import MISSING_MARKERS
from infoif.data.errors import DataError, plural, quote
from infoif.data.readers import Read
from infoif.data.readers.csv_reader import layout_notes
from infoif.data.readers.sniff import NEWLINE, TOKENS, Sniffed
from infoif.data.source import Encoding, Source

__all__ = ["read_whitespace", "ROW_NAMES"]

ROW_NAMES = "row names"
_BAD_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _short_lines(text: str, width: int, sn: Sniffed) -> list[tuple[int, int]]:
    """(line, values) of the data rows with fewer than `width` values (pandas fills them up
    silently, but a file separated by spaces has no way to leave a value empty)."""
    tokens = TOKENS[sn.quote]
    expected = width + (1 if sn.row_names else 0)
    out = []
    lines = NEWLINE.split(text)
    first = sn.skip_rows + (0 if sn.header_is_data else 1)
    for number, line in enumerate(lines[first:], start=first + 1):
        if not line.strip():
            continue
        n = len(tokens.findall(line)) if sn.quote in line else len(line.split())
        if n < expected:
            out.append((number, n))
    return out


def read_whitespace(src: Source, enc: Encoding, sn: Sniffed) -> Read:
    """Reads a whitespace-separated table whose layout `sniff` found."""
    handle = src.path if src.path is not None else io.BytesIO(src.data)
    try:
        df = pd.read_csv(
            handle,
            sep=r"\s+",
            engine="c",
            quotechar=sn.quote,
            encoding=enc.python,
            skiprows=sn.skip_rows,
            header=None if sn.header_is_data else 0,
            na_values=MISSING_MARKERS,
            keep_default_na=False,
            decimal="," if sn.decimal_comma else ".",
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as exc:
        m = _BAD_LINE.search(str(exc))
        if m:
            expected, line, saw = (int(g) for g in m.groups())
            raise DataError(
                f"Line {line + sn.skip_rows:,} of {quote(src.name)} has {saw} values, but the rows "
                f"before it have {expected}. In a file separated by spaces, a value that contains "
                "a space must be put in quotes, and a missing value must be written as NA."
            ) from None
        raise DataError(
            f"{quote(src.name)} could not be read as a table separated by spaces (the reader said: "
            f"{str(exc).strip()[:200]}). Check that every row has the same number of values."
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise DataError(
            f"{quote(src.name)} could not be read as a table separated by spaces ({str(exc)[:200]})."
        ) from None
    short = _short_lines(src.text(enc), df.shape[1] - (1 if sn.row_names else 0), sn)
    if short:
        shown = ", ".join(f"line {line:,} has {n}" for line, n in short[:5])
        more = f" and {len(short) - 5:,} more" if len(short) > 5 else ""
        raise DataError(
            f"{plural(len(short), 'row')} of {quote(src.name)} {'has' if len(short) == 1 else 'have'} fewer "
            f"values than the header ({shown}{more}). In a file separated by spaces, a missing value must "
            "be written as NA, and a value that contains a space must be put in quotes."
        )
    notes = layout_notes(src, enc, sn, "text")
    if sn.header_is_data:
        df.columns = [f"column_{i + 1}" for i in range(df.shape[1])]
    elif sn.row_names:
        df = df.rename_axis(ROW_NAMES).reset_index()
        notes.append(
            f"The header has one name fewer than the rows (R's row names), so the first column "
            f"was called {quote(ROW_NAMES)}."
        )
    return Read(df, notes, "text", {"delimiter": sn.delimiter})

"""`read_table` and `load_table`: a user's file in, a tidy DataFrame out, with a report.

    loaded = read_table("survey.csv")                  # detects format, encoding, separator
    loaded = read_table(upload, encoding="cp1251")     # or a person says how to read it
    loaded.frame, loaded.report.notes, loaded.report.options

The report travels beside the frame (never in `df.attrs`, which pandas
copies and drops at will); `prepare(loaded, ...)` puts its notes at the top
of the preparation report. `load_table` gives the frame alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from infoif.data.errors import (
    DataError,
    no_data_rows,
    only_whitespace,
    plural,
    quote,
    too_many_columns,
    too_many_rows,
)
from infoif.data.limits import (
    JSON_EXTENSIONS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    PARQUET_EXTENSIONS,
    SNIFF_BYTES,
)
from infoif.data.readers import Read
from infoif.data.readers.csv_reader import read_csv
from infoif.data.readers.json_reader import read_json
from infoif.data.readers.parquet_reader import read_parquet
from infoif.data.readers.sniff import DELIMITERS, sniff
from infoif.data.readers.whitespace_reader import read_whitespace
from infoif.data.source import (
    PARQUET_MAGIC,
    Source,
    check_text,
    chosen_encoding,
    decode_head,
    detect_encoding,
    reject_binary,
)
from infoif.data.tidy import arrow_to_pandas, tidy_arrow, tidy_pandas

__all__ = ["LoadReport", "Loaded", "read_table", "load_table", "LOAD_OPTIONS"]

LOAD_OPTIONS = ("encoding", "delimiter")  # what a person may set; JSON values (str or None)


@dataclass(frozen=True)
class LoadReport:
    """How a table was read: its name, format, encoding and separator, and notes for people.

    `options` are the load options as given (JSON: {"encoding": ..., "delimiter": ...},
    None meaning "detect"): reading the same bytes with them gives the same frame.
    """

    name: str
    format: str
    notes: tuple[str, ...]
    encoding: str | None = None  # the codec used for text formats
    delimiter: str | None = None  # the separator of text tables (" " for runs of spaces)
    options: dict = field(default_factory=dict)

    @property
    def unicode(self) -> bool:
        """Whether the text was Unicode (UTF-8/16/32), or the format has no encoding."""
        return self.encoding is None or self.encoding.startswith(("utf-8", "utf-16", "utf-32"))


@dataclass(frozen=True)
class Loaded:
    """A table and the report of how it was read (what `read_table` returns)."""

    frame: pd.DataFrame
    report: LoadReport


def _check_options(encoding, delimiter) -> None:
    if encoding is not None and not isinstance(encoding, str):
        raise ValueError(f"`encoding` must be a codec name or None. Received: encoding={encoding!r}")
    if delimiter is not None and delimiter not in DELIMITERS:
        raise ValueError(
            f"`delimiter` must be one of {list(DELIMITERS)} (' ' for runs of spaces) or None. "
            f"Received: delimiter={delimiter!r}"
        )


def _read_text(src: Source, head: bytes, encoding: str | None, delimiter: str | None) -> Read:
    if src.ext in PARQUET_EXTENSIONS:
        raise DataError(
            f"{quote(src.name)} is named like a Parquet file but is not one (Parquet files start "
            "with 'PAR1'). It is damaged or in another format; export it again."
        )
    enc = chosen_encoding(encoding, src) if encoding else detect_encoding(head, src)
    complete = len(head) >= src.size
    text = decode_head(head, enc)
    if not text.strip() and (complete or not src.text(enc).strip()):
        raise DataError(only_whitespace(src.name))
    check_text(text, src, enc)
    stripped = text.lstrip("\ufeff \t\r\n")
    if delimiter is None and (src.ext in JSON_EXTENSIONS or stripped.startswith(("{", "["))):
        read = read_json(src, enc)
    else:
        sn = sniff(text, complete, src.name, src.ext, delimiter)
        read = read_whitespace(src, enc, sn) if sn.whitespace else read_csv(src, enc, sn)
    read.options["encoding"] = enc.python
    return read


def read_table(
    source,
    filename: str | None = None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_bytes: int | None = MAX_UPLOAD_BYTES,
    max_rows: int | None = MAX_ROWS,
) -> Loaded:
    """Reads a user's table: CSV/TSV (separator detected), whitespace-separated text,
    Parquet, JSON or JSON Lines.

    Args:
        source: a path, `bytes`, or a file-like object (e.g. Streamlit's
            `UploadedFile`, whose `.name` gives the format hint).
        filename: the file's name when `source` does not carry one; only its
            extension matters (the content decides when it disagrees).
        encoding: a text encoding such as "cp1251" or "shift_jis"; None
            detects it (BOMs, UTF-16, UTF-8, then legacy code pages).
        delimiter: "," ";" "\\t" "|" or " " (runs of spaces); None detects it.
        max_bytes: size limit (default `MAX_UPLOAD_BYTES`, 200 MB); None for none.
        max_rows: row limit (default `MAX_ROWS`); None for none.

    Returns:
        `Loaded(frame, report)`: a DataFrame with unique, stripped string
        column names, and a `LoadReport` of what was detected and changed.

    Raises:
        DataError: the file is empty, not a table, damaged, not in the chosen
            encoding, or over a limit; the message says what to do.
    """
    _check_options(encoding, delimiter)
    src = Source(source, filename, max_bytes)
    if src.size == 0:
        raise DataError(f"{quote(src.name)} is empty (0 bytes). Choose a file that holds a table.")
    head = src.head(SNIFF_BYTES)
    if head.startswith(PARQUET_MAGIC):
        read = read_parquet(src, max_rows)
    else:
        reject_binary(head, src)
        read = _read_text(src, head, encoding, delimiter)
    notes = read.notes
    if isinstance(read.table, pd.DataFrame):
        df, more = tidy_pandas(read.table)
    else:
        table = read.table
        read.table = None
        if max_rows is not None and table.num_rows > max_rows:
            raise DataError(too_many_rows(src.name, table.num_rows, max_rows))
        if table.num_columns > MAX_COLUMNS:
            raise DataError(too_many_columns(src.name, table.num_columns, MAX_COLUMNS))
        table, more = tidy_arrow(table)
        holder = [table]
        del table
        df = arrow_to_pandas(holder, src.name)
    notes += more
    if df.shape[1] == 0:
        raise DataError(f"{quote(src.name)} has no columns. Choose a file that holds a table.")
    if len(df) == 0:
        raise DataError(no_data_rows(src.name, list(df.columns)))
    if max_rows is not None and len(df) > max_rows:
        raise DataError(too_many_rows(src.name, len(df), max_rows))
    if df.shape[1] > MAX_COLUMNS:
        raise DataError(too_many_columns(src.name, df.shape[1], MAX_COLUMNS))
    notes.append(f"The table has {plural(len(df), 'row')} and {plural(df.shape[1], 'column')}.")
    report = LoadReport(
        name=src.name,
        format=read.format,
        notes=tuple(notes),
        encoding=read.options.get("encoding"),
        delimiter=read.options.get("delimiter"),
        options={"encoding": encoding, "delimiter": delimiter},
    )
    return Loaded(df, report)


def load_table(source, filename: str | None = None, **options) -> pd.DataFrame:
    """`read_table(...).frame`: the table alone (the same arguments)."""
    return read_table(source, filename, **options).frame


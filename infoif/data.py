"""User tables in, training arrays out: `load_table`, `prepare`, `Dataset`, `DataError`.

    df = load_table(uploaded_file)            # CSV/TSV/Parquet/JSON, any common encoding
    ds = prepare(df, target="species")        # features, task, split, standardization
    ds.x_train, ds.y_train, ds.x_val, ds.y_val, ds.report

Every problem a user can cause (a broken or unsuitable file, a bad choice of
target) raises `DataError`, a `ValueError` whose message says what is wrong
and what to do, in plain sentences; `DataError.problems` lists them one by one
when a file has several. Nothing here imports Keras, TensorFlow or Streamlit.

Rows in messages: "line N" is a line of the file (the header is line 1);
"data row N" counts the rows of the table from 1, header not counted.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import decimal
import io
import json
import math
import numbers
import os
import re
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pacompute
import pyarrow.csv as pacsv

__all__ = [
    "DataError",
    "Dataset",
    "FeatureColumn",
    "load_table",
    "prepare",
    "load_notes",
    "describe_limits",
    "MAX_UPLOAD_MB",
    "MAX_UPLOAD_BYTES",
    "MAX_ROWS",
    "MAX_COLUMNS",
    "MAX_FEATURES",
    "MIN_ROWS",
    "MAX_CLASSES",
    "MAX_CATEGORIES",
    "MAX_LINE_BYTES",
    "TASKS",
]

# --- Limits (the app shows them next to the upload box) ----------------------

MAX_UPLOAD_MB = 200  # Streamlit's default upload limit (server.maxUploadSize)
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_ROWS = 2_000_000  # rows a loaded table may have
MAX_COLUMNS = 1_000  # columns a loaded table may have
MAX_FEATURES = 2_000  # model inputs after one-hot encoding
MIN_ROWS = 10  # usable rows `prepare` needs (train + validation)
MAX_CLASSES = 100  # classes a classification target may have
MAX_CATEGORIES = 30  # default: a text column with more values is not one-hot encoded
MAX_LINE_BYTES = 4 * 1024 * 1024  # longest line of a CSV (also the parser's block size)
SNIFF_BYTES = 64 * 1024  # delimiter, encoding and format are detected from this much
TASKS = ("binary", "multiclass", "regression")

_CLIP = 1e6  # standardized features are clipped to +-this, so float32 never overflows
_NUMERIC_SHARE = 0.9  # a text column is numeric if this share of its values are numbers
_NULLS = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null", "None", "none", "NAN",
    "na", "?", "#VALUE!", "#DIV/0!", "#REF!", "#NUM!", "#NAME?", "#NULL!",
]  # fmt: skip
_JSON_EXTS = {".json", ".jsonl", ".ndjson", ".geojson"}
_PARQUET_EXTS = {".parquet", ".pq", ".parq"}
_EXCEL_EXTS = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".numbers"}
_DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes (|)"}
_ID_NAME = re.compile(
    r"(?i)\s*(.*[\s_\-.])?(id|ids|uuid|guid|key|index|idx|row|rowid|row[\s_\-]?(id|num|number|no)"
    r"|record[\s_\-]?(id|no)|#|no\.?|nr\.?|serial|unnamed:?\s*\d*)\s*"
)


def describe_limits() -> str:
    """One sentence for the upload box: the accepted formats and the limits."""
    return (
        f"CSV, TSV, Parquet or JSON; up to {MAX_UPLOAD_MB} MB, {MAX_ROWS:,} rows "
        f"and {MAX_COLUMNS:,} columns."
    )


# --- The error ---------------------------------------------------------------


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
        return f"Found {len(self.problems)} problems:\n" + "\n".join(
            f"- {p}" for p in self.problems
        )


# --- Small text helpers for messages ------------------------------------------


def _q(value, limit: int = 60) -> str:
    """A value or column name quoted for a message, control characters made visible."""
    s = str(value)
    s = s.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t").replace("\x00", "\\0")
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return f"'{s}'"


def _names(values, limit: int = 12) -> str:
    values = list(values)
    shown = ", ".join(_q(v) for v in values[:limit])
    if len(values) > limit:
        shown += f" and {len(values) - limit} more"
    return shown


def _numbers(values, limit: int = 8) -> str:
    values = [int(v) for v in values]
    shown = ", ".join(str(v) for v in values[:limit])
    if len(values) > limit:
        shown += f" and {len(values) - limit} more"
    return shown


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _mb(nbytes: int) -> str:
    if nbytes < 1024:
        return f"{nbytes} bytes"
    if nbytes < 1024 * 1024:
        return f"{nbytes / 1024:.1f} KB"
    return f"{nbytes / (1024 * 1024):.1f} MB"


def _fmt_number(v: float) -> str:
    v = float(v)
    if math.isfinite(v) and v == round(v) and abs(v) < 1e15:
        return str(int(round(v)))
    return f"{v:.4g}"


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
            renamed.append(f"{_q(name)} → {_q(new)}")
        seen.add(new)
        out.append(new)
    return out, renamed


def _clean_names(names) -> tuple[list[str], list[str]]:
    """Column names as stripped, non-empty, unique strings, and notes on what changed."""
    notes = []
    clean = []
    for i, name in enumerate(names):
        s = "" if name is None else str(name)
        if i == 0:
            s = s.lstrip("\ufeff").removeprefix("ï»¿")
        s = s.strip()
        clean.append(s if s else f"Unnamed: {i}")
    unnamed = [c for c, n in zip(clean, names) if not str("" if n is None else n).strip()]
    if unnamed:
        notes.append(f"Columns without a name were called {_names(unnamed)}.")
    clean, renamed = _dedupe(clean)
    if renamed:
        notes.append(
            "Some column names appear more than once, so the repeats were renamed: "
            + ", ".join(renamed[:12])
            + ("." if len(renamed) <= 12 else f" and {len(renamed) - 12} more.")
        )
    return clean, notes


# --- Reading the source ---------------------------------------------------------


class _Input:
    """The bytes to read, from a path, a bytes object or a file-like object."""

    def __init__(self, source, filename, max_bytes):
        self.path = None
        self.data = None
        name = filename
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            if not os.path.exists(path):
                raise DataError(f"The file {_q(path)} does not exist. Check the name and folder.")
            if os.path.isdir(path):
                raise DataError(f"{_q(path)} is a folder, not a file. Choose a file inside it.")
            self.path = path
            self.size = os.path.getsize(path)
            name = name or os.path.basename(path)
            self._check_size(name, max_bytes)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self.data = source if isinstance(source, bytes) else bytes(source)
            self.size = len(self.data)
            self._check_size(name, max_bytes)
        elif hasattr(source, "read"):
            name = name or getattr(source, "name", None)
            if isinstance(name, str):
                name = os.path.basename(name)
            size = getattr(source, "size", None)
            if isinstance(size, int):
                self.size = size
                self._check_size(name, max_bytes)
            if hasattr(source, "getvalue"):
                data = source.getvalue()
            else:
                if hasattr(source, "seek"):
                    try:
                        source.seek(0)
                    except (OSError, ValueError):
                        pass
                data = source.read() if max_bytes is None else source.read(max_bytes + 1)
            if isinstance(data, str):
                data = data.encode("utf-8")
            self.data = bytes(data)
            self.size = len(self.data)
            self._check_size(name, max_bytes)
        else:
            raise TypeError(
                "`source` must be a path, bytes or a file-like object with .read(). "
                f"Received: {type(source).__name__}"
            )
        self.name = str(name) if name else "the uploaded data"
        self.ext = os.path.splitext(self.name)[1].lower() if name else ""

    def _check_size(self, name, max_bytes):
        if max_bytes is not None and self.size > max_bytes:
            shown = _q(os.path.basename(str(name))) if name else "The file"
            raise DataError(
                f"{shown} is {_mb(self.size)}, more than the {_mb(max_bytes)} limit. "
                "Use a smaller file, for example a random sample of its rows."
            )

    def head(self, n: int) -> bytes:
        if self.data is not None:
            return self.data[:n]
        with open(self.path, "rb") as f:
            return f.read(n)

    def chunks(self, size: int = 1 << 20):
        if self.data is not None:
            view = memoryview(self.data)
            for i in range(0, len(view), size):
                yield view[i : i + size].tobytes()
            return
        with open(self.path, "rb") as f:
            while chunk := f.read(size):
                yield chunk

    def read_all(self) -> bytes:
        if self.data is not None:
            return self.data
        with open(self.path, "rb") as f:
            return f.read()

    def arrow(self):
        if self.data is not None:
            return pa.BufferReader(self.data)
        return pa.OSFile(self.path)


@dataclass(frozen=True)
class _Encoding:
    python: str  # codec for Python
    arrow: str  # codec for pyarrow's CSV reader ("utf8" or a Python codec name)
    label: str  # for people
    wide: bool = False  # UTF-16/32: NUL bytes are normal


_UTF8 = _Encoding("utf-8", "utf8", "UTF-8")
_UTF8_BOM = _Encoding("utf-8-sig", "utf8", "UTF-8 with BOM")

_MAGIC = [
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh9", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"ARROW1", "an Arrow/Feather file"),
    (b"\x00\x00\x00\x1cftyp", "a video or image (MP4/HEIC)"),
    (b"\x00\x00\x00\x18ftyp", "a video or image (MP4/HEIC)"),
    (b"\x00\x00\x00 ftyp", "a video or image (MP4/HEIC)"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg audio file"),
    (b"\x00\x00\x01\x00", "an icon image"),
]


def _reject_binary_magic(head: bytes, src: _Input):
    save_as = "In your spreadsheet program use File › Save As (or Download) › CSV, then upload that file."
    if head.startswith(b"RIFF"):
        raise DataError(
            f"{_q(src.name)} is a media file (image, audio or video), not a table. {save_as}"
        )
    for magic, what in _MAGIC:
        if not head.startswith(magic):
            continue
        if what == "zip":
            if src.ext in _EXCEL_EXTS or b"xl/" in head[:2000] or b"[Content_Types]" in head[:2000]:
                raise DataError(
                    f"{_q(src.name)} is an Excel or OpenDocument workbook (a ZIP archive inside), "
                    f"not a CSV file. {save_as}"
                )
            raise DataError(
                f"{_q(src.name)} is a ZIP archive (compressed), not a table. Unzip it and upload "
                "the CSV, TSV, Parquet or JSON file inside."
            )
        if what == "ole":
            raise DataError(
                f"{_q(src.name)} is an old-style Excel (.xls) or Office document, not a CSV file. "
                f"{save_as}"
            )
        if what == "gzip":
            raise DataError(
                f"{_q(src.name)} is compressed with gzip. Decompress it (it is usually named "
                "*.csv.gz) and upload the CSV file inside."
            )
        raise DataError(
            f"{_q(src.name)} is {what}, not a table. Upload a CSV, TSV, Parquet or JSON file."
        )


def _valid(src: _Input, codec: str, skip: int = 0) -> bool:
    """Whether the whole file decodes with `codec` (read in 1 MB chunks, nothing kept)."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    first = True
    try:
        for chunk in src.chunks():
            if first:
                chunk, first = chunk[skip:], False
            if codec == "utf-8" and chunk.isascii() and not decoder.getstate()[0]:
                continue
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _wide_without_bom(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the sample looks like UTF-16 text without a BOM."""
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    nul_even = even.count(0) / len(even)
    nul_odd = odd.count(0) / len(odd)
    if nul_odd > 0.3 and nul_even < 0.02:
        return "utf-16-le"
    if nul_even > 0.3 and nul_odd < 0.02:
        return "utf-16-be"
    return None


def _detect_encoding(head: bytes, src: _Input) -> _Encoding:
    boms = [
        (b"\xff\xfe\x00\x00", "utf-32", "UTF-32 with BOM"),
        (b"\x00\x00\xfe\xff", "utf-32", "UTF-32 with BOM"),
        (b"\xff\xfe", "utf-16", "UTF-16 with BOM"),
        (b"\xfe\xff", "utf-16", "UTF-16 with BOM"),
    ]
    for bom, codec, label in boms:
        if head.startswith(bom):
            if not _valid(src, codec):
                raise DataError(
                    f"{_q(src.name)} starts like {label.split(' ')[0]} text but is not valid "
                    f"{label.split(' ')[0]}. Save it again as 'CSV UTF-8'."
                )
            return _Encoding(codec, codec, label, wide=True)
    if head.startswith(b"\xef\xbb\xbf"):
        if _valid(src, "utf-8", skip=3):
            return _UTF8_BOM
    else:
        wide = _wide_without_bom(head)
        if wide and _valid(src, wide):
            return _Encoding(wide, wide, wide.upper().replace("-LE", " (little-endian)")
                             .replace("-BE", " (big-endian)"), wide=True)
        if _valid(src, "utf-8"):
            return _UTF8
    if _valid(src, "cp1252"):
        return _Encoding("cp1252", "cp1252", "Windows-1252 (Latin-1)")
    return _Encoding("latin-1", "latin-1", "Latin-1 (ISO-8859-1)")


def _find_nul(src: _Input) -> tuple[int, int] | None:
    """(byte offset, line number) of the first NUL byte, or None."""
    offset, lines = 0, 1
    for chunk in src.chunks():
        i = chunk.find(b"\x00")
        if i >= 0:
            return offset + i, lines + chunk.count(b"\n", 0, i)
        offset += len(chunk)
        lines += chunk.count(b"\n")
    return None


def _decode_head(head: bytes, enc: _Encoding) -> str:
    decoder = codecs.getincrementaldecoder(enc.python)(errors="replace")
    return decoder.decode(head, final=False)


def _check_text(text: str, src: _Input, enc: _Encoding):
    if not enc.wide:
        nul = _find_nul(src)
        if nul is not None:
            raise DataError(
                f"{_q(src.name)} contains NUL bytes (the first on line {nul[1]:,}, byte "
                f"{nul[0]:,}), which text tables never contain: it is probably a binary file "
                "(a spreadsheet, database or image) with a text file's name. Export the data as "
                "CSV and upload that file."
            )
    if text:
        bad = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or 0x7F <= ord(ch) < 0xA0)
        if bad > max(2, 0.01 * len(text)):
            raise DataError(
                f"{_q(src.name)} does not look like text: {bad:,} of its first {len(text):,} "
                "characters are control characters. It is probably a binary file. Upload a CSV, "
                "TSV, Parquet or JSON file."
            )
    start = text.lstrip().lower()
    if start.startswith(("<!doctype html", "<html", "<?xml", "<svg", "<table", "<head", "<body")):
        raise DataError(
            f"{_q(src.name)} is a web page or XML document, not a table. If your table is on a "
            "web page, copy it into a spreadsheet and save that as CSV."
        )


# --- CSV ----------------------------------------------------------------------------

_NEWLINE = re.compile(r"\r\n|\r|\n")
_BLANK_LINES = re.compile(r"(?:[ \t\f\v]*(?:\r\n|\r|\n))*")
_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*")
_DECIMAL_COMMA = re.compile(r"\s*[-+]?\d+,\d+\s*")
_DECIMAL_POINT = re.compile(r"\s*[-+]?\d*\.\d+\s*")
_MD_RULE = re.compile(r"\s*:?-{3,}:?\s*")


@dataclass
class _Sniffed:
    delimiter: str
    skip_rows: int
    header: list[str]
    header_is_data: bool
    decimal_comma: bool
    markdown_rule: bool


def _rows(text: str, delimiter: str, limit: int = 500) -> list[list[str]]:
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    try:
        for row in reader:
            if not row or not "".join(row).strip():
                continue
            rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def _sniff(text: str, complete: bool, src: _Input) -> _Sniffed:
    blank = _BLANK_LINES.match(text).group()
    skip = len(_NEWLINE.findall(blank))
    body = text[len(blank) :]
    forced = None
    m = re.match(r"sep=(.)[ \t]*(\r\n|\r|\n)", body)
    if m:  # Excel's hint line
        forced, skip, body = m.group(1), skip + 1, body[m.end() :]
    if not complete:
        cut = max(body.rfind("\n"), body.rfind("\r"))
        if cut < 0:
            raise DataError(
                f"The first {SNIFF_BYTES // 1024} KB of {_q(src.name)} contain no line break, so "
                "it is not a table with one row per line. It may be a binary file, a single huge "
                "value, or use an unusual line ending. Upload a CSV, TSV, Parquet or JSON file."
            )
        body = body[:cut]

    candidates = [forced] if forced else list(_DELIMITERS)
    if src.ext in (".tsv", ".tab") and not forced:
        candidates = ["\t"] + [d for d in candidates if d != "\t"]
    best, best_score, best_rows = candidates[0], None, None
    for d in candidates:
        rows = _rows(body, d)
        if not complete and len(rows) > 1:
            rows = rows[:-1]  # the last row of a cut sample may be incomplete
        if not rows:
            continue
        width = len(rows[0])
        same = sum(len(r) == width for r in rows[1:])
        consistency = same / (len(rows) - 1) if len(rows) > 1 else 1.0
        score = (width > 1, consistency >= 0.9, consistency, width)
        if best_score is None or score > best_score:
            best, best_score, best_rows = d, score, rows
    rows = best_rows or []
    if not rows:
        raise DataError(f"{_q(src.name)} contains only blank lines and whitespace. It holds no table.")
    header = rows[0]
    if len(header) > MAX_COLUMNS:
        raise DataError(
            f"{_q(src.name)} has {len(header):,} columns; the limit is {MAX_COLUMNS:,}. Keep "
            "fewer columns, or check that the separator is right."
        )
    if complete and len(rows) == 1:
        raise DataError(
            f"{_q(src.name)} has a header ({_names(header)}) but no data rows below it. Add rows "
            "of data, one per line."
        )
    header_is_data = all(_NUMBER.fullmatch(f) for f in header)
    fields = [f for r in rows[1:] for f in r]
    decimal_comma = (
        best != ","
        and any(_DECIMAL_COMMA.fullmatch(f) for f in fields)
        and not any(_DECIMAL_POINT.fullmatch(f) for f in fields)
    )
    markdown_rule = (
        best == "|"
        and len(rows) > 1
        and any(f.strip() for f in rows[1])
        and all(_MD_RULE.fullmatch(f) or not f.strip() for f in rows[1])
    )
    return _Sniffed(best, skip, header, header_is_data, decimal_comma, markdown_rule)


class _BadRows:
    """pyarrow's invalid-row handler: skips blank lines, records rows of the wrong width."""

    def __init__(self, delimiter: str):
        self.delimiter = delimiter
        self.reset()

    def reset(self):
        self.rows: list[tuple] = []
        self.count = 0
        self.blank = 0

    def __call__(self, row):
        text = row.text
        if not text.strip(self.delimiter + " \t\r\n\f\v"):
            self.blank += 1
            return "skip"
        self.count += 1
        if len(self.rows) < 50:
            # A quote opens a value only at the start of a field (pyarrow reads 5" as text).
            opens = text.lstrip().startswith('"') or (self.delimiter + '"') in text
            self.rows.append(
                (row.number, row.expected_columns, row.actual_columns, text[:80],
                 opens and text.count('"') % 2 == 1)
            )
        return "skip"

    def problems(self, delimiter: str) -> list[str]:
        out = []
        ragged = [r for r in self.rows if not r[4]]
        unclosed = [r for r in self.rows if r[4]]
        if unclosed:
            lines = [r[0] for r in unclosed if r[0]]
            where = f"Line {_numbers(lines)}" if lines else "A line"
            out.append(
                f"{where} opens a quoted value with \" that is never closed, so the text after "
                "it was read as one value. Add the missing closing quote, or remove the stray "
                "quote character."
            )
        n_ragged = self.count - len(unclosed)
        if ragged:
            expected = ragged[0][1]
            shown = ", ".join(
                f"line {n:,} has {actual}" if n else f"a row has {actual}"
                for n, _, actual, _, _ in ragged[:5]
            )
            more = f" and {n_ragged - 5:,} more" if n_ragged > 5 else ""
            sep = _DELIMITERS.get(delimiter, repr(delimiter))
            out.append(
                f"{_plural(n_ragged, 'row')} {'does' if n_ragged == 1 else 'do'} not have the "
                f"{expected} values of the header ({shown}{more}). A value that contains the "
                f"separator ({sep}) must be put in double quotes, and every row needs one value "
                "per column (leave a value empty if it is missing)."
            )
        return out


def _csv_options(enc, sn, handler, threads=True, column_types=None):
    read = pacsv.ReadOptions(
        encoding=enc.arrow,
        block_size=MAX_LINE_BYTES,
        skip_rows=sn.skip_rows,
        use_threads=threads,
        column_names=[f"column_{i + 1}" for i in range(len(sn.header))] if sn.header_is_data else None,
        skip_rows_after_names=1 if sn.markdown_rule else 0,
    )
    parse = pacsv.ParseOptions(
        delimiter=sn.delimiter,
        quote_char='"',
        double_quote=True,
        escape_char=False,
        newlines_in_values=True,
        ignore_empty_lines=True,
        invalid_row_handler=handler,
    )
    convert = pacsv.ConvertOptions(
        null_values=_NULLS,
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        decimal_point="," if sn.decimal_comma else ".",
        column_types=column_types or {},
    )
    return dict(read_options=read, parse_options=parse, convert_options=convert)


_CONVERSION = re.compile(r"In CSV column #(\d+): .*?CSV conversion error to (\w+): invalid value '(.*)'", re.S)


def _arrow_csv(src, enc, sn, handler, threads=True) -> pa.Table:
    """Reads block by block (about half the peak memory of pyarrow's whole-table reader).

    The streaming reader fixes each column's type from the first block; when a
    later block disagrees (an integer column with '1.5' further down), the read
    restarts with that column widened (to float, else text). After a few
    restarts the whole-table reader, which infers types from all blocks, does it.
    """
    overrides: dict[str, pa.DataType] = {}
    for _ in range(6):
        handler.reset()
        batches = []
        names = None
        try:
            reader = pacsv.open_csv(src.arrow(), **_csv_options(enc, sn, handler, threads, overrides))
            names = reader.schema.names
            for batch in reader:
                batches.append(batch)
            return pa.Table.from_batches(batches, schema=reader.schema)
        except pa.ArrowInvalid as exc:
            m = _CONVERSION.match(str(exc))
            if not m or names is None or len(set(names)) < len(names):
                if m:
                    break
                raise
            name = names[int(m.group(1))]
            value = m.group(3).replace(",", ".") if sn.decimal_comma else m.group(3)
            widened = pa.float64() if _NUMBER.fullmatch(value) and m.group(2) in ("int64", "null") else pa.string()
            if overrides.get(name) == widened:
                break
            overrides[name] = widened
        finally:
            del batches
    handler.reset()
    return pacsv.read_csv(src.arrow(), **_csv_options(enc, sn, handler, threads, overrides))


def _long_line(text: str) -> tuple[int, int] | None:
    start, line = 0, 1
    for m in _NEWLINE.finditer(text):
        if m.start() - start > MAX_LINE_BYTES // 2:
            return line, m.start() - start
        start, line = m.end(), line + 1
    if len(text) - start > MAX_LINE_BYTES // 2:
        return line, len(text) - start
    return None


def _unclosed_quote(text: str, delimiter: str) -> int | None:
    """The line where a quoted value that is never closed starts, or None.

    Only the last row can hold one (it runs to the end of the file). A quote
    inside an unquoted value (5" wide) is plain text, so the check is that the
    last row opens a value with a quote and has an odd number of quotes.
    """
    if text.count('"') % 2 == 0:
        return None
    old = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        prev, start = 0, None
        for _ in reader:
            start, prev = prev + 1, reader.line_num
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(old)
    if start is None:
        return None
    offset = 0
    for _ in range(start - 1):
        m = _NEWLINE.search(text, offset)
        if m is None:
            return None
        offset = m.end()
    last = text[offset:]
    opens = last.lstrip().startswith('"') or (delimiter + '"') in last
    return start if opens and last.count('"') % 2 == 1 else None


def _odd_quotes(src: _Input, enc: _Encoding) -> bool:
    """Whether the file has an odd number of double quotes (cheap: bytes.count)."""
    if enc.wide:
        return src.read_all().decode(enc.python, errors="replace").count('"') % 2 == 1
    return sum(chunk.count(b'"') for chunk in src.chunks()) % 2 == 1


def _csv_failure(src: _Input, enc: _Encoding, sn: _Sniffed, exc: Exception) -> DataError:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, MemoryError):
        return DataError(
            f"{_q(src.name)} is too large to load into memory here. Use a smaller file."
        )
    if "Empty CSV" in message:
        return DataError(
            f"{_q(src.name)} has a header but no data rows below it. Add rows of data, one per line."
        )
    if "straddl" in message or "block" in message:
        text = src.read_all().decode(enc.python, errors="replace")
        long = _long_line(text)
        if long:
            return DataError(
                f"Line {long[0]:,} of {_q(src.name)} is {_mb(long[1])} long, too long for a row "
                f"of a table (rows of up to about {_mb(MAX_LINE_BYTES)} are read). The file is "
                "probably not a table, or its line breaks are missing."
            )
        line = _unclosed_quote(text, sn.delimiter)
        if line:
            return DataError(
                f"Line {line:,} opens a quoted value with \" that is never closed, so everything "
                "after it was read as one value. Add the missing closing quote, or remove the "
                "stray quote character."
            )
    return DataError(
        f"{_q(src.name)} could not be read as a table (the reader said: {message[:200]}). Check "
        "that it is a CSV or TSV file with one row per line and the same number of values in "
        "every row."
    )


def _numeric_strings(table: pa.Table, decimal_comma: bool) -> tuple[pa.Table, list[str]]:
    """Converts text columns whose every value is a number (e.g. ' 1.5') to numbers."""
    converted = []
    for i, field in enumerate(table.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        col = table.column(i)
        if col.null_count == len(col):
            continue
        try:
            trimmed = pacompute.utf8_trim_whitespace(col)
            if decimal_comma:
                trimmed = pacompute.replace_substring(trimmed, ",", ".")
            try:
                new = pacompute.cast(trimmed, pa.int64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                new = pacompute.cast(trimmed, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        table = table.set_column(i, field.name, new)
        converted.append(field.name)
    return table, converted


def _read_csv(src: _Input, enc: _Encoding, text: str, complete: bool) -> tuple[pa.Table, list[str], str]:
    sn = _sniff(text, complete, src)
    handler = _BadRows(sn.delimiter)
    try:
        table = _arrow_csv(src, enc, sn, handler)
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises several types for malformed input
        raise _csv_failure(src, enc, sn, exc) from None
    if handler.count:
        if any(r[0] is None for r in handler.rows):  # row numbers need one thread
            exact = _BadRows(sn.delimiter)
            try:
                _arrow_csv(src, enc, sn, exact, threads=False)
                handler = exact if exact.count else handler
            except Exception:  # keep what the first pass found
                pass
        raise DataError(*handler.problems(sn.delimiter))
    if _odd_quotes(src, enc):  # pyarrow accepts a quote left open in the very last value
        line = _unclosed_quote(src.read_all().decode(enc.python, errors="replace"), sn.delimiter)
        if line:
            raise DataError(
                f"Line {line:,} opens a quoted value with \" that is never closed, so the text "
                "after it was read as one value. Add the missing closing quote, or remove the "
                "stray quote character."
            )
    kind = "TSV" if sn.delimiter == "\t" else "CSV"
    notes = [
        f"Read {_q(src.name)} as {kind} separated by {_DELIMITERS.get(sn.delimiter, repr(sn.delimiter))}, "
        f"encoding {enc.label}."
    ]
    if enc.label.startswith(("Windows", "Latin")):
        notes.append(
            f"The file is not UTF-8, so it was read as {enc.label}; if letters with accents look "
            "wrong, save the file as 'CSV UTF-8' and upload it again."
        )
    if sn.decimal_comma:
        notes.append("Numbers use a decimal comma (like 1,5), which was read as a decimal point.")
    if sn.header_is_data:
        notes.append(
            "The first line holds numbers, not column names, so it was read as data and the "
            "columns were named column_1, column_2, …"
        )
    if sn.markdown_rule:
        notes.append("The Markdown separator line under the header (---) was skipped.")
    if handler.blank:
        notes.append(f"Skipped {_plural(handler.blank, 'line')} with nothing but spaces or separators.")
    table, converted = _numeric_strings(table, sn.decimal_comma)
    if converted:
        notes.append(
            f"Read {_names(converted)} as numbers (the values had spaces around them)."
        )
    return table, notes, kind


# --- JSON and Parquet -------------------------------------------------------------


def _json_frame(obj, src: _Input) -> tuple[pd.DataFrame, list[str]]:
    expected = (
        'Expected a list of records like [{"a": 1, "b": 2}, …] or an object of columns like '
        '{"a": [1, 2], "b": [3, 4]}.'
    )
    notes = []
    if isinstance(obj, dict) and isinstance(obj.get("columns"), list) and isinstance(obj.get("data"), list):
        rows = obj["data"]
        if not all(isinstance(r, list) for r in rows):
            raise DataError(f"The JSON in {_q(src.name)} has 'columns' and 'data', but 'data' is not a list of rows. {expected}")
        width = len(obj["columns"])
        bad = [i + 1 for i, r in enumerate(rows) if len(r) != width]
        if bad:
            raise DataError(
                f"In the JSON of {_q(src.name)}, rows {_numbers(bad)} of 'data' do not have the "
                f"{width} values that 'columns' names. Give every row one value per column."
            )
        return pd.DataFrame(rows, columns=[str(c) for c in obj["columns"]]), notes
    if isinstance(obj, dict) and len(obj) == 1:
        (key, value), = obj.items()
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            notes.append(f"Read the records under the key {_q(key)}.")
            obj = value
    if isinstance(obj, list):
        if not obj:
            raise DataError(f"The JSON in {_q(src.name)} is an empty list: there are no rows. {expected}")
        if all(isinstance(r, dict) for r in obj):
            return pd.DataFrame.from_records(obj), notes
        if all(isinstance(r, list) for r in obj) and obj[0] and all(isinstance(c, str) for c in obj[0]):
            width = len(obj[0])
            bad = [i + 1 for i, r in enumerate(obj[1:], 1) if len(r) != width]
            if bad:
                raise DataError(
                    f"In the JSON of {_q(src.name)}, rows {_numbers(bad)} do not have the {width} "
                    "values of the first row (the column names). Give every row one value per column."
                )
            notes.append("The first list of the JSON was read as the column names.")
            return pd.DataFrame(obj[1:], columns=obj[0]), notes
        raise DataError(f"The JSON in {_q(src.name)} is a list, but not a list of records. {expected}")
    if isinstance(obj, dict) and obj:
        values = list(obj.values())
        if all(isinstance(v, list) for v in values):
            lengths = {k: len(v) for k, v in obj.items()}
            if len(set(lengths.values())) > 1:
                shown = ", ".join(f"{_q(k)} has {n}" for k, n in list(lengths.items())[:8])
                raise DataError(
                    f"The columns in the JSON of {_q(src.name)} have different lengths ({shown}). "
                    "Every column needs one value per row."
                )
            return pd.DataFrame(obj), notes
        if all(isinstance(v, dict) for v in values):
            return pd.DataFrame(obj), notes
    if isinstance(obj, dict) and not obj:
        raise DataError(f"The JSON in {_q(src.name)} is an empty object: there is no table. {expected}")
    raise DataError(f"The JSON in {_q(src.name)} does not hold a table. {expected}")


def _read_json(src: _Input, enc: _Encoding) -> tuple[pd.DataFrame, list[str]]:
    text = src.read_all().decode(enc.python, errors="replace").lstrip("\ufeff")
    try:
        obj = json.loads(text)
        lines_mode = False
    except json.JSONDecodeError as e:
        obj, lines_mode = None, False
        if e.msg == "Extra data":  # maybe JSON Lines: one record per line
            try:
                obj = [json.loads(line) for line in text.splitlines() if line.strip()]
                lines_mode = all(isinstance(r, dict) for r in obj)
            except (json.JSONDecodeError, RecursionError):
                obj = None
        if not lines_mode:
            raise DataError(
                f"The JSON in {_q(src.name)} is not valid: {e.msg} at line {e.lineno:,}, column "
                f"{e.colno:,}. Fix the file near that place (a missing comma, quote or bracket is "
                "the usual cause), or export it again."
            ) from None
    except RecursionError:
        raise DataError(
            f"The JSON in {_q(src.name)} is nested too deeply to be a table."
        ) from None
    try:
        df, notes = _json_frame(obj, src)
    except DataError:
        raise
    except Exception as exc:  # pandas rejects some shapes
        raise DataError(
            f"The JSON in {_q(src.name)} could not be turned into a table ({str(exc)[:150]}). "
            'Use a list of records like [{"a": 1, "b": 2}, …].'
        ) from None
    notes.insert(0, f"Read {_q(src.name)} as {'JSON Lines' if lines_mode else 'JSON'}, encoding {enc.label}.")
    return df, notes


def _read_parquet(src: _Input, max_rows: int | None) -> tuple[pa.Table, list[str]]:
    import pyarrow.parquet as pq

    def broken(exc):
        detail = str(exc).strip().splitlines()[0][:150] if str(exc).strip() else type(exc).__name__
        return DataError(
            f"{_q(src.name)} looks like a Parquet file but could not be read ({detail}). It is "
            "probably damaged or cut off; export it again."
        )

    try:
        meta = pq.ParquetFile(src.arrow()).metadata
        if max_rows is not None and meta.num_rows > max_rows:
            raise DataError(_too_many_rows(src.name, meta.num_rows, max_rows))
        if meta.num_columns > MAX_COLUMNS:
            raise DataError(
                f"{_q(src.name)} has {meta.num_columns:,} columns; the limit is {MAX_COLUMNS:,}."
            )
        table = pq.read_table(src.arrow())
    except DataError:
        raise
    except Exception as exc:  # ArrowInvalid, OSError, ... on damaged files
        raise broken(exc) from None
    return table, [f"Read {_q(src.name)} as Parquet."]


def _too_many_rows(name: str, rows: int, limit: int) -> str:
    return (
        f"{_q(name)} has {rows:,} rows; the limit is {limit:,}. Use a random sample of the rows "
        "(a smaller file)."
    )


def _arrow_to_pandas(holder: list, src: _Input) -> pd.DataFrame:
    """Column by column, giving each column's Arrow memory back before the next one.

    `holder` is a one-item list with the table, so that no caller keeps a reference.
    """
    table = holder.pop()
    pool = pa.default_memory_pool()
    names = table.column_names
    columns = {}
    try:
        for name in names:
            col = table.column(0)
            table = table.remove_column(0)
            try:
                columns[name] = col.to_pandas()
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, OverflowError):
                columns[name] = col.to_pandas(timestamp_as_object=True, date_as_object=True)
            del col
            pool.release_unused()
    except Exception as exc:
        raise DataError(
            f"Some columns of {_q(src.name)} have types that cannot be shown as a table "
            f"({str(exc)[:150]}). Export the file again with plain numbers and text."
        ) from None
    del table
    pool.release_unused()
    return pd.DataFrame(columns, copy=False)


def _tidy_arrow(table: pa.Table) -> tuple[pa.Table, list[str]]:
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
                f"Dropped {_plural(len(raw) - len(keep), 'empty column')} without a name "
                "(usually a separator at the end of every line)."
            )
    names, name_notes = _clean_names(table.column_names)
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
            notes.append(f"Skipped {_plural(n_empty, 'empty row')} (no value in any column).")
    return table, notes


def _tidy_pandas(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    names, notes = _clean_names(list(df.columns))
    df = df.set_axis(names, axis=1)
    if len(df) and df.shape[1]:
        empty = df.isna().all(axis=1).to_numpy()
        if empty.any():
            df = df.loc[~empty]
            notes.append(f"Skipped {_plural(int(empty.sum()), 'empty row')} (no value in any column).")
    return df.reset_index(drop=True), notes


# --- load_table ----------------------------------------------------------------------


def load_table(
    source,
    filename: str | None = None,
    *,
    max_bytes: int | None = MAX_UPLOAD_BYTES,
    max_rows: int | None = MAX_ROWS,
) -> pd.DataFrame:
    """Reads a user's table: CSV/TSV (delimiter detected), Parquet or JSON.

    Args:
        source: a path, `bytes`, or a file-like object (e.g. Streamlit's
            `UploadedFile`, whose `.name` gives the format hint).
        filename: the file's name when `source` does not carry one; only its
            extension matters (the content decides when it disagrees).
        max_bytes: size limit (default `MAX_UPLOAD_BYTES`, 200 MB); None for none.
        max_rows: row limit (default `MAX_ROWS`); None for none.

    Returns:
        A DataFrame with unique, stripped string column names. What was
        detected and changed is in `load_notes(df)` (kept in
        `df.attrs["infoif"]`), and `prepare` puts it at the top of its report.

    Raises:
        DataError: the file is empty, not a table, damaged, or over a limit;
            the message says what to do.
    """
    src = _Input(source, filename, max_bytes)
    if src.size == 0:
        raise DataError(f"{_q(src.name)} is empty (0 bytes). Choose a file that holds a table.")
    head = src.head(SNIFF_BYTES)
    complete = len(head) >= src.size
    if head.startswith(b"PAR1"):
        table, notes = _read_parquet(src, max_rows)
        fmt = "Parquet"
    else:
        _reject_binary_magic(head, src)
        if src.ext in _PARQUET_EXTS:
            raise DataError(
                f"{_q(src.name)} is named like a Parquet file but is not one (Parquet files start "
                "with 'PAR1'). It is damaged or in another format; export it again."
            )
        if src.ext in _EXCEL_EXTS:
            raise DataError(
                f"{_q(src.name)} is a spreadsheet workbook; it cannot be read directly. In your "
                "spreadsheet program use File › Save As › CSV, then upload that file."
            )
        enc = _detect_encoding(head, src)
        text = _decode_head(head, enc)
        if not text.strip() and (
            complete or not src.read_all().decode(enc.python, errors="replace").strip()
        ):
            raise DataError(
                f"{_q(src.name)} contains only blank lines and whitespace. It holds no table."
            )
        _check_text(text, src, enc)
        stripped = text.lstrip("\ufeff \t\r\n")
        if src.ext in _JSON_EXTS or stripped.startswith(("{", "[")):
            df, notes = _read_json(src, enc)
            df, more = _tidy_pandas(df)
            notes += more
            fmt = "JSON"
            table = None
        else:
            table, notes, fmt = _read_csv(src, enc, text, complete)
    if table is not None:
        if max_rows is not None and table.num_rows > max_rows:
            raise DataError(_too_many_rows(src.name, table.num_rows, max_rows))
        if table.num_columns > MAX_COLUMNS:
            raise DataError(
                f"{_q(src.name)} has {table.num_columns:,} columns; the limit is {MAX_COLUMNS:,}."
            )
        table, more = _tidy_arrow(table)
        notes += more
        holder = [table]
        del table
        df = _arrow_to_pandas(holder, src)
    if df.shape[1] == 0:
        raise DataError(f"{_q(src.name)} has no columns. Choose a file that holds a table.")
    if len(df) == 0:
        raise DataError(
            f"{_q(src.name)} has a header ({_names(df.columns)}) but no data rows below it. Add "
            "rows of data, one per line."
        )
    if max_rows is not None and len(df) > max_rows:
        raise DataError(_too_many_rows(src.name, len(df), max_rows))
    if df.shape[1] > MAX_COLUMNS:
        raise DataError(f"{_q(src.name)} has {df.shape[1]:,} columns; the limit is {MAX_COLUMNS:,}.")
    notes.append(f"The table has {_plural(len(df), 'row')} and {_plural(df.shape[1], 'column')}.")
    df.attrs["infoif"] = {"name": src.name, "format": fmt, "notes": notes}
    return df


def load_notes(df: pd.DataFrame) -> list[str]:
    """What `load_table` detected and changed while reading `df` (empty for other frames)."""
    info = getattr(df, "attrs", {}).get("infoif")
    if isinstance(info, dict) and isinstance(info.get("notes"), list):
        return [str(n) for n in info["notes"]]
    return []


# --- Column analysis ---------------------------------------------------------------------


@dataclass
class _Analysis:
    kind: str  # "numeric", "text", "empty" or "unsupported"
    values: object = None  # float64 array (numeric) or pandas "str" Series (text)
    # (once a feature is accepted, prepare keeps only None or the number of categories)
    reason: str = ""  # why a column is unsupported
    from_text: bool = False  # numbers parsed from text
    decimal_comma: bool = False
    not_numbers: tuple = ()  # examples of text values treated as missing
    n_not_numbers: int = 0


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


def _parse_numbers(strings: pd.Series, decimal_comma: bool) -> np.ndarray:
    s = strings.str.replace(",", ".", regex=False) if decimal_comma else strings
    try:
        out = pd.to_numeric(s, errors="coerce")
    except (TypeError, ValueError, OverflowError):
        out = pd.Series([_float_or_nan(v) for v in s], dtype="float64")
    return np.array(out.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64, copy=True)


def _float_or_nan(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError, OverflowError):
        return math.nan


_NESTED = (list, tuple, dict, set, frozenset, np.ndarray)
_TEMPORAL = ("datetime", "date", "time", "timedelta", "Timestamp", "Timedelta", "Period", "Interval")


def _safe_str(v) -> str:
    s = v if isinstance(v, str) else str(v)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot be stored as UTF-8 text
        s = s.encode("utf-8", "replace").decode("utf-8")
    return s


def _as_strings(s: pd.Series) -> pd.Series:
    """Text values stripped, with blanks as missing, as a pandas "str" Series."""
    if isinstance(s.dtype, pd.StringDtype):
        s = s.reset_index(drop=True).astype("str")
    else:
        arr = s.to_numpy(dtype=object)
        mask = pd.isna(arr)
        arr = np.array([None if m else _safe_str(v) for v, m in zip(arr, mask)], dtype=object)
        s = pd.Series(arr, dtype="str")
    s = s.str.strip()
    blank = (s == "").to_numpy(dtype=bool, na_value=False)
    return s.mask(blank) if blank.any() else s


def _is_real(v) -> bool:
    return isinstance(v, (numbers.Real, np.bool_, decimal.Decimal))


def _float_column(s: pd.Series, decimal_comma: bool = False, writable: bool = True) -> np.ndarray:
    """A column as float64 numbers: numbers as they are, text parsed, anything else NaN.

    The one conversion used both when fitting and in `Dataset.transform`.
    With writable=False a float64 column comes back as a read-only view.
    """
    s = s.reset_index(drop=True)
    dtype = s.dtype
    if isinstance(dtype, pd.SparseDtype):
        s = s.sparse.to_dense()
        dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
    ):
        v = _to_float(s.to_numpy(dtype=np.float64, na_value=np.nan))
        return v.copy() if writable and not v.flags.writeable else v
    if isinstance(dtype, pd.StringDtype):
        return _parse_numbers(_as_strings(s), decimal_comma)
    if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        arr = s.to_numpy(dtype=object)
        out = np.full(len(arr), np.nan)
        is_num = np.fromiter((_is_real(v) for v in arr), dtype=bool, count=len(arr))
        is_str = np.fromiter((isinstance(v, str) for v in arr), dtype=bool, count=len(arr))
        if is_num.any():
            out[is_num] = _to_float(arr[is_num])
        if is_str.any():
            out[is_str] = _parse_numbers(_as_strings(pd.Series(arr[is_str], dtype=object)), decimal_comma)
        return out
    return np.full(len(s), np.nan)


def _analyze(s: pd.Series) -> _Analysis:
    """Decides whether a column holds numbers, text, nothing, or something unusable."""
    s = s.reset_index(drop=True)
    dtype = s.dtype
    if isinstance(dtype, pd.SparseDtype):
        s = s.sparse.to_dense()
        dtype = s.dtype
    if pd.api.types.is_complex_dtype(dtype):
        return _Analysis("unsupported", reason="holds complex numbers")
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        values = _float_column(s, writable=False)
        return _Analysis("numeric" if not np.isnan(values).all() else "empty", values)
    if (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, (pd.PeriodDtype, pd.IntervalDtype))
    ):
        return _Analysis("unsupported", reason="holds dates or times, which are not used as features")
    if not isinstance(dtype, pd.StringDtype):
        if not (pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)):
            return _Analysis("unsupported", reason=f"has the unsupported type {dtype}")
        arr = s.to_numpy(dtype=object)
        nonnull = arr[~pd.isna(arr)]
        if len(nonnull) == 0:
            return _Analysis("empty")
        kinds = {type(v) for v in nonnull}
        if any(issubclass(k, _NESTED) for k in kinds):
            return _Analysis("unsupported", reason="holds lists or nested records")
        if any(issubclass(k, (bytes, bytearray, memoryview)) for k in kinds):
            return _Analysis("unsupported", reason="holds binary data")
        if any(k.__name__ in _TEMPORAL or issubclass(k, pd.Timestamp) for k in kinds):
            return _Analysis("unsupported", reason="holds dates or times, which are not used as features")
        if any(issubclass(k, numbers.Complex) and not issubclass(k, numbers.Real) for k in kinds):
            return _Analysis("unsupported", reason="holds complex numbers")
        if all(_is_real(v) for v in nonnull[:1000]) and all(_is_real(v) for v in nonnull):
            values = _float_column(s)
            return _Analysis("numeric" if not np.isnan(values).all() else "empty", values)
    strings = _as_strings(s)
    present = strings.notna().to_numpy()
    n_present = int(present.sum())
    if n_present == 0:
        return _Analysis("empty")
    # Mostly numbers written as text? Try a sample first: cheap for real text columns.
    sample = strings[present][:2000]
    best = None
    for comma in (False, True):
        if comma and not sample.str.contains(",", regex=False).any():
            continue
        share = float((~np.isnan(_parse_numbers(sample, comma))).mean())
        if share >= _NUMERIC_SHARE and (best is None or share > best[1]):
            best = (comma, share)
    if best is not None:
        values = _float_column(s, best[0])
        parsed = ~np.isnan(values)
        n_parsed = int((parsed & present).sum())
        if n_parsed >= _NUMERIC_SHARE * n_present:
            bad = present & ~parsed
            examples = tuple(pd.unique(strings[bad])[:3])
            return _Analysis(
                "numeric", values, from_text=True, decimal_comma=best[0],
                not_numbers=examples, n_not_numbers=int(bad.sum()),
            )
    return _Analysis("text", strings)


def _looks_like_id_name(name: str) -> bool:
    return bool(_ID_NAME.fullmatch(name))


# --- The fitted pipeline ----------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureColumn:
    """How one original column becomes model inputs (fitted on the training part).

    kind "numeric": one input; missing and infinite values become `fill`
    (the training median). kind "category": one 0/1 input per category in
    `categories` (seen in the training part); unseen or missing values get
    all zeros. The standardization itself is in `Dataset.feature_mean/std`.
    """

    name: str
    kind: str
    fill: float = 0.0
    categories: tuple = ()
    decimal_comma: bool = False

    @property
    def width(self) -> int:
        return 1 if self.kind == "numeric" else len(self.categories)

    @property
    def feature_names(self) -> list[str]:
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}={c}" for c in self.categories]

    def values(self, s: pd.Series) -> np.ndarray:
        """numeric: float64 values, missing and infinite ones filled; category: int64 codes
        into `categories`, -1 for missing or unseen values."""
        if self.kind == "numeric":
            v = _float_column(s, self.decimal_comma)
            v[~np.isfinite(v)] = self.fill
            return v
        return _category_codes(_as_strings(s), self.categories).astype(np.int64)

    def encode(self, s: pd.Series) -> np.ndarray:
        """Unstandardized inputs, float64 of shape (len(s), width)."""
        v = self.values(s)
        if self.kind == "numeric":
            return v[:, None]
        return (v[:, None] == np.arange(self.width)[None, :]).astype(np.float64)

    def write(self, values: np.ndarray, out: np.ndarray, mean, std) -> None:
        """Writes the standardized inputs of `values` (from `values()`) into the float32
        columns `out` (shape (n, width)), one column at a time. Numeric `values` are
        overwritten (standardized in place)."""
        if self.kind == "numeric":
            z = values
            z -= mean[0]
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                z /= std[0]
            np.nan_to_num(z, copy=False, nan=0.0, posinf=_CLIP, neginf=-_CLIP)
            np.clip(z, -_CLIP, _CLIP, out=z)
            out[:, 0] = z
            return
        for k in range(self.width):
            hi, lo = _standardize(np.array([1.0, 0.0]), mean[k], std[k])
            out[:, k] = np.where(values == k, hi, lo)


def _category_codes(strings: pd.Series, categories) -> np.ndarray:
    """Index of each value in `categories`, -1 for missing or other values."""
    if not len(categories):
        return np.full(len(strings), -1, dtype=np.int32)
    try:  # in Arrow: no Python string objects (a million of them cost ~80 MB)
        arr = pa.array(strings)
        codes = pacompute.index_in(arr, value_set=pa.array(list(categories), type=arr.type))
        return np.asarray(codes.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int32)
    except (pa.ArrowException, TypeError, ValueError):
        return np.asarray(pd.Index(list(categories), dtype="str").get_indexer(strings), dtype=np.int32)


def _categories(strings: pd.Series, rows: np.ndarray) -> tuple:
    """The sorted distinct values of `strings` at `rows`."""
    try:
        arr = pacompute.take(pa.array(strings), pa.array(rows))
        values = pacompute.unique(arr).drop_null().to_pylist()
    except (pa.ArrowException, TypeError, ValueError):
        values = pd.unique(strings.iloc[rows].dropna()).tolist()
    return tuple(sorted(values))


def _mean_std(x: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation without overflow; std 1 for a constant."""
    if x.size == 0:
        return 0.0, 1.0
    scale = float(np.max(np.abs(x)))
    if not math.isfinite(scale) or scale == 0.0:
        return (0.0 if scale == 0.0 else float(np.mean(x))), 1.0
    xs = x / scale
    mean, sd = float(np.mean(xs)), float(np.std(xs))
    if not sd > 1e-12:
        return mean * scale, 1.0
    return mean * scale, sd * scale


def _standardize(block: np.ndarray, mean, std) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        z = block / std - np.asarray(mean) / std
    np.nan_to_num(z, copy=False, nan=0.0, posinf=_CLIP, neginf=-_CLIP)
    np.clip(z, -_CLIP, _CLIP, out=z)
    return z.astype(np.float32)


# --- The dataset ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Dataset:
    """Training and validation arrays plus the pipeline that made them.

    x_train, x_val: float32 of shape (rows, input_dim), standardized with the
    training part's statistics. y_train, y_val: int64 class indices 0..k-1
    (binary, multiclass) or float32 standardized targets (regression; see
    `target_mean`, `target_std`, `inverse_target`). `report` has one sentence
    per thing that was detected or changed. `transform(df)` turns new rows
    with the `raw_feature_columns` into inputs exactly like the training rows.
    """

    name: str
    target: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    feature_names: list[str]
    class_names: list[str] | None
    report: list[str]
    raw_feature_columns: list[str]
    columns: tuple[FeatureColumn, ...]
    feature_mean: np.ndarray
    feature_std: np.ndarray
    train_rows: np.ndarray  # positions (0-based) in the DataFrame given to `prepare`
    val_rows: np.ndarray
    target_mean: float | None = None
    target_std: float | None = None

    @property
    def input_dim(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def num_classes(self) -> int | None:
        return None if self.class_names is None else len(self.class_names)

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_val(self) -> int:
        return int(self.x_val.shape[0])

    def transform(self, df) -> np.ndarray:
        """New rows (with `raw_feature_columns`) to float32 inputs, like the training rows."""
        if not isinstance(df, pd.DataFrame):
            df = pd.DataFrame(df)
        names, _ = _clean_names(list(df.columns))
        df = df.set_axis(names, axis=1)
        missing = [c for c in self.raw_feature_columns if c not in df.columns]
        if missing:
            raise DataError(
                f"The new rows lack {_plural(len(missing), 'column')} the model was trained "
                f"with: {_names(missing)}. Add them (values may be empty)."
            )
        out = np.empty((len(df), self.input_dim), dtype=np.float32)
        j = 0
        for col in self.columns:
            w = col.width
            col.write(
                col.values(df[col.name]), out[:, j : j + w],
                self.feature_mean[j : j + w], self.feature_std[j : j + w],
            )
            j += w
        return out

    def inverse_target(self, y) -> np.ndarray:
        """Regression outputs back in the target's own units (classification: unchanged)."""
        y = np.asarray(y, dtype=np.float64)
        if self.task != "regression":
            return y
        return y * self.target_std + self.target_mean

    def reference_row(self) -> dict:
        """A typical row: each numeric column's training median, each text column's most
        common training category. The 2-D view holds the other columns at these values."""
        row, j = {}, 0
        for col in self.columns:
            if col.kind == "numeric":
                row[col.name] = col.fill
            else:
                shares = self.feature_mean[j : j + col.width]  # share of each category in train
                row[col.name] = col.categories[int(np.argmax(shares))] if col.categories else None
            j += col.width
        return row


# --- prepare ----------------------------------------------------------------------------------------


def _data_rows(positions) -> str:
    return f"data row{'s' if len(positions) != 1 else ''} {_numbers(np.asarray(positions) + 1)}"


def _resolve_target(names: list[str], target) -> tuple[str | None, list[str], list[str]]:
    """(column, notes, problems)."""
    if target is None or (isinstance(target, str) and not target.strip()):
        return None, [], [
            f"No target column was chosen. Choose the column to predict; the columns are "
            f"{_names(names, 30)}."
        ]
    target = str(target)
    if target in names:
        return target, [], []
    loose = [n for n in names if n.strip().casefold() == target.strip().casefold()]
    if len(loose) == 1:
        return loose[0], [f"Used the column {_q(loose[0])} as the target {_q(target)}."], []
    return None, [], [
        f"There is no column {_q(target)} to use as the target. The columns are "
        f"{_names(names, 30)}; choose one of them."
    ]


def _class_label(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f == round(f) and abs(f) < 1e15:
            return str(int(f))
        return repr(f)
    return str(v)


def _split(y_codes, n, classification, val_fraction, seed):
    rng = np.random.default_rng(seed)
    if classification:
        train, val = [], []
        for k in range(int(y_codes.max()) + 1):
            idx = np.flatnonzero(y_codes == k)
            rng.shuffle(idx)
            c = len(idx)
            nv = min(int(round(val_fraction * c)), c - 1) if c >= 2 else 0
            val.append(idx[:nv])
            train.append(idx[nv:])
        train, val = np.concatenate(train), np.concatenate(val)
        if len(val) == 0:  # tiny classes: move one row of the largest class
            counts = np.bincount(y_codes[train])
            k = int(np.argmax(counts))
            pick = np.flatnonzero(y_codes[train] == k)[0]
            val = train[pick : pick + 1]
            train = np.delete(train, pick)
    else:
        perm = rng.permutation(n)
        nv = min(max(1, int(round(val_fraction * n))), n - 1)
        val, train = perm[:nv], perm[nv:]
    return rng.permutation(train), rng.permutation(val)


def prepare(
    df: pd.DataFrame,
    target: str,
    task: str | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    *,
    features: list[str] | None = None,
    name: str | None = None,
    missing: str = "impute",
    missing_target: str = "drop",
    max_categories: int = MAX_CATEGORIES,
) -> Dataset:
    """Turns a table into standardized training and validation arrays.

    Args:
        df: the table (e.g. from `load_table`).
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
        name: a name for the dataset (default: the file name from `load_table`).
        missing: "impute" (numbers get the training median, text gets no
            category) or "drop" (rows with a missing feature are left out).
            Infinite numbers count as missing.
        missing_target: "drop" leaves out rows without a target value (with a
            note); "error" raises `DataError` naming those rows.
        max_categories: most values a text column may have to be one-hot encoded.

    Returns:
        A `Dataset`.

    Raises:
        DataError: a user-caused problem (every one found is in the message).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"`df` must be a pandas DataFrame. Received: {type(df).__name__}")
    if missing not in ("impute", "drop"):
        raise ValueError(f"`missing` must be 'impute' or 'drop'. Received: {missing!r}")
    if missing_target not in ("drop", "error"):
        raise ValueError(f"`missing_target` must be 'drop' or 'error'. Received: {missing_target!r}")
    report = load_notes(df)
    info = df.attrs.get("infoif") if isinstance(df.attrs.get("infoif"), dict) else {}
    name = str(name or info.get("name") or "data")
    names, name_notes = _clean_names(list(df.columns))
    report += [n for n in name_notes if n not in report]
    df = df.set_axis(names, axis=1)
    n_all = len(df)

    problems: list[str] = []
    if df.shape[1] == 0 or n_all == 0:
        raise DataError("The table is empty: it has no rows or no columns. Choose a file with data.")
    if df.shape[1] == 1:
        problems.append(
            f"The table has only one column ({_q(names[0])}), but a model needs a target column "
            "and at least one feature column. If the file has more columns, its separator was "
            "not recognised: use commas, semicolons, tabs or | between values."
        )
    col, notes, target_problems = _resolve_target(names, target)
    report += notes
    problems += target_problems
    if task is not None and task not in TASKS:
        problems.append(f"The task {_q(task)} is unknown; choose binary, multiclass or regression.")
    if not (isinstance(val_fraction, numbers.Real) and 0 < float(val_fraction) <= 0.5):
        problems.append(
            f"The validation share must be a number above 0 and at most 0.5; it is {val_fraction!r}."
        )
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        problems.append(f"The seed must be a whole number of 0 or more; it is {seed!r}.")
    if problems and (col is None or df.shape[1] == 1):
        raise DataError(*problems)
    if not problems:
        val_fraction = float(val_fraction)
    else:  # keep looking for problems with a valid value; the error is raised below
        val_fraction = 0.2

    # --- the target
    ta = _analyze(df[col])
    if ta.kind == "numeric":
        y_values = ta.values
        n_inf_target = int(np.isinf(y_values).sum())
        if n_inf_target:
            y_values = np.where(np.isinf(y_values), np.nan, y_values)
        y_missing = np.isnan(y_values)
    elif ta.kind == "text":
        y_values = ta.values
        y_missing = y_values.isna().to_numpy()
        n_inf_target = 0
    else:
        reason = "has no values" if ta.kind == "empty" else ta.reason
        raise DataError(
            *problems,
            f"The target column {_q(col)} {reason}, so there is nothing to predict. Choose a column "
            "that holds a label or a number for every row.",
        )
    if ta.kind == "numeric" and ta.from_text and ta.n_not_numbers:
        report.append(
            f"The target {_q(col)} holds numbers; {_plural(ta.n_not_numbers, 'value')} that "
            f"{'is' if ta.n_not_numbers == 1 else 'are'} not a number ({_names(ta.not_numbers)}) "
            "count as missing."
        )
    n_missing = int(y_missing.sum())
    if n_missing == n_all:
        raise DataError(
            *problems,
            f"The target column {_q(col)} has no values in any row, so there is nothing to learn "
            "from. Choose a column that holds a label or a number for every row.",
        )
    if n_missing:
        where = _data_rows(np.flatnonzero(y_missing))
        inf_note = f" ({n_inf_target} of them infinite)" if n_inf_target else ""
        if missing_target == "error":
            problems.append(
                f"The target column {_q(col)} has {_plural(n_missing, 'missing value')}{inf_note} "
                f"({where}). Fill in those values, or remove those rows."
            )
        else:
            report.append(
                f"Left out {_plural(n_missing, 'row')} whose target {_q(col)} is missing{inf_note} "
                f"({where})."
            )
    keep = np.flatnonzero(~y_missing)

    # --- candidate features
    if features is None:
        candidates = [c for c in names if c != col]
    else:
        wanted = [str(f) for f in features]
        unknown = [f for f in wanted if f not in names]
        if unknown:
            problems.append(
                f"There is no column {_names(unknown)}; the columns are {_names(names, 30)}."
            )
        candidates = [c for c in dict.fromkeys(wanted) if c in names and c != col]
        if col in wanted:
            report.append(f"The target {_q(col)} is not also used as a feature.")

    dropped: list[tuple[str, str]] = []  # (column, reason)
    usable: list[tuple[str, _Analysis]] = []  # values are not kept: columns are re-read when fitting
    missing_features = np.zeros(len(keep), dtype=bool)  # for missing="drop"
    for c in candidates:
        a = _analyze(df[c].iloc[keep] if len(keep) < n_all else df[c])
        if a.kind == "empty":
            dropped.append((c, "empty"))
            continue
        if a.kind == "unsupported":
            dropped.append((c, a.reason))
            continue
        if a.kind == "numeric":
            v = a.values
            is_finite = np.isfinite(v)
            n_finite = int(is_finite.sum())
            if n_finite == 0:
                dropped.append((c, "empty"))
                continue
            finite = v if n_finite == v.size else v[is_finite]  # no copy in the usual case
            lo, hi = float(finite.min()), float(finite.max())
            if lo == hi:  # missing values would be filled with that value too
                where = "every row" if n_finite == v.size else "every row that has a value"
                dropped.append((c, f"has the same value ({_fmt_number(lo)}) in {where}"))
                continue
            if (
                n_finite == v.size
                and v.size >= MIN_ROWS
                and hi - lo + 1 >= v.size  # room for a different whole number in every row
                and (_looks_like_id_name(c) or hi - lo + 1 <= 1.1 * v.size)
                and np.all(np.floor(finite) == finite)
                and np.unique(finite).size == v.size
            ):
                dropped.append((c, "looks like an identifier (a different whole number in every row)"))
                continue
            del finite
            if missing == "drop":
                missing_features |= ~is_finite
            usable.append((c, dataclasses.replace(a, values=None)))
        else:  # text
            counts = a.values.value_counts()
            k = len(counts)
            n_present = int(counts.sum())
            if k == 1:
                dropped.append((c, f"has the same text ({_q(counts.index[0], 30)}) in every row"))
            elif n_present >= MIN_ROWS and (k >= 0.9 * n_present or (_looks_like_id_name(c) and k == n_present)):
                dropped.append((
                    c,
                    f"looks like an identifier or free text ({k:,} different values in "
                    f"{n_present:,} rows, so the values hardly repeat)",
                ))
            elif k > max_categories:
                dropped.append((c, f"is text with {k:,} different values, more than the {max_categories} categories that are one-hot encoded"))
            else:
                if missing == "drop":
                    missing_features |= a.values.isna().to_numpy()
                usable.append((c, dataclasses.replace(a, values=k)))  # values: number of categories
    for c, reason in dropped:
        if reason == "empty":
            report.append(f"Left out column {_q(c)}: it has no values.")
        else:
            report.append(f"Left out column {_q(c)}: it {reason}.")
    if not usable:
        if candidates and all(r == "empty" for _, r in dropped):
            problems.append(
                f"Every feature column is empty: {_names(candidates)} "
                f"{'has' if len(candidates) == 1 else 'have'} no values. Fill in the data, or "
                "choose a file where the feature columns have values."
            )
        elif candidates:
            why = "; ".join(
                f"{_q(c)} {'has no values' if r == 'empty' else r}" for c, r in dropped[:8]
            )
            more = f"; and {len(dropped) - 8} more" if len(dropped) > 8 else ""
            problems.append(
                f"No column can be used as a feature: {why}{more}. A model needs at least one "
                "column of numbers or categories besides the target."
            )
        elif df.shape[1] > 1:
            problems.append(
                "No feature column is left besides the target. Choose at least one other column."
            )

    # --- rows with missing features
    if usable and missing == "drop" and missing_features.any():
        report.append(
            f"Left out {_plural(int(missing_features.sum()), 'row')} with a missing or infinite "
            f"feature value ({_data_rows(keep[missing_features])})."
        )
        keep = keep[~missing_features]

    # --- task and classes (on the rows that remain)
    n = len(keep)
    classification = None
    y_codes = y_float = None
    class_names = None
    if ta.kind == "numeric":
        yv = y_values[keep] if len(keep) < n_all else y_values
        uniq = np.unique(yv)
        k = uniq.size
        integral = bool(np.all(np.floor(uniq) == uniq))
        if task is None:
            if k == 2:
                task = "binary"
            elif integral and 3 <= k <= 20 and k * 5 <= n:
                task = "multiclass"
            else:
                task = "regression"
            how = "inferred"
        else:
            how = "chosen"
        if task == "regression":
            if k <= 1:
                problems.append(
                    f"The target {_q(col)} has the same value ({_fmt_number(uniq[0]) if k else '-'}) in "
                    "every row, so there is nothing to predict. Choose a column whose values vary."
                )
            y_float = yv
        else:
            y_codes = np.searchsorted(uniq, yv).astype(np.int64, copy=False)
            if pd.api.types.is_bool_dtype(df[col].dtype):
                class_names = [str(bool(u)) for u in uniq]
            else:
                class_names = [_class_label(u) for u in uniq]
    else:
        yv = y_values.iloc[keep] if len(keep) < len(y_values) else y_values
        codes, uniq = pd.factorize(yv, sort=True)
        k = len(uniq)
        how = "chosen" if task is not None else "inferred"
        if task == "regression":
            problems.append(
                f"The target {_q(col)} holds text (like {_q(uniq[0])}), but regression predicts "
                "numbers. Choose binary or multiclass, or a numeric target."
            )
        elif task is None:
            task = "binary" if k == 2 else "multiclass"
        y_codes = np.asarray(codes, dtype=np.int64)
        class_names = [str(u) for u in uniq]
    if task in ("binary", "multiclass") and class_names is not None:
        classification = True
        if k < 2:
            only = class_names[0] if class_names else "-"
            problems.append(
                f"The target {_q(col)} has only one class ({_q(only)}) in all {n:,} rows; a "
                "model needs examples of at least two classes. Choose another target, or add "
                "rows of the other classes."
            )
        elif k > MAX_CLASSES or (k > 2 and k > n / 2):
            problems.append(
                f"The target {_q(col)} has {k:,} different values in {n:,} rows, so nearly every "
                "row is its own class and there is nothing to generalize from. Choose a column "
                "that holds a category (a label shared by many rows)"
                + (", or the task 'regression' if it is a measured number." if ta.kind == "numeric" else ".")
            )
        elif task == "binary" and k != 2:
            problems.append(
                f"The task is binary, but the target {_q(col)} has {k} classes "
                f"({_names(class_names)}). Choose multiclass, or a target with two values."
            )
    else:
        classification = False
    if n < MIN_ROWS:
        lost = f" ({n_all - n:,} of the {n_all:,} rows were left out, see above)" if n < n_all else ""
        problems.append(
            f"Only {_plural(n, 'row')} can be used{lost}, but at least {MIN_ROWS} are needed: most "
            f"train the model and the rest ({val_fraction:.0%}) check it. Add more rows."
        )
    if usable:
        width = sum(1 if a.kind == "numeric" else int(a.values) for _, a in usable)
        if width > MAX_FEATURES:
            problems.append(
                f"The columns would make {width:,} model inputs (each category becomes one); the "
                f"limit is {MAX_FEATURES:,}. Choose fewer columns."
            )
    if problems:
        raise DataError(*problems)

    # --- report on the target and the task
    if classification:
        counts = np.bincount(y_codes, minlength=len(class_names))
        shown = ", ".join(f"{_q(c, 30)}: {m:,}" for c, m in list(zip(class_names, counts))[:10])
        if len(class_names) > 10:
            shown += f", and {len(class_names) - 10} more"
        report.append(
            f"Target {_q(col)}: {task} classification with {len(class_names)} classes ({shown}); "
            f"task {how}."
        )
    else:
        report.append(f"Target {_q(col)}: regression (predicting a number); task {how}.")

    # --- split
    train_idx, val_idx = _split(y_codes, n, classification, val_fraction, seed)
    report.append(
        f"Split the {n:,} rows at random (seed {seed}) into {len(train_idx):,} for training and "
        f"{len(val_idx):,} for validation ({val_fraction:.0%})"
        + (", keeping the share of each class." if classification else ".")
    )

    # --- features: fit on the training part, then standardize column by column, so that
    # only one column's values are in memory besides the output arrays.
    width = sum(1 if a.kind == "numeric" else int(a.values) for _, a in usable)  # at most
    x_train = np.empty((len(train_idx), width), dtype=np.float32)
    x_val = np.empty((len(val_idx), width), dtype=np.float32)
    cols: list[FeatureColumn] = []
    means: list[float] = []
    stds: list[float] = []
    for c, a in usable:
        raw = df[c].iloc[keep] if len(keep) < n_all else df[c]
        if a.kind == "numeric":
            v = _float_column(raw, a.decimal_comma)
            bad = ~np.isfinite(v)
            n_bad = int(bad.sum())
            n_inf = int(np.isinf(v).sum()) if n_bad else 0
            n_nan = n_bad - n_inf
            tv = v[train_idx]
            if n_bad:
                tv = tv[np.isfinite(tv)]
            fill = float(np.median(tv, overwrite_input=True)) if tv.size else 0.0
            del tv
            fc = FeatureColumn(c, "numeric", fill=fill, decimal_comma=a.decimal_comma)
            if n_bad:
                v[bad] = fill
            del bad
            if a.from_text:
                extra = (
                    f"; {_plural(a.n_not_numbers, 'value')} that "
                    f"{'is' if a.n_not_numbers == 1 else 'are'} not a number "
                    f"({_names(a.not_numbers)}) count as missing" if a.n_not_numbers else ""
                )
                report.append(f"Column {_q(c)} is text holding numbers, read as numbers{extra}.")
            if n_inf or n_nan:
                parts = []
                if n_nan:
                    parts.append(f"{_plural(n_nan, 'missing value')}")
                if n_inf:
                    parts.append(f"{_plural(n_inf, 'infinite value')}")
                report.append(
                    f"Column {_q(c)}: {' and '.join(parts)} filled with the median of the "
                    f"training part ({_fmt_number(fill)})."
                )
            m, sd = _mean_std(v[train_idx])
            means.append(m)
            stds.append(sd)
        else:  # category: inputs are 0/1, so mean = share p and std = sqrt(p (1 - p))
            strings = _as_strings(raw)
            cats = _categories(strings, train_idx)
            if not cats:
                report.append(f"Left out column {_q(c)}: it has no values in the training rows.")
                continue
            fc = FeatureColumn(c, "category", categories=cats)
            v = _category_codes(strings, cats)
            n_nan = int(strings.isna().sum())
            unseen = int(((v < 0) & strings.notna().to_numpy()).sum())
            del strings
            msg = (
                f"Column {_q(c)} is text with {len(cats)} categories ({_names(cats, 6)}), one-hot "
                f"encoded into {len(cats)} inputs"
            )
            if n_nan:
                msg += f"; its {_plural(n_nan, 'missing value')} get no category"
            if unseen:
                msg += f"; {_plural(unseen, 'value')} seen only in validation rows get no category"
            report.append(msg + ".")
            train_codes = v[train_idx]
            for k in range(len(cats)):
                p = np.count_nonzero(train_codes == k) / max(1, len(train_codes))
                sd = math.sqrt(p * (1.0 - p))
                means.append(p)
                stds.append(sd if sd > 1e-12 else 1.0)
            del train_codes
        cols.append(fc)
        j = len(means) - fc.width
        mean_arr, std_arr = np.array(means[j:]), np.array(stds[j:])
        fc.write(v[train_idx], x_train[:, j : j + fc.width], mean_arr, std_arr)
        fc.write(v[val_idx], x_val[:, j : j + fc.width], mean_arr, std_arr)
        del v, raw
    feature_names = [f for fc in cols for f in fc.feature_names]
    d = len(feature_names)
    if d == 0:
        raise DataError(
            "No column can be used as a feature: the feature columns have no values in the "
            "training rows. Fill in the data, or choose other feature columns."
        )
    if width != d:  # categories seen only in validation rows have no input
        x_train, x_val = x_train[:, :d].copy(), x_val[:, :d].copy()
    mean_all, std_all = np.array(means, dtype=np.float64), np.array(stds, dtype=np.float64)
    report.append(
        f"Standardized the {_plural(d, 'input')} to mean 0 and standard deviation 1 with "
        "statistics from the training part only."
    )

    # --- targets
    target_mean = target_std = None
    if classification:
        y_train, y_val = y_codes[train_idx], y_codes[val_idx]
    else:
        target_mean, target_std = _mean_std(y_float[train_idx])
        y_train = _standardize(y_float[train_idx], target_mean, target_std)
        y_val = _standardize(y_float[val_idx], target_mean, target_std)
        report.append(
            f"Standardized the target {_q(col)} with the training part's mean "
            f"({target_mean:.4g}) and standard deviation ({target_std:.4g}), so errors such as "
            f"the MAE are in standard deviations of the target: multiply by {target_std:.4g} to "
            "get them in the target's own units."
        )

    return Dataset(
        name=name,
        target=col,
        task=task,
        x_train=x_train,
        y_train=np.ascontiguousarray(y_train),
        x_val=x_val,
        y_val=np.ascontiguousarray(y_val),
        feature_names=feature_names,
        class_names=class_names,
        report=report,
        raw_feature_columns=[fc.name for fc in cols],
        columns=tuple(cols),
        feature_mean=mean_all,
        feature_std=std_all,
        train_rows=keep[train_idx].astype(np.int64),
        val_rows=keep[val_idx].astype(np.int64),
        target_mean=target_mean,
        target_std=target_std,
    )

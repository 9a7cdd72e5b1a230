"""Delimited text (commas, semicolons, tabs, pipes) read with pyarrow, block by block.

pyarrow's reader is fast and frugal; this module adds what a person needs
when a file is broken: rows of the wrong width and quotes left open are
collected and explained with their line numbers, and a column whose type
changes after the first block is read again, widened.
"""

from __future__ import annotations

import csv
import io
import re
import sys

import pyarrow as pa
import pyarrow.compute as pacompute
import pyarrow.csv as pacsv

from infoif.data.columns import MISSING_MARKERS
from infoif.data.errors import DataError, name_list, number_list, plural, quote, size_text
from infoif.data.limits import MAX_LINE_BYTES
from infoif.data.readers import Read
from infoif.data.readers.sniff import DELIMITERS, NEWLINE, NUMBER, Sniffed
from infoif.data.source import Encoding, Source

__all__ = ["read_csv", "unclosed_quote_message"]


def unclosed_quote_message(line: int, what: str = "the text after it was read as one value") -> str:
    return (
        f"Line {line:,} opens a quoted value with \" that is never closed, so {what}. Add the "
        "missing closing quote, or remove the stray quote character."
    )


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

    def problems(self) -> list[str]:
        out = []
        ragged = [r for r in self.rows if not r[4]]
        unclosed = [r for r in self.rows if r[4]]
        if unclosed:
            lines = [r[0] for r in unclosed if r[0]]
            where = f"Line {number_list(lines)}" if lines else "A line"
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
            sep = DELIMITERS.get(self.delimiter, repr(self.delimiter))
            out.append(
                f"{plural(n_ragged, 'row')} {'does' if n_ragged == 1 else 'do'} not have the "
                f"{expected} values of the header ({shown}{more}). A value that contains the "
                f"separator ({sep}) must be put in double quotes, and every row needs one value "
                "per column (leave a value empty if it is missing)."
            )
        return out


def _options(enc: Encoding, sn: Sniffed, handler, threads=True, column_types=None) -> dict:
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
        quote_char=sn.quote,
        double_quote=True,
        escape_char=False,
        newlines_in_values=True,
        ignore_empty_lines=True,
        invalid_row_handler=handler,
    )
    convert = pacsv.ConvertOptions(
        null_values=MISSING_MARKERS,
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        decimal_point="," if sn.decimal_comma else ".",
        column_types=column_types or {},
    )
    return dict(read_options=read, parse_options=parse, convert_options=convert)


_CONVERSION = re.compile(r"In CSV column #(\d+): .*?CSV conversion error to (\w+): invalid value '(.*)'", re.S)


def _arrow_csv(src: Source, enc: Encoding, sn: Sniffed, handler, threads=True) -> pa.Table:
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
            reader = pacsv.open_csv(src.arrow(), **_options(enc, sn, handler, threads, overrides))
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
            widened = pa.float64() if NUMBER.fullmatch(value) and m.group(2) in ("int64", "null") else pa.string()
            if overrides.get(name) == widened:
                break
            overrides[name] = widened
        finally:
            del batches
    handler.reset()
    return pacsv.read_csv(src.arrow(), **_options(enc, sn, handler, threads, overrides))


def _long_line(text: str) -> tuple[int, int] | None:
    start, line = 0, 1
    for m in NEWLINE.finditer(text):
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
        m = NEWLINE.search(text, offset)
        if m is None:
            return None
        offset = m.end()
    last = text[offset:]
    opens = last.lstrip().startswith('"') or (delimiter + '"') in last
    return start if opens and last.count('"') % 2 == 1 else None


def _odd_quotes(src: Source, enc: Encoding) -> bool:
    """Whether the file has an odd number of double quotes (cheap: bytes.count)."""
    if enc.wide:
        return src.text(enc).count('"') % 2 == 1
    return sum(chunk.count(b'"') for chunk in src.chunks()) % 2 == 1


def _failure(src: Source, enc: Encoding, sn: Sniffed, exc: Exception) -> DataError:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, MemoryError):
        return DataError(f"{quote(src.name)} is too large to load into memory here. Use a smaller file.")
    if "Empty CSV" in message:
        return DataError(
            f"{quote(src.name)} has a header but no data rows below it. Add rows of data, one per line."
        )
    if "straddl" in message or "block" in message:
        text = src.text(enc)
        long = _long_line(text)
        if long:
            return DataError(
                f"Line {long[0]:,} of {quote(src.name)} is {size_text(long[1])} long, too long for a row "
                f"of a table (rows of up to about {size_text(MAX_LINE_BYTES)} are read). The file is "
                "probably not a table, or its line breaks are missing."
            )
        line = _unclosed_quote(text, sn.delimiter)
        if line:
            return DataError(unclosed_quote_message(line, "everything after it was read as one value"))
    return DataError(
        f"{quote(src.name)} could not be read as a table (the reader said: {message[:200]}). Check "
        "that it is a CSV or TSV file with one row per line and the same number of values in "
        "every row."
    )


def numeric_strings(table: pa.Table, decimal_comma: bool) -> tuple[pa.Table, list[str]]:
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


def layout_notes(src: Source, enc: Encoding, sn: Sniffed, kind: str) -> list[str]:
    """What was detected, for the report (shared with the whitespace reader)."""
    sep = DELIMITERS.get(sn.delimiter, repr(sn.delimiter))
    notes = [f"Read {quote(src.name)} as {kind} separated by {sep}, encoding {enc.label}."]
    if not enc.is_unicode:
        notes.append(
            f"The file is not UTF-8, so it was read as {enc.label}; if letters look wrong, choose "
            "the file's encoding (or save the file as 'CSV UTF-8' and upload it again)."
        )
    if sn.quote == "'":
        notes.append("Values are quoted with single quotes ('like this'), which were taken off.")
    if sn.decimal_comma:
        notes.append("Numbers use a decimal comma (like 1,5), which was read as a decimal point.")
    if sn.header_is_data:
        notes.append(
            "The first line holds numbers, not column names, so it was read as data and the "
            "columns were named column_1, column_2, …"
        )
    if sn.markdown_rule:
        notes.append("The Markdown separator line under the header (---) was skipped.")
    return notes


def read_csv(src: Source, enc: Encoding, sn: Sniffed) -> Read:
    """Reads delimited text whose layout `sniff` found. Raises `DataError` listing every bad row."""
    handler = _BadRows(sn.delimiter)
    try:
        table = _arrow_csv(src, enc, sn, handler)
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises several types for malformed input
        raise _failure(src, enc, sn, exc) from None
    if handler.count:
        if any(r[0] is None for r in handler.rows):  # row numbers need one thread
            exact = _BadRows(sn.delimiter)
            try:
                _arrow_csv(src, enc, sn, exact, threads=False)
                handler = exact if exact.count else handler
            except Exception:  # keep what the first pass found
                pass
        raise DataError(*handler.problems())
    if _odd_quotes(src, enc):  # pyarrow accepts a quote left open in the very last value
        line = _unclosed_quote(src.text(enc), sn.delimiter)
        if line:
            raise DataError(unclosed_quote_message(line))
    kind = "TSV" if sn.delimiter == "\t" else "CSV"
    notes = layout_notes(src, enc, sn, kind)
    if handler.blank:
        notes.append(f"Skipped {plural(handler.blank, 'line')} with nothing but spaces or separators.")
    table, converted = numeric_strings(table, sn.decimal_comma)
    if converted:
        notes.append(f"Read {name_list(converted)} as numbers (the values had spaces around them).")
    return Read(table, notes, kind, {"delimiter": sn.delimiter})

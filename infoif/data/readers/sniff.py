"""What a text table looks like, from its first 64 KB: separator, quote character, header.

The separator is the candidate that splits the sample into the most
consistent rows: commas, semicolons, tabs or pipes; runs of spaces (R's
`write.table`, statsmodels' data files) only when none of those splits it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from infoif.data.errors import DataError, no_data_rows, only_whitespace, quote, too_many_columns
from infoif.data.limits import MAX_COLUMNS, SNIFF_BYTES

__all__ = ["Sniffed", "DELIMITERS", "WHITESPACE", "sniff", "NUMBER", "NEWLINE", "TOKENS"]

WHITESPACE = " "  # the `delimiter` of a whitespace-separated table (runs of spaces and tabs)
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes (|)", WHITESPACE: "spaces"}

NEWLINE = re.compile(r"\r\n|\r|\n")
NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*")
_BLANK_LINES = re.compile(r"(?:[ \t\f\v]*(?:\r\n|\r|\n))*")
_DECIMAL_COMMA = re.compile(r"\s*[-+]?\d+,\d+\s*")
_DECIMAL_POINT = re.compile(r"\s*[-+]?\d*\.\d+\s*")
_MD_RULE = re.compile(r"\s*:?-{3,}:?\s*")
TOKENS = {'"': re.compile(r'"(?:[^"]|"")*"|\S+'), "'": re.compile(r"'[^']*'|\S+")}


@dataclass
class Sniffed:
    delimiter: str  # one character, or WHITESPACE for runs of spaces
    quote: str  # '"', or "'" when the file quotes with single quotes
    skip_rows: int
    header: list[str]
    header_is_data: bool
    decimal_comma: bool
    markdown_rule: bool
    row_names: bool = False  # R's layout: the header has no name for a first column of row names

    @property
    def whitespace(self) -> bool:
        return self.delimiter == WHITESPACE


def _rows(text: str, delimiter: str, quotechar: str, limit: int = 500) -> list[list[str]]:
    rows = []
    if delimiter == WHITESPACE:
        tokens = TOKENS[quotechar]
        for line in NEWLINE.split(text):
            if line.strip():
                rows.append([_unquote(t, quotechar) for t in tokens.findall(line)])
                if len(rows) >= limit:
                    break
        return rows
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar, strict=False)
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


def _unquote(token: str, q: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] == q:
        return token[1:-1].replace(q + q, q)
    return token


def _quote_char(body: str) -> str:
    """"'" when the first line quotes with single quotes and the sample has no double quote."""
    first = next((line for line in NEWLINE.split(body) if line.strip()), "")
    if '"' not in body[:SNIFF_BYTES] and re.match(r"\s*'[^']*'", first):
        return "'"
    return '"'


def _score(rows: list[list[str]], whitespace: bool):
    width = len(rows[0])
    if whitespace and len(rows) > 1 and width >= 2 and all(len(r) == width + 1 for r in rows[1:]):
        return (True, True, 1.0, width + 1), True  # R's row names
    same = sum(len(r) == width for r in rows[1:])
    consistency = same / (len(rows) - 1) if len(rows) > 1 else 1.0
    return (width > 1, consistency >= 0.9, consistency, width), False


def sniff(text: str, complete: bool, name: str, ext: str = "", delimiter: str | None = None) -> Sniffed:
    """Detects the layout of a text table from `text`, the start of the file (all of it if
    `complete`). A `delimiter` a person chose (one of `DELIMITERS`) is used as it is."""
    blank = _BLANK_LINES.match(text).group()
    skip = len(NEWLINE.findall(blank))
    body = text[len(blank) :]
    forced = None
    m = re.match(r"sep=(.)[ \t]*(\r\n|\r|\n)", body)
    if m:  # Excel's hint line
        forced, skip, body = m.group(1), skip + 1, body[m.end() :]
    forced = delimiter or forced
    if not complete:
        cut = max(body.rfind("\n"), body.rfind("\r"))
        if cut < 0:
            raise DataError(
                f"The first {SNIFF_BYTES // 1024} KB of {quote(name)} contain no line break, so "
                "it is not a table with one row per line. It may be a binary file, a single huge "
                "value, or use an unusual line ending. Upload a CSV, TSV, Parquet or JSON file."
            )
        body = body[:cut]

    quotechar = _quote_char(body)
    candidates = [forced] if forced else [d for d in DELIMITERS if d != WHITESPACE]
    if ext in (".tsv", ".tab") and not forced:
        candidates = ["\t"] + [d for d in candidates if d != "\t"]
    best, best_score, best_rows, row_names = candidates[0], None, None, False
    for d in candidates:
        if d == WHITESPACE:
            break
        rows = _rows(body, d, quotechar)
        if not complete and len(rows) > 1:
            rows = rows[:-1]  # the last row of a cut sample may be incomplete
        if not rows:
            continue
        score, _ = _score(rows, False)
        if best_score is None or score > best_score:
            best, best_score, best_rows = d, score, rows
    weak = best_score is None or not (best_score[0] and best_score[1])
    if forced == WHITESPACE or (not forced and weak):
        rows = _rows(body, WHITESPACE, quotechar)
        if not complete and len(rows) > 1:
            rows = rows[:-1]
        if rows:
            score, names = _score(rows, True)
            if forced == WHITESPACE or (score[0] and score[1]):
                best, best_score, best_rows, row_names = WHITESPACE, score, rows, names
    rows = best_rows or []
    if not rows:
        raise DataError(only_whitespace(name))
    header = rows[0]
    if len(header) > MAX_COLUMNS:
        raise DataError(too_many_columns(name, len(header), MAX_COLUMNS))
    if complete and len(rows) == 1:
        raise DataError(no_data_rows(name, header))
    header_is_data = all(NUMBER.fullmatch(f) for f in header)
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
    return Sniffed(best, quotechar, skip, header, header_is_data, decimal_comma, markdown_rule, row_names)

"""One reader per format, in the manner of pandas' `io/parsers/`.

    sniff.py             what a text table looks like: separator, quotes, header
    csv_reader.py        delimited text (commas, semicolons, tabs, pipes), via pyarrow
    whitespace_reader.py columns separated by runs of spaces (R, statsmodels), via pandas
    json_reader.py       JSON records, columns or splits, and JSON Lines
    parquet_reader.py    Parquet

Each `read_*` returns a `Read`: the table (Arrow or pandas), the notes on what
it detected, and the format's name. `infoif.data.load` picks the reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

__all__ = ["Read"]


@dataclass
class Read:
    """What a reader gives back: a table, notes for the report, the format's name, and the
    options a person could set to read it the same way again (JSON values)."""

    table: pa.Table | pd.DataFrame
    notes: list[str]
    format: str
    options: dict = field(default_factory=dict)

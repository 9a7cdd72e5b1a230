"""How much data the app takes, and which files: one home for every data limit.

The app shows `describe_limits()` next to the upload box and offers
`UPLOAD_TYPES` in it; `load_table` and `prepare` enforce the numbers.
"""

from __future__ import annotations

__all__ = [
    "MAX_UPLOAD_MB",
    "MAX_UPLOAD_BYTES",
    "MAX_ROWS",
    "MAX_COLUMNS",
    "MAX_FEATURES",
    "MIN_ROWS",
    "MAX_CLASSES",
    "MAX_CATEGORIES",
    "MAX_LINE_BYTES",
    "SNIFF_BYTES",
    "UPLOAD_TYPES",
    "describe_limits",
]

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

# File name endings by format (the content decides when a name disagrees with it).
TEXT_EXTENSIONS = (".csv", ".tsv", ".tab", ".txt", ".dat", ".data")
JSON_EXTENSIONS = (".json", ".jsonl", ".ndjson", ".geojson")
PARQUET_EXTENSIONS = (".parquet", ".pq", ".parq")
EXCEL_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".numbers")
# What the upload boxes offer (without the dot, as Streamlit wants them).
UPLOAD_TYPES = [e[1:] for e in TEXT_EXTENSIONS + JSON_EXTENSIONS[:3] + PARQUET_EXTENSIONS]


def describe_limits() -> str:
    """One sentence for the upload box: the accepted formats and the limits."""
    return (
        f"CSV, TSV, whitespace-separated text, Parquet or JSON (also JSON Lines); up to "
        f"{MAX_UPLOAD_MB} MB, {MAX_ROWS:,} rows and {MAX_COLUMNS:,} columns."
    )

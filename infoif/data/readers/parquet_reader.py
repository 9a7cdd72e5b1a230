"""Parquet files, checked against the limits from their metadata before the data is read."""

from __future__ import annotations

from infoif.data.errors import DataError, quote, too_many_columns, too_many_rows
from infoif.data.limits import MAX_COLUMNS
from infoif.data.readers import Read
from infoif.data.source import Source

__all__ = ["read_parquet"]


def read_parquet(src: Source, max_rows: int | None) -> Read:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(src.arrow()).metadata
        if max_rows is not None and meta.num_rows > max_rows:
            raise DataError(too_many_rows(src.name, meta.num_rows, max_rows))
        if meta.num_columns > MAX_COLUMNS:
            raise DataError(too_many_columns(src.name, meta.num_columns, MAX_COLUMNS))
        table = pq.read_table(src.arrow())
    except DataError:
        raise
    except Exception as exc:  # ArrowInvalid, OSError, ... on damaged files
        detail = str(exc).strip().splitlines()[0][:150] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"{quote(src.name)} looks like a Parquet file but could not be read ({detail}). It is "
            "probably damaged or cut off; export it again."
        ) from None
    return Read(table, [f"Read {quote(src.name)} as Parquet."], "Parquet")

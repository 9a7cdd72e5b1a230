"""JSON tables: a list of records, an object of columns, pandas' 'split' layout, records
under one key, or JSON Lines (one record per line)."""

from __future__ import annotations

import json

import pandas as pd

from infoif.data.errors import DataError, number_list, quote
from infoif.data.readers import Read
from infoif.data.source import Encoding, Source

__all__ = ["read_json"]

_EXPECTED = (
    'Expected a list of records like [{"a": 1, "b": 2}, …] or an object of columns like '
    '{"a": [1, 2], "b": [3, 4]}.'
)


def _frame(obj, name: str) -> tuple[pd.DataFrame, list[str]]:
    where = f"The JSON in {quote(name)}"
    notes = []
    if isinstance(obj, dict) and isinstance(obj.get("columns"), list) and isinstance(obj.get("data"), list):
        rows = obj["data"]
        if not all(isinstance(r, list) for r in rows):
            raise DataError(f"{where} has 'columns' and 'data', but 'data' is not a list of rows. {_EXPECTED}")
        width = len(obj["columns"])
        bad = [i + 1 for i, r in enumerate(rows) if len(r) != width]
        if bad:
            raise DataError(
                f"In the JSON of {quote(name)}, rows {number_list(bad)} of 'data' do not have the "
                f"{width} values that 'columns' names. Give every row one value per column."
            )
        return pd.DataFrame(rows, columns=[str(c) for c in obj["columns"]]), notes
    if isinstance(obj, dict) and len(obj) == 1:
        (key, value), = obj.items()
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            notes.append(f"Read the records under the key {quote(key)}.")
            obj = value
    if isinstance(obj, list):
        if not obj:
            raise DataError(f"{where} is an empty list: there are no rows. {_EXPECTED}")
        if all(isinstance(r, dict) for r in obj):
            return pd.DataFrame.from_records(obj), notes
        if all(isinstance(r, list) for r in obj) and obj[0] and all(isinstance(c, str) for c in obj[0]):
            width = len(obj[0])
            bad = [i + 1 for i, r in enumerate(obj[1:], 1) if len(r) != width]
            if bad:
                raise DataError(
                    f"In the JSON of {quote(name)}, rows {number_list(bad)} do not have the {width} "
                    "values of the first row (the column names). Give every row one value per column."
                )
            notes.append("The first list of the JSON was read as the column names.")
            return pd.DataFrame(obj[1:], columns=obj[0]), notes
        raise DataError(f"{where} is a list, but not a list of records. {_EXPECTED}")
    if isinstance(obj, dict) and obj:
        values = list(obj.values())
        if all(isinstance(v, list) for v in values):
            lengths = {k: len(v) for k, v in obj.items()}
            if len(set(lengths.values())) > 1:
                shown = ", ".join(f"{quote(k)} has {n}" for k, n in list(lengths.items())[:8])
                raise DataError(
                    f"The columns in the JSON of {quote(name)} have different lengths ({shown}). "
                    "Every column needs one value per row."
                )
            return pd.DataFrame(obj), notes
        if all(isinstance(v, dict) for v in values):
            return pd.DataFrame(obj), notes
    if isinstance(obj, dict) and not obj:
        raise DataError(f"{where} is an empty object: there is no table. {_EXPECTED}")
    raise DataError(f"{where} does not hold a table. {_EXPECTED}")


def read_json(src: Source, enc: Encoding) -> Read:
    """Reads JSON or JSON Lines into a DataFrame."""
    text = src.text(enc)
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
                f"The JSON in {quote(src.name)} is not valid: {e.msg} at line {e.lineno:,}, column "
                f"{e.colno:,}. Fix the file near that place (a missing comma, quote or bracket is "
                "the usual cause), or export it again."
            ) from None
    except RecursionError:
        raise DataError(f"The JSON in {quote(src.name)} is nested too deeply to be a table.") from None
    try:
        df, notes = _frame(obj, src.name)
    except DataError:
        raise
    except Exception as exc:  # pandas rejects some shapes
        raise DataError(
            f"The JSON in {quote(src.name)} could not be turned into a table ({str(exc)[:150]}). "
            'Use a list of records like [{"a": 1, "b": 2}, …].'
        ) from None
    fmt = "JSON Lines" if lines_mode else "JSON"
    notes.insert(0, f"Read {quote(src.name)} as {fmt}, encoding {enc.label}.")
    return Read(df, notes, fmt)

"""load_table/read_table: files that are not tables, or broken ones, get a DataError that says what to do."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from infoif.data import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_MB,
    DataError,
    describe_limits,
    load_table,
)
from tests.data.helpers import csv_bytes, error_of, frame


def test_empty_file():
    msg = error_of(load_table, b"", "data.csv")
    assert "'data.csv' is empty (0 bytes)" in msg


def test_whitespace_only_file():
    msg = error_of(load_table, b"  \n\n\t \r\n   ", "data.csv")
    assert "only blank lines and whitespace" in msg


@pytest.mark.parametrize("data", [b"a,b,c\n", b"a,b,c", b"a,b,c\r\n\r\n\r\n"])
def test_header_without_rows(data):
    msg = error_of(load_table, data, "data.csv")
    assert "header ('a', 'b', 'c') but no data rows" in msg


def test_header_without_rows_parquet():
    buf = io.BytesIO()
    pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=str)}).to_parquet(buf)
    msg = error_of(load_table, buf.getvalue(), "t.parquet")
    assert "no data rows" in msg and "'a', 'b'" in msg


def test_random_binary_data():
    data = bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8))
    msg = error_of(load_table, data, "data.csv")
    assert "NUL bytes" in msg and "binary file" in msg


def test_binary_without_nul_bytes():
    data = bytes(np.random.default_rng(2).integers(1, 32, 4000, dtype=np.uint8))
    msg = error_of(load_table, data, "data.csv")
    assert "does not look like text" in msg and "control characters" in msg


@pytest.mark.parametrize(
    "head, what",
    [
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
        (b"GIF89a", "a GIF image"),
        (b"%PDF-1.7\n", "a PDF document"),
    ],
)
def test_image_or_document_named_csv(head, what):
    msg = error_of(load_table, head + bytes(range(256)) * 4, "photo.csv")
    assert f"'photo.csv' is {what}, not a table" in msg


def test_zip_named_csv():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data.csv", "a,b\n1,2\n")
    msg = error_of(load_table, buf.getvalue(), "data.csv")
    assert "ZIP archive" in msg and "Unzip it" in msg


def test_xlsx_named_csv():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # the layout of an .xlsx file
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    msg = error_of(load_table, buf.getvalue(), "sales.csv")
    assert "Excel or OpenDocument workbook" in msg and "Save As" in msg


def test_old_excel_and_gzip():
    assert "old-style Excel" in error_of(load_table, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "a.csv")
    assert "gzip" in error_of(load_table, b"\x1f\x8b\x08\x00" + b"\0" * 100, "a.csv")


def test_nul_bytes():
    msg = error_of(load_table, b"a,b\n1,2\n3,\x004\n", "data.csv")
    assert "NUL bytes (the first on line 3" in msg


def test_one_enormous_line():
    msg = error_of(load_table, b"1," * 100_000, "data.csv")
    assert "contain no line break" in msg and "not a table" in msg


def test_enormous_line_in_the_middle():
    data = b"a,b\n1,2\n" + b"9" * 12_000_000 + b",1\n3,4\n"
    msg = error_of(load_table, data, "data.csv")
    assert "Line 3 of 'data.csv' is 11.4 MB long" in msg


def test_ragged_rows():
    data = b"a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n13,14,15\n"
    msg = error_of(load_table, data, "data.csv")
    assert "2 rows do not have the 3 values of the header (line 3 has 2, line 5 has 4)" in msg
    assert "double quotes" in msg


def test_ragged_rows_many_are_summarised():
    rows = "".join("1,2\n" if i % 2 else "1,2,3\n" for i in range(40))
    msg = error_of(load_table, ("a,b,c\n" + rows).encode(), "data.csv")
    assert "20 rows do not have the 3 values" in msg and "and 15 more" in msg


def test_unterminated_quote():
    data = b'a,b,c\n1,2,3\n"4,5,6\n7,8,9\n10,11,12\n'
    msg = error_of(load_table, data, "data.csv")
    assert 'Line 3 opens a quoted value with " that is never closed' in msg


def test_unterminated_quote_in_the_last_value():
    data = b'a,b,c\n1,2,3\n4,5,6\n7,8,"9\n'
    msg = error_of(load_table, data, "data.csv")
    assert "Line 4 opens a quoted value" in msg


def test_several_file_problems_in_one_message():
    data = b'a,b,c\n1,2,3\n4,5\n"6,7,8\n9,10,11\n'
    with pytest.raises(DataError) as info:
        load_table(data, "data.csv")
    assert len(info.value.problems) == 2
    msg = str(info.value)
    assert msg.startswith("Found 2 problems:")
    assert "Line 4 opens a quoted value" in msg and "line 3 has 2" in msg


@pytest.mark.parametrize(
    "text, where",
    [
        ('{"a": [1, 2], "b": [3, 4', "line 1, column 25"),
        ('[{"a": 1},\n {"a": 2},\n]', "line 3, column 1"),
        ('[{"a": 1, "b": tru}]', "line 1, column 16"),
    ],
)
def test_broken_json(text, where):
    msg = error_of(load_table, text.encode(), "data.json")
    assert "The JSON in 'data.json' is not valid" in msg and where in msg


def test_json_that_is_not_a_table():
    assert "not a list of records" in error_of(load_table, b"[1, 2, 3]", "x.json")
    assert "does not hold a table" in error_of(load_table, b'"hello"', "x.json")
    assert "empty list" in error_of(load_table, b"[]", "x.json")
    msg = error_of(load_table, b'{"a": [1, 2, 3], "b": [4, 5]}', "x.json")
    assert "different lengths ('a' has 3, 'b' has 2)" in msg


def test_broken_parquet():
    buf = io.BytesIO()
    frame(40).to_parquet(buf)
    data = buf.getvalue()
    msg = error_of(load_table, data[: len(data) // 2] + data[-4:], "t.parquet")  # middle cut out
    assert "'t.parquet' looks like a Parquet file but could not be read" in msg
    assert "damaged" in msg
    msg = error_of(load_table, data[: len(data) - 20], "t.parquet")  # cut off
    assert "could not be read" in msg


def test_parquet_name_but_not_parquet():
    msg = error_of(load_table, b"a,b\n1,2\n", "t.parquet")
    assert "named like a Parquet file but is not one" in msg


def test_file_over_the_size_limit():
    msg = error_of(load_table, b"a,b\n1,2\n" * 200, "big.csv", max_bytes=1000)
    assert "'big.csv' is 1.6 KB, more than the 1000 bytes limit" in msg


def test_file_over_the_row_limit():
    msg = error_of(load_table, csv_bytes(frame(40)), "big.csv", max_rows=30)
    assert "'big.csv' has 40 rows; the limit is 30" in msg


def test_web_page_named_csv():
    msg = error_of(load_table, b"<!DOCTYPE html>\n<html><body>hi</body></html>\n", "t.csv")
    assert "web page" in msg


def test_missing_file():
    assert "does not exist" in error_of(load_table, "/no/such/file.csv")


def test_dataerror_is_a_valueerror_with_problems():
    err = DataError("one.", ["two.", "three."])
    assert isinstance(err, ValueError)
    assert err.problems == ["one.", "two.", "three."]
    assert str(err) == "Found 3 problems:\n- one.\n- two.\n- three."


def test_uploaded_file_over_the_limit_is_refused_before_reading():
    class Huge:
        name, size = "huge.csv", MAX_UPLOAD_BYTES + 1

        def read(self, *args):
            raise AssertionError("must not be read")

        getvalue = read

    msg = error_of(load_table, Huge())
    assert f"more than the {MAX_UPLOAD_MB}.0 MB limit" in msg


def test_limits_are_described():
    assert f"{MAX_UPLOAD_MB} MB" in describe_limits() and "CSV" in describe_limits()

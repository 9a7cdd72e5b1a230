"""infoif.data: load_table, prepare, Dataset and the DataError messages users see."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from infoif.data import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_MB,
    MIN_ROWS,
    DataError,
    Dataset,
    describe_limits,
    load_notes,
    load_table,
    prepare,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """A small valid table: two numeric features, a text category, a binary label."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "height": rng.normal(170, 10, n).round(2),
            "weight": rng.normal(70, 8, n).round(2),
            "color": rng.choice(["red", "green", "blue"], n),
            "label": np.tile([0, 1], n // 2 + 1)[:n],
        }
    )


def csv_bytes(df: pd.DataFrame, sep: str = ",", **kwargs) -> bytes:
    return df.to_csv(index=False, sep=sep, lineterminator="\n", **kwargs).encode()


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "Traceback" not in message and message.strip()
    return message


# --- DataError: one test per case ------------------------------------------------------------


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


def test_too_few_rows_to_train_and_validate():
    msg = error_of(prepare, frame(6), "label")
    assert "Only 6 rows can be used" in msg and f"at least {MIN_ROWS}" in msg


def test_too_few_rows_after_dropping_missing_targets():
    df = frame(12)
    df.loc[[0, 3, 5], "label"] = np.nan
    msg = error_of(prepare, df, "label")
    assert "Only 9 rows can be used (3 of the 12 rows were left out" in msg


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


def test_target_column_missing_lists_the_columns():
    msg = error_of(prepare, frame(), "price")
    assert "There is no column 'price'" in msg
    assert "'height', 'weight', 'color', 'label'" in msg


def test_single_column():
    msg = error_of(prepare, load_table(b"value\n1\n2\n3\n", "one.csv"), "value")
    assert "only one column ('value')" in msg and "separator" in msg


def test_single_column_and_missing_target_reported_together():
    with pytest.raises(DataError) as info:
        prepare(pd.DataFrame({"a": range(20)}), "price")
    assert len(info.value.problems) == 2
    assert "only one column" in str(info.value) and "no column 'price'" in str(info.value)


def test_no_usable_feature():
    df = pd.DataFrame(
        {
            "id": range(1, 31),
            "name": [f"person {i}" for i in range(30)],
            "site": "A",
            "when": pd.date_range("2024-01-01", periods=30),
            "label": [0, 1] * 15,
        }
    )
    msg = error_of(prepare, df, "label")
    assert msg.startswith("No column can be used as a feature")
    assert "'id' looks like an identifier" in msg
    assert "'name' looks like an identifier or free text" in msg
    assert "'site' has the same text ('A') in every row" in msg
    assert "'when' holds dates or times" in msg


def test_all_missing_features():
    df = frame(30)
    df[["height", "weight", "color"]] = np.nan
    msg = error_of(prepare, df, "label")
    assert "Every feature column is empty: 'height', 'weight', 'color' have no values" in msg


def test_all_missing_features_from_a_file():
    data = b"a,b,label\n" + b",,0\n,,1\n" * 10
    msg = error_of(prepare, load_table(data, "x.csv"), "label")
    assert "Every feature column is empty" in msg


def test_target_with_one_class():
    msg = error_of(prepare, frame().assign(label="yes"), "label")
    assert "only one class ('yes') in all 40 rows" in msg


def test_target_constant_value():
    msg = error_of(prepare, frame().assign(label=4.5), "label", task="regression")
    assert "has the same value (4.5) in every row" in msg


def test_target_where_nearly_every_row_is_its_own_class():
    df = frame().assign(label=[f"customer-{i}" for i in range(40)])
    msg = error_of(prepare, df, "label")
    assert "40 different values in 40 rows, so nearly every row is its own class" in msg


def test_numeric_target_forced_to_classes_suggests_regression():
    df = frame().assign(label=np.arange(40) * 1.5)
    msg = error_of(prepare, df, "label", task="multiclass")
    assert "nearly every row is its own class" in msg and "'regression'" in msg


@pytest.mark.parametrize("target", [None, "", "   "])
def test_no_target_chosen(target):
    msg = error_of(prepare, frame(), target)
    assert "No target column was chosen" in msg and "'label'" in msg


def test_target_without_any_value():
    msg = error_of(prepare, frame().assign(label=np.nan), "label")
    assert "The target column 'label' has no values" in msg


def test_missing_target_values_named_by_row():
    df = frame()
    df.loc[[3, 16, 19], "label"] = np.nan
    msg = error_of(prepare, df, "label", missing_target="error")
    assert "The target column 'label' has 3 missing values (data rows 4, 17, 20)" in msg


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


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"task": "clustering"}, "The task 'clustering' is unknown"),
        ({"val_fraction": 0.9}, "validation share must be a number above 0 and at most 0.5"),
        ({"val_fraction": 0}, "validation share"),
        ({"seed": -1}, "The seed must be a whole number"),
    ],
)
def test_bad_settings(kwargs, expected):
    assert expected in error_of(prepare, frame(), "label", **kwargs)


def test_task_that_does_not_fit_the_target():
    df = frame().assign(label=["a", "b", "c", "d"] * 10)
    assert "The task is binary, but the target 'label' has 4 classes" in error_of(
        prepare, df, "label", task="binary"
    )
    assert "holds text (like 'a'), but regression predicts numbers" in error_of(
        prepare, df, "label", task="regression"
    )


def test_dataerror_is_a_valueerror_with_problems():
    err = DataError("one.", ["two.", "three."])
    assert isinstance(err, ValueError)
    assert err.problems == ["one.", "two.", "three."]
    assert str(err) == "Found 3 problems:\n- one.\n- two.\n- three."


# --- Messy but valid files ----------------------------------------------------------------------


def check_prepared(df: pd.DataFrame, target: str = "label", **kwargs) -> Dataset:
    ds = prepare(df, target, **kwargs)
    assert ds.x_train.dtype == np.float32 and ds.x_val.dtype == np.float32
    assert ds.x_train.shape == (ds.n_train, ds.input_dim) and ds.x_val.shape[1] == ds.input_dim
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.x_val).all()
    assert len(ds.feature_names) == ds.input_dim
    return ds


def test_semicolons_with_decimal_commas():
    df = load_table(frame().to_csv(index=False, sep=";", decimal=",").encode(), "eu.csv")
    assert df.shape == (40, 4) and df["height"].dtype == np.float64
    assert df["height"].iloc[0] == pytest.approx(frame()["height"].iloc[0])
    assert any("decimal comma" in n for n in load_notes(df))
    ds = check_prepared(df)
    assert ds.feature_names == ["height", "weight", "color=blue", "color=green", "color=red"]


@pytest.mark.parametrize("name", ["data.tsv", "data.txt", "data.csv"])
def test_tabs(name):
    df = load_table(csv_bytes(frame(), sep="\t"), name)
    assert list(df.columns) == ["height", "weight", "color", "label"] and len(df) == 40
    assert "separated by tabs" in load_notes(df)[0]


def test_pipes():
    df = load_table(csv_bytes(frame(), sep="|"), "data.csv")
    assert df.shape == (40, 4)


def test_utf8_with_bom():
    df = load_table(b"\xef\xbb\xbf" + csv_bytes(frame()), "bom.csv")
    assert list(df.columns)[0] == "height"  # no BOM glued to the first name
    assert "UTF-8 with BOM" in load_notes(df)[0]
    check_prepared(df)


def accented(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "prénom": rng.choice(["José", "Zoë", "Łukasz", "Ángel"], n),
            "âge": rng.integers(18, 90, n),
            "ville": rng.choice(["Zürich", "Malmö", "Genève"], n),
            "label": np.tile([0, 1], n)[:n],
        }
    )


def test_latin1():
    df0 = accented().assign(prénom=lambda d: d["prénom"].replace({"Łukasz": "Luc"}))
    df = load_table(df0.to_csv(index=False, sep=";").encode("latin-1"), "latin.csv")
    assert list(df.columns) == ["prénom", "âge", "ville", "label"]
    assert set(df["ville"]) <= {"Zürich", "Malmö", "Genève"}
    assert any("is not UTF-8" in n for n in load_notes(df))
    ds = check_prepared(df)
    assert "ville=Zürich" in ds.feature_names


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32(encoding):
    df = load_table(accented().to_csv(index=False).encode(encoding), "wide.csv")
    assert list(df.columns) == ["prénom", "âge", "ville", "label"] and len(df) == 30
    assert "Łukasz" in set(df["prénom"])
    check_prepared(df)


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_line_endings(newline):
    data = frame().to_csv(index=False, lineterminator=newline).encode()
    df = load_table(data + newline.encode() * 3, "x.csv")  # and trailing blank lines
    assert df.shape == (40, 4)
    pd.testing.assert_frame_equal(df, frame(), check_dtype=False)


def test_quoted_fields_with_newlines_and_quotes():
    df0 = frame(20).assign(note=[f'line one\nline, "two" {i}' for i in range(20)])
    df = load_table(csv_bytes(df0), "q.csv")
    assert df.shape == (20, 5)
    assert df["note"].iloc[3] == 'line one\nline, "two" 3'
    ds = check_prepared(df)
    assert any("Left out column 'note': it looks like an identifier or free text" in r for r in ds.report)


def test_duplicate_column_names():
    data = b"x,x,x,label\n" + b"".join(f"{i % 7},{i * 3 % 5},{i % 4},{i % 2}\n".encode() for i in range(30))
    df = load_table(data, "dup.csv")
    assert list(df.columns) == ["x", "x.1", "x.2", "label"]
    assert any("appear more than once" in n for n in load_notes(df))
    assert check_prepared(df).feature_names == ["x", "x.1", "x.2"]


def test_duplicate_column_names_in_a_dataframe():
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)), columns=["a", "a", "label"])
    df["label"] = [0, 1] * 15
    ds = check_prepared(df)
    assert ds.feature_names == ["a", "a.1"]


def test_html_and_markdown_in_column_names_are_kept_as_text():
    names = ["<b>price</b>", "**size** (m²)", "<script>alert(1)</script>", "label"]
    df0 = frame(30).set_axis(names, axis=1)
    df = load_table(csv_bytes(df0), "names.csv")
    assert list(df.columns) == names
    ds = check_prepared(df)
    assert ds.feature_names[:2] == ["<b>price</b>", "**size** (m²)"]
    assert ds.feature_names[2].startswith("<script>alert(1)</script>=")


def test_some_missing_values():
    df0 = frame(40)
    text = csv_bytes(df0).decode().splitlines()
    text[3] = text[3].replace(text[3].split(",")[0], "", 1)  # empty height on data row 3
    text[5] = ",".join(["NA"] + text[5].split(",")[1:])  # NA height on data row 5
    text[7] = ",".join(text[7].split(",")[:2] + ["", text[7].split(",")[3]])  # no color
    df = load_table("\n".join(text).encode(), "m.csv")
    assert df["height"].isna().sum() == 2 and df["color"].isna().sum() == 1
    ds = check_prepared(df)
    assert any("'height': 2 missing values filled with the median of the training part" in r for r in ds.report)
    assert any("'color'" in r and "1 missing value get no category" in r for r in ds.report)


def test_some_infinities():
    df0 = frame(40).astype({"height": object})
    df0.loc[2, "height"] = "inf"
    df0.loc[9, "height"] = "-Infinity"
    df = load_table(csv_bytes(df0), "inf.csv")
    assert np.isinf(df["height"]).sum() == 2
    ds = check_prepared(df)
    assert any("'height': 2 infinite values filled with the median" in r for r in ds.report)


def test_categorical_feature_one_hot():
    ds = check_prepared(frame(60))
    assert ds.feature_names == ["height", "weight", "color=blue", "color=green", "color=red"]
    assert any("'color' is text with 3 categories" in r for r in ds.report)


def test_integer_class_labels():
    df = frame(60).assign(label=np.tile([2, 0, 1], 20))
    ds = check_prepared(load_table(csv_bytes(df), "ints.csv"))
    assert ds.task == "multiclass" and ds.class_names == ["0", "1", "2"] and ds.num_classes == 3
    assert ds.y_train.dtype == np.int64 and set(np.unique(ds.y_train)) == {0, 1, 2}


def test_regression_target():
    df = frame(50)
    df["price"] = df["height"] * 3.2 + np.random.default_rng(0).normal(size=50)
    ds = check_prepared(load_table(csv_bytes(df), "reg.csv"), "price")
    assert ds.task == "regression" and ds.class_names is None and ds.num_classes is None
    assert ds.y_train.dtype == np.float32 and ds.y_val.dtype == np.float32
    assert ds.y_train.mean() == pytest.approx(0, abs=1e-5)
    assert ds.y_train.std() == pytest.approx(1, abs=1e-4)
    train_prices = df["price"].to_numpy()[ds.train_rows]
    assert ds.target_mean == pytest.approx(train_prices.mean())
    assert ds.target_std == pytest.approx(train_prices.std())
    np.testing.assert_allclose(ds.inverse_target(ds.y_val), df["price"].to_numpy()[ds.val_rows], rtol=1e-5)
    assert any("standard deviations of the target" in r for r in ds.report)


def test_parquet():
    buf = io.BytesIO()
    frame().to_parquet(buf)
    df = load_table(buf.getvalue(), "t.parquet")
    pd.testing.assert_frame_equal(df, frame(), check_dtype=False)
    assert load_table(buf.getvalue()).shape == (40, 4)  # recognised without a name too
    check_prepared(df)


@pytest.mark.parametrize("orient", ["records", "columns", "split", "index-less lines"])
def test_json(orient):
    df0 = frame()
    if orient == "index-less lines":
        data, name = df0.to_json(orient="records", lines=True).encode(), "t.jsonl"
    else:
        data, name = df0.to_json(orient=orient).encode(), "t.json"
    df = load_table(data, name)
    pd.testing.assert_frame_equal(df, df0, check_dtype=False)
    check_prepared(df)


def test_json_records_under_a_key_and_without_a_name():
    data = json.dumps({"rows": frame().to_dict(orient="records")}).encode()
    df = load_table(data)
    assert df.shape == (40, 4) and any("under the key 'rows'" in n for n in load_notes(df))


def test_spreadsheet_quirks():
    body = csv_bytes(frame(30)).decode().replace("\n", ",\n")  # trailing separator
    df = load_table(("\n\n  \nsep=,\n" + body + ",,,,\n\n").encode(), "x.csv")
    assert list(df.columns) == ["height", "weight", "color", "label"] and len(df) == 30
    notes = " ".join(load_notes(df))
    assert "empty column without a name" in notes and "empty row" in notes


def test_numbers_with_spaces_and_a_header_of_numbers():
    df = load_table(b"a, b, label\n 1.5 , 2, 0\n2.5, 3 ,1\n", "s.csv")
    assert df["a"].tolist() == [1.5, 2.5] and df["b"].tolist() == [2, 3]
    df = load_table(b"1,2,0\n3,4,1\n", "nohead.csv")
    assert list(df.columns) == ["column_1", "column_2", "column_3"] and len(df) == 2


def test_markdown_table():
    data = b"| x | label |\n|---|:---:|\n" + b"".join(f"| {i * 7 % 11} | {i % 2} |\n".encode() for i in range(30))
    df = load_table(data, "t.md")
    assert list(df.columns) == ["x", "label"] and len(df) == 30
    check_prepared(df)


def test_column_type_changing_after_the_first_block():
    # The reader fixes types from its first 4 MB block; later values must not break it.
    body = "".join(f"{i % 1000},{i % 7},{i % 2}\n" for i in range(700_000))
    df = load_table(("a,b,label\n" + body + "1.5,2,1\nabc,3,0\n").encode(), "late.csv")
    assert len(df) == 700_002 and df["a"].iloc[-2:].tolist() == ["1.5", "abc"]
    ds = prepare(df.iloc[-60:].reset_index(drop=True), "label")
    assert "a" in ds.raw_feature_columns
    df = load_table(("a,b,label\n" + body + "1.5,2,1\n").encode(), "late.csv")
    assert df["a"].dtype == np.float64 and df["a"].iloc[-1] == 1.5


def test_parquet_with_decimals_dates_lists_and_dictionaries():
    import datetime
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 30
    table = pa.table(
        {
            "dec": pa.array([decimal.Decimal(f"{i % 7}.25") for i in range(n)], pa.decimal128(10, 2)),
            "when": pa.array([datetime.datetime(2020, 1, 1) + datetime.timedelta(days=i) for i in range(n)]),
            "far": pa.array([datetime.datetime(3000, 1, 1)] * n, pa.timestamp("s")),
            "pair": pa.array([[i, i] for i in range(n)]),
            "kind": pa.array(["a", "b", "c"] * 10).dictionary_encode(),
            "label": pa.array([0, 1] * 15),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    ds = check_prepared(load_table(buf.getvalue(), "t.parquet"))
    assert ds.raw_feature_columns == ["dec", "kind"]
    assert ds.columns[0].kind == "numeric"
    left_out = " ".join(r for r in ds.report if r.startswith("Left out"))
    assert "'when': it holds dates" in left_out and "'pair': it holds lists" in left_out


def test_mostly_numeric_text_column_is_read_as_numbers():
    df = frame(40).astype({"weight": object})
    df.loc[[1, 2], "weight"] = ["unknown", "n.a."]
    ds = check_prepared(load_table(csv_bytes(df), "x.csv"))
    assert "weight" in ds.feature_names
    assert any("2 values that are not a number ('unknown', 'n.a.') count as missing" in r for r in ds.report)


@pytest.mark.parametrize("kind", ["path", "bytes", "bytesio", "uploaded"])
def test_sources(kind, tmp_path):
    data = csv_bytes(frame())
    if kind == "path":
        (tmp_path / "f.csv").write_bytes(data)
        source, name = tmp_path / "f.csv", None
    elif kind == "bytes":
        source, name = data, "f.csv"
    elif kind == "bytesio":
        source = io.BytesIO(data)
        source.name = "f.csv"
        name = None
    else:

        class UploadedFile(io.BytesIO):  # what Streamlit's file_uploader returns
            def __init__(self, data, name):
                super().__init__(data)
                self.name, self.size, self.type = name, len(data), "text/csv"

        source, name = UploadedFile(data, "f.csv"), None
    df = load_table(source, name)
    assert df.shape == (40, 4)
    assert df.attrs["infoif"]["name"] == "f.csv"


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


# --- prepare's behaviour -----------------------------------------------------------------------


def test_split_is_deterministic_disjoint_and_stratified():
    df = frame(200).assign(label=np.repeat([0, 1, 2, 3], 50)[np.random.default_rng(5).permutation(200)])
    a, b = prepare(df, "label", seed=7), prepare(df, "label", seed=7)
    np.testing.assert_array_equal(a.train_rows, b.train_rows)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    c = prepare(df, "label", seed=8)
    assert not np.array_equal(np.sort(a.val_rows), np.sort(c.val_rows))
    assert set(a.train_rows).isdisjoint(a.val_rows)
    assert sorted(np.concatenate([a.train_rows, a.val_rows])) == list(range(200))
    assert np.bincount(a.y_val).tolist() == [10, 10, 10, 10]  # 20% of each class
    np.testing.assert_array_equal(a.y_train, df["label"].to_numpy()[a.train_rows])


def test_standardized_with_training_statistics_only():
    df = frame(100)
    ds = prepare(df, "label")
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(axis=0), 1, atol=1e-4)
    train = df["height"].to_numpy()[ds.train_rows]
    assert ds.feature_mean[0] == pytest.approx(train.mean())
    expected_val = (df["height"].to_numpy()[ds.val_rows] - train.mean()) / train.std()
    np.testing.assert_allclose(ds.x_val[:, 0], expected_val, rtol=1e-5)


def test_transform_matches_the_training_arrays_and_handles_new_values():
    df = frame(80)
    df.loc[[1, 2], "height"] = np.nan
    ds = prepare(df, "label")
    np.testing.assert_array_equal(ds.transform(df.iloc[ds.train_rows]), ds.x_train)
    np.testing.assert_array_equal(ds.transform(df.iloc[ds.val_rows]), ds.x_val)
    new = pd.DataFrame({"height": [None, "180", np.inf], "weight": [60, 70, 80], "color": ["purple", None, "red"]})
    x = ds.transform(new)
    assert x.shape == (3, ds.input_dim) and x.dtype == np.float32 and np.isfinite(x).all()
    fill = ds.columns[0].fill
    assert x[0, 0] == x[2, 0] == pytest.approx((fill - ds.feature_mean[0]) / ds.feature_std[0])
    with pytest.raises(DataError, match="lack 1 column the model was trained with: 'color'"):
        ds.transform(new.drop(columns="color"))


def test_reference_row_for_the_2d_view():
    ds = prepare(frame(80), "label")
    row = ds.reference_row()
    assert set(row) == set(ds.raw_feature_columns) == {"height", "weight", "color"}
    assert row["color"] in {"red", "green", "blue"}
    grid = pd.DataFrame([row] * 5).assign(height=np.linspace(150, 190, 5))
    assert ds.transform(grid).shape == (5, ds.input_dim)


def test_task_inference_and_override():
    df = frame(60)
    assert prepare(df, "label").task == "binary"
    assert prepare(df.assign(label=df["color"]), "label").task == "multiclass"
    assert prepare(df, "height").task == "regression"
    assert prepare(df, "label", task="multiclass").num_classes == 2
    ds = prepare(df, "label", task="regression")
    assert ds.task == "regression" and "task chosen" in " ".join(ds.report)
    bools = prepare(df.assign(label=df["label"].astype(bool)), "label")
    assert bools.task == "binary" and bools.class_names == ["False", "True"]


def test_identifier_columns_are_dropped_with_a_notice():
    df = frame(50).assign(row_id=np.arange(1000, 1050), customer=[f"c{i}" for i in range(50)])
    ds = prepare(df, "label")
    assert "row_id" not in ds.raw_feature_columns and "customer" not in ds.raw_feature_columns
    assert any("Left out column 'row_id': it looks like an identifier" in r for r in ds.report)
    assert any("Left out column 'customer'" in r for r in ds.report)


def test_missing_rows_can_be_dropped_instead_of_imputed():
    df = frame(60)
    df.loc[[4, 8], "weight"] = np.nan
    df.loc[10, "label"] = np.nan
    ds = prepare(df, "label", missing="drop")
    assert ds.n_train + ds.n_val == 57
    assert not {4, 8, 10} & set(np.concatenate([ds.train_rows, ds.val_rows]))
    assert any("Left out 2 rows with a missing or infinite feature value (data rows 5, 9)" in r for r in ds.report)
    assert any("Left out 1 row whose target 'label' is missing (data row 11)" in r for r in ds.report)


def test_chosen_features_and_loose_target_name():
    ds = prepare(frame(60), " LABEL ", features=["weight", "label"])
    assert ds.target == "label" and ds.raw_feature_columns == ["weight"]
    assert "no column 'size'" in error_of(prepare, frame(60), "label", features=["size"])


def test_report_starts_with_what_loading_did():
    ds = prepare(load_table(csv_bytes(frame()), "f.csv"), "label")
    assert ds.name == "f.csv"
    assert ds.report[0].startswith("Read 'f.csv' as CSV separated by commas")
    assert all(isinstance(r, str) and r.endswith(".") for r in ds.report)


def test_many_classes_of_text_and_unusual_dtypes():
    n = 60
    df = pd.DataFrame(
        {
            "nullable_int": pd.array([1, None, 3] * 20, dtype="Int64"),
            "boolean": pd.array([True, False, None] * 20, dtype="boolean"),
            "category": pd.Categorical(["a", "b", "c"] * 20),
            "float32": np.linspace(0, 1, n, dtype=np.float32),
            "decimal_text": [f"{i},5" for i in range(n)],
            "objects": [1, "2", 3.5] * 20,
            "lists": [[1, 2]] * n,
            "complex": np.ones(n) * 1j,
            "label": ["x", "y", "z"] * 20,
        }
    )
    ds = check_prepared(df)
    assert ds.task == "multiclass"
    assert {"nullable_int", "boolean", "float32", "decimal_text", "objects"} <= set(ds.raw_feature_columns)
    assert "category=a" in ds.feature_names
    assert any("'lists': it holds lists or nested records" in r for r in ds.report)
    assert any("'complex': it holds complex numbers" in r for r in ds.report)
    np.testing.assert_array_equal(ds.transform(df.iloc[ds.val_rows]), ds.x_val)


def test_huge_values_stay_finite():
    df = frame(40).assign(height=[1e308, -1e308] * 20, weight=[1e-300, 0.0] * 20)
    ds = check_prepared(df)
    assert np.abs(ds.x_train).max() <= 1e6


def test_ten_megabyte_csv_is_quick():
    import time

    rng = np.random.default_rng(0)
    n = 120_000
    df = pd.DataFrame({f"f{i}": rng.normal(size=n).round(5) for i in range(8)})
    df["color"] = rng.choice(["red", "green", "blue"], n)
    df["target"] = rng.integers(0, 2, n)
    data = csv_bytes(df)
    start = time.perf_counter()
    ds = prepare(load_table(data, "big.csv"), "target")
    assert time.perf_counter() - start < 5.0  # ~0.3 s here; bench/data.py measures 100 MB
    assert ds.n_train + ds.n_val == n and ds.input_dim == 11


def test_data_module_imports_no_keras_tensorflow_or_streamlit():
    code = (
        "import sys, infoif.data\n"
        "heavy = [m for m in ('keras', 'tensorflow', 'streamlit', 'sklearn', 'palmerpenguins') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --- Property-based: nothing but DataError, whatever comes in ------------------------------------

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import pandas as hpd  # noqa: E402

from infoif.data import TASKS  # noqa: E402

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
NAMES = st.sampled_from([None, "x.csv", "x.tsv", "x.txt", "x.json", "x.jsonl", "x.parquet", "x.xlsx", "x"])


def check_invariants(ds: Dataset, df: pd.DataFrame) -> None:
    assert ds.task in TASKS
    for x in (ds.x_train, ds.x_val):
        assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == ds.input_dim >= 1
        assert np.isfinite(x).all()
    assert len(ds.feature_names) == ds.input_dim
    assert len(ds.y_train) == ds.n_train >= 1 and len(ds.y_val) == ds.n_val >= 1
    if ds.task == "regression":
        assert ds.y_train.dtype == np.float32 and np.isfinite(ds.y_train).all()
        assert ds.class_names is None and ds.target_std > 0
    else:
        assert ds.y_train.dtype == np.int64 and ds.num_classes == len(ds.class_names) >= 2
        assert 0 <= ds.y_train.min() and max(ds.y_train.max(), ds.y_val.max()) < ds.num_classes
    rows = np.concatenate([ds.train_rows, ds.val_rows])
    assert len(set(rows)) == len(rows) and rows.min() >= 0 and rows.max() < len(df)
    np.testing.assert_array_equal(ds.transform(df.iloc[ds.train_rows]), ds.x_train)
    assert all(isinstance(r, str) and r for r in ds.report)


def load_then_prepare(data, name, target_pick, task, val_fraction=0.2, missing="impute"):
    """load_table then prepare; returns None when a DataError explains the problem."""
    try:
        df = load_table(data, name)
    except DataError as e:
        assert str(e).strip()
        return None
    assert isinstance(df, pd.DataFrame) and len(df) >= 1 and df.shape[1] >= 1
    assert df.columns.is_unique and all(isinstance(c, str) and c for c in df.columns)
    target = df.columns[target_pick % df.shape[1]]
    try:
        ds = prepare(df, target, task=task, val_fraction=val_fraction, missing=missing)
    except DataError as e:
        assert str(e).strip()
        return None
    check_invariants(ds, df)
    return ds


@FUZZ
@given(data=st.binary(max_size=3000), name=NAMES, pick=st.integers(0, 50))
def test_arbitrary_bytes_raise_only_dataerror(data, name, pick):
    load_then_prepare(data, name, pick, None)


CSVISH = st.text(
    alphabet=st.sampled_from(list(',;\t|"\n\r 0123456789.-eE+abcxyNA?#{}[]:\'é中\x00\x0b')),
    max_size=600,
)


@FUZZ
@given(
    text=CSVISH,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "utf-16-le"]),
    name=NAMES,
    pick=st.integers(0, 50),
    task=st.sampled_from([None, *TASKS]),
)
def test_arbitrary_csv_like_text_raises_only_dataerror(text, encoding, name, pick, task):
    load_then_prepare(text.encode(encoding, errors="replace"), name, pick, task)


def _column(i: int):
    elements = st.sampled_from(
        [
            st.floats(allow_nan=True, allow_infinity=True, width=64),
            st.floats(-1e6, 1e6),
            st.integers(-(2**63), 2**63 - 1),
            st.integers(0, 3),
            st.booleans(),
            st.sampled_from(["red", "green", "blue", " red ", "", "NA"]),
            st.text(max_size=8),
            st.one_of(st.none(), st.floats(-100, 100), st.text(max_size=3)),
        ]
    )
    return elements.map(lambda e: hpd.column(f"c{i}", elements=e))


@st.composite
def small_frames(draw):
    n_cols = draw(st.integers(1, 5))
    columns = [draw(_column(i)) for i in range(n_cols)]
    df = draw(hpd.data_frames(columns=columns, index=hpd.range_indexes(min_size=0, max_size=40)))
    names = draw(st.lists(st.text(max_size=6), min_size=n_cols, max_size=n_cols))
    return df.set_axis(names, axis=1)


def serialize(df: pd.DataFrame, fmt: str) -> tuple[bytes, str]:
    if fmt == "parquet":
        buf = io.BytesIO()
        try:
            df.set_axis([f"{c}_{i}" for i, c in enumerate(df.columns)], axis=1).to_parquet(buf)
            return buf.getvalue(), "t.parquet"
        except Exception:  # mixed-type object columns cannot be written; test CSV instead
            fmt = "csv"
    if fmt == "json":
        try:
            return df.to_json(orient="records").encode(), "t.json"
        except Exception:  # duplicate names
            fmt = "csv"
    sep = {"csv": ",", "semicolon": ";", "tsv": "\t"}[fmt]
    return df.to_csv(index=False, sep=sep).encode("utf-8", errors="replace"), "t.csv"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    df=small_frames(),
    fmt=st.sampled_from(["csv", "semicolon", "tsv", "json", "parquet"]),
    pick=st.integers(0, 10),
    task=st.sampled_from([None, *TASKS]),
    val_fraction=st.floats(0.05, 0.5),
    missing=st.sampled_from(["impute", "drop"]),
)
def test_small_dataframes_through_a_file_raise_only_dataerror(df, fmt, pick, task, val_fraction, missing):
    data, name = serialize(df, fmt)
    load_then_prepare(data, name, pick, task, val_fraction, missing)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(df=small_frames(), pick=st.integers(0, 10), task=st.sampled_from([None, *TASKS]))
def test_small_dataframes_directly_raise_only_dataerror(df, pick, task):
    assume(df.shape[1] >= 1)
    target = df.columns[pick % df.shape[1]]
    try:
        ds = prepare(df, target, task=task)
    except DataError as e:
        assert str(e).strip()
        return
    check_invariants(ds, df)


@FUZZ
@given(n=st.integers(10, 60), seed=st.integers(0, 2**32 - 1), noise=st.floats(0, 3))
def test_valid_random_tables_always_prepare(n, seed, noise):
    """A table with a real signal and a few of each problem always prepares."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    df = pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.1, np.nan, x),
            "z": rng.normal(size=n),
            "kind": rng.choice(["a", "b"], n),
            "y": (x + noise * rng.normal(size=n) > 0).astype(int),
        }
    )
    df.loc[0, "y"], df.loc[1, "y"] = 0, 1  # both classes present
    ds = prepare(load_table(csv_bytes(df), "t.csv"), "y", seed=seed % 1000)
    check_invariants(ds, df)

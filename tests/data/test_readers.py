"""The readers: messy but valid files of every format come out as the table they hold."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from infoif.data import (
    load_table,
    prepare,
    read_table,
)
from tests.data.helpers import ROOT, accented, check_prepared, csv_bytes, error_of, frame, notes_of


def test_semicolons_with_decimal_commas():
    data = frame().to_csv(index=False, sep=";", decimal=",").encode()
    df = load_table(data, "eu.csv")
    assert df.shape == (40, 4) and df["height"].dtype == np.float64
    assert df["height"].iloc[0] == pytest.approx(frame()["height"].iloc[0])
    assert any("decimal comma" in n for n in notes_of(data, "eu.csv"))
    ds = check_prepared(df)
    assert ds.feature_names == ["height", "weight", "color=blue", "color=green", "color=red"]


@pytest.mark.parametrize("name", ["data.tsv", "data.txt", "data.csv"])
def test_tabs(name):
    loaded = read_table(csv_bytes(frame(), sep="\t"), name)
    assert list(loaded.frame.columns) == ["height", "weight", "color", "label"] and len(loaded.frame) == 40
    assert "separated by tabs" in loaded.report.notes[0] and loaded.report.delimiter == "\t"


def test_pipes():
    df = load_table(csv_bytes(frame(), sep="|"), "data.csv")
    assert df.shape == (40, 4)


def test_utf8_with_bom():
    loaded = read_table(b"\xef\xbb\xbf" + csv_bytes(frame()), "bom.csv")
    df = loaded.frame
    assert list(df.columns)[0] == "height"  # no BOM glued to the first name
    assert "UTF-8 with BOM" in loaded.report.notes[0]
    check_prepared(df)


def test_latin1():
    df0 = accented().assign(prénom=lambda d: d["prénom"].replace({"Łukasz": "Luc"}))
    loaded = read_table(df0.to_csv(index=False, sep=";").encode("latin-1"), "latin.csv")
    df = loaded.frame
    assert list(df.columns) == ["prénom", "âge", "ville", "label"]
    assert set(df["ville"]) <= {"Zürich", "Malmö", "Genève"}
    assert any("is not UTF-8" in n for n in loaded.report.notes) and loaded.report.encoding == "cp1252"
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
    assert any("appear more than once" in n for n in notes_of(data, "dup.csv"))
    assert check_prepared(df).feature_names == ["x", "x.1", "x.2"]


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
    assert df.shape == (40, 4) and any("under the key 'rows'" in n for n in notes_of(data))


def test_spreadsheet_quirks():
    body = csv_bytes(frame(30)).decode().replace("\n", ",\n")  # trailing separator
    loaded = read_table(("\n\n  \nsep=,\n" + body + ",,,,\n\n").encode(), "x.csv")
    assert list(loaded.frame.columns) == ["height", "weight", "color", "label"] and len(loaded.frame) == 30
    notes = " ".join(loaded.report.notes)
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
    loaded = read_table(source, name)
    assert loaded.frame.shape == (40, 4)
    assert loaded.report.name == "f.csv" and loaded.report.format == "CSV"
    assert not loaded.frame.attrs, "notes travel in the report, not in df.attrs"


def test_ten_megabyte_csv():
    """A 10 MB table with text reads and prepares whole (bench/data.py measures speed and memory)."""
    rng = np.random.default_rng(0)
    n = 120_000
    df = pd.DataFrame({f"f{i}": rng.normal(size=n).round(5) for i in range(8)})
    df["color"] = rng.choice(["red", "green", "blue"], n)
    df["target"] = rng.integers(0, 2, n)
    ds = prepare(read_table(csv_bytes(df), "big.csv"), "target")
    assert ds.n_train + ds.n_val == n and ds.input_dim == 11
    np.testing.assert_array_equal(ds.transform(df.iloc[ds.val_rows[:1000]]), ds.x_val[:1000])


def test_data_module_imports_no_keras_tensorflow_or_streamlit():
    code = (
        "import sys, infoif.data, infoif.constants, infoif.validate\n"
        "heavy = [m for m in ('keras', 'tensorflow', 'streamlit', 'sklearn', 'palmerpenguins') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --- Whitespace-separated files and quoted names ------------------------------------------------


def spector(quote: str = "'") -> bytes:
    """statsmodels' Spector & Mazzeo data layout: names in quotes, values separated by spaces."""
    rows = "".join(
        f"{i + 1:>4} {2.0 + (i * 7 % 20) / 10:5.2f}  {18 + i % 9:>3} {i % 2}   {(i * 5) % 3 // 2}\n" for i in range(32)
    )
    names = " ".join(f"{quote}{n}{quote}" for n in ["OBS", "GPA", "TUCE", "PSI", "GRADE"])
    return (names + "\n" + rows).encode()


@pytest.mark.parametrize("quote", ["'", '"'])
def test_whitespace_separated_with_quoted_names(quote):
    loaded = read_table(spector(quote), "spector.dat")
    df = loaded.frame
    assert list(df.columns) == ["OBS", "GPA", "TUCE", "PSI", "GRADE"] and len(df) == 32
    assert df["GPA"].dtype == np.float64 and df["TUCE"].dtype == np.int64
    assert loaded.report.delimiter == " " and "separated by spaces" in loaded.report.notes[0]
    ds = check_prepared(df, "GRADE")
    assert "OBS" not in ds.raw_feature_columns


def test_r_write_table_with_row_names():
    data = b'"mpg" "cyl" "am"\n"Mazda RX4" 21 6 1\n"Datsun 710" 22.8 4 1\n"Valiant" 18.1 6 0\n"Fiat 128" NA 4 1\n'
    loaded = read_table(data, "mtcars.txt")
    assert list(loaded.frame.columns) == ["row names", "mpg", "cyl", "am"]
    assert loaded.frame["row names"].tolist() == ["Mazda RX4", "Datsun 710", "Valiant", "Fiat 128"]
    assert np.isnan(loaded.frame["mpg"].iloc[3])
    assert any("R's row names" in n for n in loaded.report.notes)


def test_whitespace_file_with_a_short_or_long_row_is_explained():
    msg = error_of(load_table, b"a b c\n1 2 3\n4 5\n6 7 8\n7\n", "w.txt", delimiter=" ")
    assert "2 rows of 'w.txt' have fewer values than the header (line 3 has 2, line 5 has 1)" in msg
    assert "written as NA" in msg
    msg = error_of(load_table, b"a b c\n1 2 3\n4 5 6 7\n6 7 8\n", "w.txt", delimiter=" ")
    assert "Line 3 of 'w.txt' has 4 values, but the rows before it have 3" in msg


def test_comma_files_with_spaces_in_values_stay_comma_files():
    data = b"city name,size,label\nNew York,3,0\nLos Angeles,4,1\nSan Jose,2,0\n"
    df = load_table(data, "c.csv")
    assert list(df.columns) == ["city name", "size", "label"] and df["city name"][0] == "New York"


def test_quotes_come_off_quoted_header_names_in_a_tsv():
    rows = "".join(f"{i % 3}\t{i % 5}\t{'yes' if i % 2 else 'no'}\n" for i in range(30))
    loaded = read_table(("'party'\t'age'\t'vote'\n" + rows).encode(), "votes.tsv")
    assert list(loaded.frame.columns) == ["party", "age", "vote"]
    assert set(loaded.frame["vote"]) == {"yes", "no"}
    assert any("single quotes" in n for n in loaded.report.notes)


def test_quotes_come_off_names_even_when_the_values_are_plain():
    data = b'\'a\',"b",c\n1,2,3\n4,5,6\n'
    assert list(load_table(data, "q.csv").columns) == ["a", "b", "c"]


@pytest.mark.parametrize("delimiter", [";", "\t", "|", " "])
def test_a_chosen_delimiter_is_used(delimiter):
    data = csv_bytes(frame(20), sep=delimiter if delimiter != " " else " ")
    loaded = read_table(data, "x.txt", delimiter=delimiter)
    assert loaded.frame.shape == (20, 4) and loaded.report.options["delimiter"] == delimiter


def test_load_options_are_checked():
    with pytest.raises(ValueError, match="Received: delimiter='::'"):
        read_table(b"a,b\n1,2\n", "x.csv", delimiter="::")
    with pytest.raises(ValueError, match="Received: encoding='klingon'"):
        read_table(b"a,b\n1,2\n", "x.csv", encoding="klingon")


@pytest.mark.parametrize("name", ["t.jsonl", "t.ndjson"])
def test_json_lines_by_their_names(name):
    data = frame().to_json(orient="records", lines=True).encode()
    loaded = read_table(data, name)
    assert loaded.frame.shape == (40, 4) and loaded.report.format == "JSON Lines"


def test_parquet_named_pq():
    buf = io.BytesIO()
    frame().to_parquet(buf)
    assert read_table(buf.getvalue(), "t.pq").report.format == "Parquet"


# --- Encodings -----------------------------------------------------------------------------------

RUSSIAN = "Город,температура,класс\n" + "".join(f"{c},{i % 9},{i % 2}\n" for i, c in enumerate(["Москва", "Казань"] * 20))
JAPANESE = "都市,天気,気温\n" + "".join(
    f"{c},{w},{20 + i % 7}\n" for i, (c, w) in enumerate(zip(["東京", "大阪", "京都"] * 10, ["はれ", "くもり", "あめ"] * 10)))
KANJI = "都市,気温\n" + "".join(f"{c},{20 + i % 7}\n" for i, c in enumerate(["東京", "大阪", "京都"] * 10))
KOREAN = "도시,기온\n" + "".join(f"{c},{20 + i % 7}\n" for i, c in enumerate(["서울", "부산", "대구"] * 10))
CHINESE = "城市,气温\n" + "".join(f"{c},{20 + i % 7}\n" for i, c in enumerate(["北京", "上海", "广州"] * 10))


@pytest.mark.parametrize(
    "text, codec, detected",
    [(RUSSIAN, "cp1251", "cp1251"), (JAPANESE, "shift_jis", "cp932"), (KANJI, "shift_jis", "cp932")],
)
def test_cyrillic_and_japanese_code_pages_are_detected(text, codec, detected):
    loaded = read_table(text.encode(codec), "t.csv")
    assert loaded.report.encoding == detected
    assert list(loaded.frame.columns) == text.splitlines()[0].split(",")
    assert any("is not UTF-8" in n for n in loaded.report.notes)


@pytest.mark.parametrize("text, codec", [(KOREAN, "euc-kr"), (CHINESE, "gb18030"), (RUSSIAN, "koi8-r")])
def test_other_code_pages_load_and_read_right_when_chosen(text, codec):
    data = text.encode(codec)
    guessed = read_table(data, "t.csv")  # not detected: loads (garbled) with a note saying what to do
    assert list(guessed.frame.columns) != text.splitlines()[0].split(",")
    assert any("choose the file's encoding" in n for n in guessed.report.notes)
    chosen = read_table(data, "t.csv", encoding=codec)
    assert list(chosen.frame.columns) == text.splitlines()[0].split(",")
    assert chosen.report.options["encoding"] == codec and chosen.report.encoding == codec


def test_a_chosen_encoding_that_does_not_fit_is_explained():
    data = ("a,b\n1,2\n" + KOREAN).encode("euc-kr")
    msg = error_of(load_table, data, "k.csv", encoding="utf-8")
    assert "'k.csv' is not valid UTF-8 text: the bytes at line 3 (byte 8)" in msg
    assert "Choose another encoding" in msg


def test_a_utf8_file_read_with_its_encoding_chosen():
    data = b"\xef\xbb\xbf" + accented().to_csv(index=False).encode()
    loaded = read_table(data, "a.csv", encoding="utf-8")
    assert list(loaded.frame.columns)[0] == "prénom" and loaded.report.encoding == "utf-8-sig"

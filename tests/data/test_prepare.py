"""prepare: the problems a table or a setting can have, and what preparation does."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from infoif.data import (
    MIN_ROWS,
    DataError,
    load_table,
    prepare,
    read_table,
)
from tests.data.helpers import ROOT, check_prepared, csv_bytes, error_of, frame

# --- Problems: one test per case ------------------------------------------------------


def test_too_few_rows_to_train_and_validate():
    msg = error_of(prepare, frame(6), "label")
    assert "Only 6 rows can be used" in msg and f"at least {MIN_ROWS}" in msg


def test_too_few_rows_after_dropping_missing_targets():
    df = frame(12)
    df.loc[[0, 3, 5], "label"] = np.nan
    msg = error_of(prepare, df, "label")
    assert "Only 9 rows can be used (3 of the 12 rows were left out" in msg


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


# --- What preparation does ---------------------------------------------------------------


def test_duplicate_column_names_in_a_dataframe():
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)), columns=["a", "a", "label"])
    df["label"] = [0, 1] * 15
    ds = check_prepared(df)
    assert ds.feature_names == ["a", "a.1"]


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
    ds = prepare(read_table(csv_bytes(frame()), "f.csv"), "label")
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


# --- Kinds a person chooses, and the options as plain values --------------------------------


def test_numbers_chosen_as_categories():
    df = frame(80).assign(zip=np.tile([1010, 2020, 3030, 4040], 20))
    assert prepare(df, "label").decisions["zip"] == "numeric"
    ds = prepare(df, "label", kinds={"zip": "categorical"})
    assert ds.decisions["zip"] == "categories (4)"
    assert [f for f in ds.feature_names if f.startswith("zip=")] == ["zip=1010", "zip=2020", "zip=3030", "zip=4040"]
    assert any("'zip' is used as categories, as chosen" in r for r in ds.report)
    np.testing.assert_array_equal(ds.transform(df.iloc[ds.val_rows]), ds.x_val)


def test_floats_and_integers_give_the_same_categories():
    df = frame(80).assign(code=np.tile([1.0, 2.0, np.nan, 3.0], 20))
    ds = prepare(df, "label", kinds={"code": "categorical"})
    assert ds.columns[-1].categories == ("1", "2", "3")
    new = df.head(4).assign(code=[1, 2, 3, 4])  # integers now, and an unseen 4
    x = ds.transform(new)
    assert np.array_equal(x[:3], ds.transform(df.head(4).assign(code=[1.0, 2.0, 3.0, 3.0]))[:3])


def test_text_chosen_as_numbers_counts_the_rest_as_missing():
    df = frame(60).assign(score=["high"] * 40 + [str(i) for i in range(20)])
    assert prepare(df, "label").decisions["score"].startswith("categories"), "mostly text: categories"
    ds = prepare(df, "label", kinds={"score": "numeric"})
    assert ds.decisions["score"] == "numeric (read from text)"
    assert ds.columns[-1].text_is_missing, "new rows may hold such text too, as in training"
    assert any("40 values that are not a number ('high') count as missing" in r for r in ds.report)


def test_chosen_kinds_skip_the_guesses_but_not_the_facts():
    df = frame(60).assign(customer=[f"c{i}" for i in range(60)], site="A")
    ds = prepare(df, "label", kinds={"customer": "categorical", "site": "categorical"}, max_categories=5)
    assert ds.decisions["customer"].startswith("categories ("), "an identifier-like column, chosen, is used"
    assert ds.decisions["site"] == "left out: it has the same text ('A') in every row"
    msg = error_of(prepare, frame(20), "label", kinds={"colour": "numeric"})
    assert "There is no column 'colour' to choose a kind for" in msg
    assert "none of its values is a number" in " ".join(
        prepare(frame(30), "label", kinds={"color": "numeric"}).report)


def test_kinds_and_features_must_be_plain_values():
    with pytest.raises(ValueError, match="Received: kinds="):
        prepare(frame(), "label", kinds={"height": "ordinal"})
    with pytest.raises(ValueError, match="Received: features='height'"):
        prepare(frame(), "label", features="height")
    with pytest.raises(ValueError, match="Received: max_categories=0"):
        prepare(frame(), "label", max_categories=0)
    with pytest.raises(TypeError, match="Received: df=list"):
        prepare([1, 2], "label")


def test_options_are_json_and_prepare_again_the_same():
    df = frame(80)
    ds = prepare(df, "label", task="multiclass", val_fraction=0.25, seed=3, features=["height", "color"],
                 kinds={"height": "numeric"}, max_categories=10)
    options = json.loads(json.dumps(ds.options))
    assert options == {"target": "label", "task": "multiclass", "val_fraction": 0.25, "seed": 3,
                       "features": ["height", "color"], "kinds": {"height": "numeric"}, "missing": "impute",
                       "missing_target": "drop", "max_categories": 10}
    again = prepare(df, **options)
    for key in ("x_train", "x_val", "y_train", "y_val", "train_rows", "val_rows"):
        np.testing.assert_array_equal(getattr(again, key), getattr(ds, key))


DETERMINISM = """
import json, sys
import numpy as np
from infoif.data import prepare, read_table
job = json.load(open(sys.argv[1]))
ds = prepare(read_table(open(job["file"], "rb").read(), job["name"], **job["load"]), **job["prepare"])
np.savez(job["out"], **{k: getattr(ds, k) for k in ("x_train", "x_val", "y_train", "y_val", "train_rows", "val_rows")})
json.dump(ds.pipeline.to_config(), open(job["out"] + ".json", "w"))
"""


def test_a_worker_process_prepares_identical_arrays(tmp_path):
    """What a training worker does: read the stored upload, prepare with the recorded options."""
    rng = np.random.default_rng(4)
    df = frame(300).assign(
        count=rng.integers(0, 50, 300), note=[f"{v:.2f}".replace(".", ",") for v in rng.normal(size=300)],
        code=rng.choice([7, 8, 9], 300),
    )
    df.loc[rng.random(300) < 0.1, "height"] = np.nan
    data = df.to_csv(index=False, sep=";").encode("cp1252")
    loaded = read_table(data, "upload.csv", encoding="cp1252")
    ds = prepare(loaded, "label", seed=11, kinds={"code": "categorical"}, features=["height", "note", "code", "color"])
    (tmp_path / "upload.csv").write_bytes(data)
    job = {"file": str(tmp_path / "upload.csv"), "name": "upload.csv", "load": loaded.report.options,
           "prepare": ds.options, "out": str(tmp_path / "arrays.npz")}
    (tmp_path / "job.json").write_text(json.dumps(job))
    subprocess.run([sys.executable, "-c", DETERMINISM, str(tmp_path / "job.json")], check=True, cwd=ROOT)
    arrays = np.load(tmp_path / "arrays.npz")
    for key in arrays.files:
        assert np.array_equal(arrays[key], getattr(ds, key)), key
        assert arrays[key].dtype == getattr(ds, key).dtype
    assert json.loads((tmp_path / "arrays.npz.json").read_text()) == json.loads(json.dumps(ds.pipeline.to_config()))


def test_decisions_say_what_became_of_every_column():
    df = frame(50).assign(row_id=np.arange(1000, 1050), empty=np.nan)
    ds = prepare(df, "label", features=["height", "color", "row_id", "empty"])
    assert ds.decisions == {
        "height": "numeric", "weight": "not used", "color": "categories (3)",
        "row_id": "left out: it looks like an identifier (a different whole number in every row)",
        "empty": "left out: it has no values",
    }


def test_a_column_that_hardly_varies_is_standardized_by_its_own_spread():
    df = frame(40).assign(tiny=np.linspace(0, 1e-9, 40))
    ds = prepare(df, "label")
    j = ds.feature_names.index("tiny")
    assert ds.feature_std[j] == pytest.approx(np.std(df["tiny"].to_numpy()[ds.train_rows]))
    assert ds.x_train[:, j].std() == pytest.approx(1, abs=1e-4)


# --- The stages one by one ------------------------------------------------------------------


def test_stage_resolve_target():
    from infoif.data.target import resolve_target

    assert resolve_target(["a", "Label"], "label").column == "Label"
    assert resolve_target(["a", "b"], "c").problems[0].startswith("There is no column 'c'")
    assert resolve_target(["a"], None).column is None


def test_stage_split_keeps_each_class_share():
    from infoif.data.split import split

    codes = np.repeat([0, 1, 2], [50, 30, 20])
    rows = split(codes, 100, True, 0.2, seed=0)
    assert np.bincount(codes[rows.val]).tolist() == [10, 6, 4] and len(rows.train) == 80
    assert "keeping the share of each class" in rows.note
    rows = split(None, 100, False, 0.2, seed=0)
    assert len(rows.val) == 20 and set(rows.train).isdisjoint(rows.val)


def test_stage_decide_task():
    from infoif.data.target import decide_task, read_target

    y = read_target(pd.Series([0, 1, 2, 3] * 10), "y", "drop")
    plan = decide_task(y, np.arange(40), None, "y", False)
    assert plan.task == "multiclass" and plan.class_names == ["0", "1", "2", "3"] and plan.class_values == (0, 1, 2, 3)
    y = read_target(pd.Series([0.5, 1.5, 2.25] * 10), "y", "drop")
    assert decide_task(y, np.arange(30), None, "y", False).task == "regression"
    y = read_target(pd.Series(["no", "yes"] * 10), "y", "drop")
    plan = decide_task(y, np.arange(20), "regression", "y", False)
    assert plan.problems and "holds text" in plan.problems[0]


def test_prepare_is_a_short_orchestrator():
    import inspect

    from infoif.data import prepare as prepare_function

    lines = inspect.getsource(prepare_function).splitlines()
    body = [line for line in lines if line.strip()]
    assert len(body) <= 80 + len(prepare_function.__doc__.splitlines()), "prepare orchestrates stages"

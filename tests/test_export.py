"""infoif.export: models that read raw rows, `infoif.predict`, and the SavedModel download.

The round trips train a small model on every sample dataset and on real
tables with text, missing values, many classes and awkward column names,
export it, and check, in fresh processes, that the file answers exactly as
the trained model does on `dataset.transform(rows)`:
  - `.keras`: a process that only ran `import infoif, keras` and
    `keras.models.load_model(path)`, then `infoif.predict`;
  - SavedModel: a process where `infoif` and `keras` cannot be imported.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pandas as pd
import pytest

import infoif
from infoif import export
from infoif.data import DataError, prepare, read_table
from infoif.datasets import SAMPLES, read_sample
from infoif.nn.models import ModelSpec, build_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOLERANCE = 1e-5


# --- The tables --------------------------------------------------------------------------------


def _csv(df: pd.DataFrame, **kwargs) -> bytes:
    return df.to_csv(index=False, lineterminator="\n", **kwargs).encode()


def _plotly(name: str) -> pd.DataFrame:
    import plotly.express as px

    return getattr(px.data, name)()


def _tips_with_gaps() -> tuple[bytes, str]:
    """Real tips with 10% of the cells blanked, and column names Keras refuses ('/')."""
    df = _plotly("tips").rename(columns={"total_bill": "total/bill ($)", "tip": "tip €", "size": "party size"})
    rng = np.random.default_rng(0)
    for column in ["total/bill ($)", "tip €", "sex", "day", "party size"]:
        df.loc[rng.random(len(df)) < 0.1, column] = None
    return _csv(df), "tips gaps.csv"


def _european() -> tuple[bytes, str]:
    """Semicolons, decimal commas, and a column of numbers as text with a few words among them."""
    rng = np.random.default_rng(1)
    n = 120
    x = rng.normal(10, 3, n).round(2)
    df = pd.DataFrame({
        "Größe": [f"{v:.2f}".replace(".", ",") for v in x],
        "note": [f"{v:.1f}".replace(".", ",") if i % 17 else "k.A." for i, v in enumerate(rng.normal(size=n))],
        "Stadt": rng.choice(["Köln", "Zürich", "Graz"], n),
        "Klasse": np.where(x + rng.normal(size=n) > 10, "hoch", "tief"),
    })
    return df.to_csv(index=False, sep=";").encode("cp1252"), "eu.csv"


CASES = {
    **{f"sample {name}": dict(sample=name) for name in SAMPLES},
    "tips: day (4 classes, text)": dict(data=lambda: (_csv(_plotly("tips")), "tips.csv"), target="day"),
    "tips: tip (regression)": dict(data=lambda: (_csv(_plotly("tips")), "tips.csv"), target="tip"),
    "tips with gaps and '/' in names": dict(data=_tips_with_gaps, target="smoker"),
    "gapminder: continent, country as categories": dict(
        data=lambda: (_csv(_plotly("gapminder")), "gapminder.csv"), target="continent",
        options=dict(kinds={"country": "categorical"}, features=["country", "year", "lifeExp", "pop", "gdpPercap"]),
    ),
    "wind: direction (16 classes)": dict(data=lambda: (_csv(_plotly("wind")), "wind.csv"), target="direction"),
    "European CSV in Windows-1252": dict(data=_european, target="Klasse"),
}


def _new_rows(frame: pd.DataFrame, ds) -> pd.DataFrame:
    """The table's rows as new rows: an extra column, and unseen categories in a few rows."""
    rows = frame.copy()
    rows["an extra column"] = "ignored"
    for col in ds.columns:
        if col.kind == "category":
            rows[col.name] = rows[col.name].astype(object)
            rows.loc[rows.index[:3], col.name] = "a value never seen in training"
    return rows


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Every case: its dataset, new rows, the exported .keras path and the expected answers."""
    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("exports")
    out = {}
    for i, (case, spec) in enumerate(CASES.items()):
        if "sample" in spec:
            loaded, target = read_sample(spec["sample"]), SAMPLES[spec["sample"]].target
        else:
            data, name = spec["data"]()
            loaded, target = read_table(data, name), spec["target"]
        ds = prepare(loaded, target, **spec.get("options", {}))
        model = build_model(ModelSpec(num_interfaces=4), ds.input_dim, ds.task, ds.num_classes, seed=0)
        model.fit(ds.x_train, ds.y_train, epochs=2, batch_size=32, verbose=0)
        rows = _new_rows(loaded.frame, ds)
        expected = ds.target_encoding.decode(model.predict(ds.transform(rows), verbose=0))
        raw = export.raw_row_model(model, ds)
        path = folder / f"case{i}.keras"
        path.write_bytes(export.keras_bytes(raw))
        rows.to_pickle(folder / f"case{i}.rows.pkl")
        out[case] = dict(ds=ds, rows=rows, expected=expected, raw=raw, path=path, index=i, folder=folder)
    return out


def _check_answer(ds, answer: pd.DataFrame, expected: np.ndarray, rows: pd.DataFrame):
    assert list(answer.index) == list(rows.index)
    if ds.task == "regression":
        assert list(answer.columns) == ["prediction"]
        np.testing.assert_allclose(answer["prediction"], expected, rtol=TOLERANCE, atol=TOLERANCE * ds.target_std)
        return
    columns = [f"probability_{c}" for c in ds.class_names]
    assert list(answer.columns) == ["prediction", *columns]
    np.testing.assert_allclose(answer[columns].to_numpy(dtype=float), expected, atol=TOLERANCE)
    clear = np.sort(expected, axis=1)[:, -1] - np.sort(expected, axis=1)[:, -2] > 2 * TOLERANCE
    values = np.array(ds.target_encoding.class_values, dtype=object)[np.argmax(expected, axis=1)]
    assert list(answer["prediction"][clear]) == list(values[clear]), "labels as in the file"


# --- .keras: raw rows in a fresh process ------------------------------------------------------

FRESH = """
import sys, pandas
import infoif, keras
for job in __import__("json").load(open(sys.argv[1])):
    model = keras.models.load_model(job["model"])
    infoif.predict(model, pandas.read_pickle(job["rows"])).to_pickle(job["out"])
"""


@pytest.fixture(scope="module")
def fresh_answers(trained, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fresh")
    jobs = [{"model": str(t["path"]), "rows": str(t["folder"] / f"case{t['index']}.rows.pkl"),
             "out": str(folder / f"{t['index']}.pkl")} for t in trained.values()]
    (folder / "jobs.json").write_text(json.dumps(jobs))
    subprocess.run([sys.executable, "-c", FRESH, str(folder / "jobs.json")], check=True, cwd=ROOT,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return {case: pd.read_pickle(folder / f"{t['index']}.pkl") for case, t in trained.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_raw_rows_through_the_downloaded_file_in_a_fresh_process(trained, fresh_answers, case):
    t = trained[case]
    _check_answer(t["ds"], fresh_answers[case], t["expected"], t["rows"])


@pytest.mark.parametrize("case", ["sample Palmer penguins", "tips with gaps and '/' in names"])
def test_predict_in_this_process_equals_the_fresh_one(trained, fresh_answers, case):
    t = trained[case]
    pd.testing.assert_frame_equal(infoif.predict(t["raw"], t["rows"]), fresh_answers[case], atol=1e-6)


def test_awkward_column_names_go_through_a_stored_mapping(trained):
    t = trained["tips with gaps and '/' in names"]
    info = export.describe(t["raw"])
    inputs = {c["column"]: c["input"] for c in info["columns"]}
    assert inputs["total/bill ($)"] == "total_bill_USD" and inputs["tip €"] == "tip_EUR"
    assert inputs["party size"] == "party_size" and inputs["sex"] == "sex"
    assert sorted(t["raw"].input) == sorted(inputs.values())
    assert info["target"] == "smoker" and info["class_names"] == ["No", "Yes"]


def test_class_names_and_values_are_stored_in_the_model(trained):
    info = export.describe(keras.models.load_model(trained["sample Circle"]["path"]))
    assert info["task"] == "binary" and info["class_names"] == ["0", "1"] and info["class_values"] == [0, 1]
    answer = infoif.predict(trained["sample Circle"]["path"], trained["sample Circle"]["rows"].head(5))
    assert answer["prediction"].dtype == np.int64, "labels come back as in the file: integers"
    info = export.describe(trained["sample Diabetes"]["raw"])
    assert info["task"] == "regression" and info["class_names"] is None


def test_the_export_holds_the_preparation_as_keras_layers(trained):
    raw = trained["sample Palmer penguins"]["raw"]
    kinds = {type(layer).__name__ for layer in raw.layers}
    assert {"RawColumns", "StringLookup", "JoinColumns", "FillMissing", "Standardize", "FiniteClip",
            "ClassProbabilities"} <= kinds
    ds = trained["sample Palmer penguins"]["ds"]
    assert raw.get_layer("infoif_standardize").mean == ds.feature_mean.tolist(), "float64, exactly"
    assert raw.get_layer("infoif_standardize").std == ds.feature_std.tolist()
    assert raw.get_layer("infoif_categories_0").get_vocabulary()[1:] == list(ds.columns[0].categories)


def test_trainer_export_reads_raw_rows(trained, tmp_path):
    from infoif.train.training import Trainer

    ds = trained["tips: day (4 classes, text)"]["ds"]
    trainer = Trainer(ModelSpec(num_interfaces=3), ds, seed=0)
    trainer.start(epochs=2)
    assert trainer.wait(60)
    path = tmp_path / "run.keras"
    path.write_bytes(trainer.export_model())
    rows = trained["tips: day (4 classes, text)"]["rows"]
    answer = infoif.predict(keras.models.load_model(path), rows)
    expected = trainer.model.predict(ds.transform(rows), verbose=0)
    np.testing.assert_allclose(answer.iloc[:, 1:].to_numpy(dtype=float), expected, atol=TOLERANCE)


# --- SavedModel: TensorFlow alone --------------------------------------------------------------

TF_ONLY = """
import sys
sys.modules["infoif"] = None   # neither infoif nor Keras can be imported here
sys.modules["keras"] = None
import numpy as np, tensorflow as tf
try:
    import infoif
except ImportError:
    pass
else:
    raise SystemExit("infoif was importable")
for job in __import__("json").load(open(sys.argv[1])):
    data = np.load(job["inputs"], allow_pickle=False)
    inputs = {k: tf.constant(data[k].astype(object) if data[k].dtype.kind == "U" else data[k]) for k in data.files}
    serve = tf.saved_model.load(job["model"]).signatures["serving_default"]
    out = {k: v.numpy() for k, v in serve(**inputs).items()}
    np.savez(job["out"], **{k: v.astype(str) if v.dtype == object else v for k, v in out.items()})
"""


@pytest.fixture(scope="module")
def saved_model_answers(trained, tmp_path_factory):
    folder = tmp_path_factory.mktemp("savedmodels")
    jobs = []
    for t in trained.values():
        i = t["index"]
        with zipfile.ZipFile(io.BytesIO(export.saved_model_zip(t["raw"]))) as z:
            z.extractall(folder / f"case{i}")
        inputs = t["ds"].pipeline.model_inputs(t["rows"])
        np.savez(folder / f"inputs{i}.npz", **{k: v.astype(str) if v.dtype == object else v for k, v in inputs.items()})
        jobs.append({"model": str(folder / f"case{i}" / "infoif_saved_model"), "inputs": str(folder / f"inputs{i}.npz"),
                     "out": str(folder / f"out{i}.npz")})
    (folder / "jobs.json").write_text(json.dumps(jobs))
    subprocess.run([sys.executable, "-c", TF_ONLY, str(folder / "jobs.json")], check=True, cwd=ROOT,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return {case: dict(np.load(folder / f"out{t['index']}.npz")) for case, t in trained.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_saved_model_serving_function_needs_tensorflow_only(trained, saved_model_answers, case):
    t, out = trained[case], saved_model_answers[case]
    ds, expected = t["ds"], t["expected"]
    if ds.task == "regression":
        np.testing.assert_allclose(out["prediction"][:, 0], expected, rtol=TOLERANCE, atol=TOLERANCE * ds.target_std)
    else:
        np.testing.assert_allclose(out["probabilities"], expected, atol=TOLERANCE)
        clear = np.sort(expected, axis=1)[:, -1] - np.sort(expected, axis=1)[:, -2] > 2 * TOLERANCE
        names = np.array(ds.class_names)[np.argmax(expected, axis=1)]
        assert list(out["label"][clear]) == list(names[clear])


def test_saved_model_zip_explains_itself(trained):
    raw = trained["tips with gaps and '/' in names"]["raw"]
    with zipfile.ZipFile(io.BytesIO(export.saved_model_zip(raw))) as z:
        names = z.namelist()
        readme = z.read("infoif_saved_model/README.txt").decode()
        info = json.loads(z.read("infoif_saved_model/infoif.json"))
    assert "infoif_saved_model/saved_model.pb" in names
    assert "total_bill" in readme and "column 'total/bill ($)'" in readme and "TensorFlow only" in readme
    assert info == export.describe(raw)


# --- Rows that do not fit ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def penguins(trained):
    t = trained["sample Palmer penguins"]
    return t["raw"], read_sample("Palmer penguins").frame


def _error(model, rows) -> str:
    with pytest.raises(DataError) as info:
        infoif.predict(model, rows)
    message = str(info.value)
    assert message.strip() and "Traceback" not in message
    return message


def test_rows_without_a_trained_column(penguins):
    model, rows = penguins
    message = _error(model, rows.drop(columns=["island", "sex"]))
    assert "The new rows lack 2 columns the model was trained with: 'island', 'sex'" in message
    assert "Add them (values may be empty)" in message


def test_text_where_numbers_belong(penguins):
    model, rows = penguins
    bad = rows.head(8).astype({"bill_length_mm": object, "year": object})
    bad.loc[1, "bill_length_mm"] = "long"
    bad.loc[[2, 5], "year"] = ["last year", "2009?"]
    bad.loc[3, "bill_length_mm"] = "NA"  # a missing value, not an error
    with pytest.raises(DataError) as info:
        infoif.predict(model, bad)
    assert len(info.value.problems) == 2
    message = str(info.value)
    assert "Column 'bill_length_mm' holds numbers in the training data, but 1 new value is not a number: " \
           "'long' (data row 2)" in message
    assert "2 new values are not a number: 'last year' (data row 3), '2009?' (data row 6)" in message


def test_dates_where_numbers_belong(penguins):
    model, rows = penguins
    bad = rows.head(3).assign(year=pd.date_range("2020-01-01", periods=3))
    assert "Column 'year' holds numbers in the training data" in _error(model, bad)


def test_missing_column_and_wrong_type_in_one_message(penguins):
    model, rows = penguins
    bad = rows.head(3).drop(columns="sex").assign(body_mass_g="heavy")
    with pytest.raises(DataError) as info:
        infoif.predict(model, bad)
    assert len(info.value.problems) == 2 and str(info.value).startswith("Found 2 problems:")


@pytest.mark.parametrize(
    "rows, expected",
    [
        (b"", "is empty (0 bytes)"),
        (b"island,bill_length_mm\n", "but no data rows"),
        (b"  \n\n", "only blank lines"),
    ],
)
def test_empty_files(penguins, rows, expected):
    model, _ = penguins
    assert expected in _error(model, rows)


def test_empty_table(penguins):
    model, rows = penguins
    assert "There are no new rows: the table is empty" in _error(model, rows.head(0))


def test_rows_that_are_not_a_table(penguins):
    model, _ = penguins
    assert "not a table" in _error(model, 42)


def test_missing_values_unseen_categories_and_extra_columns_are_fine(penguins, trained):
    model, rows = penguins
    new = pd.DataFrame({
        "island": ["Atlantis", None, " Dream "], "bill_length_mm": [None, "40.5", 39.0], "bill_depth_mm": [18, 18, 18],
        "flipper_length_mm": [190, np.inf, 200], "body_mass_g": ["4000", 3500, None], "sex": ["?", "male", "female"],
        "year": [2008, 2008, 2009], "comment": ["extra", "columns", "ignored"],
    })
    answer = infoif.predict(model, new)
    assert len(answer) == 3 and np.isfinite(answer.iloc[:, 1:].to_numpy(dtype=float)).all()
    ds = trained["sample Palmer penguins"]["ds"]
    expected = ds.target_encoding.decode(
        trained["sample Palmer penguins"]["raw"].get_layer("infoif")(ds.transform(new)).numpy())
    np.testing.assert_allclose(answer.iloc[:, 1:].to_numpy(dtype=float), expected, atol=TOLERANCE)


def test_records_and_files_work_as_rows(penguins, tmp_path):
    model, rows = penguins
    records = rows.head(4).to_dict(orient="records")
    assert len(infoif.predict(model, records)) == 4
    path = tmp_path / "new.csv"
    rows.head(4).to_csv(path, index=False)
    pd.testing.assert_frame_equal(infoif.predict(model, str(path)), infoif.predict(model, rows.head(4)), atol=1e-6)


def test_a_model_that_does_not_read_raw_rows_is_refused(trained):
    core = trained["sample Circle"]["raw"].get_layer("infoif")
    with pytest.raises(ValueError, match="not exported by InfoIF.*Received: model="):
        infoif.predict(core, pd.DataFrame({"x1": [0.0], "x2": [0.0]}))


def test_score_when_the_target_is_there(trained):
    t = trained["sample Palmer penguins"]
    rows = read_sample("Palmer penguins").frame
    scores = export.score(t["raw"], rows)
    assert scores["rows"] == 344 and 0 <= scores["accuracy"] <= 1 and scores["log_loss"] > 0
    assert export.score(t["raw"], rows.drop(columns="species")) is None
    reg = trained["sample Diabetes"]
    scores = export.score(reg["raw"], read_sample("Diabetes").frame)
    assert set(scores) == {"rows", "mae", "rmse", "r2"} and scores["mae"] > 0


def test_export_checks_the_model_fits_the_dataset(trained):
    t = trained["sample Circle"]
    other = trained["sample Iris"]["ds"]
    with pytest.raises(ValueError, match="reads 2 features but the dataset makes 4"):
        export.raw_row_model(t["raw"].get_layer("infoif"), other)


def test_import_infoif_stays_cheap():
    code = "import sys, infoif; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; infoif.predict"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr

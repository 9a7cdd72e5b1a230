"""The Data page's column roles and encoding choice, and the Predict page, through AppTest.

AppTest (Streamlit 1.67) has no typed accessor for `st.data_editor`, so
`edit_table` sends the edits the browser would send (the editor's widget
state, a JSON of `edited_rows`), which runs the page's real callback.
"""

import json

import pandas as pd
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from infoif import datasets
from tests.app.test_app import close, open_app, session, train


@pytest.fixture
def at(service):
    app = open_app()
    yield app
    close(app)


def editor(at):
    editors = [e for e in at.main if type(e).__name__ == "Dataframe" and e.proto.id]
    assert len(editors) == 1, "the Columns tab holds one data editor"
    return editors[0]


def edit_table(at, edits: dict[int, dict]):
    """Edits rows of the Data page's column table as a person would, then reruns."""
    states = at._tree.get_widget_states()
    state = WidgetState()
    state.id = editor(at).proto.id
    state.string_value = json.dumps(
        {"edited_rows": {str(k): v for k, v in edits.items()}, "added_rows": [], "deleted_rows": []}
    )
    states.widgets.append(state)
    at._run(widget_state=states)
    assert not at.exception, at.exception


def roles_shown(at) -> pd.DataFrame:
    import pyarrow as pa

    return pa.ipc.open_stream(editor(at).proto.arrow_data.data).read_pandas()


# --- Data page ---------------------------------------------------------------------------------


def test_uploader_offers_every_format_the_loader_reads(at):
    types = at.get("file_uploader")[0].proto.type
    assert {".csv", ".tsv", ".txt", ".dat", ".json", ".jsonl", ".ndjson", ".parquet", ".pq"} <= set(types)


def test_roles_editor_chooses_features_and_their_kinds(at):
    at.selectbox(key="data_sample").set_value("Palmer penguins").run()
    shown = roles_shown(at)
    assert list(shown["column"]) == ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                                     "body_mass_g", "sex", "year"]
    assert shown["use"].all() and set(shown["as"]) == {"auto"}
    assert shown.loc[0, "prepared as"] == "categories (3)"
    before = train(at, epochs=1)

    edit_table(at, {0: {"use": False}, 6: {"as": "categorical"}})
    s = session(at)
    assert s.roles == {"features": ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex",
                                    "year"], "kinds": {"year": "categorical"}}
    assert "island" not in s.dataset.raw_feature_columns
    assert s.dataset.decisions["year"] == "categories (3)" and s.dataset.decisions["island"] == "not used"
    assert not at.error
    shown = roles_shown(at)
    assert not shown.loc[0, "use"] and shown.loc[6, "as"] == "categorical"
    assert shown.loc[0, "prepared as"] == "not used"
    assert s.current_run() is None and before.id in [r.id for r in s.runs()], "new columns, a fresh run"
    run = train(at, epochs=1)
    assert run.id != before.id and run.history[-1].probes.kernels.shape[1] == s.dataset.input_dim


def test_roles_that_leave_no_feature_are_refused_and_the_data_stays(at):
    s = session(at)
    dataset = s.dataset
    edit_table(at, {0: {"use": False}, 1: {"use": False}})
    assert at.error and "No feature column is left besides the target" in at.error[0].value
    assert session(at).dataset is dataset and roles_shown(at)["use"].all(), "the table shows what is in use"


def test_numbers_can_be_made_categories(at):
    csv = b"zip,size,label\n" + b"".join(f"{1000 + i % 4},{i % 9},{i % 2}\n".encode() for i in range(80))
    at.file_uploader(key="data_upload").set_value(("codes.csv", csv, "text/csv")).run()
    assert session(at).dataset.decisions["zip"] == "numeric"
    edit_table(at, {0: {"as": "categorical"}})
    ds = session(at).dataset
    assert ds.decisions["zip"] == "categories (4)" and "zip=1000" in ds.feature_names


KOREAN = "도시,기온,습도\n" + "".join(f"{c},{20 + i % 7},{50 + i % 11}\n" for i, c in
                                    enumerate(["서울", "부산", "대구", "인천"] * 10))


def test_encoding_choice_reads_a_file_that_was_garbled(at):
    at.file_uploader(key="data_upload").set_value(("weather.csv", KOREAN.encode("euc-kr"), "text/csv")).run()
    assert not at.exception, at.exception
    s = session(at)
    assert "도시" not in s.frame.columns, "EUC-KR is not detected: without a choice the text is garbled"
    assert any("choose the file's encoding" in line for line in s.dataset.report)
    box = at.selectbox(key="data_encoding")
    assert box.value is None and "EUC-KR (Korean)" in box.options
    box.set_value("euc-kr").run()
    assert not at.exception, at.exception
    s = session(at)
    assert list(s.frame.columns) == ["도시", "기온", "습도"] and set(s.frame["도시"]) == {"서울", "부산", "대구", "인천"}
    assert s.load_report.options == {"encoding": "euc-kr", "delimiter": None}
    assert at.selectbox(key="data_encoding").value == "euc-kr"


def test_an_encoding_that_does_not_fit_is_explained_and_the_data_stays(at):
    data = "Город,температура,класс\n".encode("cp1251") + b"".join(
        f"{c},{i % 9},{i % 2}\n".encode("cp1251") for i, c in enumerate(["Москва", "Казань"] * 20))
    at.file_uploader(key="data_upload").set_value(("города.csv", data, "text/csv")).run()
    s = session(at)
    assert list(s.frame.columns) == ["Город", "температура", "класс"], "Windows-1251 is recognised"
    dataset = s.dataset
    at.selectbox(key="data_encoding").set_value("utf-8").run()
    assert at.error and "is not valid UTF-8 text: the bytes at line 1" in at.error[0].value
    assert session(at).dataset is dataset


def test_whitespace_file_with_quoted_names(at):
    rows = "".join(f"{i + 1} {2.0 + (i % 13) / 10:.2f} {18 + i % 9} {i % 2} {(i * 7) % 3 // 2}\n" for i in range(40))
    data = ("'OBS' 'GPA' 'TUCE' 'PSI' 'GRADE'\n" + rows).encode()
    at.file_uploader(key="data_upload").set_value(("spector.dat", data, "text/plain")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    s = session(at)
    assert list(s.frame.columns) == ["OBS", "GPA", "TUCE", "PSI", "GRADE"]
    assert s.dataset.target == "GRADE" and s.dataset.task == "binary"
    assert "OBS" not in s.dataset.raw_feature_columns, "the observation number is an identifier"


# --- Predict page --------------------------------------------------------------------------------


def test_predict_page_before_training(at):
    at.switch_page("pages/predict.py")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Predict" and "No trained model yet" in at.info[0].value


def circle_csv(drop: str | None = None) -> bytes:
    frame = datasets.load_sample(datasets.DEFAULT_SAMPLE)
    return (frame.drop(columns=drop) if drop else frame).to_csv(index=False).encode()


def test_predict_page_predicts_new_rows_with_metrics_and_downloads(at):
    run = train(at)
    at.switch_page("pages/predict.py")
    at.run()
    at.file_uploader(key="predict_upload").set_value(("new.csv", circle_csv(), "text/csv")).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    result = at.session_state["predict_result"]
    name, answer, scores = result.filename, result.answer, result.score
    assert name == "new.csv" and len(answer) == 500 and run.name in result.made_by
    assert list(answer.columns) == ["prediction", "probability_0", "probability_1"]
    assert scores["rows"] == 500 and 0 <= scores["accuracy"] <= 1
    assert [m.label for m in at.metric] == ["accuracy", "log loss"]
    keys = {b.proto.id.split("-")[-1] for b in at.get("download_button")}
    assert {"predict_csv", "predict_keras", "predict_savedmodel"} <= keys


def test_predict_page_rows_without_the_target_get_no_metrics(at):
    train(at)
    at.switch_page("pages/predict.py")
    at.run()
    at.file_uploader(key="predict_upload").set_value(("new.csv", circle_csv(drop="label"), "text/csv")).run()
    assert not at.exception, at.exception
    assert at.session_state["predict_result"].score is None and not at.metric


def test_predict_page_bad_rows_are_explained_and_the_previous_predictions_stay(at):
    train(at)
    at.switch_page("pages/predict.py")
    at.run()
    at.file_uploader(key="predict_upload").set_value(("good.csv", circle_csv(), "text/csv")).run()
    at.file_uploader(key="predict_upload").set_value(("bad.csv", circle_csv(drop="x2"), "text/csv")).run()
    assert not at.exception, at.exception
    assert at.error and "Could not predict for bad.csv" in at.error[0].value
    assert "lack 1 column the model was trained with: 'x2'" in at.error[0].value
    assert at.session_state["predict_result"].filename == "good.csv"
    assert any("Still showing the predictions for **good.csv**" in c.value for c in at.caption)

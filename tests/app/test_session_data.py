"""Session's data options and its one door to the exported model (issue 11): column roles,
re-reading an upload in another encoding, and the prediction model. Transactional, like
the rest of Session: a bad choice raises and changes nothing."""

import numpy as np
import pytest

from infoif import datasets
from infoif.data import DataError
from infoif.app.session import Session

KOREAN = "도시,기온,습도\n" + "".join(f"{c},{20 + i % 7},{i % 2}\n" for i, c in enumerate(["서울", "부산", "대구"] * 10))


@pytest.fixture
def session(service):
    return Session.open(service.store, service, {})


def test_roles_re_prepare_and_make_a_fresh_run(session):
    session.use_sample("Palmer penguins")
    assert session.step()
    run = session.current_run()
    assert session.set_roles(features=["bill_length_mm", "island"], kinds={"island": "categorical"}) is True
    assert session.dataset.raw_feature_columns == ["bill_length_mm", "island"]
    assert session.dataset.options["kinds"] == {"island": "categorical"}
    assert session.current_run() is None and run.id in [r.id for r in session.runs()]
    again = Session.open(session.store, session.service, session.query())
    assert again.roles == session.roles and again.dataset.raw_feature_columns == ["bill_length_mm", "island"]
    assert session.set_roles(features=["bill_length_mm", "island"], kinds={"island": "categorical"}) is False
    session.set_target("sex")
    assert session.dataset.raw_feature_columns == ["bill_length_mm", "island"], "roles stay with the table"
    session.use_sample("Iris")
    assert session.roles == {"features": None, "kinds": {}}, "new data, every column again"


def test_bad_roles_change_nothing(session):
    before = (session.dataset, session.roles, session.settings)
    with pytest.raises(DataError, match="No feature column is left"):
        session.set_roles(features=[])
    assert (session.dataset, session.roles, session.settings) == before


def test_an_upload_is_read_again_in_the_chosen_encoding(session):
    session.use_upload(KOREAN.encode("euc-kr"), "weather.csv")
    assert "도시" not in session.frame.columns
    digest = session.upload_digest
    session.set_encoding("euc-kr")
    assert list(session.frame.columns) == ["도시", "기온", "습도"]
    assert session.load_report.options["encoding"] == "euc-kr" and session.upload_digest == digest
    dataset = session.dataset
    with pytest.raises(DataError, match="is not valid UTF-8 text"):
        session.set_encoding("utf-8")
    assert session.dataset is dataset and session.load_report.options["encoding"] == "euc-kr"
    session.set_target("습도")
    session.set_encoding(None)  # detect again: the bytes are still there after a target change
    assert session.load_report.options["encoding"] is None


def test_only_uploads_have_an_encoding_to_choose(session):
    with pytest.raises(ValueError, match="Only an uploaded file"):
        session.set_encoding("cp1251")


def test_the_report_starts_with_how_the_table_was_read(session):
    assert session.dataset.report[0].startswith("Read 'circle.csv' as CSV")
    assert session.dataset.name == datasets.DEFAULT_SAMPLE


def test_predictions_are_the_downloads_and_follow_training(session, tmp_path):
    """Predictions run in a worker with the current run's download model (the server loads none);
    they equal the download's own answers, and the core model's on prepared rows."""
    import keras

    import infoif

    assert session.predictor() is None, "nothing trained yet"
    session.set_training(epochs=2)
    session.train()
    deadline = __import__("time").monotonic() + 120
    while session.status().status != "finished" and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.05)
    info = session.predictor()
    assert (info["epoch"], info["describe"]["target"]) == (2, "label")
    rows = session.frame.head(20)
    result = session.predict(rows.to_csv(index=False).encode(), "rows.csv")
    assert list(result.answer.columns) == ["prediction", "probability_0", "probability_1"]
    assert result.score["rows"] == 20 and result.epoch == 2
    run = session.current_run()
    path = tmp_path / "download.keras"
    path.write_bytes(run.export_model())
    download = keras.models.load_model(path)
    np.testing.assert_allclose(result.answer["probability_1"], infoif.predict(download, rows)["probability_1"],
                               atol=1e-6)
    core = keras.models.load_model(session.store.model_path(run.id))  # the stored core model, features in
    expected = core.predict(session.dataset.transform(rows), verbose=0)[:, 0]
    np.testing.assert_allclose(result.answer["probability_1"], expected, atol=1e-5)
    assert session.step() and session.predictor()["epoch"] == 3, "made again once the run trained further"
    with pytest.raises(DataError, match="lack 1 column"):
        session.predict(rows.drop(columns="x2").to_csv(index=False).encode(), "short.csv")

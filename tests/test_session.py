"""Session (one user's state, Streamlit-free) and the input-plane views."""

import numpy as np
import pytest

from infoif import datasets
from infoif.data import DataError
from infoif.plane import is_planar, plane_view
from infoif.session import Session


@pytest.fixture
def session():
    s = Session()
    s.use_sample(datasets.DEFAULT_SAMPLE)
    yield s
    s.close()


def test_bad_upload_changes_nothing(session):
    before = (session.data_name, session.dataset, session.frame, session.settings)
    run = session.current_run()
    with pytest.raises(DataError):
        session.use_upload(b"\x89PNG\r\n\x1a\n not a table", "photo.csv")
    assert (session.data_name, session.dataset, session.frame, session.settings) == before
    assert session.current_run(create=False) is run


def test_same_upload_twice_is_not_reprepared(session):
    csv = b"a,b,y\n" + b"".join(f"{i},{i % 3},{i % 2}\n".encode() for i in range(50))
    assert session.use_upload(csv, "mine.csv") is True
    dataset = session.dataset
    assert session.use_upload(csv, "mine.csv") is False
    assert session.dataset is dataset and session.settings.data is None  # uploads do not travel in links


def test_spec_change_sets_aside_the_run_and_drops_it_only_if_untrained(session):
    untrained = session.current_run()
    session.set_spec(session.spec.replace(num_interfaces=3))
    assert untrained.id not in session.store, "an untrained run is not worth comparing"
    trained = session.current_run()
    trained.trainer.start(epochs=2)
    assert trained.trainer.wait(30)
    assert session.set_spec(session.spec.replace(num_interfaces=5)) is True
    assert trained.id in session.store and session.current_run().spec.num_interfaces == 5
    assert session.set_spec(session.spec) is False  # no change, no new run


def test_learning_rate_changes_the_live_run_without_rebuilding(session):
    run = session.current_run()
    session.set_learning_rate(0.003)
    assert session.current_run() is run and session.spec.learning_rate == 0.003
    run.trainer.start(epochs=1)
    assert run.trainer.wait(30) and run.history[-1].metrics["lr"] == 0.003


def test_estimator_settings_are_validated(session):
    with pytest.raises(ValueError, match="info_bins"):
        session.set_estimators(bins=0)
    session.set_estimators(bins=8, noise_var=0.01)
    assert (session.probe_config.info_bins, session.probe_config.kde_noise_var) == (8, 0.01)


def test_plane_view_covers_the_data_in_its_own_units(session):
    run = session.current_run()
    d = session.dataset
    assert is_planar(d)
    view = plane_view(run.trainer.model, d, session.frame, resolution=12)
    assert view.z.shape == (12, 12) and view.responses.shape == (session.spec.num_interfaces, 12, 12)
    x, y = d.raw_feature_columns
    assert view.xx[0] < session.frame[x].min() and view.xx[-1] > session.frame[x].max()
    assert view.yy[0] < session.frame[y].min() and view.yy[-1] > session.frame[y].max()
    assert ((view.z >= 0) & (view.z <= 1)).all(), "binary surface is a probability"
    # z[j, i] is the prediction at (xx[i], yy[j]), through the dataset's own preparation
    import pandas as pd

    point = pd.DataFrame({x: [view.xx[3]], y: [view.yy[7]]})
    p = run.trainer.model.predict(d.transform(point), verbose=0)[0, 0]
    assert np.isclose(view.z[7, 3], p, atol=1e-5)


def test_plane_view_refuses_data_that_is_not_2d():
    s = Session()
    try:
        s.use_sample("Iris")
        assert not is_planar(s.dataset)
        with pytest.raises(ValueError, match="exactly two numeric features"):
            plane_view(s.current_run().trainer.model, s.dataset, s.frame)
    finally:
        s.close()

"""Session: one tab's view of a workspace (Streamlit-free): reopening, privacy, transactional data
changes, the verbs, deletion; and the input-plane views."""


import numpy as np
import pytest

from infoif import datasets
from infoif.data import DataError
from infoif.train.plane import is_planar, plane_view
from infoif.app.session import RunStatus, Session, status_payload
from infoif.runs.store import Store
from tests.conftest import wait_for

CSV = b"a,b,y\n" + b"".join(f"{i},{i % 3},{i % 2}\n".encode() for i in range(60))




@pytest.fixture
def session(service):
    return Session.open(service.store, service, {})


def train(s, epochs=3):
    s.set_training(epochs=epochs)
    s.train()
    wait_for(lambda: s.status().status == "finished")
    return s.current_run()


def test_a_new_tab_gets_a_new_workspace_and_the_default_data(service):
    a = Session.open(service.store, service, {})
    b = Session.open(service.store, service, {})
    assert a.workspace != b.workspace and len(a.workspace) >= 32
    assert a.data_name == datasets.DEFAULT_SAMPLE and a.query()["ws"] == a.workspace
    assert a.current_run() is None and a.status().status == "idle"


def test_reopening_the_link_restores_data_settings_and_runs(session, service):
    session.use_upload(CSV, "mine.csv")
    session.set_spec(session.spec.replace(num_interfaces=3))
    run = train(session)
    again = Session.open(Store(service.store.home), service, session.query())  # a reload, or a new server
    assert again.workspace == session.workspace and again.problems == []
    assert (again.data_name, again.dataset.input_dim) == ("mine.csv", session.dataset.input_dim)
    np.testing.assert_array_equal(again.dataset.x_train, session.dataset.x_train)
    assert again.spec.num_interfaces == 3
    assert again.current_run().id == run.id and len(again.current_run().history) == 3
    assert [r.id for r in again.runs()] == [run.id]


def test_an_unknown_or_malformed_workspace_link_starts_a_new_one(service):
    for ws in ("x" * 32, "../../etc/passwd", ""):
        s = Session.open(service.store, service, {"ws": ws, "n": "5"})
        assert s.workspace != ws and s.spec.num_interfaces == 5
        assert any("not known" in p for p in s.problems)


def test_another_workspaces_runs_are_invisible(session, service):
    run = train(session)
    other = Session.open(service.store, service, {})
    assert other.runs() == []
    with pytest.raises(KeyError):
        other.run(run.id)
    with pytest.raises(KeyError):
        other.delete_run(run.id)
    assert service.store.has_run(run.id)


def test_bad_upload_changes_nothing(session):
    run = train(session, 2)
    before = (session.data_name, session.dataset, session.frame, session.settings, session.data_ref)
    with pytest.raises(DataError):
        session.use_upload(b"\x89PNG\r\n\x1a\n not a table", "photo.csv")
    assert (session.data_name, session.dataset, session.frame, session.settings, session.data_ref) == before
    assert session.current_run().id == run.id


def test_same_upload_twice_is_not_reprepared(session):
    assert session.use_upload(CSV, "mine.csv") is True
    dataset = session.dataset
    assert session.use_upload(CSV, "mine.csv") is False
    assert session.dataset is dataset and session.settings.data is None  # uploads do not travel in links


def test_spec_change_sets_aside_the_run_and_drops_it_only_if_untrained(session):
    session.step()
    trained = session.current_run()
    assert trained is not None and len(trained.history) == 1
    assert session.set_spec(session.spec.replace(num_interfaces=5)) is True
    assert session.current_run() is None and [r.id for r in session.runs()] == [trained.id]
    session.set_training(epochs=0)
    session.train()  # until stopped, on the new spec
    untrained = session.current_run()
    session.stop()
    session.set_spec(session.spec.replace(num_interfaces=6))
    kept = [r.id for r in session.runs()]
    assert trained.id in kept and (untrained.id in kept) == (session.store.has_run(untrained.id)
                                                             and session.store.run_info(untrained.id).epochs > 0)
    assert session.set_spec(session.spec) is False  # no change, no new run


def test_the_verbs(session):
    session.set_training(epochs=0)
    session.train()
    wait_for(lambda: session.status().epoch > 5)
    session.pause()
    state = session.status()
    assert state.status == "paused" and not state.active
    assert session.step() and session.status().epoch == state.epoch + 1
    session.train()  # resumes
    wait_for(lambda: session.status().epoch > state.epoch + 5)
    session.stop()
    assert session.status().status == "stopped"
    old = session.current_run().id
    session.reset()
    assert session.current_run() is None and old in [r.id for r in session.runs()]


def test_learning_rate_changes_the_live_run_without_rebuilding(session):
    session.step()
    run = session.current_run()
    session.set_learning_rate(0.003)
    session.step()
    assert session.current_run().id == run.id and session.spec.learning_rate == 0.003
    assert run.history[-1].metrics["lr"] == 0.003


def test_estimator_settings_are_validated(session):
    with pytest.raises(ValueError, match="info_bins"):
        session.set_estimators(bins=0)
    session.set_estimators(bins=8, noise_var=0.01)
    assert (session.probe_config.info_bins, session.probe_config.kde_noise_var) == (8, 0.01)


def test_deleting_a_run_and_the_workspace(session, service):
    first = train(session, 2)
    session.reset()
    second = train(session, 2)
    session.delete_run(first.id)
    assert [r.id for r in session.runs()] == [second.id] and not service.store.has_run(first.id)
    old = session.workspace
    session.delete_workspace()
    assert session.workspace != old and not service.store.workspace_exists(old)
    assert session.runs() == [] and not service.store.has_run(second.id)
    assert session.data_name == datasets.DEFAULT_SAMPLE


def test_a_sweep_runs_every_point_and_can_be_cancelled(session):
    record = session.start_sweep({"num_interfaces": "1, 2, 3"}, seeds=1, epochs=5)
    wait_for(lambda: session.sweep_progress().status == "finished")
    assert sorted(r.spec.num_interfaces for r in session.runs()) == [1, 2, 3]
    assert all(r.epochs == 5 and r.sweep == record["id"] for r in session.runs())
    session.start_sweep({"num_interfaces": [4, 5, 6, 7, 8, 9]}, seeds=1, epochs=100_000)
    session.cancel_sweep()
    progress = session.sweep_progress()
    assert progress.status == "cancelled" and progress.total == 6
    wait_for(lambda: not any(r.status in ("queued", "running") for r in session.runs()), what="runs stopped")
    before = len(session.runs())
    with pytest.raises(ValueError, match="Received: num_interfaces=0"):
        session.start_sweep({"num_interfaces": [0, 2]}, epochs=5)
    assert len(session.runs()) == before and len(session.sweeps()) == 2


def test_a_sweep_of_another_workspace_is_not_visible(session, service):
    record = session.start_sweep({"leak": "0, 0.5"}, seeds=1, epochs=2)
    other = Session.open(service.store, service, {})
    assert other.sweeps() == [] and other.sweep_results(record["id"]) is None
    assert other.sweep_progress(record["id"]) is None
    other.cancel_sweep(record["id"])  # not its own: nothing happens
    assert service.store.sweep(record["id"])["status"] != "cancelled"
    wait_for(lambda: session.sweep_progress().status == "finished")


def test_plane_view_covers_the_data_in_its_own_units():
    from infoif.nn.models import build_model

    d = datasets.prepare_sample("Circle")
    frame = datasets.load_sample("Circle")
    model = build_model(datasets_spec(), d.input_dim, d.task, seed=0)
    assert is_planar(d)
    view = plane_view(model, d, frame, resolution=12)
    assert view.z.shape == (12, 12) and view.responses.shape == (4, 12, 12)
    x, y = d.raw_feature_columns
    assert view.xx[0] < frame[x].min() and view.xx[-1] > frame[x].max()
    assert view.yy[0] < frame[y].min() and view.yy[-1] > frame[y].max()
    assert ((view.z >= 0) & (view.z <= 1)).all(), "binary surface is a probability"
    # z[j, i] is the prediction at (xx[i], yy[j]), through the dataset's own preparation
    import pandas as pd

    point = pd.DataFrame({x: [view.xx[3]], y: [view.yy[7]]})
    p = model.predict(d.transform(point), verbose=0)[0, 0]
    assert np.isclose(view.z[7, 3], p, atol=1e-5)


def datasets_spec():
    from infoif.nn.spec import ModelSpec

    return ModelSpec(num_interfaces=4, units=3)


def test_plane_view_refuses_data_that_is_not_2d():
    from infoif.nn.models import build_model

    d = datasets.prepare_sample("Iris")
    assert not is_planar(d)
    model = build_model(datasets_spec(), d.input_dim, d.task, d.num_classes, seed=0)
    with pytest.raises(ValueError, match="exactly two numeric features"):
        plane_view(model, d, datasets.load_sample("Iris"))


def test_a_tab_whose_workspace_was_deleted_elsewhere_carries_on_in_a_new_one(session, service):
    train(session, 2)
    old = session.workspace
    other_tab = Session.open(service.store, service, session.query())
    session.delete_workspace()
    other_tab.set_spec(other_tab.spec.replace(num_interfaces=2))
    assert other_tab.workspace not in (old, session.workspace)
    assert service.store.workspace_exists(other_tab.workspace) and other_tab.runs() == []
    assert other_tab.current_run() is None


def test_until_the_workers_are_ready_the_status_says_so_and_train_waits_for_them(tmp_path):
    """A fresh server's workers import TensorFlow for a few seconds: the status line says "starting
    the training workers" (never nothing), Train is accepted and says training begins then; once
    a worker is ready the run trains and the message goes."""
    from infoif.runs.service import Service

    svc = Service(tmp_path / "home", workers=1, hold=True).start()  # held: not importing until go()
    try:
        s = Session.open(svc.store, svc, {"epochs": "0"})
        assert svc.starting
        idle = s.status()
        assert idle.workers_starting and "starting the training workers" in idle.text()
        s.train()
        state = s.status()
        assert state.active and state.workers_starting
        assert "starting the training workers" in state.text() and "training begins then" in state.text()
        svc.go()
        wait_for(lambda: s.status().epoch > 0, what="the first epoch once the worker is ready")
        assert not svc.starting and "starting the training workers" not in s.status().text()
        s.stop()
    finally:
        svc.shutdown()


def test_the_status_route_answers_for_a_workspaces_own_run_only(session, service):
    """What pages/_server.py serves the sidebar's live status line from (status_payload)."""
    store = service.store
    idle = status_payload(store, service, session.workspace, "", "")
    assert idle is not None and idle["status"] == "idle" and "ready" in idle["html"]
    session.set_training(epochs=0)
    session.train()
    wait_for(lambda: session.status().epoch > 3)
    run = session.current_run().id
    live = status_payload(store, service, session.workspace, run, "0")
    assert live["live"] and live["status"] == "running" and "epoch <strong>" in live["html"]
    session.pause()
    paused = status_payload(store, service, session.workspace, run, "not a number")
    assert not paused["live"] and paused["html"].startswith('<span class="infoif-badge infoif-badge-')
    other = Session.open(store, service, {})
    for workspace, run_id in ((other.workspace, run), ("no-such-workspace", run), (None, run),
                              (session.workspace, "no-such-run")):
        assert status_payload(store, service, workspace, run_id, "0") is None, (workspace, run_id)


def test_the_status_lines_html_escapes_what_it_shows():
    state = RunStatus("failed", "<b>run</b>", "x", 7, "val_loss", 0.5, "boom <script>")
    html = state.html()
    assert "<b>" not in html and "&lt;b&gt;run&lt;/b&gt;" in html and "<script>" not in html
    assert html.startswith('<span class="infoif-badge infoif-badge-') and "<strong>7</strong>" in html
    assert not state.live and RunStatus("idle", workers_starting=True).live

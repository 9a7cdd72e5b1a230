"""The workspace store: round trips, crashes, concurrent writers, damaged files, uploads, deletion."""

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from infoif.train.probes import ProbeConfig
from infoif.nn.spec import ModelSpec
from infoif.runs.store import Store, StoreError

from tests.conftest import CIRCLE

ROOT = Path(__file__).resolve().parents[2]
SPEC = ModelSpec(num_interfaces=3, units=4)


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "home")


def train_into(store, workspace, epochs, spec=SPEC, ref=CIRCLE, config=None):
    """Trains a run in this process with the store's writer; returns (run id, trainer)."""
    from infoif.train.training import Trainer

    opened = store.dataset(ref)
    frame, dataset = opened.frame, opened.dataset
    info = store.create_run(workspace, spec, ref, dataset.name, probe_config=config)
    t = Trainer(spec, dataset, frame=frame, sink=store.writer(info.id), probe_config=config)
    t.start(epochs=epochs)
    assert t.wait(120) and t.status == "finished", t.error
    return info.id, t


def cli(*args, home, **kwargs):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "infoif", *args, "--home", str(home)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_a_run_with_probes_makes_a_round_trip(store):
    ws = store.create_workspace()
    config = ProbeConfig(min_interval=1e-6, max_interval=1e-6, probe_size=64)
    run_id, t = train_into(store, ws, 12, config=config)
    written = store.reader(run_id).snapshots()
    live = t.history
    assert [s.epoch for s in written] == [s.epoch for s in live] == list(range(1, 13))
    for a, b in zip(live, written):
        assert dict(a.metrics) == pytest.approx(dict(b.metrics))
        assert a.has_probes == b.has_probes
        if a.has_probes:
            for field in ("kernel_norm", "kernel_bands", "bias", "output_hist", "energy_curve", "entropy",
                          "similarity"):
                np.testing.assert_array_equal(getattr(a.probes, field), getattr(b.probes, field))
            for name, est in a.probes.info.items():
                got = b.probes.info[name]
                assert (got.label, dict(got.params)) == (est.label, dict(est.params))
                np.testing.assert_array_equal(got.i_xt, est.i_xt)
            assert (a.probes.kernels is None) == (b.probes.kernels is None)
            assert (a.plane is None) == (b.plane is None)
    assert written[-1].plane is not None and written[-1].plane.responses.shape == (3, 40, 40)
    info = store.run_info(run_id)
    assert (info.status, info.epochs, info.workspace) == ("finished", 12, ws)
    assert info.metrics["loss"] == pytest.approx(live[-1].metrics["loss"])
    np.testing.assert_array_equal(store.probe_setup(run_id).hist_edges, t.hist_edges)
    assert store.model_path(run_id).stat().st_size > 0


def test_thinned_history_is_thinned_on_disk_too(store):
    ws = store.create_workspace()
    config = ProbeConfig(min_interval=1e-6, max_interval=1e-6, probe_size=16, max_records=60,
                         max_probe_records=8, keep_kernels=2)
    run_id, t = train_into(store, ws, 300, config=config)
    written = store.reader(run_id).snapshots()
    assert [s.epoch for s in written] == [s.epoch for s in t.history]
    assert [s.epoch for s in written if s.has_probes] == [s.epoch for s in t.history if s.has_probes]
    files = sorted(p.name for p in (store.run_dir(run_id) / "probes").iterdir())
    assert sum(f.endswith(".heavy.npz") for f in files) <= 2
    assert sum(not f.endswith(".heavy.npz") for f in files) == sum(s.has_probes for s in t.history)


def test_kill_9_keeps_the_epochs_and_resume_continues_with_the_gap_marked(tmp_path, service):
    """A training process killed mid-run: its epochs up to ~1 s before are kept, the run is
    interrupted, and the service resumes it from its checkpoint."""
    home = service.store.home
    store = service.store
    proc = cli("train", "--data", "circle", "--epochs", "1000000", "--quiet", home=home)
    try:
        deadline = time.monotonic() + 120
        run = None
        while time.monotonic() < deadline:
            runs = [r for r in store.runs() if r.worker and "cli" in r.worker and r.status == "running"]
            if runs and runs[-1].epochs > 50:
                run = runs[-1]
                break
            time.sleep(0.1)
        assert run is not None, proc.stderr.read() if proc.poll() is not None else "no epochs written"
        seen = store.run_info(run.id).epochs
        time.sleep(2.0)  # everything seen 2 s before the kill must survive it
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert run.id in store.recover()
    info = store.run_info(run.id)
    assert info.status == "interrupted" and "press Train to resume" in info.error
    kept = len(store.reader(run.id).snapshots())
    assert kept >= seen and info.epochs >= seen

    reply = service.train(run.id, 30, wait=60)
    assert reply.get("status") in ("running", "finished"), reply
    deadline = time.monotonic() + 120
    while store.run_info(run.id).status != "finished" and time.monotonic() < deadline:
        time.sleep(0.1)
    info = store.run_info(run.id)
    assert info.status == "finished", info
    history = store.reader(run.id).snapshots()
    epochs = [s.epoch for s in history]
    assert epochs == sorted(set(epochs)), "no epoch twice"
    assert len(info.gaps) == 1 and seen <= info.gaps[0] <= kept
    assert epochs[-1] == info.gaps[0] + 30 and epochs[-1] - 30 in epochs


def test_two_writers_at_once(store):
    """A command-line run in another process and two trainers in this one, on one home."""
    ws = store.create_workspace()
    proc = cli("train", "--data", "xor", "--epochs", "300", "--num-interfaces", "2", "--workspace", ws,
               "--quiet", home=store.home)
    ids = [train_into(store, ws, 200, spec=SPEC.replace(num_interfaces=k))[0] for k in (1, 2)]
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    infos = store.runs(ws)
    assert len(infos) == 3 and all(i.status == "finished" for i in infos)
    assert sorted(i.epochs for i in infos) == [200, 200, 300]
    for i in infos:
        assert len(store.reader(i.id).snapshots()) == i.epochs
    assert {i.name for i in infos} == {"run-1", "run-2", "run-3"}
    assert set(ids) < {i.id for i in infos}


def test_damaged_files_are_reported_for_that_run_only(store, tmp_path):
    ws = store.create_workspace()
    config = ProbeConfig(min_interval=1e-6, max_interval=1e-6, probe_size=32)
    broken, _ = train_into(store, ws, 10, config=config)
    fine, _ = train_into(store, ws, 5)
    d = store.run_dir(broken)
    lines = (d / "metrics.jsonl").read_text().splitlines()
    lines[3] = '{"e": 4, "t": 0.1, "m": {"loss": '  # cut short
    (d / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    probe = sorted((d / "probes").glob("*[0-9].npz"))[0]
    probe.write_bytes(b"not a zip")
    (d / "checkpoint.npz").unlink()
    fresh = Store(store.home)  # a new process's view
    reader = fresh.reader(broken)
    epochs = [s.epoch for s in reader.snapshots()]
    assert epochs == [1, 2, 3, 5, 6, 7, 8, 9, 10]
    assert reader.problem and "damaged" in reader.problem
    assert len(fresh.reader(fine).snapshots()) == 5 and fresh.reader(fine).problem is None
    settings, checkpoint, history = fresh.resume_parts(broken)
    assert checkpoint is None  # the worker then refuses to continue it, saying why (tests/runs/test_service.py)
    (d / "run.json").write_text("{")
    with pytest.raises(StoreError, match="settings file is damaged"):
        fresh.run_settings(broken)
    assert fresh.run_info(fine).status == "finished"


def test_a_damaged_index_is_rebuilt_from_the_files(store):
    ws = store.create_workspace()
    run_id, _ = train_into(store, ws, 3)
    store._db().close()
    store._local.db = None
    for suffix in ("", "-wal", "-shm"):
        Path(str(store.index_path) + suffix).unlink(missing_ok=True)
    store.index_path.write_bytes(b"garbage" * 100)
    fresh = Store(store.home)
    info = fresh.run_info(run_id)
    assert (info.status, info.epochs, info.workspace) == ("finished", 3, ws)
    assert fresh.workspace_exists(ws)
    assert any(p.name.startswith("index.damaged-") for p in store.home.iterdir())


def test_uploads_are_kept_once_by_content_and_deleted_with_their_last_workspace(store):
    a, b = store.create_workspace(), store.create_workspace()
    data = b"x,y\n1,0\n2,1\n"
    sha = store.put_upload(a, data, "one.csv")
    assert store.put_upload(b, data, "two.csv") == sha
    assert len(list((store.home / "uploads").iterdir())) == 1
    store.delete_workspace(a)
    assert store.upload_bytes(sha) == data, "workspace b still uses it"
    store.delete_workspace(b)
    with pytest.raises(StoreError, match="upload it again"):
        store.upload_bytes(sha)
    assert not store.workspace_exists(a) and not store.workspace_exists(b)


def test_deleting_a_run_removes_its_files_and_nothing_else(store):
    ws = store.create_workspace()
    keep, _ = train_into(store, ws, 2)
    drop, _ = train_into(store, ws, 2)
    before = store.disk_bytes(ws)
    store.delete_run(drop)
    assert not store.run_dir(drop).exists() and not store.has_run(drop)
    assert store.has_run(keep) and 0 < store.disk_bytes(ws) < before


def test_workspace_ids_are_unguessable_and_runs_stay_in_theirs(store):
    ids = {store.create_workspace() for _ in range(50)}
    assert len(ids) == 50 and all(len(i) >= 32 for i in ids), "at least 128 bits (ours: 192)"
    assert not store.workspace_exists("../../etc") and not store.workspace_exists("x")
    a, b = sorted(ids)[:2]
    info = store.create_run(a, SPEC, CIRCLE, "Circle")
    assert store.has_run(info.id, a) and not store.has_run(info.id, b)
    assert store.runs(b) == []


def test_same_reference_same_arrays_in_every_process(store, tmp_path):
    """A worker process re-prepares a run's data from its reference: identical arrays."""
    ws = store.create_workspace()
    rows = "\n".join(f"{i},{(i * 7) % 11},{'a' if i % 3 else 'b'},{i % 2}" for i in range(200))
    sha = store.put_upload(ws, ("p,q,kind,label\n" + rows + "\n").encode(), "mine.csv")
    ref = {"kind": "upload", "sha256": sha, "filename": "mine.csv", "target": "label", "task": "auto", "seed": 3}
    here = store.dataset(ref).dataset
    code = ("import sys, numpy as np\nfrom infoif.runs.store import Store\n"
            f"d = Store({str(store.home)!r}).dataset({ref!r}).dataset\n"
            "np.save(sys.argv[1], np.concatenate([d.x_train.ravel(), d.y_train.ravel(), d.x_val.ravel()]))")
    out = tmp_path / "there.npy"
    subprocess.run([sys.executable, "-c", code, str(out)], check=True, cwd=ROOT, timeout=120)
    np.testing.assert_array_equal(np.load(out), np.concatenate([here.x_train.ravel(), here.y_train.ravel(),
                                                                here.x_val.ravel()]))


def test_the_index_is_in_wal_mode(store):
    mode = sqlite3.connect(store.index_path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_history_csv_from_disk_matches_the_trainers(store):
    ws = store.create_workspace()
    run_id, t = train_into(store, ws, 4)
    from infoif.app.session import RunView

    view = RunView(store, store.run_info(run_id))
    rows = list(csv.DictReader(io.StringIO(view.history_csv())))
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"]
    assert rows == list(csv.DictReader(io.StringIO(t.history_csv())))


def test_a_readers_gaps_are_current_even_between_history_refreshes(store):
    """Gaps written right after the shared reader refreshed its history are seen at once (the
    history itself refreshes at most every MIN_REFRESH)."""
    import json

    from infoif.runs.store.files import write_atomic

    ws = store.create_workspace()
    run_id, _ = train_into(store, ws, 3)
    reader = store.reader(run_id)
    assert reader.snapshots() and reader.read_gaps() == []
    status_path = reader.dir / "status.json"
    status = json.loads(status_path.read_text())
    write_atomic(status_path, json.dumps({**status, "gaps": [3]}))
    reader.snapshots()  # within MIN_REFRESH of the last refresh: the history is not read again
    assert reader.read_gaps() == [3]

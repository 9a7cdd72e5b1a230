"""Sweeps (`infoif.runs.sweep`): grids and their checks, runs grouped in the store, progress and results,
local sweeps through the training service (cancel; resume after the coordinating process is killed),
and the command line's `sweep`."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from infoif.runs import sweep
from infoif.constants import MAX_SWEEP_RUNS, SWEEP_SETTINGS
from infoif.nn.spec import ModelSpec
from infoif.runs.store import Store
from tests.conftest import CIRCLE, wait_for
from tests.test_cli import ROOT, infoif


# ---------------------------------------------------------------- grids


def test_a_grid_from_the_command_line_expands_seeds_innermost():
    plan = sweep.parse_plan(["num_interfaces=1,2", "activation=tanh, relu", "lr=0.01"], seeds=2, epochs=7,
                            base_seed=5)
    assert plan.grid == {"num_interfaces": (1, 2), "activation": ("tanh", "relu"), "learning_rate": (0.01,)}
    assert plan.size == 8 and plan.seeds == (5, 6) and plan.epochs == 7
    points = plan.points()
    assert points[0] == {"num_interfaces": 1, "activation": "tanh", "learning_rate": 0.01, "seed": 5}
    assert [p["seed"] for p in points[:2]] == [5, 6] and points[-1]["activation"] == "relu"
    assert len({tuple(sorted(p.items())) for p in points}) == 8


def test_runs_launch_seeds_outermost_so_each_next_seed_can_reuse_a_model():
    plan = sweep.make_plan({"num_interfaces": "1,2,4"}, seeds=3)
    points = plan.points()
    record = {"runs": [f"r{i}" for i in range(len(points))], "points": points}
    order = sweep.launch_order(record)
    assert sorted(order) == sorted(record["runs"])
    by_id = dict(zip(record["runs"], points))
    assert [(by_id[r]["num_interfaces"], by_id[r]["seed"]) for r in order] == [
        (1, 0), (2, 0), (4, 0), (1, 1), (2, 1), (4, 1), (1, 2), (2, 2), (4, 2)]
    assert sweep.launch_order({"runs": ["a", "b"]}) == ["a", "b"], "a record without points keeps its order"


def test_runs_that_differ_in_seed_learning_rate_or_batch_size_share_a_graph():
    plan = sweep.make_plan({"num_interfaces": "1,2", "learning_rate": "0.01,0.1", "batch_size": "16,32"}, seeds=3)
    points = plan.points()
    record = {"runs": [f"r{i}" for i in range(len(points))], "points": points}
    assert sweep.same_graph_runs(record, "r0") == 2 * 2 * 3 - 1
    assert sweep.same_graph_runs(record, "nope") == 0
    plan = sweep.make_plan({"num_interfaces": "1,2", "activation": "tanh,relu"}, seeds=4)
    record = {"runs": [f"r{i}" for i in range(plan.size)], "points": plan.points()}
    assert sweep.same_graph_runs(record, "r5") == 3, "the other seeds only"


def test_a_worker_takes_the_queued_run_whose_model_it_keeps(tmp_path):
    """The service's dispatcher: a queued run of a graph the freed worker ran lately goes first
    (that worker keeps the model, so the run starts without tracing); otherwise first come, first
    served; a model is matched within its workspace only; a worker trains one sweep run at a time."""
    import threading
    from collections import OrderedDict
    from types import SimpleNamespace

    from infoif.runs.service import QUEUE_LOOKAHEAD, Service

    svc = Service(tmp_path, workers=1)  # never started: no processes
    ws, other = svc.store.create_workspace(), svc.store.create_workspace()
    runs = [svc.store.create_run(ws, ModelSpec(num_interfaces=n, learning_rate=lr), CIRCLE, "Circle", seed=s).id
            for n, lr in ((1, 0.01), (2, 0.1)) for s in (0, 1)]
    ready = threading.Event()
    ready.set()
    worker = SimpleNamespace(alive=True, running=set(), recent=OrderedDict(), ready=ready)
    svc._workers = [worker]
    svc._queue = [(r, "train", {}) for r in runs]
    assert svc._pick() == (worker, 0), "nothing matches: first in line"
    worker.recent[svc._signature(runs[2])] = True
    assert svc._pick() == (worker, 2)
    twin = svc.store.create_run(ws, ModelSpec(num_interfaces=2, learning_rate=0.5), CIRCLE, "Circle", seed=9).id
    assert svc._signature(twin) == svc._signature(runs[2]), "the learning rate is not part of the graph"
    elsewhere = svc.store.create_run(other, ModelSpec(num_interfaces=2, learning_rate=0.1), CIRCLE, "Circle").id
    svc._queue = [(runs[0], "train", {}), (elsewhere, "train", {})]
    assert svc._pick() == (worker, 0), "another workspace's run never matches this one's model"
    svc._queue = [(runs[0], "train", {})] * QUEUE_LOOKAHEAD + [(runs[2], "train", {})]
    assert svc._pick() == (worker, 0), "it looks only a little way down the line"

    plan = sweep.make_plan({"num_interfaces": "3"}, seeds=2)
    record = sweep.create(svc.store, ws, plan, ModelSpec(), CIRCLE, "Circle", 32)
    first, second = record["runs"]
    svc._queue = [(second, "train", {}), (runs[0], "train", {})]
    worker.running = {first}
    assert svc._pick() == (worker, 1), "one sweep run per worker; anyone else's run is taken"
    assert svc._free_worker(None, second) is None and svc._free_worker(None, runs[0]) is worker
    worker.running = {runs[1], runs[3]}
    svc._queue = [(second, "train", {})]
    assert svc._pick() == (worker, 0), "people's runs leave room for a sweep's: it trains at a lower weight"
    worker.alive = False
    assert svc._pick() is None, "no live worker"


def test_a_sweep_run_waits_for_the_worker_with_its_model_when_that_is_sooner(tmp_path):
    """A free worker does not trace a graph anew for a sweep's queued runs that the worker training
    that graph would finish sooner, by the times its runs took so far (with tracing: "new"; on a kept
    model: "kept"); it takes them when nothing is known yet, when enough are queued, when the worker
    holding the model trains something else, and always for a run outside a sweep. When both
    workers are free, the one that keeps the model gets the run."""
    import threading
    from collections import OrderedDict
    from types import SimpleNamespace

    from infoif.runs.service import Service

    svc = Service(tmp_path, workers=2)  # never started: no processes
    ws = svc.store.create_workspace()
    ready = threading.Event()
    ready.set()
    holder, idle = (SimpleNamespace(alive=True, running=set(), recent=OrderedDict(), ready=ready) for _ in range(2))
    svc._workers = [idle, holder]  # the idle one first: it would be asked first
    record = sweep.create(svc.store, ws, sweep.make_plan({"num_interfaces": "3"}, seeds=5), ModelSpec(), CIRCLE,
                          "Circle", 32)
    runs = record["runs"]
    graph = svc._signature(runs[0])
    holder.recent[graph] = True
    holder.running = {runs[0]}  # training the graph's first run

    svc._queue = [(runs[4], "train", {})]
    assert svc._pick() == (idle, 0), "nothing known of the graph's runs yet: it starts at once"
    svc._took_latest = {"new": 0.9, "kept": 0.3}
    svc._took[graph] = {"new": 0.95}
    assert svc._pick() is None, "the graph's own time with tracing, the latest sweep run's on a kept model"
    svc._took_latest = {}
    svc._took[graph] = {"new": 0.9, "kept": 0.3}
    assert svc._pick() is None, "0.9 s with tracing here against ~0.15 s left there: it waits"
    svc._queue = [(r, "train", {}) for r in runs[2:5]]
    assert svc._pick() is None, "three queued: (3 - 1/2) x 0.3 = 0.75 s there is still sooner than 0.9 s"
    svc._queue = [(r, "train", {}) for r in runs[1:5]]
    assert svc._pick() == (idle, 0), "four queued: 1.05 s there, so one starts here"
    svc._took[graph] = {"new": 3.0, "kept": 2.5}  # long runs: tracing matters little
    svc._queue = [(r, "train", {}) for r in runs[3:5]]
    assert svc._pick() == (idle, 0)

    svc._took[graph] = {"new": 0.9, "kept": 0.3}
    svc._queue = [(runs[4], "train", {})]
    holder.running = set()
    assert svc._pick() == (holder, 0), "both free: the worker that keeps the model takes it"
    holder.running = {"someone-pressing-train"}
    svc._workers = [idle]
    assert svc._pick() == (idle, 0), "no worker trains the graph: nothing to wait for"
    svc._workers = [idle, holder]
    holder.running = {runs[0], "someone-pressing-train"}
    alone = svc.store.create_run(ws, ModelSpec(num_interfaces=3), CIRCLE, "Circle").id
    assert svc._signature(alone) == graph
    svc._queue = [(alone, "train", {})]
    assert svc._pick() == (holder, 0), "a run outside a sweep goes where its model is: no sweep limit"
    svc._queue = [(runs[4], "train", {})]
    assert svc._pick() is None, "the same graph's sweep run does wait"



def test_values_are_typed_checked_and_deduplicated():
    assert sweep.parse_values("units", "4, none, 4") == (4, None)
    assert sweep.parse_values("leak", [0, 0.5]) == (0.0, 0.5)
    assert sweep.parse_values("merge", "mean;concat") == ("mean", "concat")
    assert sweep.parse_values("batch_size", "16,64") == (16, 64)
    assert set(SWEEP_SETTINGS) == {"num_interfaces", "units", "activation", "leak", "penalty", "merge",
                                   "learning_rate", "batch_size"}


@pytest.mark.parametrize("grid, says", [
    (["colour=1,2"], "A sweep can vary num_interfaces"),
    (["num_interfaces"], "SETTING=V1,V2"),
    (["num_interfaces="], "at least one value"),
    (["num_interfaces=1,x"], "whole numbers separated by commas"),
    (["num_interfaces=0,2"], "Received: num_interfaces=0"),
    (["num_interfaces=300"], "from 1 to 256"),
    (["leak=0,2"], "Received: leak=2.0"),
    (["leak=nan"], "finite"),
    (["activation=tanh,swish"], "activation must be one of"),
    (["learning_rate=0"], "Received: learning_rate=0.0"),
    (["batch_size=0"], "Received: batch_size=0"),
    (["leak=0", "leak=0.1"], "appears twice"),
    ([], "at least one --grid"),
])
def test_a_bad_grid_is_refused_with_what_to_write(grid, says):
    with pytest.raises(sweep.SweepError, match=says.replace("(", r"\(")) as info:
        sweep.parse_plan(grid, seeds=1, epochs=5)
    assert "Received:" in str(info.value)


def test_seed_epoch_and_size_limits():
    with pytest.raises(sweep.SweepError, match="seeds must be from 1"):
        sweep.make_plan({"leak": "0"}, seeds=0)
    with pytest.raises(sweep.SweepError, match="Received: epochs=0"):
        sweep.make_plan({"leak": "0"}, epochs=0)
    with pytest.raises(sweep.SweepError, match="number of epochs"):
        sweep.make_plan({"leak": "0"}, epochs=None)
    big = ",".join(str(i) for i in range(1, 101))
    with pytest.raises(sweep.SweepError, match=f"at most {MAX_SWEEP_RUNS:,}"):
        sweep.make_plan({"num_interfaces": big, "units": big}, seeds=1)
    assert sweep.make_plan({"leak": "0"}, seeds=[3, 1, 3]).seeds == (3, 1)


@pytest.mark.parametrize("address", ["localhost:8786", "http://x:1", "tcp://:8786", "tcp://host:port", "tcp://h"])
def test_a_cluster_address_must_be_a_scheduler_address(address):
    with pytest.raises(sweep.SweepError, match="tcp://10.0.0.5:8786"):
        sweep.cluster_address(address)


def test_the_cluster_comes_from_the_flag_then_the_environment(monkeypatch):
    monkeypatch.delenv("INFOIF_DASK", raising=False)
    assert sweep.cluster_address(None) is None
    monkeypatch.setenv("INFOIF_DASK", "tcp://10.0.0.5:8786")
    assert sweep.cluster_address(None) == "tcp://10.0.0.5:8786"
    assert sweep.cluster_address("tcp://127.0.0.1:9000") == "tcp://127.0.0.1:9000"


# ---------------------------------------------------------------- the store


def _make(store, workspace, grid, seeds=1, epochs=5, **base):
    plan = sweep.make_plan(grid, seeds, epochs)
    return sweep.create(store, workspace, plan, ModelSpec(**base), dict(CIRCLE), "Circle", 32)


def test_a_sweep_is_ordinary_runs_grouped_under_its_record(tmp_path):
    store = Store(tmp_path)
    ws = store.create_workspace()
    record = _make(store, ws, {"num_interfaces": "1,2", "batch_size": "16,64"}, seeds=2, units=3)
    assert record["name"] == "sweep-1" and record["status"] == "running" and len(record["runs"]) == 8
    runs = store.runs(ws)
    assert [r.id for r in runs] == record["runs"] and {r.sweep for r in runs} == {record["id"]}
    assert {r.spec.units for r in runs} == {3}  # what the grid does not vary comes from the base
    frame = sweep.results(store, record["id"])
    assert list(frame["num_interfaces"]) == [1, 1, 1, 1, 2, 2, 2, 2]
    assert list(frame["batch_size"]) == [16, 16, 64, 64] * 2 and list(frame["seed"]) == [0, 1] * 4
    assert set(SWEEP_SETTINGS) <= set(frame.columns)
    assert sweep.varied(record) == ["num_interfaces", "batch_size"]
    # reopened from the files alone (a damaged index is rebuilt)
    store.index_path.unlink()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"index.sqlite{suffix}").unlink(missing_ok=True)
    again = Store(tmp_path)
    assert [s["id"] for s in again.sweeps(ws)] == [record["id"]]
    assert again.sweeps(again.create_workspace()) == []


def test_progress_counts_epochs_and_ends_when_every_run_is_done(tmp_path):
    store = Store(tmp_path)
    ws = store.create_workspace()
    record = _make(store, ws, {"leak": "0,0.5"}, epochs=10)
    store.update_sweep(record["id"], started=time.time() - 10)
    a, b = record["runs"]
    store.set_progress(a, 10, {"loss": 0.2, "val_accuracy": 0.9}, worker="w0", status="finished")
    store.set_progress(b, 5, {"loss": 0.4, "val_accuracy": 0.8}, worker="w1")
    p = sweep.progress(store, record["id"])
    assert (p.total, p.done, p.finished, p.epochs_done, p.epochs_total, p.status) == (2, 1, 1, 15, 20, "running")
    assert p.fraction == 0.75 and p.eta is not None and 0 < p.eta < 60 and "1 of 2 runs done" in p.describe()
    store.set_status(b, "failed", "boom")
    p = sweep.progress(store, record["id"])
    assert (p.status, p.failed) == ("failed", 1) and store.sweep(record["id"])["status"] == "failed"
    frame = sweep.results(store, record["id"])
    assert list(frame["val_accuracy"]) == [0.9, 0.8] and list(frame["worker"]) == ["w0", "w1"]


def test_deleting_the_workspace_deletes_its_sweeps(tmp_path):
    store = Store(tmp_path)
    ws = store.create_workspace()
    record = _make(store, ws, {"leak": "0"})
    store.delete_workspace(ws)
    with pytest.raises(KeyError):
        store.sweep(record["id"])
    assert store.runs() == []


# ---------------------------------------------------------------- local sweeps


def test_a_local_sweep_trains_every_run_on_the_workers(service):
    store = service.store
    ws = store.create_workspace()
    record = _make(store, ws, {"num_interfaces": "1,2", "activation": "tanh,relu"}, seeds=2, epochs=6)
    sweep.launch(store, service, record["id"])
    wait_for(lambda: sweep.progress(store, record["id"]).status == "finished", what="the sweep")
    frame = sweep.results(store, record["id"])
    assert len(frame) == 8 and set(frame["status"]) == {"finished"} and set(frame["epochs"]) == {6}
    assert frame["worker"].str.match(r"w\d+ \(pid \d+\)").all()
    assert np.isfinite(frame["val_accuracy"]).all()
    # the same seed and settings give the same run, whichever worker trained it
    by_point = frame.groupby(["num_interfaces", "activation", "seed"])["loss"].nunique()
    assert (by_point == 1).all()
    # the service timed each graph's runs (what `_better_waits` goes by), and forgot the runs done
    graphs = {service._signature(r) for r in record["runs"]}
    assert graphs <= set(service._took) and all(service._took[g].get("new", 0) > 0 for g in graphs)
    assert service._took_latest.get("new", 0) > 0
    assert not set(record["runs"]) & set(service._started_at)


def test_cancel_stops_what_has_not_finished_and_keeps_the_epochs(service):
    store = service.store
    ws = store.create_workspace()
    record = _make(store, ws, {"num_interfaces": "1,2,3,4,5,6,7"}, epochs=100_000)
    sweep.launch(store, service, record["id"])
    wait_for(lambda: any(store.run_info(r).epochs > 0 for r in record["runs"]), what="a first epoch")
    sweep.cancel(store, service, record["id"])
    wait_for(lambda: all(store.run_info(r).status in ("stopped", "idle", "finished") for r in record["runs"]),
             what="every run stopped")
    p = sweep.progress(store, record["id"])
    assert p.status == "cancelled" and p.epochs_done > 0
    assert any(store.run_info(r).epochs > 0 for r in record["runs"])


def test_a_sweep_whose_process_is_killed_resumes_when_a_server_starts(tmp_path):
    """The command line coordinates a sweep and is killed (-9) mid-way; the next service on that home
    takes the sweep over: finished runs are kept, the rest continue, and every run ends with its epochs."""
    home = tmp_path / "home"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT), "INFOIF_WORKERS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "infoif", "sweep", "--data", "Circle", "--grid",
                             "num_interfaces=1,2,3", "--epochs", "400", "--home", str(home), "--quiet"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for(lambda: (home / "index.sqlite").exists(), what="the store")
        store = Store(home)
        wait_for(lambda: store.sweeps() and len(store.sweeps()[0]["runs"]) == 3, what="the sweep's runs")
        runs = store.sweeps()[0]["runs"]
        # one run finished and the next one training: kill the coordinator (its worker follows)
        wait_for(lambda: store.run_info(runs[0]).status == "finished" and store.run_info(runs[1]).epochs > 0,
                 timeout=300, what="the first run finished")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    first = store.run_info(runs[0])  # the coordinator and its worker are gone: nothing marks the others yet

    from infoif.runs.service import Service

    service = Service(home, workers=1, resume_sweeps=True).start()
    try:
        record_id = store.sweeps()[0]["id"]
        wait_for(lambda: sweep.progress(store, record_id).status == "finished", timeout=300, what="the resumed sweep")
    finally:
        service.shutdown()
    infos = [store.run_info(r) for r in runs]
    assert [i.status for i in infos] == ["finished"] * 3 and [i.epochs for i in infos] == [400] * 3
    assert infos[0].updated == first.updated  # the finished run was kept as it was, not trained again
    history = store.reader(runs[1]).snapshots()
    assert [s.epoch for s in history][-1] == 400


def test_a_run_whose_process_dies_after_the_service_started_is_taken_over(service):
    """A sweep run left "running" by a process that was still exiting when the service started (so
    `start()` could not tell it was gone) is marked interrupted by the service's housekeeping, and
    queued again when this process coordinates its sweep; a run held by a live process is left alone."""
    from infoif.runs.store import owner_label
    from infoif.runs.store.files import HOST

    store = service.store
    ws = store.create_workspace()
    record = _make(store, ws, {"num_interfaces": "2,3"}, epochs=5)
    orphan, held = record["runs"]
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    store.set_status(orphan, "running", None, owner=f"{HOST}:{int(gone.stdout)}", heartbeat=time.time())
    store.set_status(held, "running", None, owner=owner_label(), heartbeat=time.time())  # alive: this process
    store.update_sweep(record["id"], status="running", owner=owner_label())
    service._recover_orphans()
    wait_for(lambda: store.run_info(orphan).status == "finished", what="the orphan trained again")
    assert store.run_info(orphan).epochs == 5
    assert store.run_info(held).status == "running", "a live process's run is its own"
    store.set_status(held, "stopped", None)


# ---------------------------------------------------------------- the command line


def test_ctrl_c_in_the_terminal_cancels_a_sweep_in_order_and_keeps_its_epochs(tmp_path):
    """Ctrl-C in a terminal signals its whole foreground process group. The command line cancels the
    sweep; its workers, in sessions of their own, are not interrupted mid-call by the same signal: they
    stop their runs when told, and nothing is lost or logged as a crash (before, each worker died of
    KeyboardInterrupt and its runs were left for the next server to find)."""
    home = tmp_path / "home"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT), "INFOIF_WORKERS": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "infoif", "sweep", "--data", "Circle", "--grid",
                             "num_interfaces=1,2", "--epochs", "100000", "--home", str(home), "--quiet"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own foreground group, as in a terminal
    try:
        wait_for(lambda: (home / "index.sqlite").exists(), what="the store")
        store = Store(home)
        wait_for(lambda: store.sweeps() and len(store.sweeps()[0]["runs"]) == 2, what="the sweep's runs")
        runs = store.sweeps()[0]["runs"]
        wait_for(lambda: all(store.run_info(r).epochs > 0 for r in runs), timeout=300, what="both runs training")
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    infos = [store.run_info(r) for r in runs]
    assert [i.status for i in infos] == ["stopped", "stopped"], [(i.status, i.error) for i in infos]
    assert all(i.epochs > 0 for i in infos)
    for info in infos:  # everything up to the last epoch recorded is on disk
        assert [s.epoch for s in store.reader(info.id).snapshots()][-1] == info.epochs
    logs = "".join(p.read_text() for p in (home / "logs").glob("*.log"))
    assert "Traceback" not in logs and "KeyboardInterrupt" not in logs, logs[-3000:]


def test_the_command_line_refuses_a_bad_grid_with_status_2_and_runs_nothing(tmp_path):
    home = tmp_path / "home"
    for grid in (["--grid", "num_interfaces=1,x"], ["--grid", "wings=2"], []):
        out = infoif("sweep", "--data", "Circle", *grid, "--epochs", "3", home=home)
        assert out.returncode == 2, out.stderr
        assert "error: argument --grid" in out.stderr and "Traceback" not in out.stderr
    out = infoif("sweep", "--data", "Circle", "--grid", "leak=0", "--cluster", "localhost", home=home)
    assert out.returncode == 2 and "argument --cluster" in out.stderr
    store = Store(home)
    assert store.runs() == [] and store.sweeps() == []


def test_a_local_sweep_from_the_command_line(tmp_path):
    home = tmp_path / "home"
    out = infoif("sweep", "--data", "xor", "--grid", "num_interfaces=1,2", "--grid", "leak=0,0.5", "--seeds", "2",
                 "--epochs", "4", "--workers", "2", home=home)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "sweep-1 finished: 8 of 8 runs finished" in out.stdout and "?ws=" in out.stdout
    assert "oneDNN" not in out.stdout + out.stderr  # the workers' start-up messages went to the log
    store = Store(home)
    (record,) = store.sweeps()
    frame = sweep.results(store, record["id"])
    assert len(frame) == 8 and set(frame["status"]) == {"finished"} and set(frame["epochs"]) == {4}
    assert sorted(frame.groupby(["num_interfaces", "leak"]).size()) == [2, 2, 2, 2]

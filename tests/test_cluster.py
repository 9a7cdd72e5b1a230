"""Sweeps on a real Dask cluster (`infoif.cluster`): a scheduler and two workers in subprocesses on
127.0.0.1; a sweep from the command line lands in the store with its workers' addresses; a worker
killed mid-sweep loses nothing; a cancel keeps what was trained; an unreachable scheduler says so."""

import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from infoif import sweep
from infoif.cluster import DaskSweep
from infoif.spec import ModelSpec
from infoif.store import Store
from tests.conftest import CIRCLE, wait_for
from tests.test_cli import ROOT, infoif

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------- a cluster of subprocesses


@dataclass
class Cluster:
    address: str
    client: object  # a distributed.Client of the test's own
    logs: object  # a directory
    procs: dict = field(default_factory=dict)  # worker name (or "scheduler") -> Popen

    @property
    def workers(self) -> dict:
        """Worker address -> its name, as the scheduler knows them now."""
        return {addr: w.get("name") for addr, w in self.client.scheduler_info(n_workers=-1)["workers"].items()}

    def add_worker(self, name: str) -> str:
        """Starts a worker process (with its nanny, in a process group of its own); returns its address."""
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
        with open(self.logs / f"{name}.log", "wb") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "dask", "worker", self.address, "--name", name, "--nthreads", "1",
                 "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1", "--death-timeout", "60"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: name in self.workers.values(), 120, f"the Dask worker {name} to join")
        return next(addr for addr, n in self.workers.items() if n == name)

    def kill(self, name: str) -> None:
        """SIGKILL to the worker's process group: nanny and worker die at once, as with a lost machine."""
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask-logs")
    scheduler_file = logs / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    with open(logs / "scheduler.log", "wb") as log:
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--no-dashboard", "--host", "127.0.0.1", "--port", "0",
             "--scheduler-file", str(scheduler_file)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    made = Cluster("", None, logs, {"scheduler": scheduler})
    try:
        def started():
            assert scheduler.poll() is None, (logs / "scheduler.log").read_text()[-3000:]
            return scheduler_file.exists() and scheduler_file.stat().st_size > 0

        wait_for(started, 60, "the Dask scheduler to start")
        made.address = json.loads(scheduler_file.read_text())["address"]
        made.client = Client(made.address, timeout=30, set_as_default=False)
        for name in ("worker-a", "worker-b"):
            made.add_worker(name)
        made.client.wait_for_workers(2, timeout=120)
        yield made
    finally:
        if made.client is not None:
            made.client.close()
        # the workers first (their nannies close them and clean their directories), then the scheduler
        for name in sorted(made.procs, key=lambda n: n == "scheduler"):
            proc = made.procs[name]
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(20)
            except ProcessLookupError:
                continue
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(20)


def _sweep(tmp_path, address, grid, epochs, seeds=1):
    """A sweep of Circle runs (made, not launched) in a fresh store; (store, workspace, record)."""
    store = Store(tmp_path / "home")
    workspace = store.create_workspace()
    plan = sweep.make_plan(grid, seeds=seeds, epochs=epochs)
    record = sweep.create(store, workspace, plan, ModelSpec(), dict(CIRCLE), "Circle", 32, cluster=address)
    return store, workspace, record


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- tests


def test_a_sweep_from_the_command_line_lands_in_the_store_with_its_workers(cluster, tmp_path):
    home = tmp_path / "home"
    workers = set(cluster.workers)
    out = infoif("sweep", "--data", "Circle", "--grid", "num_interfaces=1,2", "--seeds", "2", "--epochs", "20",
                 "--cluster", cluster.address, "--quiet", home=home)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]

    store = Store(home)
    infos = store.runs()
    assert len(infos) == 4
    assert {(i.spec.num_interfaces, i.seed) for i in infos} == {(1, 0), (1, 1), (2, 0), (2, 1)}
    for info in infos:
        assert (info.status, info.epochs, info.error) == ("finished", 20, None)
        assert info.worker in workers, (info.worker, workers)
        history = store.reader(info.id).snapshots()
        assert history and history[-1].epoch == 20 and "loss" in history[-1].metrics
        assert {"checkpoint.npz", "model.keras", "setup.npz"} <= {p.name for p in store.run_dir(info.id).iterdir()}
    (record,) = store.sweeps()
    assert record["status"] == "finished" and record["cluster"] == cluster.address
    assert sweep.progress(store, record["id"]).finished == 4
    frame = sweep.results(store, record["id"])
    assert set(frame["worker"]) <= workers and list(frame["status"]) == ["finished"] * 4


def test_an_uploaded_table_travels_with_the_tasks(cluster, tmp_path):
    store = Store(tmp_path / "home")
    workspace = store.create_workspace()
    raw = ("u,v,side\n" + "".join(f"{i % 17 / 17:.3f},{(i * 7) % 13 / 13:.3f},{'L' if i % 2 else 'R'}\n"
                                  for i in range(120))).encode()
    sha = store.put_upload(workspace, raw, "points.csv")
    ref = {"kind": "upload", "sha256": sha, "filename": "points.csv", "target": "side", "task": "auto", "seed": 0}
    plan = sweep.make_plan({"leak": (0.0, 0.2)}, seeds=1, epochs=8)
    record = sweep.create(store, workspace, plan, ModelSpec(), ref, "points.csv", 16, cluster=cluster.address)
    sweep.launch(store, None, record["id"])
    coordinator = sweep.coordinator(record["id"])
    assert coordinator.join(180) and coordinator.error is None
    infos = store.runs(workspace)
    assert [(i.status, i.epochs, i.dataset_name) for i in infos] == [("finished", 8, "points.csv")] * 2
    assert sorted(i.spec.leak for i in infos) == [0.0, 0.2] and all(i.worker in cluster.workers for i in infos)
    assert store.run_settings(infos[0].id)["dataset"] == ref  # the run still points at this store's upload


def test_a_worker_killed_mid_sweep_loses_no_run(cluster, tmp_path):
    survivors = set(cluster.workers)
    doomed = cluster.add_worker("doomed")
    store, workspace, record = _sweep(tmp_path, cluster.address, {"num_interfaces": (1, 2, 3)}, epochs=1500)
    sweep.launch(store, None, record["id"])
    coordinator = sweep.coordinator(record["id"])
    assert coordinator is not None and coordinator.alive

    def training_on_the_doomed_worker():
        assert coordinator.error is None, coordinator.error
        return [i.id for i in store.runs(workspace) if i.worker == doomed and 0 < i.epochs < 1500
                and i.status == "running"]

    wait_for(training_on_the_doomed_worker, 180, "a run to train on the doomed worker")
    (victim,) = training_on_the_doomed_worker()
    cluster.kill("doomed")

    assert coordinator.join(300), "the sweep did not end"
    assert coordinator.error is None
    infos = store.runs(workspace)
    assert len(infos) == 3
    for info in infos:
        assert (info.status, info.epochs, info.error) == ("finished", 1500, None), info
        assert info.worker in survivors, (info.worker, survivors)
        assert store.reader(info.id).snapshots()[-1].epoch == 1500
    assert store.run_info(victim).worker != doomed
    assert sweep.progress(store, record["id"]).status == "finished"
    assert store.sweep(record["id"])["status"] == "finished"


def test_a_cancelled_sweep_keeps_what_its_runs_trained(cluster, tmp_path):
    store, workspace, record = _sweep(tmp_path, cluster.address, {"num_interfaces": (1, 2, 3)}, epochs=100_000)
    sweep.launch(store, None, record["id"])
    coordinator = sweep.coordinator(record["id"])

    def two_training():
        assert coordinator.error is None, coordinator.error
        return sum(i.status == "running" and i.epochs > 0 for i in store.runs(workspace)) == 2

    wait_for(two_training, 120, "two runs to train on the two workers")
    sweep.cancel(store, None, record["id"])
    assert coordinator.join(120), "the cancelled sweep did not end"

    infos = store.runs(workspace)
    assert {i.status for i in infos} == {"stopped"}
    trained = [i for i in infos if i.epochs]
    assert len(trained) == 2
    for info in trained:  # stopped where they were, with their history and a checkpoint to go on from
        assert 0 < info.epochs < 100_000 and info.worker in cluster.workers
        assert store.reader(info.id).snapshots()[-1].epoch == info.epochs
        assert (store.run_dir(info.id) / "checkpoint.npz").exists()
    assert store.sweep(record["id"])["status"] == "cancelled"
    # the workers are free again: nothing of this sweep is left on the cluster
    wait_for(lambda: not any(cluster.client.processing().values()), 60, "the workers to be idle")


def test_an_unreachable_scheduler_says_what_to_check_and_trains_nothing(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    store, workspace, record = _sweep(tmp_path, address, {"num_interfaces": (1, 2)}, epochs=5)
    coordinator = DaskSweep(store, record["id"], address, connect_timeout=2).start()
    assert coordinator.join(60)
    assert coordinator.error.startswith(f"Could not reach the Dask scheduler at {address}: is it running")
    assert "--cluster" in coordinator.error and "INFOIF_DASK" in coordinator.error
    assert [(i.status, i.epochs, i.worker) for i in store.runs(workspace)] == [("idle", 0, None)] * 2
    saved = store.sweep(record["id"])
    assert (saved["status"], saved["error"]) == ("failed", coordinator.error)


def test_the_command_line_reports_an_unreachable_scheduler(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = infoif("sweep", "--data", "Circle", "--grid", "num_interfaces=1,2", "--epochs", "5", "--cluster", address,
                 "--quiet", home=tmp_path / "home")
    assert out.returncode == 1
    assert f"Could not reach the Dask scheduler at {address}" in out.stderr
    store = Store(tmp_path / "home")
    assert {i.status for i in store.runs()} == {"idle"}

"""Sweeps on a real Dask cluster (`infoif.runs.cluster`): a scheduler and two workers in subprocesses on
127.0.0.1; a sweep from the command line lands in the store with its workers' addresses; a worker
killed mid-sweep loses nothing; a cancel keeps what was trained; an unreachable scheduler says so."""

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from infoif.runs import sweep
from infoif.runs.cluster import DaskSweep, cluster_problems
from infoif.app.session import Session
from infoif.runs.sweep import SweepError
from infoif.nn.spec import ModelSpec
from infoif.runs.store import Store
from tests.conftest import CIRCLE, wait_for
from tests.e2e.test_browser import free_port
from tests.test_cli import ROOT, infoif

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------- the README's recipe, in subprocesses

README = (ROOT / "README.md").read_text()
RECIPE_SCHEDULER, RECIPE_WORKER = (
    next(line.strip() for line in README.splitlines() if line.strip().startswith(f"dask {what} "))
    for what in ("scheduler", "worker"))
RECIPE_HOSTS = ("10.0.0.5", "10.0.0.7")  # the README's scheduler and worker machines: here 127.0.0.1
RECIPE_PORT = "8786"


def recipe(command: str, port: int) -> list[str]:
    """A command of the README's recipe, as written there, on 127.0.0.1 and `port`."""
    for host in RECIPE_HOSTS:
        command = command.replace(host, "127.0.0.1")
    argv = command.replace(f":{RECIPE_PORT}", f":{port}").replace(f"--port {RECIPE_PORT}", f"--port {port}").split()
    assert argv[0] == "dask"
    return [shutil.which("dask") or str(Path(sys.executable).with_name("dask")), *argv[1:]]


def plain_env(**extra) -> dict:
    """This environment without PYTHONPATH: nothing of the repository can be imported."""
    return {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


@dataclass
class Cluster:
    address: str
    port: int
    client: object  # a distributed.Client of the test's own
    logs: object  # a directory outside the repository: every process of the cluster starts there
    procs: dict = field(default_factory=dict)  # worker name (or "scheduler") -> Popen
    env: dict = field(default_factory=dict)  # added to every process's environment (bench/cluster.py)

    @property
    def workers(self) -> set:
        return set(self.client.scheduler_info(n_workers=-1)["workers"])

    def start(self, name: str, command: str, **env) -> subprocess.Popen:
        """Starts a command of the recipe (in a process group of its own), logging to logs/<name>.log."""
        with open(self.logs / f"{name}.log", "wb") as log:
            proc = self.procs[name] = subprocess.Popen(
                recipe(command, self.port), cwd=self.logs, env=plain_env(**{**self.env, **env}), stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        return proc

    def add_worker(self, name: str, **env) -> str:
        """Starts a worker as the README does; returns its address."""
        before = self.workers
        proc = self.start(name, RECIPE_WORKER, **env)

        def joined():
            assert proc.poll() is None, (self.logs / f"{name}.log").read_text()[-3000:]
            return self.workers - before

        wait_for(joined, 120, f"the Dask worker {name} to join")
        (address,) = self.workers - before
        return address

    def kill(self, name: str) -> None:
        """SIGKILL to the worker's process group: nanny and worker die at once, as with a lost machine."""
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        # the workers first (their nannies close them and clean their directories), then the scheduler
        for name in sorted(self.procs, key=lambda n: n == "scheduler"):
            proc = self.procs.pop(name)
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(20)
            except ProcessLookupError:
                continue
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(20)


@contextlib.contextmanager
def recipe_cluster(logs, workers=(), **env):
    """A scheduler and `workers` started as the README writes them, from `logs` (outside the
    repository), without PYTHONPATH (`env`, added to every process's environment, may set one);
    everything is stopped on the way out."""
    from distributed import Client

    assert ROOT not in logs.parents
    logs.mkdir(parents=True, exist_ok=True)
    made = Cluster("", 0, None, logs, env=env)
    try:
        for _ in range(3):  # a free port taken by someone else in between: another one
            made.port = free_port()
            made.address = f"tcp://127.0.0.1:{made.port}"
            scheduler = made.start("scheduler", RECIPE_SCHEDULER)
            log = logs / "scheduler.log"

            def started():
                return scheduler.poll() is not None or "Scheduler at:" in log.read_text(errors="replace")

            wait_for(started, 60, "the Dask scheduler to start")
            if scheduler.poll() is None:
                break
            made.procs.pop("scheduler")
        assert scheduler.poll() is None, log.read_text()[-3000:]
        made.client = Client(made.address, timeout=30, set_as_default=False)
        for name in workers:
            made.add_worker(name)
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with recipe_cluster(tmp_path_factory.mktemp("dask-recipe"), ("worker-a", "worker-b")) as made:
        # nothing of the repository on the workers (nor the scheduler: it unpickles every task graph)
        assert set(made.client.run(importlib.util.find_spec, "infoif").values()) == {None}
        yield made


def _sweep(tmp_path, address, grid, epochs, seeds=1):
    """A sweep of Circle runs (made, not launched) in a fresh store; (store, workspace, record)."""
    store = Store(tmp_path / "home")
    workspace = store.create_workspace()
    plan = sweep.make_plan(grid, seeds=seeds, epochs=epochs)
    record = sweep.create(store, workspace, plan, ModelSpec(), dict(CIRCLE), "Circle", 32, cluster=address)
    return store, workspace, record


# ---------------------------------------------------------------- tests


EPOCHS = 2000  # each run trains for seconds: the progress lines catch it mid-run
BAR = re.compile(r"(\d+) of (\d+) runs done.*? (\d+)/(\d+) epochs")


def test_a_sweep_from_the_command_line_lands_in_the_store_with_its_workers(cluster, tmp_path):
    home = tmp_path / "home"
    workers = set(cluster.workers)
    out = infoif("sweep", "--data", "Circle", "--grid", "num_interfaces=1,2", "--seeds", "2", "--epochs", str(EPOCHS),
                 "--cluster", cluster.address, home=home)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    # the progress lines (printed every few seconds without a terminal) show epochs as they are trained,
    # before the runs end: epochs flow back from the workers while the runs train
    bars = [tuple(map(int, m.groups())) for m in BAR.finditer(out.stdout)]
    assert any(0 < epochs < total and done < runs for done, runs, epochs, total in bars), out.stdout

    store = Store(home)
    infos = store.runs()
    assert len(infos) == 4
    assert {(i.spec.num_interfaces, i.seed) for i in infos} == {(1, 0), (1, 1), (2, 0), (2, 1)}
    for info in infos:
        assert (info.status, info.epochs, info.error) == ("finished", EPOCHS, None)
        assert info.worker in workers, (info.worker, workers)
        history = store.reader(info.id).snapshots()
        assert history and history[-1].epoch == EPOCHS and "loss" in history[-1].metrics
        assert {"checkpoint.npz", "model.keras", "setup.npz"} <= {p.name for p in store.run_dir(info.id).iterdir()}
    (record,) = store.sweeps()
    assert record["status"] == "finished" and record["cluster"] == cluster.address
    assert sweep.progress(store, record["id"]).finished == 4
    frame = sweep.results(store, record["id"])
    assert set(frame["worker"]) <= workers and list(frame["status"]) == ["finished"] * 4


def test_the_dashboards_sweep_trains_on_the_plain_cluster(cluster, tmp_path):
    """What the Compare page does with INFOIF_DASK: Session.start_sweep, on the README's cluster."""
    session = Session.open(Store(tmp_path / "home"), None, {})
    record = session.start_sweep({"num_interfaces": "1, 2"}, epochs=6, cluster=cluster.address)
    coordinator = sweep.coordinator(record["id"])
    assert coordinator.join(180) and coordinator.error is None, coordinator.error
    infos = session.runs()
    assert sorted((i.status, i.epochs, i.spec.num_interfaces) for i in infos) == [("finished", 6, 1),
                                                                                 ("finished", 6, 2)]
    assert all(i.worker in cluster.workers for i in infos)


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
    address = f"tcp://127.0.0.1:{free_port()}"
    store, workspace, record = _sweep(tmp_path, address, {"num_interfaces": (1, 2)}, epochs=5)
    coordinator = DaskSweep(store, record["id"], address, connect_timeout=2).start()
    assert coordinator.join(60)
    assert coordinator.error.startswith(f"Could not reach the Dask scheduler at {address}: is it running")
    assert "--cluster" in coordinator.error and "INFOIF_DASK" in coordinator.error
    assert [(i.status, i.epochs, i.worker) for i in store.runs(workspace)] == [("idle", 0, None)] * 2
    saved = store.sweep(record["id"])
    assert (saved["status"], saved["error"]) == ("failed", coordinator.error)


def test_the_command_line_reports_an_unreachable_scheduler(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"
    out = infoif("sweep", "--data", "Circle", "--grid", "num_interfaces=1,2", "--epochs", "5", "--cluster", address,
                 "--quiet", home=tmp_path / "home")
    assert out.returncode == 1
    assert f"Could not reach the Dask scheduler at {address}" in out.stderr and "Traceback" not in out.stderr
    store = Store(tmp_path / "home")
    assert (store.runs(), store.sweeps()) == ([], [])  # nothing made


BLOCK_TENSORFLOW = """
import sys


class NoTensorflow:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "tensorflow":
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by tests/runs/test_cluster.py)", name=name)
        return None


sys.meta_path.insert(0, NoTensorflow())
"""


def test_a_cluster_that_cannot_train_says_what_is_missing_where_and_nothing_is_made(tmp_path):
    home = tmp_path / "home"
    blocker = tmp_path / "no-tensorflow"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCK_TENSORFLOW)

    def sweep_on(address):
        return infoif("sweep", "--data", "Circle", "--grid", "num_interfaces=1,2", "--epochs", "5", "--cluster",
                      address, "--quiet", home=home)

    with recipe_cluster(tmp_path / "cluster") as cluster:
        out = sweep_on(cluster.address)
        assert out.returncode == 1
        assert f"The Dask scheduler at {cluster.address} has no workers" in out.stderr
        assert "Traceback" not in out.stderr
        # the dashboard's sweep (the Compare page shows a SweepError's message) says the same, makes nothing
        session = Session.open(Store(home), None, {})
        with pytest.raises(SweepError, match=f"The Dask scheduler at {cluster.address} has no workers"):
            session.start_sweep({"num_interfaces": "1, 2"}, epochs=5, cluster=cluster.address)

        lacking = cluster.add_worker("no-tensorflow", PYTHONPATH=str(blocker))
        out = sweep_on(cluster.address)
        assert out.returncode == 1 and "Traceback" not in out.stderr
        assert f"worker {lacking} has no tensorflow: pip install -r requirements.txt there" in out.stderr
        assert not any(cluster.client.processing().values())  # nothing was submitted
    store = Store(home)
    assert (store.runs(), store.sweeps()) == ([], [])  # nothing made, either time


def test_versions_that_matter_are_named_with_their_fix():
    mine = {"python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6", "pandas": "3.1.1"}
    same = {**mine, "tensorflow": "2.21.3", "numpy": "2.3.0", "pandas": "2.2.0"}  # differences that do not matter
    assert cluster_problems("tcp://s:8786", mine, {"tcp://a:1": same, "tcp://b:2": same}) is None
    message = cluster_problems("tcp://s:8786", mine, {
        "tcp://a:1": {**mine, "python": "3.12.1"}, "tcp://b:2": {**mine, "keras": None},
        "tcp://c:3": {**mine, "keras": None}, "tcp://d:4": {**mine, "tensorflow": "2.20.0", "numpy": "1.26.4"},
        "tcp://e:5": {"error": "OSError: disk full"}, "tcp://f:6": same})
    assert message.splitlines() == [
        "The Dask cluster at tcp://s:8786 cannot train this sweep; nothing was submitted.",
        "- worker tcp://a:1 has Python 3.12.1 where this machine has 3.11.7: install Python 3.11.x there",
        "- workers tcp://b:2, tcp://c:3 have no keras: pip install -r requirements.txt there",
        "- worker tcp://d:4 has tensorflow 2.20.0 where this machine has 2.21.0: install tensorflow 2.21.x there "
        "(pip install -r requirements.txt there)",
        "- worker tcp://d:4 has numpy 1.26.4 where this machine has 2.4.6: install numpy 2.x there "
        "(pip install -r requirements.txt there)",
        "- worker tcp://e:5 has no answer about what it has installed (OSError: disk full): see its log"]
    assert "has no workers" in cluster_problems("tcp://s:8786", mine, {})


def test_the_client_asks_itself_without_importing_tensorflow():
    code = ("import sys; from infoif.runs.shipping import environment; from infoif.runs.cluster import check_cluster; "
            "found = environment(); assert found['tensorflow'] and found['keras'], found; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]

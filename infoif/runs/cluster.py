"""Sweeps on a Dask cluster: each run a Dask task on a worker, its results in the local store.

    coordinator = DaskSweep(store, sweep_id, "tcp://10.0.0.5:8786").start()
    coordinator.join()            # True once every run has ended (or the sweep was cancelled)
    coordinator.error             # None, or why the sweep could not go on (say, no scheduler there)

`infoif.runs.sweep.launch` starts one of these when a sweep's record names a
cluster (`--cluster` on the command line, or INFOIF_DASK). It coordinates from
a daemon thread of this process (the server, or the command line):

- it connects a `distributed.Client` to the scheduler and submits one task per
  run that has not finished, in grid order, keyed `infoif-run-<run id>-<attempt>`;
- each task (`train_run`, reached through `infoif.runs.shipping.call` on a worker) trains its run into a scratch store of
  the worker process with the ordinary `Trainer`, sends its progress (epoch,
  latest metrics, worker address) back every half second as a Dask event, and
  returns the run's files (history, probes, checkpoint, model);
- the coordinator mirrors the progress into the store as it comes (the
  dashboard shows epochs and metrics live; heartbeats keep the runs alive to
  `Store.recover`), and writes each run's files into the store when its task
  returns: the run is then an ordinary run of the workspace, whose `worker`
  field names the Dask worker that trained it (tcp://host:port).

A worker lost mid-run: the scheduler gives the task to another worker, which
trains the run again from its first epoch (up to the scheduler's
`distributed.scheduler.allowed-failures` deaths, 3 by default; after that the
run fails and says so). Progress events of the lost execution that arrive late
are told apart by a token each execution draws, and events of an earlier
coordinator's tasks by the attempt number (kept in the sweep's record), so
the store only ever shows the execution that counts.

Cancelling (`cancel`): queued tasks are cancelled at once; runs in flight are
asked to stop (their epochs are kept, with their history) and are given a few
seconds to send their files, after which their futures are cancelled too. Every
run that did not finish ends "stopped". A task whose future is cancelled (its
coordinator gone) notices and stops training, so a worker is not kept busy for
nothing.

The scheduler and the workers need nothing of this repository, only the
requirements (`pip install -r requirements.txt`). Before anything is made,
`check_cluster` (the command line, the dashboard) and the coordinator ask every
worker what it has (`infoif.runs.shipping.environment`, without importing anything)
and `cluster_problems` refuses, in one message naming each worker, what it lacks
and what to run there: no workers, a worker without tensorflow, keras, numpy or
pandas, or a Python minor, TensorFlow/Keras major.minor or numpy major version
that differs from this process's. Then the coordinator ships this process's own
`infoif` and the sample datasets to every worker, present and future, as a
worker plugin named after their hash, and each task is `infoif.runs.shipping.call`
sent by value (standard library only: the scheduler unpickles every task graph
and cannot import `infoif`), naming that version and "infoif.runs.cluster:train_run";
its arguments are plain dicts, strings and bytes. See `infoif.runs.shipping` for why.
As in the README (tests/runs/test_cluster.py runs these very commands):

    dask scheduler --host 10.0.0.5 --port 8786 --no-dashboard
    dask worker tcp://10.0.0.5:8786 --host 10.0.0.7 --nthreads 1 --no-dashboard

With Slurm, dask-jobqueue starts the workers as jobs (one thread each: each run
keeps TensorFlow to one thread), with nothing to add to their environment:

    from dask_jobqueue import SLURMCluster
    cluster = SLURMCluster(cores=1, processes=1, memory="4GB", walltime="02:00:00")
    cluster.scale(jobs=8)
    cluster.wait_for_workers(8)
    # then: python -m infoif sweep ... --cluster <cluster.scheduler_address>

Nothing here imports TensorFlow in the coordinating process; the tasks import
it on the workers (once per worker process, keeping it to one thread).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from infoif.runs.shipping import SENT, WORKER_PACKAGES, ShipCode, bundle, environment

__all__ = ["DaskSweep", "ClusterError", "check_cluster", "cluster_problems", "train_run", "CONNECT_SECONDS",
           "PROGRESS_SECONDS"]

log = logging.getLogger("infoif.cluster")

CONNECT_SECONDS = 10.0  # how long to try to reach the scheduler before saying it cannot be reached
PROGRESS_SECONDS = 0.5  # a task sends its progress at most this often
HEARTBEAT_SECONDS = 5.0  # the coordinator marks its runs in flight alive this often (the store's recover)
QUEUED_HEARTBEAT_SECONDS = 60.0  # ... and its queued runs (many, and their owner is this live process)
POLL_SECONDS = 0.2  # the coordinator's loop: events, finished tasks, cancellation
RECORD_SECONDS = 2.0  # how often the coordinator reads the sweep's record (cancelled from another process?)
STOP_GRACE_SECONDS = 15.0  # after a cancel, how long runs in flight have to send their (stopped) files
LOST_SCHEDULER_SECONDS = 30.0  # a scheduler unreachable this long mid-sweep ends the sweep with an error
TASK_RETRIES = 1  # a task that raised (not a training error: those end the run "failed") is tried once more
TRAIN_RUN = "infoif.runs.cluster:train_run"  # the task's function, named for infoif.runs.shipping.call
RESULT_FILES = ("metrics.jsonl", "checkpoint.npz", "model.keras", "setup.npz")  # besides probes/ and status.json


# ---------------------------------------------------------------- on the workers

_worker_lock = threading.Lock()
_tensorflow_ready = False
_scratch: dict[str, tuple] = {}  # scratch directory -> (Store, workspace id), one per worker process


def _configure_tensorflow() -> None:
    """Imports TensorFlow once per worker process, kept to one thread per op (a worker thread
    per core is the parallelism; these models' ops are too small to split)."""
    global _tensorflow_ready
    with _worker_lock:
        if _tensorflow_ready:
            return
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # TensorFlow was initialised already (another library in this worker)
            pass
        _tensorflow_ready = True


def _scratch_store(worker):
    """This worker process's scratch store: where its tasks train their runs before sending the files
    back. One per process (one writer thread, one index), in the worker's local directory, which Dask
    removes when the worker closes."""
    from infoif.runs.store import Store

    base = Path(getattr(worker, "local_directory", None) or "/tmp") / "infoif-scratch"
    key = str(base)
    with _worker_lock:
        got = _scratch.get(key)
        if got is None:
            store = Store(base)
            got = _scratch[key] = (store, store.create_workspace())
        return got


def _cancelled(worker, key) -> bool:
    """Whether this task's future was released (cancelled, or its client is gone): nobody wants the result."""
    if key is None:
        return False
    try:
        state = worker.state.tasks.get(key)
    except AttributeError:  # another worker implementation: do not guess
        return False
    return state is None or state.state == "cancelled"


def _result_files(run_dir: Path) -> dict[str, bytes]:
    """Every file of a run's directory (relative POSIX paths) but its settings and temporary files."""
    files = {}
    for root, _, names in os.walk(run_dir):
        for name in names:
            if name.startswith("."):
                continue
            path = Path(root) / name
            rel = path.relative_to(run_dir).as_posix()
            if rel == "run.json":
                continue
            files[rel] = path.read_bytes()
    return files


def _metrics(snapshot) -> dict:
    if snapshot is None or not snapshot.metrics:
        return {}
    return {str(k): float(v) for k, v in dict(snapshot.metrics).items()}


def train_run(run_id: str, settings: dict, epochs: int, attempt: int, topic: str, coordinator: str,
              upload: bytes | None = None) -> dict:
    """A Dask task: trains one run of a sweep on this worker and returns its files.

    Args:
        run_id: the run's id in the coordinator's store (named in the progress events).
        settings: the run's settings (`Store.run_settings`): spec, dataset reference, seed, batch
            size, probe config, name.
        epochs: the sweep's epochs per run.
        attempt: the coordinator's attempt number for this run (named in the progress events).
        topic: the Dask event topic the coordinator listens to.
        coordinator: the coordinating `DaskSweep`'s token (to be asked to stop, see `cancel`).
        upload: the uploaded file's bytes, for a dataset of kind "upload".

    Returns:
        {"worker": this worker's address, "status": finished / stopped / failed, "error",
        "epochs", "files": {relative path: bytes}} (every file of the run but run.json).
    """
    from distributed import get_worker

    from infoif.runs.shipping import stopping

    worker = get_worker()
    address = worker.address
    key = worker.get_current_task()
    token = secrets.token_hex(8)  # this execution: a rescheduled task draws a new one
    _configure_tensorflow()
    from infoif.train.probes import ProbeConfig
    from infoif.nn.spec import ModelSpec
    from infoif.runs.store import StoreError
    from infoif.train.training import Trainer

    store, workspace = _scratch_store(worker)
    ref = dict(settings["dataset"])
    if ref.get("kind") == "upload":
        if upload is None:
            raise StoreError(f"The uploaded file {ref.get('filename')!r} did not come with the task.")
        sha = store.put_upload(workspace, upload, ref["filename"])
        if sha != ref.get("sha256"):
            raise StoreError(f"The uploaded file {ref.get('filename')!r} arrived damaged (its checksum differs).")
    spec = ModelSpec.from_dict(settings["spec"])
    probe_config = ProbeConfig(**settings["probe_config"])
    info = store.create_run(workspace, spec, ref, settings.get("dataset_name", ""), seed=int(settings["seed"]),
                            batch_size=int(settings["batch_size"]), probe_config=probe_config)
    try:
        opened = store.dataset(ref)
        batch = min(int(settings["batch_size"]), len(opened.dataset.x_train))
        trainer = Trainer(spec, opened.dataset, seed=int(settings["seed"]), batch_size=batch,
                          probe_config=probe_config, name=settings.get("name"), frame=opened.frame,
                          sink=store.writer(info.id, worker=address))
        trainer.prepare_ahead(int(epochs))  # nobody waits for its first epoch: traced whole, up front
        trainer.start(epochs=int(epochs))
        sent = -1
        while not trainer.wait(PROGRESS_SECONDS):
            if stopping(coordinator) or _cancelled(worker, key):
                trainer.stop(timeout=60.0)
                break
            latest = trainer.latest
            if latest is not None and latest.epoch != sent:
                sent = latest.epoch
                worker.log_event(topic, {"run": run_id, "attempt": attempt, "token": token, "worker": address,
                                         "epoch": int(latest.epoch), "metrics": _metrics(latest)})
        trainer.wait(60.0)
        # The runner wrote its last records and status before its thread ended (RunWriter.status
        # waits until everything queued before it is on disk): the files are complete.
        return {"worker": address, "status": trainer.status, "error": trainer.error, "epochs": int(trainer.epoch),
                "files": _result_files(store.run_dir(info.id))}
    finally:
        store.delete_run(info.id)


# ---------------------------------------------------------------- in the coordinating process


@dataclass
class _Flight:
    """One run's task, as the coordinator follows it."""

    run_id: str
    attempt: int
    future: object
    started: bool = False  # a progress event of it came in
    token: str | None = None  # the execution whose events count
    tokens: set = field(default_factory=set)  # every execution seen (a late event of an old one is ignored)
    epochs: int = 0
    metrics: dict = field(default_factory=dict)
    worker: str | None = None
    beat: float = 0.0  # when its heartbeat was last written


_LOST_RUN = ("Interrupted: the Dask cluster lost this run's task (the scheduler went away, or the task was "
             "cancelled there). Launch the sweep again to train it.")


class ClusterError(ValueError):
    """A Dask cluster that cannot train a sweep (unreachable, no workers, a worker without the
    requirements); the message says what is missing where and how to fix it."""


def _client(address: str, timeout: float, name: str):
    """A `distributed.Client` of the scheduler at `address`, or ClusterError saying what to check."""
    from distributed import Client

    try:
        return Client(address, timeout=timeout, set_as_default=False, name=name)
    except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, a bad address: all say the same
        raise ClusterError(_unreachable(address, exc)) from None


def _environments(client) -> dict[str, dict]:
    """Worker address -> its `environment()` (a worker that could not answer: {"error": why})."""
    answers = client.run(SENT.environment, on_error="return")
    return {worker: (found if isinstance(found, dict) else {"error": f"{type(found).__name__}: {found}"})
            for worker, found in answers.items()}


MUST_AGREE = {"python": 2, "tensorflow": 2, "keras": 2, "numpy": 1}  # leading version parts that must match
_FIX = "pip install -r requirements.txt there"


def _workers(names: list[str]) -> str:
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"worker {shown}" if len(names) == 1 else f"workers {shown}"


def cluster_problems(address: str, mine: dict, theirs: dict[str, dict]) -> str | None:
    """What keeps the cluster at `address` from training sweeps, as one message (None: nothing).

    Args:
        address: the scheduler's address (named in the message).
        mine: this process's `infoif.runs.shipping.environment()`.
        theirs: each worker's (address -> its environment; {"error": ...} if it could not say).
    """
    if not theirs:
        return (f"The Dask scheduler at {address} has no workers. Start some where the requirements are "
                f"installed (pip install -r requirements.txt), e.g. `dask worker {address} --nthreads 1`, "
                "wait until they have joined, and launch the sweep again. Nothing was submitted.")
    problems: dict[str, list[str]] = {}  # what a worker has (or has not) -> the workers that have it
    for worker in sorted(theirs):
        found = theirs[worker]
        if "error" in found:
            problems.setdefault(f"no answer about what it has installed ({found['error']}): see its log",
                                []).append(worker)
            continue
        missing = [name for name in WORKER_PACKAGES if found.get(name) is None]
        if missing:
            problems.setdefault(f"no {', '.join(missing)}: {_FIX}", []).append(worker)
        for name, parts in MUST_AGREE.items():
            ours, its = mine.get(name), found.get(name)
            if name in missing or ours is None or _leading(its, parts) == _leading(ours, parts):
                continue
            label = "Python" if name == "python" else name
            fix = f"install {label} {_leading(ours, parts)}.x there" + ("" if name == "python" else f" ({_FIX})")
            problems.setdefault(f"{label} {its} where this machine has {ours}: {fix}", []).append(worker)
    if not problems:
        return None
    lines = [f"{_workers(workers)} {'has' if len(workers) == 1 else 'have'} {problem}"
             for problem, workers in problems.items()]
    return (f"The Dask cluster at {address} cannot train this sweep; nothing was submitted.\n- "
            + "\n- ".join(lines))


def _leading(version, parts: int) -> str:
    return ".".join(str(version).split(".")[:parts])


def check_cluster(address: str, timeout: float = CONNECT_SECONDS) -> None:
    """Raises ClusterError, saying what is missing where, unless the scheduler at `address` has
    workers that can train sweeps (`cluster_problems`). Imports no TensorFlow, here or there."""
    client = _client(address, timeout, "infoif-check")
    try:
        problem = cluster_problems(address, environment(), _environments(client))
    finally:
        client.close(timeout=10)
    if problem is not None:
        raise ClusterError(problem)


def _unreachable(address: str, exc: BaseException) -> str:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (f"Could not reach the Dask scheduler at {address}: is it running (dask scheduler), and can this "
            f"machine reach that host and port (firewall, VPN)? Check the address given with --cluster or "
            f"INFOIF_DASK. ({detail})")


class DaskSweep:
    """Coordinates one sweep's runs on a Dask cluster from a daemon thread of this process.

    Args:
        store: the `infoif.runs.store.Store` that keeps the sweep and its runs.
        sweep_id: the sweep's id (its record: `store.sweep(sweep_id)`).
        address: the scheduler's address, like tcp://10.0.0.5:8786.
        connect_timeout: seconds to try reaching the scheduler before giving up with `error`.
        ship_code: send the workers this process's `infoif` (`infoif.runs.shipping`); False: they import
            their own (the repository on their PYTHONPATH, and the scheduler's: the old way, kept
            for bench/cluster.py to compare with).
    """

    def __init__(self, store, sweep_id: str, address: str, connect_timeout: float = CONNECT_SECONDS,
                 ship_code: bool = True):
        if not isinstance(address, str) or "://" not in address:
            raise ValueError("A Dask scheduler's address looks like tcp://10.0.0.5:8786. "
                             f"Received: address={address!r}")
        self.store, self.sweep_id, self.address = store, sweep_id, address
        self.connect_timeout = float(connect_timeout)
        self.ship_code = bool(ship_code)
        self.version: str | None = None  # the shipped code's version (None: the workers' own)
        self.error: str | None = None
        self.token = secrets.token_hex(8)
        self.topic = f"infoif-sweep-{sweep_id}-{self.token}"
        self._client = None
        self._thread: threading.Thread | None = None
        self._events: queue.Queue = queue.Queue()
        self._flights: dict[str, _Flight] = {}  # run id -> its task in flight (until its result is in)
        self._epochs = 0  # each run's (the sweep's record)
        self._workers_seen = 0.0  # when the cluster's workers were last looked up
        self._lost: list[str] = []  # runs whose tasks the cluster lost (not cancelled by us)
        self._uploads: list = []  # the uploads' futures, kept while tasks may need them
        self._lock = threading.Lock()  # progress writes vs. cancel: after cancel() returns, none follows
        self._cancelled = threading.Event()
        self._wake = threading.Event()

    # ------------------------------------------------------------ the contract

    def start(self) -> "DaskSweep":
        self._thread = threading.Thread(target=self._main, name=f"infoif-dask-{self.sweep_id}", daemon=True)
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def cancel(self) -> None:
        """Stops the sweep: queued tasks are cancelled, runs in flight stop (keeping their epochs) and
        send their files; every run that did not finish ends "stopped". Returns at once."""
        with self._lock:
            self._cancelled.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        """Waits for the sweep to end here (every run done, cancelled, or an error); True if it did."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # ------------------------------------------------------------ the thread

    def _main(self) -> None:
        try:
            if not self._connect():
                return
            self._submit()
            self._follow()
            if self._cancelled.is_set():
                self._stop_in_flight()
        except Exception as exc:  # noqa: BLE001 - ends the sweep with a message, not a dead thread
            log.exception("The Dask coordinator of sweep %s stopped", self.sweep_id)
            self.error = self.error or f"The Dask sweep stopped by an error: {type(exc).__name__}: {exc}"
            self._abandon(f"Interrupted: the sweep's coordinator stopped ({self.error}). "
                          "Launch the sweep again to train it.")
        finally:
            self._close()
            self._conclude()

    def _connect(self) -> bool:
        """Connects, checks the workers (`cluster_problems`) and ships them this process's code."""
        try:
            self._client = _client(self.address, self.connect_timeout, f"infoif-sweep-{self.sweep_id}")
        except ClusterError as exc:
            self.error = str(exc)
            return False
        self.error = cluster_problems(self.address, environment(), _environments(self._client))
        if self.error is not None:
            return False
        if self.ship_code:
            self.version, data = bundle()
            self._client.register_plugin(ShipCode(self.version, data))
        self._client.subscribe_topic(self.topic, self._events.put)  # before any task can send
        return True

    def _submit(self) -> None:
        """One task per run that has not finished, in grid order (the first runs first)."""
        record = self.store.sweep(self.sweep_id)
        epochs = self._epochs = int(record["epochs"])
        attempts = dict(record.get("attempts") or {})
        uploads: dict[str, object] = {}
        todo = []
        for run_id in record["runs"]:
            try:
                info = self.store.run_info(run_id)
            except KeyError:
                continue  # deleted meanwhile
            if info.status != "finished":
                todo.append(run_id)
        for run_id in todo:
            attempts[run_id] = int(attempts.get(run_id, 0)) + 1
        self.store.update_sweep(self.sweep_id, attempts=attempts)
        for index, run_id in enumerate(todo):
            if self._cancelled.is_set():
                break
            settings = self.store.run_settings(run_id)
            ref = settings["dataset"]
            upload = None
            if ref.get("kind") == "upload":
                sha = ref["sha256"]
                if sha not in uploads:
                    uploads[sha] = self._client.submit(SENT.keep, self.store.upload_bytes(sha), pure=False,
                                                       key=f"infoif-upload-{sha[:16]}-{self.token}")
                upload = uploads[sha]
                self._uploads = list(uploads.values())
            attempt = attempts[run_id]
            future = self._client.submit(
                SENT.call, self.version, TRAIN_RUN, run_id, settings, epochs, attempt, self.topic, self.token, upload,
                key=f"infoif-run-{run_id}-{attempt}", pure=False, retries=TASK_RETRIES, priority=-index)
            with self._lock:
                if self._cancelled.is_set():
                    future.cancel()
                    break
                self.store.set_status(run_id, "queued", None, owner=_owner(), heartbeat=time.time(),
                                      budget_end=epochs)
                self._flights[run_id] = _Flight(run_id, attempt, future, beat=time.time())

    def _follow(self) -> None:
        """Until every task is done (or the sweep is cancelled): progress in, results in, heartbeats out."""
        last_record = time.monotonic()
        lost_since = None
        while self._flights and not self._cancelled.is_set():
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            self._drain_events()
            for flight in [f for f in self._flights.values() if f.future.done()]:
                self._land(flight)
            self._beat()
            now = time.monotonic()
            if now - last_record >= RECORD_SECONDS:
                last_record = now
                if self._record_status() == "cancelled":  # cancelled by another process (the dashboard)
                    self.cancel()
            if self._client.status != "running":
                lost_since = lost_since or now
                if now - lost_since >= LOST_SCHEDULER_SECONDS:
                    self._lost.extend(self._flights)
                    self._abandon(_LOST_RUN)
            else:
                lost_since = None
        if self._lost and not self._cancelled.is_set():
            if self._client.status != "running":
                self.error = (f"Lost the Dask scheduler at {self.address} mid-sweep: is it still running? "
                              f"{len(self._lost)} run(s) had not finished and are interrupted; launch the sweep "
                              "again to train them.")
            else:
                self.error = (f"{len(self._lost)} of this sweep's Dask tasks were cancelled on the cluster (by "
                              "another client, or a scheduler restart); those runs are interrupted. Launch the "
                              "sweep again to train them.")

    def _record_status(self) -> str | None:
        try:
            return self.store.sweep(self.sweep_id).get("status")
        except KeyError:
            return "cancelled"  # the sweep was deleted

    # ------------------------------------------------------------ progress

    def _drain_events(self) -> None:
        while True:
            try:
                _, msg = self._events.get_nowait()
            except queue.Empty:
                return
            try:
                self._progress(msg)
            except KeyError:
                continue  # the run was deleted meanwhile
            except Exception:  # noqa: BLE001 - one bad event must not end the sweep
                log.exception("Could not record a progress event of sweep %s", self.sweep_id)

    def _progress(self, msg: dict) -> None:
        flight = self._flights.get(msg.get("run"))
        if flight is None or msg.get("attempt") != flight.attempt:
            return  # a run already landed, or an earlier coordinator's task
        token = msg.get("token")
        if token not in flight.tokens:  # a new execution (the first, or after a worker was lost)
            flight.tokens.add(token)
            flight.token = token
        elif token != flight.token:
            return  # a late event of an execution that was replaced
        flight.started = True
        flight.epochs, flight.metrics, flight.worker = int(msg["epoch"]), dict(msg.get("metrics") or {}), msg["worker"]
        with self._lock:
            if self._cancelled.is_set():
                return
            self.store.set_progress(flight.run_id, flight.epochs, flight.metrics, worker=flight.worker,
                                    budget_end=self._epochs)
            flight.beat = time.time()

    def _beat(self) -> None:
        """Keeps runs in flight alive to `Store.recover` while their tasks are silent (queued, importing
        TensorFlow on a new worker, or moving after a worker was lost)."""
        now = time.time()
        lost = self._lost_workers(now)
        with self._lock:
            if self._cancelled.is_set():
                return
            for flight in list(self._flights.values()):
                if flight.started and flight.worker in lost:  # the scheduler gives its task to another worker
                    flight.started, flight.beat = False, 0.0
                every = HEARTBEAT_SECONDS if flight.started else QUEUED_HEARTBEAT_SECONDS
                if now - flight.beat < every:
                    continue
                flight.beat = now
                try:
                    if flight.started:
                        self.store.set_progress(flight.run_id, flight.epochs, flight.metrics, worker=flight.worker,
                                                budget_end=self._epochs)
                    else:
                        self.store.set_status(flight.run_id, "queued", None, owner=_owner(), heartbeat=now)
                except KeyError:
                    pass

    def _lost_workers(self, now: float) -> set:
        """The workers of runs in flight that have left the cluster (looked up every few seconds)."""
        if now - self._workers_seen < HEARTBEAT_SECONDS:
            return set()
        self._workers_seen = now
        busy = {f.worker for f in self._flights.values() if f.started}
        if not busy:
            return set()
        try:
            present = set(self._client.scheduler_info(n_workers=-1)["workers"])
        except Exception:  # noqa: BLE001 - the scheduler is away for now; _follow deals with that
            return set()
        return busy - present

    # ------------------------------------------------------------ results

    def _land(self, flight: _Flight) -> None:
        """A task is done: its files go into the store, or the run fails with the task's error."""
        from distributed import KilledWorker

        self._flights.pop(flight.run_id, None)
        future, run_id = flight.future, flight.run_id
        if not self.store.has_run(run_id):
            future.release()
            return
        if future.status == "finished":
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - its data was lost with a worker and could not be made again
                self.store.set_status(run_id, "failed", f"The Dask task's result was lost: {exc}")
                return
            finally:
                future.release()
            self._write_result(run_id, result)
        elif future.status == "error":
            exc = future.exception()
            future.release()
            if isinstance(exc, KilledWorker):
                message = ("The Dask workers training this run died each time it was tried (out of memory? "
                           f"see the workers' logs); the scheduler gave up: {exc}")
            else:
                message = f"The Dask task failed on the cluster: {type(exc).__name__}: {exc}"
            self.store.set_status(run_id, "failed", message)
        else:  # cancelled or lost, not by us: the scheduler went away, or another client cancelled it
            future.release()
            if not self._cancelled.is_set():
                self._lost.append(run_id)
                self.store.set_status(run_id, "interrupted", _LOST_RUN)

    def _write_result(self, run_id: str, result: dict) -> None:
        """Writes a run's files as its task returned them: stale files of an earlier partial
        attempt go first, status.json comes last (then the index is read from the files)."""
        from infoif.runs.store.files import dumps, write_atomic

        run_dir = self.store.run_dir(run_id)
        files = {}
        for rel, data in result["files"].items():
            parts = PurePosixPath(rel).parts
            if not parts or PurePosixPath(rel).is_absolute() or ".." in parts or rel == "run.json":
                log.warning("Ignoring a file outside the run's directory in a Dask result: %r", rel)
                continue
            files[rel] = data
        probes = run_dir / "probes"
        probes.mkdir(parents=True, exist_ok=True)
        for entry in os.scandir(probes):
            if not entry.name.startswith(".") and f"probes/{entry.name}" not in files:
                os.unlink(entry.path)
        for name in RESULT_FILES:
            if name not in files:
                (run_dir / name).unlink(missing_ok=True)
        status = json.loads(files.pop("status.json", b"{}") or b"{}")
        for rel, data in files.items():
            path = run_dir.joinpath(*PurePosixPath(rel).parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
        status.setdefault("status", result.get("status", "finished"))
        status.setdefault("epochs", result.get("epochs", 0))
        status.update(worker=result["worker"], updated=time.time())
        write_atomic(run_dir / "status.json", dumps(status))
        self.store.refresh_run(run_id)

    # ------------------------------------------------------------ ending

    def _stop_in_flight(self) -> None:
        """After a cancel: queued tasks are cancelled; runs in flight stop and send their files."""
        waiting = [f for f in self._flights.values() if not f.started]
        for flight in waiting:
            flight.future.cancel()
            self._flights.pop(flight.run_id, None)
        if self._flights:
            try:
                self._client.run(SENT.stop, self.token, on_error="ignore")
            except Exception:  # noqa: BLE001 - the futures are cancelled below anyway
                log.warning("Could not ask the Dask workers to stop sweep %s's runs", self.sweep_id)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while self._flights and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
                for flight in [f for f in self._flights.values() if f.future.done()]:
                    self._land(flight)
        for flight in list(self._flights.values()):
            flight.future.cancel()
        self._flights.clear()
        try:
            runs = self.store.sweep(self.sweep_id)["runs"]
        except KeyError:  # the sweep was deleted (with its runs)
            runs = []
        for run_id in runs:
            try:
                info = self.store.run_info(run_id)
            except KeyError:
                continue
            if info.status not in ("finished", "failed", "stopped"):
                self.store.set_status(run_id, "stopped", None)

    def _abandon(self, message: str) -> None:
        """The coordinator cannot go on: runs in flight are interrupted (launch the sweep again)."""
        for run_id in list(self._flights):
            try:
                self.store.set_status(run_id, "interrupted", message)
            except Exception:  # noqa: BLE001 - the next run
                pass
        self._flights.clear()

    def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.unsubscribe_topic(self.topic)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            client.close(timeout=10)
        except Exception:  # noqa: BLE001 - a scheduler gone: nothing to close
            pass

    def _conclude(self) -> None:
        """The sweep's record says how it ended (unless it was cancelled: that stays)."""
        try:
            record = self.store.sweep(self.sweep_id)
        except KeyError:
            return
        if self.error is not None:
            if record.get("status") != "cancelled":
                self.store.update_sweep(self.sweep_id, status="failed", error=self.error, ended=time.time())
            return
        if record.get("status") not in ("running", "creating"):
            return
        statuses = []
        for run_id in record["runs"]:
            try:
                statuses.append(self.store.run_info(run_id).status)
            except KeyError:
                continue
        if all(s in ("finished", "failed", "stopped") for s in statuses):
            failed = any(s != "finished" for s in statuses)
            self.store.update_sweep(self.sweep_id, status="failed" if failed else "finished", ended=time.time())


def _owner() -> str:
    from infoif.runs.store import owner_label

    return owner_label()

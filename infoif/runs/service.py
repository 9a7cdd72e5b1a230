"""The training service: worker processes owned by the server, a queue, and the verbs.

    service = Service(home)         # or shared(): one per home in a process
    service.start()                 # spawns the workers; they import TensorFlow in the background
    service.train(run_id, epochs=300)
    service.pause(run_id)           # returns once the worker has paused it
    service.where(run_id)           # {"queued": 2} or {"worker": "w1"} or {}

Sweeps (`infoif.runs.sweep`) send their runs here like any other; a sweep left
running by a server that died is resumed when the next service starts.

Runs execute in worker processes (`infoif.runs.worker`), one per core by default
(`INFOIF_WORKERS`). Every run a person starts trains at once: it goes to the
least loaded worker, which interleaves all its runs call by call with
weighted turns, so N runs on W cores each get about W/N of a core, a run
someone watches more than one nobody watches, and any person's run more
than a sweep's (`infoif.runs.fairshare` holds the policy). Once a second the
service updates the weights and, when the workers' loads drift apart (runs
ended, a worker died), moves a run from the busiest to the idlest worker
(unloaded with a checkpoint, loaded there). A workspace may train
`INFOIF_MAX_RUNS_PER_WORKSPACE` runs at once (default 4), the server
`INFOIF_MAX_RUNS` (default 12 per worker); beyond that Train is refused with
a message saying what to do, never queued in silence. A sweep's runs wait in
a queue and train one per worker, and a worker that frees takes the queued
run whose model graph it keeps (see `_pick`). A run stays loaded in its
worker while paused, so a resume is instant.

The store is the single source of truth: workers write every epoch and
status there; this service only tracks where runs are and what waits. If a
worker dies, its runs are marked failed (their epochs up to the last
checkpoint kept) and a new worker takes its place; the runs it was training
continue on the other workers from their checkpoints at once, the gap marked
(a run whose worker dies twice under it waits for Train instead). A run
with an epoch budget finishes even when nobody watches; a run "until
stopped" that no one has looked at for `idle_pause` seconds (`INFOIF_IDLE_PAUSE`,
default 600) is paused, never lost.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter, OrderedDict
from pathlib import Path

from infoif.runs import fairshare
from infoif.train.control import ACTIVE, DONE, check_batch_size, check_epochs, check_learning_rate
from infoif.runs.store import Store, owner_label

__all__ = ["Service", "shared", "ServiceError", "AdmissionError", "default_workers", "limits_from_env"]

log = logging.getLogger("infoif.service")
ROOT = Path(__file__).resolve().parents[2]  # the directory holding infoif/, the workers' cwd
MAX_FAILED_STARTS = 4  # workers dying before they are ready, in a row, before the service gives up
VERB_TIMEOUT = 10.0  # a pause or stop waits this long for its worker (which may be tracing a model)
QUEUE_LOOKAHEAD = 16  # a free worker may take a queued run this far down the line (one whose model is there)
RECENT_SIGNATURES = 8  # model signatures remembered per worker (it keeps infoif.runs.worker.MAX_RETIRED models)
MAX_RUN_FACTS = 4096  # runs whose signature and sweep membership are cached
BALANCE_SECONDS = 1.0  # how often the service updates the runs' weights and balances the workers
MAX_REVIVALS = 1  # times a run continues by itself after its worker died under it


class ServiceError(RuntimeError):
    """The service could not do what was asked; the message says why and what to do."""


class AdmissionError(ServiceError):
    """A run may not start now: its workspace or the server trains as many runs as allowed."""


def default_workers() -> int:
    value = os.environ.get("INFOIF_WORKERS")
    if value:
        try:
            n = int(value)
        except ValueError:
            raise ServiceError(f"INFOIF_WORKERS must be a whole number of worker processes. "
                               f"Received: INFOIF_WORKERS={value!r}") from None
        if not 1 <= n <= 256:
            raise ServiceError(f"INFOIF_WORKERS must be from 1 to 256. Received: INFOIF_WORKERS={value!r}")
        return n
    return max(1, os.cpu_count() or 1)


def limits_from_env(workers: int) -> fairshare.Limits:
    """How many runs may train at once, from INFOIF_MAX_RUNS_PER_WORKSPACE and INFOIF_MAX_RUNS."""
    return fairshare.Limits(
        per_workspace=int(_env_number("INFOIF_MAX_RUNS_PER_WORKSPACE", 4, 1, 10**6, whole=True)),
        total=int(_env_number("INFOIF_MAX_RUNS", fairshare.RUNS_PER_WORKER * workers, 1, 10**6, whole=True)))


def _env_number(name: str, default: float, lo: float, hi: float, whole: bool = False) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ServiceError(f"{name} must be a number. Received: {name}={value!r}") from None
    if whole and number != int(number):
        raise ServiceError(f"{name} must be a whole number. Received: {name}={value!r}")
    if not lo <= number <= hi:
        raise ServiceError(f"{name} must be from {lo:g} to {hi:g}. Received: {name}={value!r}")
    return number


class _Reply:
    def __init__(self):
        self.event = threading.Event()
        self.message: dict | None = None


class _Worker:
    """One worker process and the pipe to it."""

    def __init__(self, service: "Service", name: str):
        self.service, self.name = service, name
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infoif.runs.worker", "--home", str(service.store.home), "--name", name,
             *(["--hold"] if service.hold else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=env, stderr=service.worker_log,
            # A session of its own: Ctrl-C in the server's terminal reaches the server only, which
            # shuts its workers down in order (they wrote KeyboardInterrupt tracebacks and lost their
            # last records before); and where the kernel groups CPU time by session (autogroup,
            # on by default in most Linux distributions), each worker gets its own share beside a
            # browser or another program, instead of all of them and the server splitting one.
            start_new_session=True,
        )
        self.ready = threading.Event()
        self.warm = threading.Event()  # warmed up, or stopped warming up for real work
        self.alive = True
        self.running: set[str] = set()  # runs training here, or being loaded here to train
        self.weights: dict[str, float] = {}  # the weight last sent for each run here
        # model signatures of the runs started here lately, newest last: a queued run of one of these
        # graphs goes here when it can take one, to take over a model done with (infoif.runs.worker)
        self.recent: OrderedDict = OrderedDict()
        self._ids = itertools.count(1)
        self._replies: dict[int, _Reply] = {}
        self._send_lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, name=f"infoif-service-{name}", daemon=True)
        self.reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, op: str, wait: float | None = None, **fields) -> dict | None:
        """Sends a request; waits up to `wait` seconds for its reply (None: does not wait)."""
        request_id = next(self._ids)
        reply = _Reply()
        if wait is not None:
            self._replies[request_id] = reply
        line = (json.dumps({"id": request_id, "op": op, **fields}) + "\n").encode()
        try:
            with self._send_lock:
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            self._replies.pop(request_id, None)
            raise ServiceError(f"The training worker {self.name} is not running; it is being replaced. "
                               "Try again in a few seconds.") from None
        if wait is None:
            return None
        if not reply.event.wait(wait):
            self._replies.pop(request_id, None)
            return None
        return reply.message

    def _read(self):
        stream = self.proc.stdout
        for line in stream:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "reply" in message:
                reply = self._replies.pop(message["reply"], None)
                if reply is not None:
                    reply.message = message
                    reply.event.set()
                if message.get("run") and message.get("status"):
                    self.service._on_status(self, message)
            elif message.get("event") == "ready":
                self.ready.set()
            elif message.get("event") == "warm":
                self.warm.set()
            elif message.get("event") == "status":
                self.service._on_status(self, message)
        self.proc.wait()
        self.alive = False
        for reply in list(self._replies.values()):
            reply.event.set()
        self.service._on_death(self)


class Service:
    """The server's training service (see the module docstring)."""

    def __init__(self, home=None, workers: int | None = None, limits: fairshare.Limits | None = None,
                 idle_pause: float | None = None, hold: bool = False, resume_sweeps: bool = False,
                 worker_log=None):
        self.store = Store(home)
        self.worker_log = worker_log  # where the workers' messages go (a file; None: this process's stderr)
        # A server's service takes over the sweeps a dead server left running; a command line's
        # service (which ends with its own sweep) does not.
        self.resume_sweeps = bool(resume_sweeps)
        # With hold, the workers start but import TensorFlow (seconds of every core) only at `go()`:
        # a server calls it once its first page is drawn.
        self.hold = bool(hold)
        self._gone = not self.hold
        self.n_workers = workers if workers is not None else default_workers()
        self.limits = limits if limits is not None else limits_from_env(self.n_workers)
        self.idle_pause = float(idle_pause if idle_pause is not None
                                else _env_number("INFOIF_IDLE_PAUSE", 600, 1, 10**7))
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._workers: list[_Worker] = []
        self._where: dict[str, _Worker] = {}  # run id -> the worker holding it
        self._queue: list[tuple[str, str, dict]] = []  # (run id, verb, kwargs), first come first served
        self._settings: dict[str, dict] = {}  # learning rate / batch size for a run not loaded anywhere
        self._budgeted: dict[str, bool] = {}
        self._warm: dict[str, _Worker] = {}  # fresh-run settings key -> the worker that built it
        self._run_facts: OrderedDict = OrderedDict()  # run id -> (model signature, in a sweep): started or queued
        # How long sweep runs of each model graph took, from their start here to "finished": {"new": on a
        # worker that traced the graph for it, "kept": on one that had its model}, and the latest of either
        # kind whatever the graph (see `_better_waits`).
        self._started_at: dict[str, tuple[float, str | None, bool]] = {}  # run id -> (time, signature, new)
        self._took: OrderedDict = OrderedDict()  # signature -> {"new": seconds, "kept": seconds}
        self._took_latest: dict[str, float] = {}
        self._seen: dict[str, float] = {}
        self._placed_at: dict[str, float] = {}  # run id -> when it was last placed on a worker (monotonic)
        self._moving: dict[str, threading.Event] = {}  # runs being moved between workers: set once moved
        self._revived: Counter = Counter()  # run id -> times it continued after its worker died
        self._names = itertools.count()
        self._started = False
        self._closed = False
        self._failed_starts = 0
        self.broken: str | None = None  # why no worker can start, once that is clear

    # ------------------------------------------------------------ life

    def start(self) -> "Service":
        """Marks runs left behind by a dead server interrupted, and spawns the workers."""
        with self._lock:
            if self._started:
                return self
            self._started = True
            self.store.recover()
            for _ in range(self.n_workers):
                self._workers.append(_Worker(self, f"w{next(self._names)}"))
        threading.Thread(target=self._dispatcher, name="infoif-service-dispatch", daemon=True).start()
        threading.Thread(target=self._housekeeper, name="infoif-service-idle", daemon=True).start()
        threading.Thread(target=self._balancer, name="infoif-service-balance", daemon=True).start()
        if self.resume_sweeps:
            threading.Thread(target=self._resume_sweeps, name="infoif-service-sweeps", daemon=True).start()
        atexit.register(self.shutdown)
        return self

    def _resume_sweeps(self) -> None:
        """Sweeps left running by a server that is gone continue here (see `infoif.runs.sweep`)."""
        from infoif.runs import sweep

        try:
            resumed = sweep.resume_sweeps(self.store, self)
        except Exception:  # noqa: BLE001 - never stops the service
            log.exception("Could not resume the sweeps of %s", self.store.home)
            return
        if resumed:
            log.info("Resumed %d sweep(s): %s", len(resumed), ", ".join(resumed))

    def go(self) -> None:
        """Lets held workers import TensorFlow (once; requests sent before wait for it)."""
        with self._lock:
            if self._gone:
                return
            self._gone = True
            workers = list(self._workers)
        for worker in workers:
            try:
                worker.send("go", wait=None)
            except ServiceError:
                pass

    def wait_ready(self, timeout: float = 120.0, warm: bool = False) -> bool:
        """Waits until every worker has imported TensorFlow, and with `warm=True` until each has also
        warmed up or stopped warming up for real work (`infoif.runs.worker.Worker._warm_up`): tests and
        benchmarks."""
        deadline = time.monotonic() + timeout
        for worker in list(self._workers):
            for event in (worker.ready, worker.warm) if warm else (worker.ready,):
                if not event.wait(max(0.0, deadline - time.monotonic())):
                    return False
        return True

    @property
    def workers(self) -> list[dict]:
        return [{"name": w.name, "pid": w.pid, "ready": w.ready.is_set(), "alive": w.alive,
                 "running": sorted(w.running)} for w in self._workers]

    @property
    def starting(self) -> bool:
        """Whether no worker is ready to train yet (a fresh server's workers import TensorFlow)."""
        return not self.broken and not any(w.alive and w.ready.is_set() for w in self._workers)

    def chart_refresh(self) -> fairshare.Refresh:
        """How often pages redraw a training run's charts with the runs training now (`fairshare.chart_refresh`)."""
        with self._lock:
            alive = [w for w in self._workers if w.alive]
            return fairshare.chart_refresh(sum(len(w.running) for w in alive), len(alive))

    def shutdown(self, timeout: float = 15.0) -> None:
        """Stops the workers; they write everything and mark their active runs interrupted."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            queued, self._queue = self._queue, []
            self._wake.notify_all()
        for run_id, _, _ in queued:
            self.store.set_status(run_id, "interrupted", "Interrupted: the server stopped while this run was "
                                  "queued. Press Train to queue it again.")
        for worker in self._workers:
            if worker.alive:
                try:
                    worker.send("shutdown", wait=None)
                    worker.proc.stdin.close()
                except (ServiceError, OSError, ValueError):
                    pass
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            try:
                worker.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait(5)

    # ------------------------------------------------------------ verbs

    def train(self, run_id: str, epochs: int | None = None, wait: float | None = 2.0) -> dict:
        """Trains `epochs` more epochs (None: until stopped), or continues a paused run with
        `epochs="resume"`; starts at once on a worker (a sweep's run may queue). Raises
        AdmissionError when the run's workspace or the server trains as many runs as allowed."""
        if epochs != "resume":
            check_epochs(epochs)
        verb, kwargs = ("resume", {}) if epochs == "resume" else ("train", {"epochs": epochs})
        if verb == "train":
            self._budgeted[run_id] = epochs is not None  # a resume keeps what it had
        return self._start(run_id, verb, kwargs, wait)

    def step(self, run_id: str, wait: float | None = 2.0) -> dict:
        """Trains exactly one more epoch, then pauses."""
        return self._start(run_id, "step", {}, wait)

    def pause(self, run_id: str) -> dict:
        return self._control(run_id, "pause", {})

    def stop(self, run_id: str, wait: float | None = VERB_TIMEOUT) -> dict:
        """Stops a run (rolls back an epoch in flight); `wait=None` does not wait for the worker."""
        return self._control(run_id, "stop", {}, wait)

    def set_learning_rate(self, run_id: str, lr: float) -> dict:
        return self._control(run_id, "lr", {"lr": check_learning_rate(lr)})

    def set_batch_size(self, run_id: str, batch_size: int) -> dict:
        return self._control(run_id, "batch_size", {"n": check_batch_size(batch_size)})

    def prewarm(self, spec: dict, dataset: dict, seed: int, batch_size: int, probe_config: dict,
                workspace: str | None = None) -> None:
        """Builds (and traces) a fresh model for these settings on the worker that would get it,
        ahead of the Train click that may follow (a guess: never waited for, never needed). With
        the workspace, on a worker that ran this graph lately if one is free: it may keep a model
        of it to take over (`release`), so nothing needs tracing."""
        from infoif.runs.store import fresh_run_key, model_signature

        settings = {"spec": spec, "dataset": dataset, "seed": int(seed), "batch_size": int(batch_size),
                    "probe_config": probe_config}
        key = fresh_run_key(**settings)
        signature = model_signature(spec, dataset, workspace) if workspace else None
        with self._lock:
            if self._closed or (key in self._warm and self._warm[key].alive):
                return
            worker = next((w for w in self._workers if self._may_take(w) and signature in w.recent),
                          None) or self._free_worker(None)
            if worker is None:
                return
            self._warm[key] = worker
            while len(self._warm) > 64:
                self._warm.pop(next(iter(self._warm)))
        try:
            worker.send("prewarm", wait=None, settings={**settings, "workspace": workspace})
        except ServiceError:
            pass

    def release(self, run_id: str) -> None:
        """The dashboard is done with this run (Reset): unless it trains, its worker unloads it
        (its files are complete; a later request loads it again) and keeps its model for the next
        run of the same graph in the workspace, which then starts without tracing."""
        try:
            ended = self.store.run_info(run_id).status in DONE
        except KeyError:
            ended = True
        with self._lock:
            worker = self._where.get(run_id)
            if worker is None or not worker.alive or (run_id in worker.running and not ended):
                return
            # A run that ended by itself is still counted here until its worker's word of it arrives,
            # which is ignored once the run is released: stop counting it now (a Reset right after
            # a run finished kept it loaded, and counted, for good).
            worker.running.discard(run_id)
            worker.weights.pop(run_id, None)
            del self._where[run_id]
        try:
            worker.send("unload", wait=None, run=run_id)
        except ServiceError:
            pass

    def export(self, run_id: str, fmt: str = "keras", timeout: float = 120.0) -> dict:
        """Has the worker holding the run (or any, loading it) write its download: {"path",
        "epoch", "describe"}. Raises ServiceError, or DataError for a problem with the data."""
        return self._request(run_id, "export", timeout, format=fmt)

    def predict(self, run_id: str, rows_path: str, filename: str, out: str, timeout: float = 300.0) -> dict:
        """Predicts the rows in `rows_path` (a file as uploaded) with the run's download model; the
        table is written to `out` (Parquet). Returns {"score", "epoch", "describe"}."""
        return self._request(run_id, "predict", timeout, rows=rows_path, filename=filename, out=out)

    def _request(self, run_id: str, op: str, timeout: float, **fields) -> dict:
        if self.broken:
            raise ServiceError(self.broken)
        with self._settled(run_id):
            worker = self._where.get(run_id)
            if worker is None or not worker.alive:
                worker = self._free_worker(None) or next((w for w in self._workers if w.alive), None)
                if worker is None:
                    raise ServiceError("No training worker is running; start the server again.")
                self._where[run_id] = worker
        reply = worker.send(op, wait=timeout, run=run_id, **fields)
        if reply is None:
            raise ServiceError(f"The worker did not answer within {timeout:g} s; try again.")
        if not reply.get("ok"):
            if reply.get("data_error"):
                from infoif.data import DataError

                raise DataError(reply.get("error"))
            raise ServiceError(reply.get("error") or "The worker could not do that.")
        return reply

    def touch(self, run_id: str) -> None:
        """Someone is watching this run (an open tab); see `idle_pause`."""
        self._seen[run_id] = time.monotonic()

    def where(self, run_id: str) -> dict:
        """{"queued": position (1-based)}, or {"worker": name, "slot": whether it trains there
        (or is being loaded to), "ready": whether that worker has imported TensorFlow}, or {}
        when no worker holds it."""
        with self._lock:
            for i, (queued, _, _) in enumerate(self._queue):
                if queued == run_id:
                    return {"queued": i + 1}
            worker = self._where.get(run_id)
            if worker is None:
                return {}
            return {"worker": worker.name, "slot": run_id in worker.running, "ready": worker.ready.is_set()}

    def forget(self, run_id: str) -> None:
        """Before a run is deleted: stops it and drops it from its worker and the queue."""
        with self._lock:
            self._queue = [q for q in self._queue if q[0] != run_id]
            worker = self._where.pop(run_id, None)
            self._settings.pop(run_id, None)
            self._run_facts.pop(run_id, None)
            self._started_at.pop(run_id, None)
            self._placed_at.pop(run_id, None)
            self._revived.pop(run_id, None)
            if worker is not None:
                worker.running.discard(run_id)
                worker.weights.pop(run_id, None)
        if worker is not None and worker.alive:
            try:
                worker.send("verb", wait=VERB_TIMEOUT, run=run_id, verb="stop", kwargs={})
                worker.send("unload", wait=VERB_TIMEOUT, run=run_id)
            except ServiceError:
                pass
        with self._lock:
            self._wake.notify_all()

    # ------------------------------------------------------------ internals

    def _free_worker(self, prefer: _Worker | None, run_id: str | None = None) -> _Worker | None:
        """A worker that may take a run (`run_id`, if given: see `_may_take`), `prefer` if it may,
        else the least busy."""
        if prefer is not None and self._may_take(prefer, run_id):
            return prefer
        return min((w for w in self._workers if self._may_take(w, run_id)), key=_busy, default=None)

    def _facts(self, run_id: str) -> tuple[str | None, bool, str | None]:
        """The run's `model_signature` (None if unreadable), whether it belongs to a sweep, and its
        workspace; read once."""
        if run_id not in self._run_facts:
            from infoif.runs.store import StoreError, model_signature

            try:
                s, info = self.store.run_settings(run_id), self.store.run_info(run_id)
                self._run_facts[run_id] = (model_signature(s["spec"], s["dataset"], info.workspace),
                                           info.sweep is not None, info.workspace)
            except (KeyError, StoreError, TypeError):
                self._run_facts[run_id] = (None, False, None)
            while len(self._run_facts) > MAX_RUN_FACTS:
                self._run_facts.popitem(last=False)
        return self._run_facts[run_id]

    def _signature(self, run_id: str) -> str | None:
        return self._facts(run_id)[0]

    def _may_take(self, worker: _Worker, run_id: str | None = None) -> bool:
        """Whether `worker` may take a run (the run, if given): any live one, and for a sweep's run one
        that trains no sweep run already. A sweep thus trains one run per worker (per core): two on
        one worker only share it, and compete for its lock (16 runs on 2 cores: 13.4 s with two per
        worker, 9.3 s with one, one measurement each)."""
        if not worker.alive:
            return False
        return run_id is None or not self._facts(run_id)[1] or not any(self._facts(r)[1] for r in worker.running)

    # ------------------------------------------------------------ sharing (infoif.runs.fairshare decides)

    def _weight(self, run_id: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        watched = now - self._seen.get(run_id, -fairshare.WATCH_SECONDS) < fairshare.WATCH_SECONDS
        return fairshare.weight(self._facts(run_id)[1], watched)

    def _loads(self, now: float | None = None) -> list[fairshare.WorkerLoad]:
        """The live workers as `fairshare` sees them (under the lock)."""
        now = time.monotonic() if now is None else now
        return [fairshare.WorkerLoad(
            w.name, w.ready.is_set(), {r: self._weight(r, now) for r in w.running},
            frozenset(r for r in w.running if not self._facts(r)[1] and r not in self._moving
                      and now - self._placed_at.get(r, now) >= fairshare.MOVE_AFTER_SECONDS))
            for w in self._workers if w.alive]

    def _place(self, run_id: str, holder: _Worker | None) -> _Worker | None:
        """The worker for a person's run (under the lock): see `fairshare.place`."""
        return self._named(fairshare.place(self._loads(), holder.name if holder is not None else None,
                                           self._weight(run_id)))

    def _named(self, name: str | None) -> _Worker | None:
        return next((w for w in self._workers if w.name == name), None)

    def _active_counts(self, workspace: str | None) -> tuple[int, int]:
        """A person's runs training (or loading to train) in `workspace`, and on the server."""
        mine = total = 0
        for worker in self._workers:
            for run_id in worker.running if worker.alive else ():
                _, in_sweep, ws = self._facts(run_id)
                if not in_sweep:
                    total += 1
                    mine += ws == workspace
        return mine, total

    def _send_weight(self, worker: _Worker, run_id: str) -> None:
        share = self._weight(run_id)
        if worker.weights.get(run_id) != share:
            worker.weights[run_id] = share
            try:
                worker.send("weight", wait=None, run=run_id, weight=share)
            except ServiceError:
                pass

    @contextlib.contextmanager
    def _settled(self, run_id: str):
        """Holds the lock once the run is not being moved between workers (waiting up to
        VERB_TIMEOUT for a move to end), so that a verb reaches the worker that has it."""
        deadline = time.monotonic() + VERB_TIMEOUT
        while True:
            with self._lock:
                moving = self._moving.get(run_id)
                if moving is None or time.monotonic() >= deadline:
                    yield
                    return
            moving.wait(max(0.0, deadline - time.monotonic()))

    def _balancer(self):
        """Once a second: tells the workers the weights of their runs (watched or not), and moves a
        run when the workers' loads drifted apart (`fairshare.rebalance`)."""
        while not self._closed:
            time.sleep(BALANCE_SECONDS)
            try:
                with self._lock:
                    held = [(w, r) for w in self._workers if w.alive for r in w.running]
                    move = fairshare.rebalance(self._loads())
                for worker, run_id in held:
                    self._send_weight(worker, run_id)
                if move is not None:
                    self._move(*move)
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("Could not balance the training workers")

    def _move(self, run_id: str, source_name: str, target_name: str) -> None:
        """Moves a training run to another worker: unloaded with a checkpoint there, loaded here, and
        trained on with the budget it had. Verbs for it wait until it has moved."""
        with self._lock:
            source, target = self._named(source_name), self._named(target_name)
            if source is None or target is None or not target.alive or self._where.get(run_id) is not source \
                    or run_id not in source.running or run_id in self._moving:
                return
            moving = self._moving[run_id] = threading.Event()
            source.running.discard(run_id)
            source.weights.pop(run_id, None)
            target.running.add(run_id)
            self._where[run_id] = target
            self._placed_at[run_id] = time.monotonic()
        try:
            reply = source.send("unload", wait=VERB_TIMEOUT, run=run_id)  # settled: checkpoint and status written
            if reply is None:  # busy (tracing?): the run goes back where it was, and trains on there later
                with self._lock:
                    target.running.discard(run_id)
                    source.running.add(run_id)
                    self._where[run_id] = source
                target = source
            info = self.store.run_info(run_id)
            if info.status != "running":
                with self._lock:
                    target.running.discard(run_id)
                return
            log.info("Moving run %s from worker %s to %s", run_id, source_name, target.name)
            self._send_weight(target, run_id)
            target.send("verb", wait=None, run=run_id, verb="continue", kwargs={"until": info.budget_end})
        except (ServiceError, KeyError):
            with self._lock:
                target.running.discard(run_id)
        finally:
            self._moving.pop(run_id, None)
            moving.set()

    def _pick(self) -> tuple[_Worker, int] | None:
        """A worker and the queued run it takes: a queued run of a graph a free worker ran lately
        (it keeps those models, so the run starts without tracing) on the least busy such worker,
        else the first in line the least busy free worker may take. Looks only a little way down
        the queue for a match, so no run waits long behind later ones."""
        queued = Counter(self._signature(run_id) for run_id, _, _ in self._queue)  # runs per graph
        free = [(w, [i for i, (run_id, _, _) in enumerate(self._queue)
                     if self._may_take(w, run_id) and not self._better_waits(w, run_id, queued)])
                for w in sorted((w for w in self._workers if self._may_take(w)), key=_busy)]
        for worker, takes in free:
            match = next((i for i in takes[:QUEUE_LOOKAHEAD] if self._signature(self._queue[i][0]) in worker.recent),
                         None)
            if match is not None:
                return worker, match
        return next(((worker, takes[0]) for worker, takes in free if takes), None)

    def _better_waits(self, worker: _Worker, run_id: str, queued: Counter) -> bool:
        """Whether a sweep's queued run should wait for the worker training its graph rather than start
        on `worker`, which would trace the graph anew: when another worker is training a run of that
        graph (it takes the queued ones over next, model and all) and would finish them all sooner
        than a run with tracing takes here, by the times runs of the graph took so far (or, until it
        has both, of the latest sweep runs: a sweep's runs share data and epochs). A new graph
        took about three times a later run of it (Circle, 100 epochs: 0.9 s against 0.3 s), so a
        worker that took the last run or two of another's graph finished later than waiting would
        have, and spent CPU the other worker needed: 2 of 5 sixteen-run sweeps traced a graph twice."""
        signature, in_sweep, _ = self._facts(run_id)
        if not in_sweep or signature is None or signature in worker.recent:
            return False
        if not any(other is not worker and other.alive and signature in other.recent
                   and any(self._signature(r) == signature for r in other.running) for other in self._workers):
            return False
        took = {**self._took_latest, **self._took.get(signature, {})}  # the graph's own times, else the latest
        if "new" not in took or "kept" not in took:
            return False  # nothing to go by yet: start it
        # The k runs of the graph in the queue (`queued`): all on the worker that has the model take about
        # (k - 1/2) runs after now (half of its current run is left, on average); one of them here
        # takes a run with tracing. Waiting wins unless that is sooner.
        return took["new"] >= (queued[signature] - 0.5) * took["kept"]

    def _start(self, run_id: str, verb: str, kwargs: dict, wait: float | None,
               prefer: _Worker | None = None, admit: bool = True) -> dict:
        """Sends a run that is to train to a worker: the one already training it, else (a person's
        run, admitted) the one `fairshare.place` chooses, else (a sweep's) one without a sweep run;
        queues it when there is none."""
        if self._closed:
            raise ServiceError("The training service is shutting down; start the server again.")
        if self.broken:
            raise ServiceError(self.broken)
        self.touch(run_id)
        signature, in_sweep, workspace = self._facts(run_id)
        with self._settled(run_id):
            holder = self._where.get(run_id)
            if holder is not None and not holder.alive:
                holder = None
            if holder is None:
                holder = self._warm.pop(self._fresh_key(run_id), None)  # where its model was built ahead
                holder = holder if holder is not None and holder.alive else None
            if holder is not None and (run_id in holder.running or verb == "step"):
                target = holder  # already training there (a new budget), or one quick epoch
            elif in_sweep:
                target = self._free_worker(holder if holder is not None else prefer, run_id)
            else:
                if admit and verb != "step":
                    refused = fairshare.admission(*self._active_counts(workspace), self.limits)
                    if refused:
                        raise AdmissionError(refused)
                target = self._place(run_id, holder if holder is not None else prefer)
            if target is None:
                self._queue = [q for q in self._queue if q[0] != run_id] + [(run_id, verb, kwargs)]
                position = len(self._queue)
                self.store.set_status(run_id, "queued", None, owner=owner_label(), heartbeat=time.time())
                return {"status": "queued", "queued": position}
            self._queue = [q for q in self._queue if q[0] != run_id]
            if verb != "step":
                target.running.add(run_id)  # counted there now, not when the worker answers
            previous = holder if holder is not None and holder is not target else None
            self._where[run_id] = target
            self._placed_at[run_id] = time.monotonic()
            if verb == "train" and self._facts(run_id)[1]:
                self._started_at[run_id] = (time.monotonic(), signature, signature not in target.recent)
            if signature is not None:
                target.recent[signature] = True
                target.recent.move_to_end(signature)
                while len(target.recent) > RECENT_SIGNATURES:
                    target.recent.popitem(last=False)
            settings = self._settings.pop(run_id, {})
        if previous is not None:
            try:
                previous.send("unload", wait=VERB_TIMEOUT, run=run_id)
            except ServiceError:
                pass
        try:
            for name, value in settings.items():
                target.send("verb", wait=None, run=run_id, verb=name, kwargs=value)
            self._send_weight(target, run_id)
            reply = target.send("verb", wait=wait, run=run_id, verb=verb, kwargs=kwargs)
        except ServiceError:
            with self._lock:
                target.running.discard(run_id)
                self._where.pop(run_id, None)
            raise
        return _result(reply, target)

    def _fresh_key(self, run_id: str) -> str | None:
        from infoif.runs.store import StoreError, fresh_run_key

        try:
            info = self.store.run_info(run_id)
            if info.epochs or info.status != "idle":
                return None
            s = self.store.run_settings(run_id)
        except (KeyError, StoreError):
            return None
        return fresh_run_key(s["spec"], s["dataset"], s["seed"], s["batch_size"], s["probe_config"])

    def _control(self, run_id: str, verb: str, kwargs: dict, wait: float | None = VERB_TIMEOUT) -> dict:
        with self._settled(run_id):
            queued = next((q for q in self._queue if q[0] == run_id), None)
            if queued is not None:
                if verb in ("pause", "stop"):
                    self._queue.remove(queued)
                    self.store.set_status(run_id, "paused" if verb == "pause" else "stopped")
                    return {"status": "paused" if verb == "pause" else "stopped"}
                self._settings.setdefault(run_id, {})[verb] = kwargs
                return {"status": "queued"}
            worker = self._where.get(run_id)
            if worker is None or not worker.alive:
                if verb in ("lr", "batch_size"):
                    self._settings.setdefault(run_id, {})[verb] = kwargs
                return {}
        reply = worker.send("verb", wait=wait, run=run_id, verb=verb, kwargs=kwargs)
        return _result(reply, worker)

    def _on_status(self, worker: _Worker, message: dict) -> None:
        run_id, status = message.get("run"), message.get("status")
        with self._lock:
            if self._where.get(run_id) is not worker:
                return
            if status == "running":
                worker.running.add(run_id)
            else:
                worker.running.discard(run_id)
                worker.weights.pop(run_id, None)  # sent again when it trains again (the worker may drop it)
                started = self._started_at.pop(run_id, None)
                if status == "finished" and started is not None and started[1] is not None:
                    took = self._took.setdefault(started[1], {})
                    kind = "new" if started[2] else "kept"
                    took[kind] = self._took_latest[kind] = time.monotonic() - started[0]
                    self._took.move_to_end(started[1])
                    while len(self._took) > MAX_RUN_FACTS:
                        self._took.popitem(last=False)
                self._wake.notify_all()

    def _on_death(self, worker: _Worker) -> None:
        code = worker.proc.returncode
        with self._lock:
            held = [rid for rid, w in self._where.items() if w is worker]
            training = set(worker.running)
            for rid in held:
                del self._where[rid]
                self._started_at.pop(rid, None)
            worker.running.clear()
            worker.weights.clear()
            closing = self._closed
            # A worker that dies before it is ready will most likely die again (a broken install,
            # a bad argument): replace it after a growing pause, and give up after a few tries.
            self._failed_starts = 0 if worker.ready.is_set() else self._failed_starts + 1
            if self._failed_starts >= MAX_FAILED_STARTS:
                self.broken = (f"The training workers cannot start (the last exited with code {code}; its "
                               "messages are in the server's log). Fix the installation, then restart the server.")
            replace = not closing and self.broken is None
            delay = 0.0 if worker.ready.is_set() else min(30.0, 0.5 * 2 ** self._failed_starts)
            self._wake.notify_all()
        if closing:
            return
        log.error("Training worker %s (pid %s) exited with code %s", worker.name, worker.pid, code)
        if replace:
            timer = threading.Timer(delay, self._replace, args=(worker,))
            timer.daemon = True
            timer.start()
        for rid in held:
            try:
                info = self.store.run_info(rid)
            except KeyError:
                continue
            if info.status not in ACTIVE and info.status != "idle":
                continue
            if rid in training and info.epochs and self._revived[rid] < MAX_REVIVALS and not closing:
                self._revive(rid, info, code)
                continue
            self.store.set_status(
                rid, "failed",
                f"The worker process training this run stopped unexpectedly (exit code {code}). "
                f"The epochs up to its last checkpoint are kept; press Train to continue from there.")

    def _revive(self, run_id: str, info, code) -> None:
        """A run its worker died under continues on another worker from its last checkpoint, with the
        budget it had; the charts mark the gap (the store's "interrupted" does)."""
        self._revived[run_id] += 1
        self.store.set_status(run_id, "interrupted",
                              f"The worker process training this run stopped unexpectedly (exit code {code}); "
                              "it continues on another worker from its last checkpoint.")
        self._budgeted.setdefault(run_id, info.budget_end is not None)
        try:
            self._start(run_id, "continue", {"until": info.budget_end}, wait=None, admit=False)
            log.info("Run %s continues on another worker after its worker died", run_id)
        except ServiceError as exc:
            self.store.set_status(run_id, "failed", f"The worker process training this run stopped unexpectedly "
                                  f"(exit code {code}), and it could not continue elsewhere ({exc}). Its epochs "
                                  "up to its last checkpoint are kept; press Train to continue from there.")

    def _replace(self, worker: _Worker) -> None:
        with self._lock:
            if self._closed or worker not in self._workers:
                return
            replacement = _Worker(self, f"w{next(self._names)}")
            self._workers[self._workers.index(worker)] = replacement
            self._wake.notify_all()
        if self.hold and self._gone:
            try:
                replacement.send("go", wait=None)
            except ServiceError:
                pass

    def _dispatcher(self):
        """Starts queued runs (a sweep's, or any while no worker is alive) as workers can take them."""
        while True:
            with self._lock:
                picked = None
                while not self._closed and not (self._queue and (picked := self._pick()) is not None):
                    self._wake.wait(1.0)
                if self._closed:
                    return
                free, index = picked
                run_id, verb, kwargs = self._queue.pop(index)
            try:
                self._start(run_id, verb, kwargs, wait=None, prefer=free, admit=False)
            except ServiceError as exc:
                log.warning("Could not start queued run %s: %s", run_id, exc)

    def _housekeeper(self):
        """Pauses runs "until stopped" that no one has watched for `idle_pause` seconds, and takes
        over runs whose process died meanwhile (`_recover_orphans`)."""
        while not self._closed:
            time.sleep(min(5.0, self.idle_pause / 4))
            self._recover_orphans()
            now = time.monotonic()
            with self._lock:
                idle = [rid for w in self._workers for rid in w.running
                        if not self._budgeted.get(rid, False) and now - self._seen.get(rid, now) > self.idle_pause]
            for rid in idle:
                log.info("Pausing run %s: no one has watched it for %.0f s", rid, self.idle_pause)
                try:
                    self.pause(rid)
                except ServiceError:
                    pass

    def _recover_orphans(self) -> None:
        """Marks interrupted the runs left active by a process on this host that has died since
        `start()` looked (a command line killed just before this service started, whose worker was
        still exiting then: 1 in 25 tries left a run "running" for ever), and queues the interrupted
        runs of the sweeps this process coordinates again: those, and the runs that such a worker
        marked interrupted itself as it exited in order (it outlives its server by a moment)."""
        from infoif.runs import sweep
        from infoif.runs.store.files import HOST, pid_alive

        with self._lock:  # the runs of this service's own workers: `_on_death` reports theirs
            own = {f"{HOST}:{w.pid}" for w in self._workers}
        try:
            self.store.recover(owner_alive=lambda owner: owner in own or pid_alive(owner), dead_only=True)
            for sweep_id, runs in self.store.interrupted_sweep_runs().items():
                if all(self.where(run_id) for run_id in runs):
                    continue  # this service has them already (a worker died: `_revive` moves them)
                try:
                    record = self.store.sweep(sweep_id)
                except KeyError:
                    continue
                if record.get("status") == "running" and record.get("owner") == owner_label() \
                        and not record.get("cluster") and not self._closed:
                    log.info("Queued again the interrupted runs of sweep %s", sweep_id)
                    sweep.launch(self.store, self, sweep_id)
        except Exception:  # noqa: BLE001 - housekeeping must not stop; the next round tries again
            log.exception("Could not recover the runs of dead processes")


def _busy(worker: _Worker) -> tuple:
    """Orders workers from the least busy: fewest runs, then ready (TensorFlow imported) first."""
    return len(worker.running), not worker.ready.is_set()


def _result(reply: dict | None, worker: _Worker) -> dict:
    if reply is None:
        return {"pending": True, "worker": worker.name}
    if not reply.get("ok"):
        raise ServiceError(reply.get("error") or "The worker could not do that.")
    return {k: reply[k] for k in ("status", "epoch", "error") if k in reply} | {"worker": worker.name}


_shared: dict[str, Service] = {}
_shared_lock = threading.Lock()


def shared(home=None, hold: bool = False) -> Service:
    """The process's service for a home (a server's: started on first use, resuming the sweeps a
    dead server left running; see `Service` for `hold`)."""
    from infoif.runs.store import default_home

    key = str(Path(home).expanduser().resolve() if home is not None else default_home().resolve())
    with _shared_lock:
        service = _shared.get(key)
        if service is None or service._closed:
            service = _shared[key] = Service(key, hold=hold, resume_sweeps=True).start()
        return service

"""A training worker process: holds runs, trains those that should run, taking turns.

    python -m infoif.runs.worker --home DIR --name w0 [--hold]

Started by the training service (`infoif.runs.service`) of a dashboard server,
never by hand. It talks over its standard input and output, one JSON object
per line: requests come in (`{"id": 7, "op": "verb", "run": ..., "verb":
"pause"}`), replies (`{"reply": 7, "ok": true, "status": "paused", "epoch":
312}`) and events (`{"event": "status", ...}`) go out. Everything a run
records goes to the store, which the dashboard reads.

Between two compiled calls (about 0.1 s each) the worker reads its
requests and applies them, so a verb never races training: a reply saying
"paused" means no further epoch will be recorded. Every run that wants to
train gets turns, one call at a time, in proportion to its weight
(`infoif.runs.fairshare.Turns`: stride scheduling over the seconds each call
took); the service sets the weights (`{"op": "weight", ...}`) as people
start and stop watching their runs.

When its standard input closes (the server went away, even by `kill -9`) it
writes what it has, marks its runs interrupted, and exits.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import select
import threading
import signal
import sys
import time
from collections import OrderedDict

from infoif.runs.fairshare import Turns, weight

__all__ = ["main", "Worker"]

MAX_RESIDENT = 8  # runs kept loaded per worker; beyond that the least recently used idle one is unloaded
MAX_WARM = 3  # fresh models built (and traced) ahead of a Train click, per worker
MAX_RETIRED = 4  # models of runs done with, kept per worker for the next run of the same graph


class _Lines:
    """Non-blocking line reader of a file descriptor."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = b""
        self.eof = False
        self.pending: list[bytes] = []  # lines read before, to hand out first

    def read(self, timeout: float, wake: int | None = None) -> list[bytes]:
        """The complete lines that came, waiting up to `timeout` for one, or until `wake` (a pipe's
        read end, drained here) becomes readable."""
        lines, self.pending = self.pending, []
        if lines:
            timeout = 0
        watched = [self.fd] if wake is None else [self.fd, wake]
        ready, _, _ = select.select(watched, [], [], max(timeout, 0))
        if wake is not None and wake in ready:
            os.read(wake, 1 << 12)
            ready = select.select([self.fd], [], [], 0)[0]
        while ready:
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                self.eof = True
                break
            self.buffer += chunk
            ready, _, _ = select.select([self.fd], [], [], 0)
        *complete, self.buffer = self.buffer.split(b"\n")
        lines.extend(line for line in complete if line.strip())
        return lines


_WARM = object()  # what the loader reports once it has warmed up (`Worker._warm_up`)


class Worker:
    def __init__(self, home: str, name: str, out):
        from infoif.runs.store import Store

        self.store = Store(home)
        self.name = name
        self.label = f"{name} (pid {os.getpid()})"
        self.out = out
        self.runners: OrderedDict = OrderedDict()  # run id -> Runner, least recently used first
        self._raw: dict = {}  # run id -> ((run id, epoch), its download model)
        self.turns = Turns()
        self.weights: dict[str, float] = {}  # run id -> its share of turns (infoif.runs.fairshare.weight)
        self._reported: dict[str, tuple] = {}
        # Loading a run (data, model, tracing: seconds) happens in a thread of its own, so the
        # runs already here keep training; requests for a run being loaded wait for it.
        self.loading: dict[str, list[dict]] = {}
        # Fresh runners built ahead of time for settings a user has on screen (`prewarm`): the
        # Train click that follows finds its model built and its chunked path traced.
        self.warm: OrderedDict = OrderedDict()  # settings key -> Runner without a run
        self._warm_lock = threading.Lock()
        # Models of runs done with (unloaded), by `model_signature`, least recently used first: a new
        # run of the same graph (a sweep's next seed, Reset) takes one over instead of tracing its own.
        self.retired: OrderedDict = OrderedDict()
        self._to_load: queue.Queue = queue.Queue()
        self._loaded: queue.Queue = queue.Queue()
        # What the loader puts in `_loaded` also wakes the loop waiting for requests (`serve`): a
        # run loaded starts at once, not at the loop's next look (up to 50 ms later, ~25 ms of each
        # sweep run's ~0.35 s on average).
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._loader_thread = threading.Thread(target=self._loader, name="infoif-worker-loader", daemon=True)
        self._loader_thread.start()

    # ------------------------------------------------------------ protocol

    def send(self, message: dict) -> None:
        self.out.write((json.dumps(message, separators=(",", ":")) + "\n").encode())
        self.out.flush()

    def handle(self, request: dict) -> None:
        op = request.get("op")
        run_id = request.get("run")
        if op in ("verb", "unload", "export", "predict") and run_id is not None and run_id not in self.runners:
            if op == "unload" and run_id not in self.loading:
                self.send({"reply": request.get("id"), "ok": True})
                return
            if run_id not in self.loading:
                self.loading[run_id] = []
                self._to_load.put(run_id)
            self.loading[run_id].append(request)
            return
        reply = {"reply": request.get("id")}
        from infoif.data import DataError

        try:
            if op == "verb":
                runner = self.runners[run_id]
                self.runners.move_to_end(run_id)
                verb, kwargs = request["verb"], request.get("kwargs", {})
                if verb == "continue":  # moved here, or its worker died: the budget it had, from here on
                    until = kwargs.get("until")
                    verb, kwargs = "train", {"epochs": None if until is None else max(1, until - runner.epoch)}
                runner.command(verb, **kwargs)
                reply.update(ok=True, **self._state(request["run"], runner))
                self._reported[request["run"]] = (runner.status, runner.epoch)
            elif op == "unload":
                self.unload(request["run"])
                reply.update(ok=True)
            elif op == "export":
                reply.update(ok=True, **self.export(run_id, request.get("format", "keras")))
            elif op == "predict":
                reply.update(ok=True, **self.predict(run_id, request["rows"], request["filename"], request["out"]))
            elif op == "weight":
                self.weights[run_id] = float(request["weight"])
                reply.update(ok=True)
            elif op == "prewarm":
                self._to_load.put(("prewarm", request["settings"]))
                reply.update(ok=True)
            elif op == "go":  # already going
                reply.update(ok=True)
            elif op == "ping":
                reply.update(ok=True, resident=list(self.runners))
            else:
                reply.update(ok=False, error=f"Unknown request. Received: op={op!r}")
        except DataError as exc:  # the user's rows: their message, as it is
            reply.update(ok=False, error=str(exc), data_error=True)
        except Exception as exc:  # noqa: BLE001 - the caller shows the message
            reply.update(ok=False, error=_message(exc))
        self.send(reply)

    # ------------------------------------------------------------ exports and predictions

    def _raw_model(self, run_id: str):
        """The run's download model at its current epoch (made once per epoch)."""
        runner = self.runners[run_id]
        key = (run_id, runner.epoch)
        if self._raw.get(run_id, (None,))[0] != key:
            if not runner.epoch:
                raise ValueError("This run has not trained yet: train it for an epoch first.")
            self._raw[run_id] = (key, runner.raw_model())
        return self._raw[run_id][1]

    def export(self, run_id: str, fmt: str) -> dict:
        """Writes the run's download (`.keras`, or a SavedModel `.zip`) into its folder."""
        from infoif import export
        from infoif.runs.store.files import write_atomic

        model = self._raw_model(run_id)
        if fmt == "keras":
            data, name = export.keras_bytes(model), "export.keras"
        elif fmt == "savedmodel":
            data, name = export.saved_model_zip(model), "export-savedmodel.zip"
        else:
            raise ValueError(f"Unknown export format. Received: format={fmt!r}")
        path = self.store.run_dir(run_id) / name
        write_atomic(path, data)
        return {"path": str(path), "epoch": self.runners[run_id].epoch, "describe": export.describe(model)}

    def predict(self, run_id: str, rows_path: str, filename: str, out: str) -> dict:
        """Predicts new rows (a file as uploaded) with the run's download model; the table goes to
        `out` as Parquet, the scores (when the target is in the rows) in the reply."""
        from infoif import export
        from infoif.data import load_table

        model = self._raw_model(run_id)
        with open(rows_path, "rb") as f:
            rows = load_table(f.read(), filename)
        answer = export.predict(model, rows)
        answer.to_parquet(out)
        return {"score": export.score(model, rows, answer), "epoch": self.runners[run_id].epoch,
                "describe": export.describe(model)}

    def stop_loader(self, timeout: float = 60.0) -> None:
        """Lets the loader finish what it is doing, and stop."""
        self._to_load.put(None)
        self._loader_thread.join(timeout)

    def _done_loading(self, item) -> None:
        self._loaded.put(item)
        try:
            os.write(self._wake_write, b"!")
        except BlockingIOError:  # the pipe is full of wake-ups already: the loop is woken anyway
            pass

    def _loader(self):
        self._warm_up()
        while True:
            run_id = self._to_load.get()
            if run_id is None:
                return
            if isinstance(run_id, tuple):
                self._prewarm(run_id[1])
                continue
            try:
                runner = self.load(run_id)
                if runner.done_when_ended:  # a sweep's: traced whole, before its first epoch
                    runner.prepare_ahead(runner.sweep_epochs)
                elif not runner.eager_first_epoch:  # else traced after that epoch, by the worker's loop
                    runner.engine.prepare()  # the chunked path: the rest is traced while it trains
            except Exception as exc:  # noqa: BLE001 - reported for that run
                self._done_loading((run_id, exc))
            else:
                self._done_loading((run_id, runner))

    def _warm_up(self) -> None:
        """Pays TensorFlow's and Keras' one-time costs with a tiny model (`infoif.train.runner.warm_up`,
        ~1.8 s), while nothing else is asked of this worker: a run or a model to build ahead that
        comes meanwhile stops it at its next step (within ~0.3 s), and goes first."""
        from infoif.train.runner import warm_up

        try:
            complete = warm_up(interrupted=lambda: not self._to_load.empty())
        except Exception:  # noqa: BLE001 - only a head start: a real run that fails says why
            logging.getLogger("infoif.worker").exception("Warming up failed")
            complete = False
        self._done_loading((_WARM, complete))

    def collect_loaded(self) -> None:
        """Takes in the runs the loader has made ready, and applies the requests that waited."""
        while True:
            try:
                run_id, got = self._loaded.get_nowait()
            except queue.Empty:
                return
            if run_id is _WARM:
                self.send({"event": "warm", "complete": got})
                continue
            waiting = self.loading.pop(run_id, [])
            if isinstance(got, Exception):
                message = _message(got)
                self._mark_failed(run_id, message)
                for request in waiting:
                    self.send({"reply": request.get("id"), "ok": False, "error": message})
                self.send({"event": "status", "run": run_id, "status": "failed", "error": message})
                continue
            self.runners[run_id] = got
            self._evict()
            for request in waiting:
                self.handle(request)

    def _state(self, run_id, runner) -> dict:
        return {"run": run_id, "status": runner.status, "epoch": runner.epoch, "error": runner.error,
                "budget": runner.control.budget}

    def _mark_failed(self, run_id, message):
        try:
            self.store.set_status(run_id, "failed", f"Could not open this run: {message}", worker=self.label)
        except Exception:  # noqa: BLE001 - the run may be gone
            pass

    # ------------------------------------------------------------ runs

    def _build(self, settings: dict, workspace: str | None = None, **kwargs):
        """A runner for these settings: on a retired model of the same graph when this worker has
        one for the workspace, else on a new model."""
        from infoif.train.probes import ProbeConfig
        from infoif.train.runner import Runner
        from infoif.nn.spec import ModelSpec
        from infoif.runs.store import model_signature

        opened = self.store.dataset(settings["dataset"])
        frame, dataset = opened.frame, opened.dataset
        signature = model_signature(settings["spec"], settings["dataset"], workspace) if workspace else None
        reuse = self._take_retired(signature, dataset) if signature else None
        runner = Runner(ModelSpec.from_dict(settings["spec"]), dataset, seed=settings["seed"],
                        batch_size=min(settings["batch_size"], len(dataset.x_train)),
                        probe_config=ProbeConfig(**settings["probe_config"]), frame=frame, reuse=reuse, **kwargs)
        runner.signature = signature
        return runner

    def _take_retired(self, signature: str, dataset):
        with self._warm_lock:
            kept = self.retired.pop(signature, None)
        # the same data object too (the store's cache): the compiled functions hold its arrays
        return kept if kept is not None and kept.dataset is dataset else None

    def _retire(self, runner) -> None:
        """Keeps a runner done with for the next run of its graph (bounded; the oldest goes)."""
        signature = runner.signature
        if signature is None or runner.engine is None or not runner.engine.ready:
            return
        with self._warm_lock:
            self.retired[signature] = runner
            self.retired.move_to_end(signature)
            while len(self.retired) > MAX_RETIRED:
                self.retired.popitem(last=False)

    def _prewarm(self, settings: dict) -> None:
        """Builds a fresh runner for these settings and traces its chunked path (in the loader)."""
        from infoif.runs.store import fresh_run_key

        settings = dict(settings)
        workspace = settings.pop("workspace", None)  # a model it kept may be taken over (never another's)
        key = fresh_run_key(**settings)
        with self._warm_lock:
            if key in self.warm:
                self.warm.move_to_end(key)
                return
        try:
            runner = self._build(settings, workspace)
            runner.engine.prepare()  # the chunked path, warmed: enough for a first epoch at once
        except Exception:  # noqa: BLE001 - a guess that did not work out; the real load says why
            return
        with self._warm_lock:
            self.warm[key] = runner
            while len(self.warm) > MAX_WARM:
                self.warm.popitem(last=False)
        runner.trace_rest()  # the fused path and the probe, in a thread: a Train click need not wait

    def _take_warm(self, settings: dict):
        from infoif.runs.store import fresh_run_key

        key = fresh_run_key(spec=settings["spec"], dataset=settings["dataset"], seed=settings["seed"],
                            batch_size=settings["batch_size"], probe_config=settings["probe_config"])
        with self._warm_lock:
            return self.warm.pop(key, None)

    def load(self, run_id: str):
        """A runner for the run: a warm one built for its settings, or one from the store
        (continuing from its checkpoint)."""
        info = self.store.run_info(run_id)
        settings, checkpoint, history = self.store.resume_parts(run_id)
        if checkpoint is None and info.epochs:
            from infoif.runs.store import StoreError

            raise StoreError(f"This run's checkpoint is missing, so its {info.epochs} epochs cannot be continued "
                             "(they stay on the Compare page). Press Reset for a fresh model.")
        sink = self.store.writer(run_id, worker=self.label)
        fresh = checkpoint is None and not info.epochs and info.status == "idle"
        runner = self._take_warm(settings) if fresh else None
        if runner is not None:
            from infoif.runs.store import model_signature

            runner.sink, runner.name = sink, info.name
            runner.signature = model_signature(settings["spec"], settings["dataset"], info.workspace)
        else:
            lost = checkpoint is not None and info.status in ("interrupted", "failed")
            runner = self._build(settings, info.workspace, sink=sink, checkpoint=checkpoint, history=history,
                                 name=info.name, gap=lost)
            if info.status in ("paused", "stopped", "finished", "interrupted", "failed"):
                runner.control.status, runner.control.error = info.status, info.error
            if checkpoint is not None or info.epochs:
                sink.resync(runner)  # the files end where the checkpoint does
        self._sweep_hints(runner, info)
        return runner

    def _sweep_hints(self, runner, info) -> None:
        """A sweep's run: unloaded once it ends (nobody watches it; its model goes to the next run
        of its graph), and told its epochs and how many epochs later runs will train on its model."""
        runner.done_when_ended = info.sweep is not None
        if info.sweep is None:
            return
        from infoif.runs import sweep

        try:
            record = self.store.sweep(info.sweep)
        except (KeyError, OSError, ValueError):
            return
        runner.sweep_epochs = int(record.get("epochs") or 0)
        runner.epochs_to_come = sweep.same_graph_runs(record, info.id) * runner.sweep_epochs

    def unload(self, run_id: str) -> None:
        self._raw.pop(run_id, None)
        self.weights.pop(run_id, None)
        runner = self.runners.pop(run_id, None)
        if runner is not None:
            runner.settle()
            runner.sink.close(runner)
            self._retire(runner)

    def unload_ended(self) -> None:
        """Unloads the sweep runs that ended (and were reported): their models serve the next runs.
        A run the dashboard shows stays loaded, for its downloads and predictions."""
        from infoif.train.control import DONE

        for run_id, runner in list(self.runners.items()):
            if (runner.done_when_ended and runner.status in DONE
                    and self._reported.get(run_id, (None,))[0] == runner.status):
                self.unload(run_id)

    def _evict(self):
        idle = [rid for rid, r in self.runners.items() if not r.control.wants_work]
        while len(self.runners) > MAX_RESIDENT and idle:
            self.unload(idle.pop(0))

    def shutdown(self):
        """The server went away: write everything, mark active runs interrupted."""
        for run_id, runner in list(self.runners.items()):
            try:
                runner.control.interrupt()
                if runner.control.status == "interrupted":
                    runner.control.error = (
                        f"Interrupted: the server stopped while this run was training. Its {runner.epoch} "
                        "epochs are kept; press Train to resume.")
                runner.settle()
                runner.sink.close(runner)
            except Exception:  # noqa: BLE001 - do the others
                pass

    # ------------------------------------------------------------ the loop

    def next_runner(self):
        """The next run that wants to train, by turns weighted by its share (`infoif.runs.fairshare`)."""
        wanting = {rid: self.weights.get(rid) or weight(r.done_when_ended, True)
                   for rid, r in self.runners.items() if r.control.wants_work}
        run_id = self.turns.next(wanting)
        return None if run_id is None else (run_id, self.runners[run_id], wanting[run_id])

    def report(self):
        """Tells the service about runs whose status changed by themselves (finished, failed, a step done)."""
        for run_id, runner in self.runners.items():
            state = (runner.status, runner.epoch if runner.status != "running" else None)
            before = self._reported.get(run_id)
            if before is None or before[0] != state[0] or (runner.status != "running" and before[1] != runner.epoch):
                self._reported[run_id] = (runner.status, runner.epoch)
                self.send({"event": "status", **self._state(run_id, runner)})

    def serve(self, lines: _Lines) -> None:
        self.send({"event": "ready", "pid": os.getpid(), "name": self.name})
        while True:
            busy = any(r.control.wants_work for r in self.runners.values())
            for line in lines.read(0 if busy else 1.0, wake=self._wake_read):
                try:
                    request = json.loads(line)
                except ValueError:
                    continue
                if request.get("op") == "shutdown":
                    self.shutdown()
                    self.send({"reply": request.get("id"), "ok": True})
                    return
                self.handle(request)
            if lines.eof:
                self.shutdown()
                return
            self.collect_loaded()
            picked = self.next_runner()
            if picked is not None:
                run_id, runner, share = picked
                started = time.perf_counter()
                runner.advance()
                self.turns.charge(run_id, time.perf_counter() - started, share)
            self.report()
            self.unload_ended()


def _op(line: bytes) -> str | None:
    try:
        return json.loads(line).get("op")
    except (ValueError, AttributeError):
        return None


def _message(exc: BaseException) -> str:
    text = str(exc)
    return text if text else type(exc).__name__


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infoif.runs.worker", description=__doc__.split("\n")[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--name", default="worker")
    parser.add_argument("--hold", action="store_true",
                        help="import TensorFlow only once told to go (a starting server draws its first page first)")
    args = parser.parse_args(argv)

    # The protocol owns the real standard output; anything else printed goes to standard error.
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit(0)))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    lines = _Lines(sys.stdin.fileno())
    held: list[bytes] = []
    going = not args.hold
    while not going and not lines.eof:  # requests that come first are kept, and served after the import
        for line in lines.read(1.0):
            if _op(line) == "go":
                going = True
            else:
                held.append(line)
    lines.pending = held

    import tensorflow as tf

    # One worker per core: each keeps to one thread (these models' ops are too small to
    # split; one thread was as fast alone, bench/app.py in earlier versions).
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import infoif  # noqa: F401 - registers the layers

    worker = Worker(args.home, args.name, out)
    try:
        worker.serve(lines)
    except SystemExit:
        worker.shutdown()
    # Everything is written (shutdown waited for the writer). The loader may be building a
    # model ahead of time, inside TensorFlow's C++, which must not be torn down mid-way: wait
    # for it, then leave without the interpreter's clean-up of daemon threads.
    worker.stop_loader()
    from infoif.train.engine import _wait_for_tracers

    _wait_for_tracers()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    started = time.perf_counter()
    sys.exit(main())

"""Live training in the background, with per-interface probes, and a store of runs.

`Trainer(spec, dataset, seed)` trains its model in a thread of its own, so a
user interface never blocks and survives reruns: `start`, `pause`, `resume`,
`step`, `stop`, `set_learning_rate`, `set_batch_size`. Every epoch appends an
immutable `Snapshot` to `history`; probe measurements (weights, output
distributions, energy curves, information-plane estimates) ride on some of
them, at a cadence that keeps their cost near a tenth of training time.

Why not `model.fit`: on Playground-sized data a `fit()` epoch costs about
30 ms of Keras overhead against a few milliseconds of maths (16 epochs/s
measured with validation). The trainer instead calls the model's own
`train_step` inside one long-lived `tf.function` that runs a chunk of steps
per call, and evaluates in a second one: the model, loss, metrics and
optimizer are all Keras', only the loop is ours. Chunks are sized to about a
tenth of a second, so `stop()` and `pause()` take effect within that on any
dataset. When an epoch is shorter than that, several whole epochs (with their
validation, and rollback of an epoch whose loss is not finite) run in one
call: the thread then needs Python and the GIL about ten times a second
rather than once per epoch, so a busy user interface barely slows it.

`RunStore` keeps a session's runs for comparison and export.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import threading
import time
import weakref
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Mapping

import numpy as np

from infoif.models import InterfaceProbe, ModelSpec, build_model
from infoif.probes import ProbeConfig, Probes, histogram_edges, measure

__all__ = ["Trainer", "Snapshot", "RunStore", "Run", "Sweep", "STATUSES"]

STATUSES = ("idle", "running", "paused", "stopped", "finished", "failed")
CHUNK_SECONDS = 0.1  # target duration of one compiled call


@dataclass(frozen=True)
class Snapshot:
    """The state of a run after one epoch. Immutable; safe to read from any thread."""

    epoch: int  # 1-based: epochs completed
    time: float  # seconds of wall time since the run started
    metrics: Mapping[str, float]  # loss, val_loss, accuracy/val_accuracy or mae/val_mae, lr...
    probes: Probes | None = None

    @property
    def has_probes(self) -> bool:
        return self.probes is not None


class _Control:
    """Flags shared by a trainer and its thread. Holds no reference to the trainer."""

    def __init__(self):
        self.cond = threading.Condition()
        self.stop = False
        self.paused = False
        self.steps_allowed = 0  # epochs to run while paused (step())
        self.budget: int | None = None  # epochs left, None = until stopped
        self.closed = False


def _thread_main(trainer_ref, control: _Control):
    """The training thread: drops its reference to the trainer between chunks."""
    trainer = trainer_ref()
    if trainer is None:
        return
    try:
        trainer._prepare()
    except Exception as exc:  # noqa: BLE001 - becomes the run's error message
        trainer._fail(f"Could not prepare training: {type(exc).__name__}: {exc}")
        return
    del trainer
    while True:
        trainer = trainer_ref()
        if trainer is None:
            return
        try:
            if not trainer._epoch_or_wait():
                return
        except Exception as exc:  # noqa: BLE001
            trainer._fail(f"Training stopped by an error: {type(exc).__name__}: {exc}")
            return
        finally:
            del trainer


class Trainer:
    """Trains one interface model in the background and records what it learns.

    Args:
        spec: the `ModelSpec` of the model.
        dataset: an `infoif.data.Dataset` (x_train, y_train, x_val, y_val, task...).
        seed: seeds the initial weights, the batch order and the probe batch;
            the same spec, data and seed give the same history.
        batch_size: initial batch size (changeable while training).
        probe_config: a `ProbeConfig`.
        name: a label for the run.
    """

    def __init__(
        self,
        spec: ModelSpec,
        dataset,
        seed: int = 0,
        batch_size: int = 32,
        probe_config: ProbeConfig | None = None,
        name: str | None = None,
    ):
        if not isinstance(spec, ModelSpec):
            raise ValueError(f"`spec` must be a ModelSpec. Received: spec={spec!r}")
        self.spec = spec
        self.dataset = dataset
        self.seed = int(seed)
        self.name = name or getattr(dataset, "name", "run")
        self.probe_config = probe_config or ProbeConfig()
        self._batch_size = self._check_batch_size(batch_size)
        self._learning_rate = float(spec.learning_rate)
        self._pending: dict = {}

        self.model = build_model(
            spec, dataset.input_dim, dataset.task, dataset.num_classes, seed=self.seed
        )
        self.probe = InterfaceProbe(self.model)

        rng = np.random.default_rng(self.seed)
        self._order_rng = np.random.default_rng(rng.integers(2**63))
        n_val = len(dataset.x_val)
        pick = np.sort(rng.permutation(n_val)[: self.probe_config.probe_size])
        self.x_probe = np.asarray(dataset.x_val[pick], np.float32)
        self.y_probe = np.asarray(dataset.y_val[pick])
        self.hist_edges = histogram_edges(
            spec.activation, self.probe.outputs(self.x_probe), self.probe_config.hist_bins
        )
        self.hist_edges.setflags(write=False)

        self._lock = threading.RLock()  # status and history
        self._weights_lock = threading.Lock()  # held while weights change
        self._control = _Control()
        self._thread: threading.Thread | None = None
        self._status = "idle"
        self.error: str | None = None
        self._history: list[Snapshot] = []
        self._probe_records = 0
        self._epoch = 0
        self._wall_start: float | None = None
        self._train_seconds = 0.0
        self._since_probe = math.inf
        self._probe_cost = 0.0
        self._prepared = False
        self._in_step_epoch = False
        weakref.finalize(self, _close_control, self._control)

    # ------------------------------------------------------------ properties

    @property
    def status(self) -> str:
        return self._status

    @property
    def history(self) -> tuple[Snapshot, ...]:
        """All snapshots, oldest first (a tuple: later epochs do not change it)."""
        with self._lock:
            return tuple(self._history)

    @property
    def latest(self) -> Snapshot | None:
        with self._lock:
            return self._history[-1] if self._history else None

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def learning_rate(self) -> float:
        return self._pending.get("lr", self._learning_rate)

    @property
    def batch_size(self) -> int:
        return self._pending.get("batch_size", self._batch_size)

    @property
    def epochs_left(self) -> int | None:
        return self._control.budget

    @property
    def train_seconds(self) -> float:
        """Seconds spent in training steps (without probes and waiting)."""
        return self._train_seconds

    # ------------------------------------------------------------ controls

    def start(self, epochs: int | None = None) -> None:
        """Trains `epochs` more epochs (None: until stopped). Also restarts a stopped run."""
        if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1):
            raise ValueError(f"`epochs` must be a positive integer or None. Received: epochs={epochs!r}")
        with self._control.cond:
            if self._status == "failed":
                raise RuntimeError(f"This run failed and cannot continue: {self.error}")
            if self._status == "running":
                self._control.budget = epochs
                return
            self._control.budget = epochs
            self._control.paused = False
            self._control.steps_allowed = 0
            self._set_status("running")
            self._ensure_thread()
            self._control.cond.notify_all()

    def pause(self) -> None:
        """Pauses at the next chunk boundary (within about 0.1 s)."""
        with self._control.cond:
            if self._status == "running":
                self._control.paused = True
                self._set_status("paused")
                self._control.cond.notify_all()

    def resume(self) -> None:
        with self._control.cond:
            if self._status == "paused":
                self._control.paused = False
                self._control.steps_allowed = 0
                self._set_status("running")
                self._control.cond.notify_all()

    def step(self) -> None:
        """Runs exactly one more epoch, then pauses. Does nothing while running."""
        with self._control.cond:
            if self._status == "failed":
                raise RuntimeError(f"This run failed and cannot continue: {self.error}")
            if self._status == "running":
                return
            if self._status in ("idle", "stopped", "finished"):
                self._control.budget = None
            self._control.paused = True
            self._control.steps_allowed += 1
            self._set_status("paused")
            self._ensure_thread()
            self._control.cond.notify_all()

    def stop(self, timeout: float = 1.0) -> None:
        """Stops training (an interrupted epoch is rolled back) and waits for the thread."""
        with self._control.cond:
            self._control.stop = True
            self._control.cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._control.cond:
            if self._status in ("running", "paused"):
                self._set_status("stopped")

    close = stop

    def wait(self, timeout: float | None = None) -> bool:
        """Waits until the thread ends (finished, stopped, failed); True if it did."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def wait_for_epoch(self, epoch: int, timeout: float = 30.0) -> bool:
        """Waits until `epoch` epochs are done (or the run ends); True if reached."""
        deadline = time.monotonic() + timeout
        while self._epoch < epoch and time.monotonic() < deadline:
            if self._status in ("failed", "stopped", "finished", "idle") and not self._thread_alive():
                break
            time.sleep(0.005)
        return self._epoch >= epoch

    def set_learning_rate(self, lr: float) -> None:
        """Takes effect at the next epoch the thread starts (within about 0.1 s)."""
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr <= 10 or not math.isfinite(lr):
            raise ValueError(f"`lr` must be a number in (0, 10]. Received: lr={lr!r}")
        self._pending["lr"] = float(lr)

    def set_batch_size(self, n: int) -> None:
        """Takes effect at the next epoch the thread starts (within about 0.1 s)."""
        self._pending["batch_size"] = self._check_batch_size(n)

    # ------------------------------------------------------------ export

    def export_model(self) -> bytes:
        """The model as `.keras` bytes, reading the dataset's raw columns and answering in
        its terms (`infoif.export`); consistent even while training."""
        from infoif import export

        with self._weights_lock:
            return export.export_keras(self.model, self.dataset)

    def history_csv(self) -> str:
        """One row per epoch: metrics, and per-interface probe summaries where measured."""
        history = self.history
        n = self.spec.num_interfaces
        metric_names = sorted({k for s in history for k in s.metrics})
        probe_columns = (
            [f"kernel_norm_{i}" for i in range(n)]
            + [f"energy_final_{i}" for i in range(n)]
            + [f"entropy_bits_{i}" for i in range(n)]
            + [f"{e}_{q}_{i}" for e in ("binning", "kde") for q in ("i_xt", "i_ty") for i in range(n)]
        )
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["epoch", "time_s", *metric_names, "has_probes", *probe_columns])
        for s in history:
            row = [s.epoch, f"{s.time:.4f}", *[s.metrics.get(k, "") for k in metric_names], int(s.has_probes)]
            if s.has_probes:
                p = s.probes
                row += [*p.kernel_norm, *p.energy_final, *p.entropy]
                for e in ("binning", "kde"):
                    row += [*p.info[e].i_xt, *p.info[e].i_ty]
            else:
                row += [""] * len(probe_columns)
            writer.writerow(row)
        return out.getvalue()

    # ------------------------------------------------------------ internals

    @staticmethod
    def _check_batch_size(n) -> int:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 65536:
            raise ValueError(f"`batch_size` must be an integer from 1 to 65536. Received: batch_size={n!r}")
        return int(n)

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _ensure_thread(self):
        if self._thread_alive():
            return
        self._control.stop = False
        self._thread = threading.Thread(
            target=_thread_main,
            args=(weakref.ref(self), self._control),
            name=f"infoif-trainer-{self.name}",
            daemon=True,
        )
        self._thread.start()

    def _set_status(self, status: str):
        assert status in STATUSES
        self._status = status

    def _fail(self, message: str):
        with self._control.cond:
            self.error = message
            self._set_status("failed")

    def _prepare(self):
        """Tensors and compiled functions; runs once, in the training thread."""
        if self._prepared:
            return
        import tensorflow as tf

        model = self.model
        ds = self.dataset
        # The compiled functions close over locals only (never `self`), so an
        # abandoned trainer is not kept alive by its own functions.
        x = tf.constant(np.asarray(ds.x_train, np.float32))
        y_dtype = np.float32 if ds.task in ("regression", "binary") else np.int64
        y = tf.constant(np.asarray(ds.y_train).astype(y_dtype))
        x_val = tf.constant(np.asarray(ds.x_val, np.float32))
        y_val = tf.constant(np.asarray(ds.y_val).astype(y_dtype))
        model.optimizer.build(model.trainable_variables)
        self.probe(self.x_probe)  # traces the compiled probe here, not inside the first measurement
        saved = [tf.Variable(v, trainable=False) for v in model.weights]

        # Plain functions, traced inline wherever they are used; the tf.function
        # wrappers below are for calling them on their own.
        def train_batches(batches):
            for i in tf.range(tf.shape(batches)[0]):
                idx = batches[i]
                model.train_step((tf.gather(x, idx), tf.gather(y, idx)))
            return tf.constant(0)

        def evaluate():
            train = model.get_metrics_result()
            for metric in model.metrics:
                metric.reset_state()
            val = model.test_step((x_val, y_val))
            return train, val

        def backup():
            for b, v in zip(saved, model.weights):
                b.assign(v)
            return tf.constant(0)

        def restore():
            for b, v in zip(saved, model.weights):
                v.assign(b)
            return tf.constant(0)

        def one_epoch(batches):
            backup()
            for metric in model.metrics:
                metric.reset_state()
            train_batches(batches)
            train, val = evaluate()
            values = {k: tf.cast(v, tf.float32) for k, v in train.items()}
            values.update({f"val_{k}": tf.cast(v, tf.float32) for k, v in val.items()})
            finite = tf.math.is_finite(values["loss"]) & tf.math.is_finite(values["val_loss"])
            tf.cond(finite, lambda: tf.constant(0), restore)  # a diverged epoch is rolled back
            return values, finite

        def run_epochs(all_batches):
            # Small data: several epochs per call (all_batches is (epochs, steps,
            # batch)), so the thread crosses into TensorFlow, and back for the
            # GIL, once per ~0.1 s rather than once per epoch. A page busy in
            # Python then barely slows training. Ends after the first epoch whose
            # loss is not finite, with that epoch rolled back.
            k = tf.shape(all_batches)[0]
            values, finite = one_epoch(all_batches[0])
            arrays = {name: tf.TensorArray(tf.float32, size=0, dynamic_size=True).write(0, v)
                      for name, v in values.items()}

            def more(e, finite, arrays):
                return (e < k) & finite

            def body(e, finite, arrays):
                values, finite = one_epoch(all_batches[e])
                return e + 1, finite, {name: a.write(e, values[name]) for name, a in arrays.items()}

            _, finite, arrays = tf.while_loop(more, body, (tf.constant(1), finite, arrays))
            return {name: a.stack() for name, a in arrays.items()}, finite

        batches_2d = [tf.TensorSpec([None, None], tf.int32)]
        train_chunk = tf.function(train_batches, input_signature=batches_2d)
        end_epoch = tf.function(evaluate)
        backup, restore = tf.function(backup), tf.function(restore)
        run_epochs = tf.function(run_epochs, input_signature=[tf.TensorSpec([None, None, None], tf.int32)])
        # Trace both paths now, so that the first epochs (and their timing) do not pay for it.
        for fn in (train_chunk, end_epoch, backup, restore, run_epochs):
            fn.get_concrete_function()
        self._train_chunk, self._end_epoch, self._run_epochs = train_chunk, end_epoch, run_epochs
        self._backup_fn, self._restore_fn = backup, restore
        self._chunk_steps = 32
        self._epochs_per_call = 1
        self._epoch_seconds = 0.0  # of the last fused call, per epoch
        self._prepared = True

    def _wait_for_permission(self) -> bool:
        """Blocks while paused; False when the thread should end."""
        control = self._control
        with control.cond:
            while True:
                if control.stop or control.closed:
                    return False
                if control.budget is not None and control.budget <= 0:
                    self._set_status("finished")
                    return False
                if not control.paused:
                    self._in_step_epoch = False
                    return True
                if control.steps_allowed > 0:
                    control.steps_allowed -= 1
                    self._in_step_epoch = True
                    return True
                control.cond.wait(0.5)

    def _apply_pending(self):
        if "lr" in self._pending:
            self._learning_rate = self._pending.pop("lr")
            self.model.optimizer.learning_rate.assign(self._learning_rate)
        if "batch_size" in self._pending:
            self._batch_size = self._pending.pop("batch_size")

    def _epoch_or_wait(self) -> bool:
        """Runs one epoch; False when the thread should end."""
        if not self._wait_for_permission():
            self._finish_probes()
            return False
        if self._wall_start is None:
            self._wall_start = time.perf_counter()
        self._apply_pending()

        n = len(self.dataset.x_train)
        bs = min(self._batch_size, n)
        steps = math.ceil(n / bs)
        # Fused when at least two epochs fit in one call: an epoch near CHUNK_SECONDS
        # gains nothing from it, and would flip between the two paths.
        if 2 * steps <= self._chunk_steps and (self._in_step_epoch or not self._control.paused):
            return self._run_fused(n, bs, steps)
        batches = self._batch_order(n, bs, steps)

        began = time.perf_counter()
        with self._weights_lock:
            self._backup_fn()
            for metric in self.model.metrics:
                metric.reset_state()
        done = 0
        while done < steps:
            if self._control.stop:
                with self._weights_lock:
                    self._restore_fn()  # roll back the interrupted epoch
                self._finish_probes()
                return False
            if self._control.paused and not self._in_step_epoch:
                self._wait_while_paused_mid_epoch()
                continue
            chunk = batches[done: done + self._chunk_steps]
            t0 = time.perf_counter()
            with self._weights_lock:
                self._train_chunk(chunk)
            done += len(chunk)
            self._chunk_steps = self._adapt_chunk(time.perf_counter() - t0, len(chunk))
        with self._weights_lock:
            train, val = self._end_epoch()
        values = {k: float(v) for k, v in train.items()}
        values.update({f"val_{k}": float(v) for k, v in val.items()})
        finite = math.isfinite(values["loss"]) and math.isfinite(values["val_loss"])
        if not finite:
            with self._weights_lock:
                self._restore_fn()
        return self._finish_epochs([values], finite, bs, began, time.perf_counter())

    def _batch_order(self, n: int, bs: int, steps: int) -> np.ndarray:
        """One epoch's (steps, bs) sample indices; the last batch wraps around."""
        order = self._order_rng.permutation(n)
        order = np.concatenate([order, order[: steps * bs - n]])
        return order.reshape(steps, bs).astype(np.int32)

    def _run_fused(self, n: int, bs: int, steps: int) -> bool:
        """Several whole epochs in one compiled call, sized to about CHUNK_SECONDS."""
        k = 1 if self._in_step_epoch else self._epochs_per_call
        if k > 1 and self._epoch_seconds > 0:
            # end the call at the epoch where the next probe falls due, as one epoch per call would
            due_in = self.probe_config.interval(self._probe_cost) - self._since_probe
            k = 1 if not due_in > 0 else max(1, min(k, math.ceil(due_in / self._epoch_seconds)))
        budget = self._control.budget
        if budget is not None:
            k = max(1, min(k, budget))
        all_batches = np.stack([self._batch_order(n, bs, steps) for _ in range(k)])
        began = time.perf_counter()
        with self._weights_lock:
            values, finite = self._run_epochs(all_batches)
        ended = time.perf_counter()
        columns = {name: v.numpy().tolist() for name, v in values.items()}
        count = len(columns["loss"])
        if not self._in_step_epoch:  # a lone step says little about the speed
            per_epoch = (ended - began) / count
            self._epoch_seconds = per_epoch
            self._epochs_per_call = int(min(1024, max(1, CHUNK_SECONDS / max(per_epoch, 1e-6))))
            self._chunk_steps = self._adapt_chunk(per_epoch, steps)  # grown too slow: chunk next time
        rows = [{name: col[i] for name, col in columns.items()} for i in range(count)]
        return self._finish_epochs(rows, bool(finite), bs, began, ended)

    @staticmethod
    def _adapt_chunk(seconds: float, steps: int) -> int:
        """Steps per compiled call so that one call takes about CHUNK_SECONDS."""
        per_step = seconds / max(steps, 1)
        return int(min(4096, max(1, CHUNK_SECONDS / max(per_step, 1e-6))))

    def _finish_epochs(self, rows: list[dict], finite: bool, bs: int, began: float, ended: float) -> bool:
        """Records the epochs of one call: `rows` are their metrics, oldest first; if not
        `finite`, the last one diverged (and was rolled back): the run fails there."""
        elapsed = ended - began
        self._train_seconds += elapsed
        self._since_probe += elapsed
        good = rows if finite else rows[:-1]
        per_epoch = elapsed / len(rows)
        for i, values in enumerate(good):
            metrics = dict(values, lr=self._learning_rate, batch_size=bs)
            last_of_call = i == len(good) - 1
            probes = None
            if last_of_call and finite:
                last_of_budget = self._control.budget == 1
                if self._since_probe >= self.probe_config.interval(self._probe_cost) or last_of_budget:
                    probes = self._measure()
            self._record(Snapshot(self._epoch + 1, began + (i + 1) * per_epoch - self._wall_start,
                                  MappingProxyType(metrics), probes))
            self._epoch += 1  # only now: whoever waits for this epoch finds its snapshot
            with self._control.cond:
                if self._control.budget is not None:
                    self._control.budget -= 1
        if finite:
            return True
        metrics = rows[-1]
        bad = metrics["loss"] if not math.isfinite(metrics["loss"]) else metrics["val_loss"]
        self._fail(
            f"Training diverged at epoch {self._epoch + 1}: the loss became {bad}. "
            f"The weights of epoch {self._epoch} were kept. Try a lower learning rate "
            f"(it is {self._learning_rate:g})"
            + (f" or a smaller energy penalty (it is {self.spec.penalty:g})." if self.spec.penalty else ".")
        )
        self._finish_probes()
        return False

    def _wait_while_paused_mid_epoch(self):
        """Blocks at a chunk boundary while paused; a step() finishes this epoch."""
        control = self._control
        with control.cond:
            while control.paused and not control.stop and control.steps_allowed == 0:
                control.cond.wait(0.5)
            if control.paused and control.steps_allowed > 0:
                control.steps_allowed -= 1
                self._in_step_epoch = True

    def _measure(self) -> Probes:
        with self._weights_lock:
            probes = measure(self.probe, self.x_probe, self.y_probe, self.hist_edges, self.probe_config)
        self._probe_cost = probes.seconds
        self._since_probe = 0.0
        return probes

    def _finish_probes(self):
        """Makes sure the last recorded epoch carries probes."""
        with self._lock:
            last = self._history[-1] if self._history else None
        if last is not None and not last.has_probes:
            probes = self._measure()
            with self._lock:
                if self._history and self._history[-1] is last:
                    self._history[-1] = replace(last, probes=probes)
                    self._probe_records += 1
                    self._trim_kernels()

    def _record(self, snapshot: Snapshot):
        with self._lock:
            self._history.append(snapshot)
            if snapshot.has_probes:
                self._probe_records += 1
                self._trim_kernels()
            cfg = self.probe_config
            if self._probe_records > cfg.max_probe_records or len(self._history) > cfg.max_records:
                self._bound_history()  # O(history), so only when a cap is passed

    def _trim_kernels(self):
        """Full kernels only in the newest `keep_kernels` probe records."""
        kept = 0
        for i in range(len(self._history) - 1, -1, -1):
            s = self._history[i]
            if s.probes is None:
                continue
            if s.probes.kernels is None:
                if kept >= self.probe_config.keep_kernels:
                    break
                continue
            kept += 1
            if kept > self.probe_config.keep_kernels:
                self._history[i] = replace(s, probes=s.probes.without_kernels())

    def _bound_history(self):
        """Thins the older half when a cap is exceeded: newest records stay dense."""
        cfg = self.probe_config
        with_probes = [i for i, s in enumerate(self._history) if s.has_probes]
        if len(with_probes) > cfg.max_probe_records:
            # Older probe records lose their probes, never their epoch's metrics.
            for i in with_probes[: len(with_probes) // 2][1::2]:
                self._history[i] = replace(self._history[i], probes=None)
                self._probe_records -= 1
        drop: set[int] = set()
        if len(self._history) > cfg.max_records:
            without = [i for i, s in enumerate(self._history) if not s.has_probes]
            older = without[: len(without) // 2]
            drop.update(older[1::2])
        if drop:
            self._history = [s for i, s in enumerate(self._history) if i not in drop]
        self._probe_records = sum(s.has_probes for s in self._history)


def _close_control(control: _Control):
    with control.cond:
        control.closed = True
        control.stop = True
        control.cond.notify_all()


# ---------------------------------------------------------------- runs


@dataclass
class Run:
    """A run in the store: its identity, and the trainer that holds model and history."""

    id: str
    trainer: Trainer
    dataset_name: str
    created: float

    @property
    def spec(self) -> ModelSpec:
        return self.trainer.spec

    @property
    def seed(self) -> int:
        return self.trainer.seed

    @property
    def history(self) -> tuple[Snapshot, ...]:
        return self.trainer.history

    @property
    def status(self) -> str:
        return self.trainer.status

    def summary(self) -> dict:
        """One row for a runs table."""
        latest = self.trainer.latest
        row = {
            "run": self.id,
            "dataset": self.dataset_name,
            "status": self.status,
            **self.spec.to_dict(),
            "seed": self.seed,
            "epochs": latest.epoch if latest else 0,
            "seconds": round(latest.time, 2) if latest else 0.0,
        }
        if latest:
            row.update({k: v for k, v in latest.metrics.items() if k not in ("lr", "batch_size")})
            probed = next((s for s in reversed(self.history) if s.has_probes), None)
            if probed is not None:
                row["mean_energy"] = float(np.mean(probed.probes.energy_final))
        return row

    def export_model(self) -> bytes:
        return self.trainer.export_model()

    def history_csv(self) -> str:
        return self.trainer.history_csv()


class RunStore:
    """A session's runs, newest last; bounded: the oldest finished runs go first.

    Never share one store between users: it holds their models.
    """

    def __init__(self, max_runs: int = 20):
        if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 1:
            raise ValueError(f"`max_runs` must be a positive integer. Received: max_runs={max_runs!r}")
        self.max_runs = max_runs
        self._runs: dict[str, Run] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def new_run(self, spec: ModelSpec, dataset, seed: int = 0, **trainer_kwargs) -> Run:
        trainer = Trainer(spec, dataset, seed=seed, **trainer_kwargs)
        with self._lock:
            run_id = f"run-{next(self._ids)}"
            trainer.name = run_id
            run = Run(run_id, trainer, getattr(dataset, "name", "data"), time.time())
            self._runs[run_id] = run
            self._evict()
        return run

    def _evict(self):
        while len(self._runs) > self.max_runs:
            idle = [r for r in self._runs.values() if r.status not in ("running", "paused")]
            victim = (idle or list(self._runs.values()))[0]
            victim.trainer.stop()
            del self._runs[victim.id]

    def get(self, run_id: str) -> Run:
        try:
            return self._runs[run_id]
        except KeyError:
            raise KeyError(f"No run {run_id!r}; runs are {list(self._runs)}") from None

    def remove(self, run_id: str) -> None:
        run = self._runs.pop(run_id, None)
        if run is not None:
            run.trainer.stop()

    def __iter__(self):
        return iter(list(self._runs.values()))

    def __len__(self):
        return len(self._runs)

    def __contains__(self, run_id):
        return run_id in self._runs

    def table(self) -> list[dict]:
        return [r.summary() for r in self]

    def close(self):
        for run in self:
            run.trainer.stop()


# ---------------------------------------------------------------- sweeps


class Sweep:
    """Trains one run per `num_interfaces` value, one after another, on the same data and seed.

    Runs in a thread of its own; `progress` is (runs done, runs in all),
    `cancel()` stops the current run and the rest. Each run lands in the
    store, so the Compare page shows them like any other run.
    """

    def __init__(self, store: RunStore, spec: ModelSpec, dataset, values, epochs: int,
                 seed: int = 0, batch_size: int = 32, probe_config: ProbeConfig | None = None):
        values = list(values)
        if not values or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 256 for v in values):
            raise ValueError(
                "A sweep needs a list of num_interfaces values, each an integer from 1 to 256. "
                f"Received: values={values!r}"
            )
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"`epochs` must be a positive integer. Received: epochs={epochs!r}")
        self.store, self.spec, self.dataset = store, spec, dataset
        self.values, self.epochs, self.seed, self.batch_size = values, epochs, seed, batch_size
        self.probe_config = probe_config
        self.run_ids: list[str] = []
        self.status = "running"  # running, finished, cancelled, failed
        self.error: str | None = None
        self._cancel = threading.Event()
        self._current: Run | None = None
        self._thread = threading.Thread(target=self._main, name="infoif-sweep", daemon=True)
        self._thread.start()

    @property
    def progress(self) -> tuple[int, int]:
        done = len(self.run_ids) - (1 if self.status == "running" and self._current is not None else 0)
        return max(done, 0), len(self.values)

    @property
    def fraction(self) -> float:
        """Fraction done, counting the epochs of the run in progress."""
        done, total = self.progress
        current = self._current
        partial = current.trainer.epoch / self.epochs if (current is not None and self.status == "running") else 0.0
        return min(1.0, (done + min(partial, 1.0)) / total)

    def _main(self):
        try:
            for value in self.values:
                if self._cancel.is_set():
                    break
                run = self.store.new_run(self.spec.replace(num_interfaces=value), self.dataset,
                                         seed=self.seed, batch_size=self.batch_size,
                                         probe_config=self.probe_config)
                self._current = run
                self.run_ids.append(run.id)
                run.trainer.start(epochs=self.epochs)
                while not run.trainer.wait(0.1):
                    if self._cancel.is_set():
                        run.trainer.stop()
                        break
                if run.trainer.status == "failed":
                    self.error = f"{run.id} (num_interfaces={value}) failed: {run.trainer.error}"
            self._current = None
            self.status = "cancelled" if self._cancel.is_set() else "finished"
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self._current = None
            self.status = "failed"
            self.error = f"The sweep stopped: {type(exc).__name__}: {exc}"

    def cancel(self, timeout: float = 2.0):
        self._cancel.set()
        self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

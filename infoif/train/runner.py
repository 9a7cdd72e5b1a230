"""One run's training loop, one compiled call at a time: engine + control + history + probes.

A `Runner` owns a model. Its owner (a `Trainer` thread, or a worker process
of the training service that may hold several runners and take turns) calls
`advance()` repeatedly: each call runs one compiled call of about
`CHUNK_SECONDS` (several whole epochs on small data, part of an epoch on
large data), records the finished epochs, and returns. Between two calls the
owner applies control verbs with `command()`, so a verb never races a call in
flight: once `pause` is applied no further epoch is recorded, and `step`
records exactly one.

Every recorded epoch goes to the `History`, and to the store's writer when
the runner has one (`sink`), which also receives a checkpoint of the weights
and optimizer state about once a second, and at every pause, stop and end.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from infoif.train.control import Control
from infoif.train.history import History, Snapshot, Thinned
from infoif.train.probes import ProbeConfig, Probes, measure, probe_setup
from infoif.nn.spec import ModelSpec

__all__ = ["Runner", "Checkpoint", "CHUNK_SECONDS", "CHECKPOINT_SECONDS"]

CHUNK_SECONDS = 0.1  # target duration of one compiled call
CHECKPOINT_SECONDS = 1.0  # a crash loses at most about this much training (plus the writer's lag)
# ... and at least this often by the clock on the wall (at its next turn), whatever its share of a
# worker (`infoif.runs.fairshare`): the status line, which reads the store every second, then moves at
# every look. At 0.75 s a run sharing a worker with 3 others was written every 0.75-1.3 s and the
# line went up to 2.8 s without a change (8 sessions, bench/load.py); at 0.3 s, 2.0 s. A write is
# cheap: one run alone trained at 777 epochs/s with it and 667 at 0.75 s, one after the other
# (`python bench/service.py --quick`, 2026-12-08: the noise of this machine, not a cost).
FLUSH_WALL_SECONDS = 0.3
YOUNG_SECONDS, YOUNG_FLUSH = 3.0, 0.2  # a young run is written more often, so its first epochs show at once
# The fused path is traced only when the epochs left (of this run, and of later runs that will take
# its model over) would take this long on the chunked path: tracing it (a loop around the chunked
# path's compiled functions) and its first call cost 0.17-0.21 s of a core, and on small data it
# then trains in about a fifth of the chunked path's time (100 Circle epochs: 0.15-0.17 s against
# 0.70-0.98 s). It was 2 s while the fused path traced `train_step` again (1-1.5 s).
FUSE_AFTER_SECONDS = 0.3
# A new model's first epoch runs eagerly, before anything is traced, when it has at most this many
# steps: an eager step costs ~10 ms, tracing and warming the chunked path 0.2-0.35 s (500 rows,
# 13 steps: 0.13-0.15 s eagerly). The chunked path is traced right after that epoch.
EAGER_STEPS = 24
# A run nobody watches start (a sweep's) is traced whole before its first epoch (`prepare_ahead`),
# the fused path included when its model will train at least FUSE_AHEAD_EPOCHS epochs (this run's
# and later runs' that take it over) of at most FUSE_AHEAD_STEPS steps: a chunked Circle epoch
# took 3.7-5 ms, so 75 of them repay FUSE_AFTER_SECONDS; and an epoch of more steps than that may
# not fit the fused path's calls (`advance`).
FUSE_AHEAD_EPOCHS, FUSE_AHEAD_STEPS = 75, 128


@dataclass
class Checkpoint:
    """Everything needed to continue a run exactly where it was, at an epoch boundary."""

    epoch: int
    time: float
    state: list  # numpy arrays: weights, then optimizer slots (Engine.state())
    rng_state: dict  # the batch-order generator's bit_generator.state
    learning_rate: float
    batch_size: int
    gaps: list = field(default_factory=list)


class Runner:
    """Trains one interface model, one compiled call per `advance()`.

    Args:
        spec: the `ModelSpec`.
        dataset: an `infoif.data.Dataset` (or anything with its arrays and task).
        seed: seeds the initial weights, the batch order and the probe batch;
            the same spec, data and seed give the same history.
        batch_size: initial batch size.
        probe_config: a `ProbeConfig`.
        frame: the raw table, for the input-plane view on 2-D data (optional).
        sink: the store's writer for this run (optional).
        checkpoint: continue from this `Checkpoint` (with `history` as it was).
        history: the run's history so far (when continuing).
        gap: whether training was lost between the checkpoint and now (a crash): the
            history marks the place.
        reuse: a runner done with, whose model has this run's graph (`infoif.runs.store.model_signature`:
            the same spec but the learning rate, the same data): its model and compiled functions
            are taken over, with this run's own initial weights and a new optimizer state, so the
            run starts as a fresh model would, without tracing anything.
    """

    def __init__(self, spec: ModelSpec, dataset, seed: int = 0, batch_size: int = 32,
                 probe_config: ProbeConfig | None = None, frame=None, sink=None,
                 checkpoint: Checkpoint | None = None, history: History | None = None, name: str = "run",
                 gap: bool = False, reuse: "Runner | None" = None):
        from infoif.train.engine import Engine
        from infoif.nn.models import InterfaceProbe, build_model

        if not isinstance(spec, ModelSpec):
            raise ValueError(f"`spec` must be a ModelSpec. Received: spec={spec!r}")
        self.spec, self.dataset, self.seed, self.name = spec, dataset, int(seed), name
        self.probe_config = probe_config or ProbeConfig()
        self.control = Control(learning_rate=spec.learning_rate, batch_size=batch_size)
        self.sink = sink
        fresh = build_model(spec, dataset.input_dim, dataset.task, dataset.num_classes, seed=self.seed)
        if reuse is not None:
            if reuse.dataset is not dataset or reuse.spec.replace(learning_rate=spec.learning_rate) != spec:
                raise ValueError("A runner can only take over a model of the same settings and data. "
                                 f"Received: reuse={reuse.spec!r} for spec={spec!r}")
            self.model, self.engine, self.probe = reuse.model, reuse.engine, reuse.probe
            reuse.model = reuse.engine = reuse.probe = None  # one owner at a time
            self.engine.reset(fresh.get_weights())
            self.engine.set_learning_rate(spec.learning_rate)
        else:
            self.model = fresh
            self.engine = Engine(self.model, dataset)
            self.probe = InterfaceProbe(self.model)
        self.probe.trace_on_call = False  # measured eagerly until traced in the background (below)

        rng = np.random.default_rng(self.seed)
        self._order_rng = np.random.default_rng(rng.integers(2**63))
        # the probe batch, binning range and histogram edges, fixed for the run (infoif.train.probes)
        self.probe_setup = probe_setup(dataset, spec.activation, self.probe.outputs, self.probe_config, rng)
        self.x_probe, self.y_probe = self.probe_setup.x, self.probe_setup.y
        self.hist_edges = self.probe_setup.hist_edges
        self._plane_grid = _plane_grid(dataset, frame)

        self.history = history if history is not None else History(self.probe_config)
        self.epoch = 0
        self.clock = 0.0  # seconds spent in advance(): the snapshots' time axis
        self.train_seconds = 0.0  # of them, in compiled training calls
        self._applied_lr = float(spec.learning_rate)
        self._applied_bs = self.control.batch_size
        self._since_probe = math.inf
        self._probe_cost = 0.0
        self._measured = 0  # measurements so far
        self._chunk_steps = 32
        self._epochs_per_call = 1
        self._epoch_seconds = 0.0
        self._chunked_epoch_seconds = 0.0  # the last chunked epoch's time (whether fusing would pay)
        # Set by a worker (infoif.runs.worker): the model's `model_signature` (None: not to be reused), whether
        # the run is unloaded once it ends (a sweep's), the epochs it is to train (a sweep's, known before
        # its Train arrives) and the epochs later runs are expected to train on this model (a sweep's
        # next seeds).
        self.signature: str | None = None
        self.done_when_ended = False
        self.sweep_epochs = 0
        self.epochs_to_come = 0
        self._probe_tracer = None
        self._partial: dict | None = None  # the chunked epoch in progress
        self._since_checkpoint = 0.0
        self._since_flush = math.inf  # the first epoch is written at once
        self._flushed_at = time.monotonic()  # when it was written last, by the wall clock
        if checkpoint is not None:
            self._restore(checkpoint, gap)
        self._first_epoch = self.epoch  # this runner's first epoch may run eagerly (`_eager_first_epoch`)

    # ------------------------------------------------------------ control

    @property
    def status(self) -> str:
        return self.control.status

    @property
    def error(self) -> str | None:
        return self.control.error

    def command(self, verb: str, **kwargs) -> None:
        """Applies a control verb between two calls, and what follows from it (a stop rolls back
        the epoch in progress; pause and stop leave a checkpoint)."""
        before = self.control.status
        self.control.apply(verb, **kwargs)
        status = self.control.status
        if self.control.stop_requested:
            self.control.stop_requested = False
            self._partial = None
            self.engine.rollback()
        if status != before and status in ("paused", "stopped"):
            if status == "stopped":
                self._finish_probes()
            self.settle()
        elif self.sink is not None and status != before:
            self.sink.status(self)

    def settle(self) -> None:
        """Writes everything so far, with a checkpoint, and the status (the end of a call chain)."""
        if self.sink is not None:
            self.sink.flush(self, self.checkpoint() if self.epoch else None)
            self.sink.status(self)

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(
            epoch=self.epoch, time=self.clock, state=self.engine.state(),
            rng_state=self._partial["rng_state"] if self._partial else self._order_rng.bit_generator.state,
            learning_rate=self._applied_lr,
            batch_size=self._applied_bs, gaps=list(self.history.gaps),
        )

    def _restore(self, ck: Checkpoint, gap: bool) -> None:
        self.engine.load_state(ck.state)
        self._order_rng.bit_generator.state = ck.rng_state
        self.epoch, self.clock = int(ck.epoch), float(ck.time)
        self._applied_lr = self.control.learning_rate = float(ck.learning_rate)
        self._applied_bs = self.control.batch_size = int(ck.batch_size)
        self.engine.set_learning_rate(self._applied_lr)
        self.history.truncate(self.epoch)  # epochs written after the checkpoint are redone
        for epoch in ck.gaps:
            self.history.mark_gap(epoch)
        if gap and self.epoch:
            self.history.mark_gap(self.epoch)

    # ------------------------------------------------------------ training

    def prepare(self) -> None:
        """Traces every compiled function here and now (both paths and the probe). Not needed:
        `advance()` traces the chunked path first, and the rest in the background."""
        self.engine.prepare(fused=True)
        self.probe.trace(self.x_probe.shape, warm_with=self.x_probe)

    def prepare_ahead(self, epochs: int) -> None:
        """Traces what `epochs` epochs of this run will use, here and now, for a run whose first
        epochs nobody waits for (a sweep's): the chunked path, and the fused path with the
        compiled probe when they pay (`FUSE_AHEAD_EPOCHS`, counting `epochs_to_come`).

        Why not in the background while the first epochs run on the chunked path, as `advance()`
        does for a run someone watches: a sweep keeps every core busy, and there it cost more
        than it saved. Traced ahead, a new graph's first 100-epoch Circle run took 0.48-0.56 s
        of CPU with its tracing, against 0.76-0.84 s traced behind (the tracer and the training
        share one GIL, and the epochs meanwhile run at twice the fused path's cost), in the
        same wall time on an idle second core (`bench/sweep.py` has the sweep's figures)."""
        self.engine.prepare()
        n = self.engine.n_train
        steps = math.ceil(n / min(self.control.batch_size, n))
        if epochs + self.epochs_to_come >= FUSE_AHEAD_EPOCHS and steps <= FUSE_AHEAD_STEPS:
            self.prepare()

    def trace_rest(self) -> None:
        """Traces the fused path and the compiled probe in a background thread (once), whatever
        the budget (a model built ahead of a Train click does not know it yet)."""
        self._trace_rest_soon(force=True)

    def _trace_rest_soon(self, force: bool = False) -> None:
        """After each chunked epoch: the compiled probe, and the fused path when the run has
        enough epochs left to repay tracing it, in a thread of their own (once each). Not after an
        eager epoch: the chunked path is traced next, here, and one tracer at a time is enough."""
        if self.engine.fused_ready or self.engine.tracing or not self.engine.ready:
            return
        x = self.x_probe
        probe = self.probe

        def trace_probe():
            probe.trace(x.shape, warm_with=x)  # its first call's one-time cost paid here too

        if force or self._fusing_pays():
            probe_done = probe.traced(x.shape) or self._probe_tracer is not None  # traced, or being traced
            self.engine.trace_fused_in_background(also=None if probe_done else trace_probe)
        elif not probe.traced(x.shape) and self._probe_tracer is None:
            self._probe_tracer = self.engine.in_background(trace_probe, "infoif-trace-probe")

    @property
    def eager_first_epoch(self) -> bool:
        """Whether the epoch about to run (or running) is this runner's first and runs eagerly, before
        anything is traced (see EAGER_STEPS). Not for a sweep's runs, which finish their epochs
        sooner on the traced path (an eager epoch costs about 0.1 s more) and whose first epoch
        nobody waits for."""
        if self.engine.ready or self.epoch > self._first_epoch or self.done_when_ended or self.epochs_to_come:
            return False
        n = self.engine.n_train
        return math.ceil(n / min(self.control.batch_size, n)) <= EAGER_STEPS

    def _fusing_pays(self) -> bool:
        """Whether the epochs left would take long enough on the chunked path to repay tracing the
        fused one (see FUSE_AFTER_SECONDS), counting the epochs of later runs that will take
        this model over: a run of a few epochs does not pay for it after it ended; a sweep's
        first seed traces it for the seeds that follow."""
        left = self.control.epochs_allowed()
        return left is None or (left + self.epochs_to_come) * self._chunked_epoch_seconds >= FUSE_AFTER_SECONDS

    def advance(self) -> bool:
        """Runs one compiled call if the control wants one; False (doing nothing) otherwise."""
        control = self.control
        if not control.wants_work:
            return False
        try:
            if not self.eager_first_epoch:
                self.engine.prepare()  # the chunked path; tracing is not training: the clock starts after it
            started = time.perf_counter()
            if self._partial is None:
                self._apply_settings()
                n = self.engine.n_train
                bs = min(self._applied_bs, n)
                steps = math.ceil(n / bs)
                # Fused when at least two epochs fit in one call: an epoch near CHUNK_SECONDS
                # gains nothing from it, and would flip between the two paths.
                if self.engine.fused_ready and 2 * steps <= self._chunk_steps:
                    self._run_fused(n, bs, steps, started)
                else:
                    rng_state = self._order_rng.bit_generator.state  # a checkpoint mid-epoch redraws it
                    self._partial = {"batches": self._batch_order(n, bs, steps), "done": 0, "bs": bs,
                                     "rng_state": rng_state}
                    self.engine.begin_epoch()
                    self._run_chunk(started)
            else:
                self._run_chunk(started)
        except Exception as exc:  # noqa: BLE001 - becomes the run's error message
            self._partial = None
            try:
                self.engine.rollback()  # keep the last finished epoch's weights
            except Exception:  # noqa: BLE001 - the error above is the one to report
                pass
            self.control.fail(f"Training stopped by an error: {type(exc).__name__}: {exc}")
            self.settle()
            return True
        if self.control.status in ("finished", "failed") or (self.control.status == "paused"
                                                            and not self.control.stepping):
            self._finish_probes()
            self.settle()
        elif self.sink is not None and (
                self._since_checkpoint >= CHECKPOINT_SECONDS or time.monotonic() - self._flushed_at >= FLUSH_WALL_SECONDS
                or (self.clock < YOUNG_SECONDS and self._since_flush >= YOUNG_FLUSH)):
            # a young run is written more often, so that its first epochs show at once
            self._since_checkpoint = self._since_flush = 0.0
            self._flushed_at = time.monotonic()
            self.sink.flush(self, self.checkpoint())
        return True

    def _apply_settings(self):
        control = self.control
        if control.changed:
            control.changed = False
            if control.learning_rate != self._applied_lr:
                self._applied_lr = control.learning_rate
                self.engine.set_learning_rate(self._applied_lr)
            self._applied_bs = control.batch_size

    def _batch_order(self, n: int, bs: int, steps: int) -> np.ndarray:
        """One epoch's (steps, bs) sample indices; the last batch wraps around."""
        order = self._order_rng.permutation(n)
        order = np.concatenate([order, order[: steps * bs - n]])
        return order.reshape(steps, bs).astype(np.int32)

    def _run_fused(self, n: int, bs: int, steps: int, started: float) -> None:
        """Several whole epochs in one compiled call, sized to about CHUNK_SECONDS."""
        stepping = self.control.stepping
        k = 1 if stepping else self._epochs_per_call
        if k > 1 and self._epoch_seconds > 0:
            # end the call at the epoch where the next probe falls due, as one epoch per call would
            due_in = self.probe_config.interval(self._probe_cost) - self._since_probe
            k = 1 if not due_in > 0 else max(1, min(k, math.ceil(due_in / self._epoch_seconds)))
        allowed = self.control.epochs_allowed()
        if allowed is not None:
            k = max(1, min(k, allowed))
        all_batches = np.stack([self._batch_order(n, bs, steps) for _ in range(k)])
        began = time.perf_counter()
        rows, finite = self.engine.run_epochs(all_batches)
        elapsed = time.perf_counter() - began
        if not stepping:  # a lone step says little about the speed
            per_epoch = elapsed / len(rows)
            self._epoch_seconds = per_epoch
            self._epochs_per_call = int(min(1024, max(1, CHUNK_SECONDS / max(per_epoch, 1e-6))))
            self._chunk_steps = _adapt_chunk(per_epoch, steps)  # grown too slow: chunk next time
        self._finish_epochs(rows, finite, bs, started, elapsed)

    def _run_chunk(self, started: float) -> None:
        partial = self._partial
        batches, done = partial["batches"], partial["done"]
        chunk = batches[done: done + self._chunk_steps]
        t0 = time.perf_counter()
        self.engine.train_chunk(chunk)
        elapsed = time.perf_counter() - t0
        partial["done"] = done + len(chunk)
        partial["elapsed"] = partial.get("elapsed", 0.0) + elapsed
        self._chunk_steps = _adapt_chunk(elapsed, len(chunk))
        if partial["done"] < len(batches):
            elapsed = time.perf_counter() - started
            self.clock += elapsed
            self._since_checkpoint += elapsed
            self._since_flush += elapsed
            return
        self._partial = None
        values, finite = self.engine.end_epoch()
        self._chunked_epoch_seconds = partial.get("elapsed", 0.0) + (time.perf_counter() - t0) - elapsed
        self._finish_epochs([values], finite, partial["bs"], started, partial["elapsed"])
        self._trace_rest_soon()

    def _finish_epochs(self, rows: list[dict], finite: bool, bs: int, started: float, train_elapsed: float):
        """Records the epochs of one call: `rows` are their metrics, oldest first; if not
        `finite`, the last one diverged (and was rolled back): the run fails there."""
        self.train_seconds += train_elapsed
        self._since_probe += train_elapsed
        good = rows if finite else rows[:-1]
        call_elapsed = time.perf_counter() - started
        per_epoch = call_elapsed / len(rows)
        base = self.clock
        recorded = []
        thinned = Thinned()
        for i, values in enumerate(good):
            metrics = dict(values, lr=self._applied_lr, batch_size=bs)
            probes = plane = None
            if i == len(good) - 1 and finite:
                last_of_budget = self.control.epochs_allowed() == 1  # earlier epochs are counted
                # until the probe is compiled (in the first second or so) it runs eagerly, at ~10x the
                # cost: then once a second, the slowest cadence charts allow
                eager = not self.probe.traced(self.x_probe.shape)
                interval = self.probe_config.max_interval if eager else self.probe_config.interval(self._probe_cost)
                if self._since_probe >= interval or last_of_budget:
                    probes, plane = self._measure()
            snapshot = Snapshot(self.epoch + 1, base + (i + 1) * per_epoch, MappingProxyType(metrics), probes, plane)
            thinned.extend(self.history.append(snapshot))
            recorded.append(snapshot)
            self.epoch += 1
            self.control.epoch_done()
        elapsed = time.perf_counter() - started
        self.clock = base + elapsed
        self._since_checkpoint += elapsed
        self._since_flush += elapsed
        if self.sink is not None:
            self.sink.add(self, recorded, thinned)
        if finite:
            return
        metrics = rows[-1]
        bad = metrics["loss"] if not math.isfinite(metrics["loss"]) else metrics["val_loss"]
        self.control.fail(
            f"Training diverged at epoch {self.epoch + 1}: the loss became {bad}. "
            f"The weights of epoch {self.epoch} were kept. Try a lower learning rate "
            f"(it is {self._applied_lr:g})"
            + (f" or a smaller energy penalty (it is {self.spec.penalty:g})" if self.spec.penalty else "")
            + f", then Train continues from epoch {self.epoch}; or Reset for a fresh model."
        )

    # ------------------------------------------------------------ probes

    def _measure(self) -> tuple[Probes, Any]:
        first = self._measured == 0
        probes = measure(self.probe, self.probe_setup, self.probe_config)
        plane = self.plane_view() if self._plane_grid is not None else None
        self._measured += 1
        if not first:  # the first measurement pays one-time costs: it says nothing of the cadence
            self._probe_cost = probes.seconds
        self._since_probe = 0.0
        return probes, plane

    def _finish_probes(self) -> None:
        """Makes sure the last recorded epoch carries probes."""
        last = self.history.latest
        if last is not None and not last.has_probes and last.epoch == self.epoch and not self.engine.mid_epoch:
            probes, plane = self._measure()
            thinned = self.history.attach_probes(probes, plane)
            if self.sink is not None:
                self.sink.add(self, [self.history.latest], thinned, replace_last=True)

    def plane_view(self):
        """The input-plane view of the current weights (2-D data with a raw table only)."""
        from infoif.train.plane import evaluate_plane

        return evaluate_plane(self.model, self.dataset, self._plane_grid)

    # ------------------------------------------------------------ export

    def finished_model(self):
        """The model with the weights of the last finished epoch (itself, unless mid-epoch)."""
        if not self.engine.mid_epoch:
            return self.model
        from infoif.nn.models import build_model

        copy = build_model(self.spec, self.dataset.input_dim, self.dataset.task, self.dataset.num_classes)
        copy.set_weights(self.engine.state()[: len(self.model.weights)])
        return copy

    def raw_model(self):
        """The model as its download gives it: the data's raw columns in, answers in the user's
        terms out (`infoif.export`), at the last finished epoch."""
        from infoif import export

        return export.raw_row_model(self.finished_model(), self.dataset)

    def export_model(self) -> bytes:
        """The trained core model (prepared features in) as `.keras` bytes (call between two
        calls, as every verb); the download is `raw_model()`."""
        import os
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.keras")
            self.model.save(path)
            with open(path, "rb") as f:
                return f.read()


def warm_up(interrupted=lambda: False) -> bool:
    """Takes a tiny model through every path a run uses once (an eager epoch, the chunked and
    fused paths, the compiled probe, an export), so that TensorFlow's and Keras' one-time costs
    (lazy imports, the process's first traces and first calls) are paid before a real run needs
    them: a fresh process's first run took 1.7-1.8 s from start to its model exported, the next
    new graph 0.6-0.7 s; after this warm-up (1.7-1.9 s) the first took 0.6-0.7 s too. A worker
    does it while it has nothing else to do. Stops between two of its steps once `interrupted()`
    (real work waits); returns whether it went through."""
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    tiny = SimpleNamespace(name="warm-up", x_train=x[:48], y_train=y[:48], x_val=x[48:], y_val=y[48:],
                           task="binary", num_classes=2, input_dim=2)
    runner = Runner(ModelSpec(num_interfaces=2, units=2), tiny, batch_size=16)
    runner.command("train", epochs=3)  # the first eagerly, then the chunked path traced
    while not interrupted() and runner.advance():
        pass
    if interrupted():
        return False
    runner.trace_rest()  # the fused path and the compiled probe, in the background: waited for
    runner.engine.wait_traced(120)
    if runner._probe_tracer is not None:
        runner._probe_tracer.join(120)
    if interrupted():
        return False
    runner.command("train", epochs=2)  # on the fused path
    while runner.advance():
        pass
    runner.export_model()
    return True


def _adapt_chunk(seconds: float, steps: int) -> int:
    """Steps per compiled call so that one call takes about CHUNK_SECONDS."""
    per_step = seconds / max(steps, 1)
    return int(min(4096, max(1, CHUNK_SECONDS / max(per_step, 1e-6))))


def _plane_grid(dataset, frame):
    if frame is None:
        return None
    from infoif.train.plane import is_planar, plane_grid

    return plane_grid(dataset, frame) if is_planar(dataset) else None

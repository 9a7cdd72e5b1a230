"""Live training in a background thread of this process: `Trainer`.

`Trainer(spec, dataset, seed)` trains its model in a thread of its own, so a
caller never blocks: `start`, `pause`, `resume`, `step`, `stop`,
`set_learning_rate`, `set_batch_size`. Every epoch appends an immutable
`Snapshot` to `history`; probe measurements (weights, output distributions,
energy curves, information-plane estimates) ride on some of them, at a
cadence that keeps their cost near a tenth of training time.

The work is a `infoif.train.runner.Runner`'s, one compiled call (~0.1 s) at a time;
the thread applies every verb between two calls and only then returns from
it, so after `pause()` returns no further epoch is recorded, and `step()`
records exactly one. The dashboard's training service runs the very same
runners in worker processes (`infoif.runs.service`); the command line uses a
`Trainer` with the store's writer as its sink.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Callable

from infoif.train.control import STATUSES
from infoif.train.history import Snapshot, history_csv
from infoif.train.probes import ProbeConfig
from infoif.train.runner import Runner
from infoif.nn.spec import ModelSpec

__all__ = ["Trainer", "Snapshot", "STATUSES"]

COMMAND_TIMEOUT = 120.0  # a verb waits at most this long for the call in flight (tracing included)


class _Command:
    def __init__(self, fn: Callable):
        self.fn = fn
        self.done = threading.Event()
        self.result = None
        self.error: BaseException | None = None

    def run(self, runner):
        try:
            self.result = self.fn(runner)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self.error = exc
        finally:
            self.done.set()


class _Owner:
    """What the trainer and its thread share; holds no reference to the trainer, so an
    abandoned trainer is collected and its thread ends."""

    def __init__(self, runner: Runner):
        self.runner = runner
        self.cond = threading.Condition()
        self.queue: list[_Command] = []
        self.thread: threading.Thread | None = None
        self.closed = False

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()


def _thread_main(owner: _Owner):
    runner = owner.runner
    while True:
        with owner.cond:
            while not owner.queue and not (runner.control.wants_work and not owner.closed):
                if owner.closed or runner.status != "paused":
                    owner.thread = None  # decided under the lock: a new verb starts a new thread
                    owner.cond.notify_all()
                    return
                owner.cond.wait(0.5)
            commands, owner.queue = owner.queue, []
        for command in commands:
            command.run(runner)
        if runner.control.wants_work and not owner.closed:
            runner.advance()


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
        frame: the raw table, for the input-plane view of 2-D data (optional).
        sink: a store writer that mirrors the run on disk (optional; see `infoif.runs.store`).
        checkpoint, history: continue a stored run (see `infoif.runs.store.Store.resume_parts`).
    """

    def __init__(self, spec: ModelSpec, dataset, seed: int = 0, batch_size: int = 32,
                 probe_config: ProbeConfig | None = None, name: str | None = None, frame=None,
                 sink=None, checkpoint=None, history=None):
        from infoif.train.control import check_batch_size

        check_batch_size(batch_size)
        self.name = name or getattr(dataset, "name", "run")
        self._runner = Runner(spec, dataset, seed=seed, batch_size=batch_size, probe_config=probe_config,
                              frame=frame, sink=sink, checkpoint=checkpoint, history=history, name=self.name)
        self._owner = _Owner(self._runner)
        weakref.finalize(self, self._owner.close)

    # ------------------------------------------------------------ properties

    spec = property(lambda self: self._runner.spec)
    dataset = property(lambda self: self._runner.dataset)
    seed = property(lambda self: self._runner.seed)
    probe_config = property(lambda self: self._runner.probe_config)
    model = property(lambda self: self._runner.model)
    probe = property(lambda self: self._runner.probe)
    x_probe = property(lambda self: self._runner.x_probe)
    y_probe = property(lambda self: self._runner.y_probe)
    hist_edges = property(lambda self: self._runner.hist_edges)
    probe_setup = property(lambda self: self._runner.probe_setup)

    @property
    def status(self) -> str:
        return self._runner.control.status

    @property
    def error(self) -> str | None:
        return self._runner.control.error

    @property
    def history(self) -> tuple[Snapshot, ...]:
        """All snapshots, oldest first (a tuple: later epochs do not change it)."""
        return self._runner.history.snapshots()

    @property
    def latest(self) -> Snapshot | None:
        return self._runner.history.latest

    @property
    def epoch(self) -> int:
        return self._runner.epoch

    @property
    def learning_rate(self) -> float:
        return self._runner.control.learning_rate

    @property
    def batch_size(self) -> int:
        return self._runner.control.batch_size

    @property
    def epochs_left(self) -> int | None:
        return self._runner.control.budget

    @property
    def train_seconds(self) -> float:
        """Seconds spent in compiled training calls (without probes and waiting)."""
        return self._runner.train_seconds

    # ------------------------------------------------------------ controls

    def _call(self, fn: Callable, timeout: float = COMMAND_TIMEOUT):
        """Runs `fn(runner)` between two calls of the training thread (or here, if none runs),
        and returns its result once applied."""
        owner = self._owner
        with owner.cond:
            if owner.thread is None:
                result = fn(self._runner)
                if self._runner.control.wants_work:
                    owner.thread = threading.Thread(target=_thread_main, args=(owner,),
                                                    name=f"infoif-trainer-{self.name}", daemon=True)
                    owner.thread.start()
                return result
            command = _Command(fn)
            owner.queue.append(command)
            owner.cond.notify_all()
        if not command.done.wait(timeout):
            raise TimeoutError(f"The training thread did not answer within {timeout:g} s.")
        if command.error is not None:
            raise command.error
        return command.result

    def prepare_ahead(self, epochs: int) -> None:
        """Traces what `epochs` epochs will use before any is trained, for a run whose first epochs
        nobody waits for (a Dask task's): see `infoif.train.runner.Runner.prepare_ahead`."""
        self._call(lambda r: r.prepare_ahead(epochs))

    def start(self, epochs: int | None = None) -> None:
        """Trains `epochs` more epochs (None: until stopped). Also restarts a stopped run."""
        from infoif.train.control import check_epochs

        check_epochs(epochs)
        self._call(lambda r: r.command("train", epochs=epochs))

    def pause(self) -> None:
        """Pauses after the call in flight (about 0.1 s); no further epoch is recorded."""
        self._call(lambda r: r.command("pause"))

    def resume(self) -> None:
        self._call(lambda r: r.command("resume"))

    def step(self) -> None:
        """Runs exactly one more epoch, then pauses. Does nothing while running."""
        self._call(lambda r: r.command("step"))

    def stop(self, timeout: float = 5.0) -> None:
        """Stops training (an interrupted epoch is rolled back) and waits for the thread."""
        self._call(lambda r: r.command("stop"))
        self.wait(timeout)

    close = stop

    def wait(self, timeout: float | None = None) -> bool:
        """Waits until the thread ends (finished, stopped, failed); True if it did."""
        owner = self._owner
        deadline = None if timeout is None else time.monotonic() + timeout
        with owner.cond:
            while owner.thread is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                owner.cond.wait(left if left is not None else 1.0)
        return True

    def wait_for_epoch(self, epoch: int, timeout: float = 30.0) -> bool:
        """Waits until `epoch` epochs are done (or the run ends); True if reached."""
        deadline = time.monotonic() + timeout
        while self.epoch < epoch and time.monotonic() < deadline:
            if self._owner.thread is None:
                break
            time.sleep(0.005)
        return self.epoch >= epoch

    def set_learning_rate(self, lr: float) -> None:
        """Takes effect at the next epoch (within about 0.1 s)."""
        from infoif.train.control import check_learning_rate

        check_learning_rate(lr)
        self._call(lambda r: r.command("lr", lr=lr))

    def set_batch_size(self, n: int) -> None:
        """Takes effect at the next epoch (within about 0.1 s)."""
        from infoif.train.control import check_batch_size

        check_batch_size(n)
        self._call(lambda r: r.command("batch_size", n=n))

    # ------------------------------------------------------------ export

    def export_model(self) -> bytes:
        """The model as `.keras` bytes, taken between two calls (consistent while training): it
        reads the dataset's raw columns and answers in its terms (`infoif.export`)."""
        from infoif import export

        return self._call(lambda r: export.export_keras(r.finished_model(), r.dataset))

    def history_csv(self) -> str:
        """One row per epoch: metrics, and per-interface probe summaries where measured."""
        return history_csv(self.history, self.spec.num_interfaces)

"""Writing a run's records behind its training: one writer thread per process."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dataclasses
import logging
import os
import queue
import sqlite3
import threading
import time

import numpy as np

from infoif.train.control import ACTIVE
from infoif.train.history import Snapshot, Thinned
from infoif.runs.store.files import dumps, owner_label, save_npz, write_atomic
from infoif.runs.store.records import heavy_to_arrays, metric_line, probe_name, probes_to_arrays, save_checkpoint

if TYPE_CHECKING:
    from infoif.runs.store.files import Folders

__all__ = ["RunWriter", "WriterThread", "HEARTBEAT_SECONDS", "MODEL_SECONDS"]

HEARTBEAT_SECONDS = 1.0  # a writing process marks its active runs alive this often
MODEL_SECONDS = 30.0  # while running, model.keras is rewritten at most this often


class WriterThread(threading.Thread):
    """One per process: writes every run's records in order, and their heartbeats."""

    def __init__(self, store: Folders):
        super().__init__(name="infoif-store-writer", daemon=True)
        self.store = store
        self.jobs: queue.Queue = queue.Queue()
        self.active: dict[str, str] = {}  # run id -> owner, for heartbeats
        self._last_beat = 0.0

    def run(self):
        while True:
            try:
                job = self.jobs.get(timeout=HEARTBEAT_SECONDS)
            except queue.Empty:
                job = None
            if job is not None:
                fn, done = job
                try:
                    fn()
                except Exception as exc:  # noqa: BLE001 - a full disk must not kill training
                    logging.getLogger("infoif.store").exception("Could not write a run record: %s", exc)
                finally:
                    if done is not None:
                        done.set()
            now = time.time()
            if now - self._last_beat >= HEARTBEAT_SECONDS and self.active:
                self._last_beat = now
                try:
                    db = self.store._db()
                    db.executemany("UPDATE runs SET heartbeat = ?, owner = ? WHERE id = ?",
                                   [(now, owner, rid) for rid, owner in list(self.active.items())])
                except sqlite3.Error:
                    pass

    def submit(self, fn, wait: bool = False, timeout: float = 60.0) -> None:
        done = threading.Event() if wait else None
        self.jobs.put((fn, done))
        if done is not None:
            done.wait(timeout)


class RunWriter:
    """Mirrors one run's history on disk, behind its training (see the module docstring).

    Called by the run's owner between two compiled calls: `add` buffers recorded
    epochs, `flush` hands them (and a checkpoint) to the writer thread, `status`
    writes the status and waits until everything before it is on disk.
    """

    def __init__(self, store: Folders, run_id: str, thread: WriterThread, worker: str):
        self.store, self.run_id, self.thread, self.worker = store, run_id, thread, worker
        self.dir = store.run_dir(run_id)
        self._buffer: list[Snapshot] = []
        self._thinned = Thinned()
        self._rewrite = False
        self._last_model = 0.0
        self._model_epoch = -1  # the epoch whose model was written last
        self._setup_written = False
        self.budget_end: int | None = None

    def add(self, runner, snapshots, thinned: Thinned, replace_last: bool = False) -> None:
        if replace_last:
            # the newest epoch got its probes after it was recorded: re-write its probe files
            snap = snapshots[-1]
            if self._buffer and self._buffer[-1].epoch == snap.epoch:
                self._buffer[-1] = snap
            else:
                self._buffer.append(dataclasses.replace(snap, metrics=None))  # probes only
        else:
            self._buffer.extend(snapshots)
        self._thinned.extend(thinned)
        if thinned.dropped:
            self._rewrite = True

    def flush(self, runner, checkpoint=None, wait: bool = False, model: bool = True) -> None:
        snapshots, thinned, rewrite = self._buffer, self._thinned, self._rewrite
        self._buffer, self._thinned, self._rewrite = [], Thinned(), False
        all_snapshots = runner.history.snapshots() if rewrite else None
        summary = self._summary(runner)
        model_bytes = None
        now = time.monotonic()
        final = runner.control.status not in ("running",)
        setup = None
        if not self._setup_written:
            setup, self._setup_written = runner.probe_setup.to_flat(), True
        if not self._last_model and runner.done_when_ended:
            # A sweep's run: nobody downloads it while it trains, so its model is written at its end (or
            # after MODEL_SECONDS), not at its first flush too (exporting took 20-30 ms of a 0.3 s run).
            self._last_model = now
        if model and (final or now - self._last_model >= MODEL_SECONDS) and runner.epoch \
                and not runner.engine.mid_epoch and runner.epoch != self._model_epoch:
            model_bytes = runner.export_model()  # once per epoch: a run that ends is settled twice or more
            self._last_model, self._model_epoch = now, runner.epoch
        self.thread.submit(lambda: self._write(snapshots, thinned, all_snapshots, checkpoint, summary, model_bytes,
                                               setup), wait=wait)

    def resync(self, runner) -> None:
        """Makes the files end where the runner starts (a resume from a checkpoint older than
        the last written epochs): the next flush rewrites the metrics, and later probe files go."""
        self._rewrite = True
        epoch = runner.epoch
        folder = self.dir / "probes"

        def drop_later():
            for entry in os.scandir(folder):
                if entry.name.endswith(".npz") and not entry.name.startswith(".") \
                        and int(entry.name.split(".")[0]) > epoch:
                    os.unlink(entry.path)

        self.thread.submit(drop_later)
        self.flush(runner, model=False)

    def close(self, runner) -> None:
        """The run leaves this process (its status was written by `status`)."""
        self.thread.active.pop(self.run_id, None)

    def status(self, runner) -> None:
        """Writes the status; returns once it (and everything before it) is on disk."""
        summary = self._summary(runner)
        if runner.control.status in ACTIVE:
            self.thread.active[self.run_id] = owner_label()
        else:
            self.thread.active.pop(self.run_id, None)
        self.thread.submit(lambda: self._write_status(summary), wait=True)

    def _summary(self, runner) -> dict:
        latest = runner.history.latest
        probed = runner.history.last_probed
        energy = float(np.mean(probed.probes.energy_final)) if probed is not None else None
        budget = runner.control.budget
        return {"status": runner.control.status, "error": runner.control.error, "epochs": runner.epoch,
                "metrics": dict(latest.metrics) if latest is not None else {}, "mean_energy": energy,
                "gaps": list(runner.history.gaps), "worker": self.worker,
                "budget_end": runner.epoch + budget if budget is not None and runner.control.status == "running"
                else self.budget_end}

    # -------------------------------------------------------- in the writer thread

    def _write(self, snapshots, thinned, all_snapshots, checkpoint, summary, model_bytes, setup=None):
        probes_dir = self.dir / "probes"
        if not self.dir.exists():
            return  # the run was deleted
        if setup is not None:
            save_npz(self.dir / "setup.npz", setup)
        for snap in snapshots:
            if snap.probes is not None:
                name = probe_name(snap.epoch)
                heavy = heavy_to_arrays(snap)
                if heavy is not None:
                    save_npz(probes_dir / f"{name}.heavy.npz", heavy)
                save_npz(probes_dir / f"{name}.npz", probes_to_arrays(snap.probes))
        for epoch in thinned.unheavy:
            (probes_dir / f"{probe_name(epoch)}.heavy.npz").unlink(missing_ok=True)
        for epoch in thinned.unprobed:
            (probes_dir / f"{probe_name(epoch)}.heavy.npz").unlink(missing_ok=True)
            (probes_dir / f"{probe_name(epoch)}.npz").unlink(missing_ok=True)
        metrics_path = self.dir / "metrics.jsonl"
        if all_snapshots is not None:
            write_atomic(metrics_path, "".join(metric_line(s) for s in all_snapshots))
        else:
            lines = "".join(metric_line(s) for s in snapshots if s.metrics is not None)
            if lines:
                with open(metrics_path, "a") as f:
                    f.write(lines)
        if checkpoint is not None:
            save_checkpoint(self.dir / "checkpoint.npz", checkpoint)
        if model_bytes is not None:
            write_atomic(self.dir / "model.keras", model_bytes)
        self._write_status(summary)

    def _write_status(self, summary):
        if not self.dir.exists():
            return
        summary = dict(summary, updated=time.time())
        write_atomic(self.dir / "status.json", dumps(summary))
        self.store._db().execute(
            "UPDATE runs SET status = ?, error = ?, epochs = ?, metrics = ?, mean_energy = ?, gaps = ?, worker = ?, "
            "budget_end = ?, updated = ?, heartbeat = ?, owner = ? WHERE id = ?",
            (summary["status"], summary["error"], summary["epochs"], dumps(summary["metrics"]),
             summary["mean_energy"], dumps(summary["gaps"]), summary["worker"], summary["budget_end"],
             summary["updated"], time.time(), owner_label(), self.run_id))

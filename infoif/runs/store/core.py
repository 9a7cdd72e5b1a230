"""The store itself: the sqlite index, workspaces, uploads, datasets and runs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import secrets
import shutil
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from infoif.train.control import ACTIVE
from infoif.train.history import History
from infoif.train.probes import ProbeConfig
from infoif.nn.spec import ModelSpec
from infoif.runs.store.files import (FORMAT, StoreError, default_home, dumps, new_id, owner_label, pid_alive,
                                read_json, write_atomic)
from infoif.runs.store.reader import RunReader
from infoif.runs.store.records import load_checkpoint
from infoif.runs.store.writer import RunWriter, WriterThread

__all__ = ["Store", "RunInfo", "Opened", "STALE_SECONDS", "fresh_run_key", "model_signature"]

STALE_SECONDS = 15.0  # an active run whose writer has been silent this long was interrupted


def fresh_run_key(spec: dict, dataset: dict, seed: int, batch_size: int, probe_config: dict) -> str:
    """What makes a fresh run's model and first epochs: two runs with the same key start the
    same, so a worker can build (and trace) one before it is asked for (see infoif.runs.service)."""
    return dumps({"spec": spec, "dataset": dataset, "seed": int(seed), "batch_size": int(batch_size),
                  "probe_config": probe_config}, sort_keys=True)


def model_signature(spec: dict, dataset: dict, workspace: str) -> str:
    """What a run's compiled functions depend on: the spec but its learning rate (a variable),
    the data (captured in them), and the workspace (a model is never handed to another user).
    Runs with the same signature can train on one compiled model in turn (infoif.runs.worker)."""
    from infoif.constants import NOT_IN_GRAPH

    spec = {k: v for k, v in spec.items() if k not in NOT_IN_GRAPH}
    return dumps({"spec": spec, "dataset": dataset, "workspace": workspace}, sort_keys=True)


@dataclass(frozen=True)
class Opened:
    """A dataset reference opened: the raw table, the prepared dataset, and how it was read."""

    frame: object  # pandas.DataFrame
    dataset: object  # infoif.data.Dataset
    report: object  # infoif.data.LoadReport


@dataclass(frozen=True)
class RunInfo:
    """One run as the index lists it."""

    id: str
    workspace: str
    name: str
    created: float
    updated: float
    status: str
    error: str | None
    epochs: int
    dataset: dict  # the dataset reference (see Store.dataset)
    dataset_name: str
    spec: ModelSpec
    seed: int
    metrics: dict  # the latest epoch's metrics
    mean_energy: float | None
    worker: str | None
    budget_end: int | None  # the epoch at which the current budget ends
    sweep: str | None
    gaps: tuple = ()

    def summary(self) -> dict:
        """One row for a runs table."""
        row = {"run": self.name, "id": self.id, "dataset": self.dataset_name, "status": self.status,
               **self.spec.to_dict(), "seed": self.seed, "epochs": self.epochs}
        row.update({k: v for k, v in self.metrics.items() if k not in ("lr", "batch_size")})
        if self.mean_energy is not None:
            row["mean_energy"] = self.mean_energy
        return row

    def to_json(self) -> dict:
        return {"id": self.id, "workspace": self.workspace, "name": self.name, "created": self.created,
                "updated": self.updated, "status": self.status, "error": self.error, "epochs": self.epochs,
                "dataset": self.dataset_name, "dataset_ref": self.dataset, "spec": self.spec.to_dict(),
                "seed": self.seed, "metrics": self.metrics, "mean_energy": self.mean_energy,
                "worker": self.worker, "sweep": self.sweep}


# ---------------------------------------------------------------- the store


_SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (id TEXT PRIMARY KEY, created REAL NOT NULL, seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, workspace TEXT NOT NULL, num INTEGER NOT NULL, name TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL, status TEXT NOT NULL, error TEXT,
    epochs INTEGER NOT NULL DEFAULT 0, dataset TEXT NOT NULL, dataset_name TEXT NOT NULL,
    spec TEXT NOT NULL, seed INTEGER NOT NULL, metrics TEXT NOT NULL DEFAULT '{}', mean_energy REAL,
    worker TEXT, owner TEXT, heartbeat REAL, budget_end INTEGER, sweep TEXT, gaps TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS runs_by_workspace ON runs (workspace, num);
CREATE TABLE IF NOT EXISTS uploads (sha256 TEXT PRIMARY KEY, filename TEXT NOT NULL, size INTEGER NOT NULL,
                                    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sweeps (id TEXT PRIMARY KEY, workspace TEXT NOT NULL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sweeps_by_workspace ON sweeps (workspace, created);
CREATE TABLE IF NOT EXISTS workspace_uploads (workspace TEXT NOT NULL, sha256 TEXT NOT NULL,
                                              PRIMARY KEY (workspace, sha256));
"""

_RUN_COLUMNS = ("id, workspace, name, created, updated, status, error, epochs, dataset, dataset_name, spec, seed, "
                "metrics, mean_energy, worker, budget_end, sweep, gaps")


class Store:
    """A workspace store in the directory `home` (made if missing)."""

    def __init__(self, home: str | os.PathLike | None = None):
        self.home = Path(home).expanduser() if home is not None else default_home()
        try:
            for sub in ("workspaces", "uploads", "runs", "sweeps"):
                (self.home / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot use {self.home} as the InfoIF home ({exc}). Choose a writable "
                             "directory with --home or INFOIF_HOME.") from None
        self._local = threading.local()
        self._readers: OrderedDict[str, RunReader] = OrderedDict()
        self._readers_lock = threading.Lock()
        self._datasets: OrderedDict[str, tuple] = OrderedDict()
        self._datasets_lock = threading.Lock()
        self._writer: WriterThread | None = None
        self._writer_lock = threading.Lock()
        marker = self.home / "infoif-store.json"
        if not marker.exists():
            write_atomic(marker, dumps({"format": FORMAT, "created": time.time()}))
        missing = not self.index_path.exists()
        self._db()  # creates the schema (or rebuilds a damaged index)
        if missing and any(any((self.home / sub).iterdir()) for sub in ("runs", "sweeps", "workspaces")):
            self.rebuild_index()  # the index was lost, the files were not

    # ------------------------------------------------------------ index

    @property
    def index_path(self) -> Path:
        return self.home / "index.sqlite"

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.index_path, timeout=30, isolation_level=None, check_same_thread=True)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=30000")
        db.executescript(_SCHEMA)
        return db

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = self._connect()
                db.execute("SELECT count(*) FROM runs").fetchone()
            except sqlite3.DatabaseError:
                db = self._recover_index()
            self._local.db = db
        return db

    def _recover_index(self) -> sqlite3.Connection:
        """A damaged index is set aside and rebuilt from the files."""
        damaged = self.index_path.with_name(f"index.damaged-{int(time.time())}.sqlite")
        for suffix in ("", "-wal", "-shm"):
            path = Path(str(self.index_path) + suffix)
            if path.exists():
                os.replace(path, Path(str(damaged) + suffix))
        db = self._connect()
        self._local.db = db
        self.rebuild_index()
        return db

    def rebuild_index(self) -> int:
        """Re-creates the index rows from the workspace and run files; returns the runs found."""
        db = self._db()
        count = 0
        for path in sorted((self.home / "workspaces").glob("*.json")):
            st = path.stat()
            db.execute("INSERT OR IGNORE INTO workspaces VALUES (?, ?, ?)", (path.stem, st.st_mtime, st.st_mtime))
        for path in sorted((self.home / "sweeps").glob("*.json")):
            try:
                record = read_json(path, "sweep")
                db.execute("INSERT OR IGNORE INTO sweeps VALUES (?, ?, ?)",
                           (record["id"], record["workspace"], record["created"]))
            except (StoreError, KeyError):
                continue
        for run_dir in sorted((self.home / "runs").iterdir()):
            try:
                settings = read_json(run_dir / "run.json", "settings")
                status = read_json(run_dir / "status.json", "status")
            except StoreError:
                continue
            self._insert_run(settings, status)
            count += 1
        return count

    def _insert_run(self, settings: dict, status: dict) -> None:
        self._db().execute(
            "INSERT OR REPLACE INTO runs (id, workspace, num, name, created, updated, status, error, epochs, "
            "dataset, dataset_name, spec, seed, metrics, worker, budget_end, sweep, gaps, mean_energy) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (settings["id"], settings["workspace"], settings["num"], settings["name"], settings["created"],
             status.get("updated", settings["created"]), status.get("status", "idle"), status.get("error"),
             status.get("epochs", 0), dumps(settings["dataset"]), settings["dataset_name"],
             dumps(settings["spec"]), settings["seed"], dumps(status.get("metrics", {})), status.get("worker"),
             status.get("budget_end"), settings.get("sweep"), dumps(status.get("gaps", [])),
             status.get("mean_energy")),
        )

    # ------------------------------------------------------------ workspaces

    def create_workspace(self) -> str:
        ws = new_id()
        now = time.time()
        write_atomic(self.home / "workspaces" / f"{ws}.json", dumps({"id": ws, "created": now, "state": {}}))
        self._db().execute("INSERT INTO workspaces VALUES (?, ?, ?)", (ws, now, now))
        return ws

    @staticmethod
    def valid_workspace_id(ws) -> bool:
        return isinstance(ws, str) and 16 <= len(ws) <= 64 and all(c.isalnum() or c in "-_" for c in ws)

    def workspace_exists(self, ws) -> bool:
        if not self.valid_workspace_id(ws):
            return False
        return (self.home / "workspaces" / f"{ws}.json").exists()

    def workspace_state(self, ws: str) -> dict:
        data = read_json(self.home / "workspaces" / f"{ws}.json", "The workspace file")
        self._db().execute("UPDATE workspaces SET seen = ? WHERE id = ?", (time.time(), ws))
        return data.get("state", {})

    def save_workspace_state(self, ws: str, state: dict) -> None:
        path = self.home / "workspaces" / f"{ws}.json"
        try:
            created = json.loads(path.read_text()).get("created", time.time())
        except (OSError, ValueError):
            created = time.time()
        write_atomic(path, dumps({"id": ws, "created": created, "state": state}))

    def delete_workspace(self, ws: str) -> None:
        """Deletes a workspace with all its runs, and the uploads no other workspace uses."""
        for info in self.runs(ws):
            self.delete_run(info.id)
        for record in self.sweeps(ws):
            self.delete_sweep(record["id"])
        db = self._db()
        shas = [r[0] for r in db.execute("SELECT sha256 FROM workspace_uploads WHERE workspace = ?", (ws,))]
        db.execute("DELETE FROM workspace_uploads WHERE workspace = ?", (ws,))
        for sha in shas:
            if db.execute("SELECT 1 FROM workspace_uploads WHERE sha256 = ?", (sha,)).fetchone() is None:
                db.execute("DELETE FROM uploads WHERE sha256 = ?", (sha,))
                (self.home / "uploads" / sha).unlink(missing_ok=True)
        db.execute("DELETE FROM workspaces WHERE id = ?", (ws,))
        (self.home / "workspaces" / f"{ws}.json").unlink(missing_ok=True)

    # ------------------------------------------------------------ uploads

    def put_upload(self, ws: str, data: bytes, filename: str) -> str:
        """Keeps an uploaded file once, by content; returns its sha256."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.home / "uploads" / sha
        if not path.exists():
            write_atomic(path, bytes(data))
        db = self._db()
        db.execute("INSERT OR IGNORE INTO uploads VALUES (?, ?, ?, ?)", (sha, filename, len(data), time.time()))
        db.execute("INSERT OR IGNORE INTO workspace_uploads VALUES (?, ?)", (ws, sha))
        return sha

    def upload_bytes(self, sha: str) -> bytes:
        if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
            raise StoreError(f"Not an upload reference. Received: sha256={sha!r}")
        try:
            return (self.home / "uploads" / sha).read_bytes()
        except FileNotFoundError:
            raise StoreError("The uploaded file of this workspace is no longer in the store; "
                             "upload it again.") from None

    # ------------------------------------------------------------ datasets

    def dataset(self, ref: dict) -> "Opened":
        """The data of a reference, read and prepared as the run's data was: an `Opened` with
        the raw frame, the prepared dataset and the load report.

        A reference is a dict: {"kind": "sample", "name": ...} or {"kind": "upload", "sha256":
        ..., "filename": ...}, with "target", "task" ("auto" or a task), "seed", and optional
        "load_options" ({"encoding", "delimiter"}) and "prepare_options" ({"features",
        "kinds"}): plain JSON. Reading and preparing are deterministic, so every process gets
        the same arrays. The last few are cached in this process.
        """
        key = dumps(ref, sort_keys=True)
        with self._datasets_lock:
            if key in self._datasets:
                self._datasets.move_to_end(key)
                return self._datasets[key]
        got = self._open_dataset(ref)
        with self._datasets_lock:
            self._datasets[key] = got
            while len(self._datasets) > 4:
                self._datasets.popitem(last=False)
        return got

    def _open_dataset(self, ref: dict) -> "Opened":
        from infoif import data as data_lib
        from infoif import datasets
        from infoif.constants import AUTO

        kind = ref.get("kind")
        if kind == "sample":
            loaded = datasets.read_sample(ref["name"])
            name = ref["name"]
        elif kind == "upload":
            loaded = data_lib.read_table(self.upload_bytes(ref["sha256"]), filename=ref["filename"],
                                         **ref.get("load_options", {}))
            name = ref["filename"]
        else:
            raise StoreError(f"Unknown dataset reference. Received: kind={kind!r}")
        task = ref.get("task", AUTO)
        dataset = data_lib.prepare(loaded, ref["target"], task=None if task == AUTO else task,
                                   seed=int(ref.get("seed", 0)), name=name, **ref.get("prepare_options", {}))
        return Opened(loaded.frame, dataset, loaded.report)

    # ------------------------------------------------------------ runs

    def run_dir(self, run_id: str) -> Path:
        if not (isinstance(run_id, str) and run_id.isalnum()):
            raise StoreError(f"Not a run id. Received: run_id={run_id!r}")
        return self.home / "runs" / run_id

    def create_run(self, workspace: str, spec: ModelSpec, dataset_ref: dict, dataset_name: str, seed: int = 0,
                   batch_size: int = 32, probe_config: ProbeConfig | None = None, sweep: str | None = None) -> RunInfo:
        """A new run (status idle) in a workspace, named run-<k> in order of creation."""
        run_id = secrets.token_hex(8)
        probe_config = probe_config or ProbeConfig()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            num = db.execute("SELECT coalesce(max(num), 0) + 1 FROM runs WHERE workspace = ?",
                             (workspace,)).fetchone()[0]
            now = time.time()
            settings = {"id": run_id, "workspace": workspace, "num": num, "name": f"run-{num}", "created": now,
                        "spec": spec.to_dict(), "dataset": dataset_ref, "dataset_name": dataset_name,
                        "seed": int(seed), "batch_size": int(batch_size),
                        "probe_config": dataclasses.asdict(probe_config), "sweep": sweep, "format": FORMAT}
            status = {"status": "idle", "epochs": 0, "updated": now, "gaps": []}
            run_dir = self.run_dir(run_id)
            (run_dir / "probes").mkdir(parents=True)
            write_atomic(run_dir / "run.json", dumps(settings))
            write_atomic(run_dir / "status.json", dumps(status))
            self._insert_run(settings, status)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return self.run_info(run_id)

    def run_settings(self, run_id: str) -> dict:
        return read_json(self.run_dir(run_id) / "run.json", "This run's settings file")

    def _info(self, row) -> RunInfo:
        (rid, ws, name, created, updated, status, error, epochs, dataset, dataset_name, spec, seed, metrics,
         mean_energy, worker, budget_end, sweep, gaps) = row
        try:
            spec = ModelSpec.from_dict(json.loads(spec))
        except (ValueError, TypeError):
            spec = ModelSpec()
        return RunInfo(rid, ws, name, created, updated, status, error, epochs, json.loads(dataset), dataset_name,
                       spec, seed, json.loads(metrics), mean_energy, worker, budget_end, sweep,
                       tuple(json.loads(gaps)))

    def run_info(self, run_id: str) -> RunInfo:
        row = self._db().execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"No run {run_id!r} in {self.home}.")
        return self._info(row)

    def has_run(self, run_id: str, workspace: str | None = None) -> bool:
        sql, args = "SELECT 1 FROM runs WHERE id = ?", [run_id]
        if workspace is not None:
            sql, args = sql + " AND workspace = ?", args + [workspace]
        return self._db().execute(sql, args).fetchone() is not None

    def runs(self, workspace: str | None = None, *, status: str | None = None, search: str | None = None,
             limit: int | None = None, offset: int = 0, newest_first: bool = False) -> list[RunInfo]:
        """Runs of a workspace (or all, for the command line), oldest first unless asked."""
        sql, args = f"SELECT {_RUN_COLUMNS} FROM runs WHERE 1", []
        if workspace is not None:
            sql, args = sql + " AND workspace = ?", args + [workspace]
        if status:
            sql, args = sql + " AND status = ?", args + [status]
        if search:
            like = f"%{search}%"
            sql += " AND (name LIKE ? OR dataset_name LIKE ? OR spec LIKE ? OR id LIKE ?)"
            args += [like, like, like, like]
        sql += f" ORDER BY created {'DESC' if newest_first else 'ASC'}, num"
        if limit is not None:
            sql, args = sql + " LIMIT ? OFFSET ?", args + [int(limit), int(offset)]
        return [self._info(row) for row in self._db().execute(sql, args)]

    def interrupted_sweep_runs(self) -> dict[str, list[str]]:
        """The interrupted runs of sweeps, by sweep id (the service's housekeeping queues those of
        the sweeps it coordinates again)."""
        out: dict[str, list[str]] = {}
        for run_id, sweep_id in self._db().execute(
                "SELECT id, sweep FROM runs WHERE status = 'interrupted' AND sweep IS NOT NULL"):
            out.setdefault(sweep_id, []).append(run_id)
        return out

    def count_runs(self, workspace: str | None = None, *, status: str | None = None, search: str | None = None) -> int:
        return len(self.runs(workspace, status=status, search=search))

    def delete_run(self, run_id: str) -> None:
        """Deletes a run's files and index row (the caller makes sure nothing trains it)."""
        self._db().execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)
        with self._readers_lock:
            self._readers.pop(run_id, None)

    def disk_bytes(self, workspace: str) -> int:
        total = 0
        for info in self.runs(workspace):
            for root, _, files in os.walk(self.run_dir(info.id)):
                for name in files:
                    try:
                        total += os.stat(os.path.join(root, name)).st_size
                    except OSError:
                        pass
        db = self._db()
        for (size,) in db.execute("SELECT u.size FROM uploads u JOIN workspace_uploads w ON u.sha256 = w.sha256 "
                                  "WHERE w.workspace = ?", (workspace,)):
            total += size
        return total

    def refresh_run(self, run_id: str) -> RunInfo:
        """Re-reads a run's index row from its files (after they were written from elsewhere, e.g. the
        results of a run trained on a Dask worker)."""
        self._insert_run(self.run_settings(run_id), read_json(self.run_dir(run_id) / "status.json", "status"))
        with self._readers_lock:
            self._readers.pop(run_id, None)
        return self.run_info(run_id)

    def set_progress(self, run_id: str, epochs: int, metrics: dict, worker: str | None = None,
                     status: str = "running", budget_end: int | None = None,
                     mean_energy: float | None = None) -> None:
        """Records how far a run trained elsewhere has got (its files arrive when it ends): the
        index's epochs and latest metrics, and status.json, with a fresh heartbeat by this process."""
        path = self.run_dir(run_id) / "status.json"
        try:
            current = json.loads(path.read_text())
        except (OSError, ValueError):
            current = {}
        now = time.time()
        current.update(status=status, error=None, epochs=int(epochs), metrics=metrics, updated=now,
                       owner=owner_label(), heartbeat=now, **({"worker": worker} if worker else {}),
                       **({"budget_end": budget_end} if budget_end is not None else {}),
                       **({"mean_energy": float(mean_energy)} if mean_energy is not None else {}))
        write_atomic(path, dumps(current))
        self._db().execute(
            "UPDATE runs SET status = ?, error = NULL, epochs = ?, metrics = ?, updated = ?, owner = ?, heartbeat = ?,"
            " worker = coalesce(?, worker), budget_end = coalesce(?, budget_end),"
            " mean_energy = coalesce(?, mean_energy) WHERE id = ?",
            (status, int(epochs), dumps(metrics), now, owner_label(), now, worker, budget_end,
             None if mean_energy is None else float(mean_energy), run_id))

    # ------------------------------------------------------------ sweeps

    def _sweep_path(self, sweep_id: str) -> Path:
        if not (isinstance(sweep_id, str) and sweep_id.isalnum()):
            raise StoreError(f"Not a sweep id. Received: sweep_id={sweep_id!r}")
        return self.home / "sweeps" / f"{sweep_id}.json"

    def create_sweep(self, workspace: str, record: dict) -> dict:
        """Keeps a new sweep's record (see `infoif.runs.sweep`); adds its id, name and creation time."""
        sweep_id = secrets.token_hex(8)
        db = self._db()
        count = db.execute("SELECT count(*) FROM sweeps WHERE workspace = ?", (workspace,)).fetchone()[0]
        now = time.time()
        record = {**record, "id": sweep_id, "workspace": workspace, "name": f"sweep-{count + 1}",
                  "created": now, "updated": now}
        write_atomic(self._sweep_path(sweep_id), dumps(record))
        db.execute("INSERT INTO sweeps VALUES (?, ?, ?)", (sweep_id, workspace, now))
        return record

    def sweep(self, sweep_id: str) -> dict:
        """A sweep's record; KeyError if there is none."""
        try:
            return read_json(self._sweep_path(sweep_id), "The sweep's record")
        except StoreError:
            raise KeyError(f"No sweep {sweep_id!r} in {self.home}.") from None

    def update_sweep(self, sweep_id: str, **fields) -> dict:
        with self._writer_lock:
            record = {**self.sweep(sweep_id), **fields, "updated": time.time()}
            write_atomic(self._sweep_path(sweep_id), dumps(record))
        return record

    def sweeps(self, workspace: str | None = None) -> list[dict]:
        """A workspace's sweeps (all, for the server's restart), newest first."""
        sql, args = "SELECT id FROM sweeps", []
        if workspace is not None:
            sql, args = sql + " WHERE workspace = ?", [workspace]
        out = []
        for (sweep_id,) in self._db().execute(sql + " ORDER BY created DESC", args).fetchall():
            try:
                out.append(self.sweep(sweep_id))
            except KeyError:
                continue
        return out

    def delete_sweep(self, sweep_id: str) -> None:
        """Forgets a sweep's record (its runs are deleted one by one by the caller)."""
        self._db().execute("DELETE FROM sweeps WHERE id = ?", (sweep_id,))
        self._sweep_path(sweep_id).unlink(missing_ok=True)

    def set_status(self, run_id: str, status: str, error: str | None = None, **fields) -> None:
        """Writes a run's status (file and index) from a process that does not train it."""
        path = self.run_dir(run_id) / "status.json"
        try:
            current = json.loads(path.read_text())
        except (OSError, ValueError):
            current = {}
        current.update(fields, status=status, error=error, updated=time.time())
        write_atomic(path, dumps(current))
        columns = [k for k in fields if k in ("worker", "budget_end", "owner", "heartbeat")]
        sets = ", ".join(f"{k} = ?" for k in columns)
        args = [fields[k] for k in columns]
        self._db().execute(f"UPDATE runs SET status = ?, error = ?, updated = ?{', ' + sets if sets else ''} "
                           "WHERE id = ?", (status, error, time.time(), *args, run_id))

    def recover(self, owner_alive=None, dead_only: bool = False) -> list[str]:
        """Marks as interrupted the active runs whose writing process is gone; returns their ids.

        A run is active (queued, running or paused) while a process holds it and writes its
        heartbeat. If that process died, or has been silent for STALE_SECONDS, the run is
        interrupted: its epochs so far are kept, and Train resumes it from its checkpoint. With
        `dead_only`, only runs whose process on this host is gone (a running service's check: its
        own queue may be silent for long).
        """
        now = time.time()
        interrupted = []
        marks = ",".join("?" * len(ACTIVE))
        rows = self._db().execute(
            f"SELECT id, status, owner, heartbeat, epochs FROM runs WHERE status IN ({marks})", ACTIVE).fetchall()
        for run_id, status, owner, heartbeat, epochs in rows:
            alive = pid_alive(owner) if owner_alive is None else owner_alive(owner)
            silence = math.inf if heartbeat is None else now - heartbeat
            # a live process on this host may hold a paused run without writing; one elsewhere must beat
            if alive is False or (not dead_only and ((alive is None and silence > STALE_SECONDS)
                                                     or silence > 20 * STALE_SECONDS)):
                self.set_status(run_id, "interrupted",
                                f"Interrupted: the process training this run stopped while it was {status}. "
                                f"Its {epochs} epochs are kept; press Train to resume from the last checkpoint.")
                interrupted.append(run_id)
        return interrupted

    # ------------------------------------------------------------ reading and writing runs

    def reader(self, run_id: str) -> "RunReader":
        """The (shared, cached) reader of a run's history."""
        with self._readers_lock:
            reader = self._readers.get(run_id)
            if reader is None:
                reader = RunReader(self, run_id)
                self._readers[run_id] = reader
                while len(self._readers) > 64:
                    self._readers.popitem(last=False)
            else:
                self._readers.move_to_end(run_id)
            return reader

    def writer(self, run_id: str, worker: str | None = None) -> "RunWriter":
        with self._writer_lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = WriterThread(self)
                self._writer.start()
        return RunWriter(self, run_id, self._writer, worker or owner_label())

    def resume_parts(self, run_id: str):
        """(settings, checkpoint or None, history) to continue a run where its files end."""
        settings = self.run_settings(run_id)
        config = ProbeConfig(**settings["probe_config"])
        checkpoint = load_checkpoint(self.run_dir(run_id) / "checkpoint.npz")
        reader = RunReader(self, run_id)
        history = History(config, gaps=tuple(reader.gaps))
        for snap in reader.snapshots():
            if checkpoint is None or snap.epoch <= checkpoint.epoch:
                history.append(snap)
        return settings, checkpoint, history

    def probe_setup(self, run_id: str):
        """The run's fixed `ProbeSetup` (probe batch, ranges, edges) as its trainer wrote it, or None."""
        return self.reader(run_id).setup()

    def model_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "model.keras"

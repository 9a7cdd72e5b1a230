"""The workspace store: one directory that keeps every workspace, upload and run on disk.

    home/                         INFOIF_HOME, default ~/.infoif
      index.sqlite                the index (stdlib sqlite3, WAL): workspaces, runs, uploads
      workspaces/<id>.json        a workspace's state: data choice, settings, current run
      uploads/<sha256>            each uploaded file once, by content
      runs/<run id>/
        run.json                  settings: spec, dataset reference, seed, batch size, probe config
        status.json               status, error, epochs, gaps, where it runs
        metrics.jsonl             one line per epoch (appended; rewritten when thinned)
        probes/<epoch>.npz        a probe record (arrays)
        probes/<epoch>.heavy.npz  its full kernels and input-plane view (newest records only)
        checkpoint.npz            weights + optimizer state at the last written epoch
        model.keras               the model at the last pause, stop or end

The files are the truth; the index is a catalogue for listing and can be
rebuilt from them (`Store.rebuild_index`). Many processes may use one home at
once: the server (reading), its worker processes and command-line runs
(writing), each run written by one process at a time.

Writing happens behind training: a run's `RunWriter` hands immutable
snapshots and checkpoints to one background thread per process, which
appends, writes files atomically (temporary file, then rename) and updates
the index. A reader (`RunReader`) builds the same snapshots back,
incrementally. A crash loses what the writer had not written yet: about a
second of training.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import queue
import secrets
import shutil
import socket
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from infoif.control import ACTIVE
from infoif.history import History, Snapshot, Thinned
from infoif.probes import InfoEstimate, ProbeConfig, Probes
from infoif.spec import ModelSpec

__all__ = ["Store", "RunInfo", "RunReader", "RunWriter", "StoreError", "default_home", "new_id",
           "WORKSPACE_ID_BYTES"]

FORMAT = 1
WORKSPACE_ID_BYTES = 24  # secrets.token_urlsafe(24): 192 bits, 32 characters
HEARTBEAT_SECONDS = 1.0  # a writing process marks its active runs alive this often
STALE_SECONDS = 15.0  # an active run whose writer has been silent this long was interrupted
MODEL_SECONDS = 30.0  # while running, model.keras is rewritten at most this often
_HOST = socket.gethostname()


class StoreError(RuntimeError):
    """Something in the store is missing or damaged; the message says what, for that run only."""


def default_home() -> Path:
    return Path(os.environ.get("INFOIF_HOME") or Path.home() / ".infoif").expanduser()


def new_id(nbytes: int = WORKSPACE_ID_BYTES) -> str:
    """An unguessable identifier (URL-safe)."""
    return secrets.token_urlsafe(nbytes)


def _write_atomic(path: Path, data: bytes | str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (MappingProxyType,)):
        return dict(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _dumps(value) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise StoreError(f"{what} is missing ({path.name}).") from None
    except (OSError, ValueError) as exc:
        raise StoreError(f"{what} is damaged ({path.name}: {exc}).") from None


def _owner() -> str:
    return f"{_HOST}:{os.getpid()}"


def _pid_alive(owner: str | None) -> bool | None:
    """Whether the process named by an owner string is alive (None: it is on another host)."""
    if not owner or ":" not in owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host != _HOST:
        return None
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------- records


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


# ---------------------------------------------------------------- array records on disk


def _probes_to_arrays(p: Probes) -> dict[str, np.ndarray]:
    out, meta = {}, {"info": {}}
    for f in dataclasses.fields(p):
        value = getattr(p, f.name)
        if f.name == "kernels":
            continue  # heavy: written with the plane view
        if f.name == "info":
            for name, est in value.items():
                entry = {}
                for g in dataclasses.fields(est):
                    v = getattr(est, g.name)
                    if isinstance(v, np.ndarray):
                        out[f"info.{name}.{g.name}"] = v
                    elif v is not None:
                        entry[g.name] = dict(v) if isinstance(v, MappingProxyType) else v
                meta["info"][name] = entry
        elif isinstance(value, np.ndarray):
            out[f"p.{f.name}"] = value
        elif value is not None:
            meta[f.name] = value
    out["meta"] = np.array(_dumps(meta))
    return out


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


def _probes_from_arrays(arrays, kernels=None) -> Probes:
    meta = json.loads(str(arrays["meta"]))
    known = {f.name for f in dataclasses.fields(Probes)}
    est_fields = {f.name for f in dataclasses.fields(InfoEstimate)}
    values: dict[str, Any] = {}
    info: dict[str, dict] = {name: dict(entry) for name, entry in meta.get("info", {}).items()}
    for key in arrays.files:
        if key.startswith("p.") and key[2:] in known:
            values[key[2:]] = _frozen(arrays[key])
        elif key.startswith("info."):
            _, name, g = key.split(".", 2)
            info.setdefault(name, {})[g] = _frozen(arrays[key])
    for k, v in meta.items():
        if k in known and k != "info":
            values[k] = v
    estimates = {}
    for name, entry in info.items():
        entry = {k: v for k, v in entry.items() if k in est_fields}
        if "params" in entry:
            entry["params"] = MappingProxyType(dict(entry["params"]))
        estimates[name] = InfoEstimate(**{**{g: None for g in est_fields}, **entry})
    values["info"] = MappingProxyType(estimates)
    values["kernels"] = _frozen(kernels) if kernels is not None else None
    for f in dataclasses.fields(Probes):
        values.setdefault(f.name, None)
    return Probes(**{k: v for k, v in values.items() if k in known})


def _heavy_to_arrays(snapshot: Snapshot) -> dict[str, np.ndarray] | None:
    out = {}
    if snapshot.probes is not None and snapshot.probes.kernels is not None:
        out["kernels"] = snapshot.probes.kernels
    plane = snapshot.plane
    if plane is not None:
        out.update({"plane.xx": plane.xx, "plane.yy": plane.yy, "plane.z": plane.z,
                    "plane.responses": plane.responses,
                    "plane.names": np.array(_dumps([plane.x_name, plane.y_name]))})
    return out or None


def _plane_from_arrays(arrays):
    if "plane.z" not in arrays.files:
        return None
    from infoif.plane import PlaneView

    x_name, y_name = json.loads(str(arrays["plane.names"]))
    return PlaneView(_frozen(arrays["plane.xx"]), _frozen(arrays["plane.yy"]), _frozen(arrays["plane.z"]),
                     _frozen(arrays["plane.responses"]), x_name, y_name)


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def _probe_name(epoch: int) -> str:
    return f"{epoch:09d}"


# ---------------------------------------------------------------- checkpoints


def save_checkpoint(path: Path, ck) -> None:
    arrays = {f"state_{i:04d}": a for i, a in enumerate(ck.state)}
    meta = {"epoch": ck.epoch, "time": ck.time, "rng_state": ck.rng_state, "learning_rate": ck.learning_rate,
            "batch_size": ck.batch_size, "gaps": list(ck.gaps), "format": FORMAT}
    arrays["meta"] = np.array(_dumps(meta))
    _save_npz(path, arrays)


def load_checkpoint(path: Path):
    from infoif.runner import Checkpoint

    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            state = [z[k] for k in sorted(k for k in z.files if k.startswith("state_"))]
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - any damage: say so for this run
        raise StoreError(f"The run's checkpoint is damaged ({path.name}: {type(exc).__name__}: {exc}).") from None
    return Checkpoint(epoch=int(meta["epoch"]), time=float(meta["time"]), state=state, rng_state=meta["rng_state"],
                      learning_rate=float(meta["learning_rate"]), batch_size=int(meta["batch_size"]),
                      gaps=list(meta.get("gaps", [])))


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
            for sub in ("workspaces", "uploads", "runs"):
                (self.home / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot use {self.home} as the InfoIF home ({exc}). Choose a writable "
                             "directory with --home or INFOIF_HOME.") from None
        self._local = threading.local()
        self._readers: OrderedDict[str, RunReader] = OrderedDict()
        self._readers_lock = threading.Lock()
        self._datasets: OrderedDict[str, tuple] = OrderedDict()
        self._datasets_lock = threading.Lock()
        self._writer: _WriterThread | None = None
        self._writer_lock = threading.Lock()
        marker = self.home / "infoif-store.json"
        if not marker.exists():
            _write_atomic(marker, _dumps({"format": FORMAT, "created": time.time()}))
        self._db()  # creates the schema (or rebuilds a damaged index)

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
        for run_dir in sorted((self.home / "runs").iterdir()):
            try:
                settings = _read_json(run_dir / "run.json", "settings")
                status = _read_json(run_dir / "status.json", "status")
            except StoreError:
                continue
            self._insert_run(settings, status)
            count += 1
        return count

    def _insert_run(self, settings: dict, status: dict) -> None:
        self._db().execute(
            "INSERT OR REPLACE INTO runs (id, workspace, num, name, created, updated, status, error, epochs, "
            "dataset, dataset_name, spec, seed, metrics, worker, budget_end, sweep, gaps) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (settings["id"], settings["workspace"], settings["num"], settings["name"], settings["created"],
             status.get("updated", settings["created"]), status.get("status", "idle"), status.get("error"),
             status.get("epochs", 0), _dumps(settings["dataset"]), settings["dataset_name"],
             _dumps(settings["spec"]), settings["seed"], _dumps(status.get("metrics", {})), status.get("worker"),
             status.get("budget_end"), settings.get("sweep"), _dumps(status.get("gaps", []))),
        )

    # ------------------------------------------------------------ workspaces

    def create_workspace(self) -> str:
        ws = new_id()
        now = time.time()
        _write_atomic(self.home / "workspaces" / f"{ws}.json", _dumps({"id": ws, "created": now, "state": {}}))
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
        data = _read_json(self.home / "workspaces" / f"{ws}.json", "The workspace file")
        self._db().execute("UPDATE workspaces SET seen = ? WHERE id = ?", (time.time(), ws))
        return data.get("state", {})

    def save_workspace_state(self, ws: str, state: dict) -> None:
        path = self.home / "workspaces" / f"{ws}.json"
        try:
            created = json.loads(path.read_text()).get("created", time.time())
        except (OSError, ValueError):
            created = time.time()
        _write_atomic(path, _dumps({"id": ws, "created": created, "state": state}))

    def delete_workspace(self, ws: str) -> None:
        """Deletes a workspace with all its runs, and the uploads no other workspace uses."""
        for info in self.runs(ws):
            self.delete_run(info.id)
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
            _write_atomic(path, bytes(data))
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

    def dataset(self, ref: dict):
        """(raw frame, prepared dataset) for a dataset reference, as the run's data was prepared.

        A reference is a dict: {"kind": "sample", "name": ...} or {"kind": "upload",
        "sha256": ..., "filename": ...}, with "target", "task" ("auto" or a task) and "seed".
        Preparation is deterministic, so every process gets the same arrays. The last few
        are cached in this process.
        """
        key = _dumps(ref)
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

    def _open_dataset(self, ref: dict):
        from infoif import data as data_lib
        from infoif import datasets

        kind = ref.get("kind")
        if kind == "sample":
            frame = datasets.load_sample(ref["name"])
            name = ref["name"]
        elif kind == "upload":
            frame = data_lib.load_table(self.upload_bytes(ref["sha256"]), filename=ref["filename"],
                                        **ref.get("load_options", {}))
            name = ref["filename"]
        else:
            raise StoreError(f"Unknown dataset reference. Received: kind={kind!r}")
        task = ref.get("task", "auto")
        dataset = data_lib.prepare(frame, ref["target"], task=None if task == "auto" else task,
                                   seed=int(ref.get("seed", 0)), **ref.get("prepare_options", {}))
        if getattr(dataset, "name", None) != name:
            dataset = dataclasses.replace(dataset, name=name)
        return frame, dataset

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
            _write_atomic(run_dir / "run.json", _dumps(settings))
            _write_atomic(run_dir / "status.json", _dumps(status))
            self._insert_run(settings, status)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return self.run_info(run_id)

    def run_settings(self, run_id: str) -> dict:
        return _read_json(self.run_dir(run_id) / "run.json", "This run's settings file")

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

    def set_status(self, run_id: str, status: str, error: str | None = None, **fields) -> None:
        """Writes a run's status (file and index) from a process that does not train it."""
        path = self.run_dir(run_id) / "status.json"
        try:
            current = json.loads(path.read_text())
        except (OSError, ValueError):
            current = {}
        current.update(fields, status=status, error=error, updated=time.time())
        _write_atomic(path, _dumps(current))
        columns = [k for k in fields if k in ("worker", "budget_end", "owner", "heartbeat")]
        sets = ", ".join(f"{k} = ?" for k in columns)
        args = [fields[k] for k in columns]
        self._db().execute(f"UPDATE runs SET status = ?, error = ?, updated = ?{', ' + sets if sets else ''} "
                           "WHERE id = ?", (status, error, time.time(), *args, run_id))

    def recover(self, owner_alive=None) -> list[str]:
        """Marks as interrupted the active runs whose writing process is gone; returns their ids.

        A run is active (queued, running or paused) while a process holds it and writes its
        heartbeat. If that process died, or has been silent for STALE_SECONDS, the run is
        interrupted: its epochs so far are kept, and Train resumes it from its checkpoint.
        """
        now = time.time()
        interrupted = []
        marks = ",".join("?" * len(ACTIVE))
        rows = self._db().execute(
            f"SELECT id, status, owner, heartbeat, epochs FROM runs WHERE status IN ({marks})", ACTIVE).fetchall()
        for run_id, status, owner, heartbeat, epochs in rows:
            alive = _pid_alive(owner) if owner_alive is None else owner_alive(owner)
            silence = math.inf if heartbeat is None else now - heartbeat
            # a live process on this host may hold a paused run without writing; one elsewhere must beat
            if alive is False or (alive is None and silence > STALE_SECONDS) or silence > 20 * STALE_SECONDS:
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
                self._writer = _WriterThread(self)
                self._writer.start()
        return RunWriter(self, run_id, self._writer, worker or _owner())

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

    def probe_setup(self, run_id: str) -> dict:
        """The run's fixed probe settings (histogram edges...), as the worker wrote them."""
        return self.reader(run_id).setup()

    def model_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "model.keras"


# ---------------------------------------------------------------- reading


class RunReader:
    """Builds a run's snapshots from its files, incrementally; shared by every reader in a process.

    `problem` says, in a sentence, what could not be read (a damaged line or file); what
    could be read is still shown.
    """

    MIN_REFRESH = 0.2  # seconds: readers in several sessions share one refresh

    def __init__(self, store: Store, run_id: str):
        self.store, self.run_id = store, run_id
        self.dir = store.run_dir(run_id)
        self._lock = threading.Lock()
        self.problem: str | None = None
        self.gaps: list[int] = []
        self._probes: dict[int, tuple] = {}  # epoch -> (probes, plane), as on disk
        self._files: dict[str, float] = {}  # probe file name -> mtime when read
        self._setup: dict = {}
        self._reset_metrics()
        self._refreshed = -math.inf

    def setup(self) -> dict:
        """Arrays fixed for the run (written once when it starts): histogram edges..."""
        with self._lock:
            if not self._setup:
                try:
                    with np.load(self.dir / "setup.npz", allow_pickle=False) as z:
                        self._setup = {k: _frozen(z[k]) for k in z.files}
                except FileNotFoundError:
                    return {}
                except Exception as exc:  # noqa: BLE001 - damaged: say so
                    self.problem = f"This run's probe settings file is damaged ({type(exc).__name__})."
                    return {}
            return self._setup

    def _reset_metrics(self):
        self._inode = None
        self._offset = 0
        self._items: list[Snapshot] = []
        self._index: dict[int, int] = {}
        self._snapshots: tuple = ()

    def snapshots(self) -> tuple[Snapshot, ...]:
        with self._lock:
            if time.monotonic() - self._refreshed >= self.MIN_REFRESH:
                self._refresh()
            return self._snapshots

    def _refresh(self):
        self._refreshed = time.monotonic()
        changed = self._read_probes()
        changed = self._read_metrics() or changed
        if changed:
            self._snapshots = tuple(self._items)
        try:
            self.gaps = list(json.loads((self.dir / "status.json").read_text()).get("gaps", []))
        except (OSError, ValueError):
            pass

    def _with_probes(self, snap: Snapshot) -> Snapshot:
        got = self._probes.get(snap.epoch)
        if got is None:
            return snap if snap.probes is None else dataclasses.replace(snap, probes=None, plane=None)
        return dataclasses.replace(snap, probes=got[0], plane=got[1])

    def _read_metrics(self) -> bool:
        path = self.dir / "metrics.jsonl"
        try:
            st = path.stat()
        except FileNotFoundError:
            had = bool(self._items)
            self._reset_metrics()
            return had
        changed = False
        if self._inode != st.st_ino or st.st_size < self._offset:  # rewritten (thinned, or resumed)
            changed = bool(self._items)
            self._reset_metrics()
            self._inode = st.st_ino
        if st.st_size == self._offset:
            return changed
        with open(path, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        end = data.rfind(b"\n")
        if end < 0:
            return changed  # a line still being written
        self._offset += end + 1
        for line in data[:end].split(b"\n"):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                snap = Snapshot(int(row["e"]), float(row["t"]), MappingProxyType(row["m"]))
            except (ValueError, KeyError, TypeError) as exc:
                self.problem = (f"A line of this run's metrics file is damaged ({type(exc).__name__}); "
                                "the epochs on it are not shown.")
                continue
            if self._items and snap.epoch <= self._items[-1].epoch:
                continue  # written twice around a crash
            self._index[snap.epoch] = len(self._items)
            self._items.append(self._with_probes(snap))
            changed = True
        return changed

    def _read_probes(self) -> bool:
        folder = self.dir / "probes"
        try:
            entries = {e.name: e.stat().st_mtime for e in os.scandir(folder)
                       if e.name.endswith(".npz") and not e.name.startswith(".")}
        except FileNotFoundError:
            entries = {}
        touched = set()
        for name in set(self._files) - set(entries):  # thinned away
            del self._files[name]
            epoch = int(name.split(".")[0])
            if name.endswith(".heavy.npz"):
                got = self._probes.get(epoch)
                if got is not None:
                    self._probes[epoch] = (got[0].without_kernels(), None)
            else:
                self._probes.pop(epoch, None)
            touched.add(epoch)
        for name in sorted(entries):
            if self._files.get(name) == entries[name]:
                continue
            epoch = int(name.split(".")[0])
            base, heavy = f"{epoch:09d}.npz", f"{epoch:09d}.heavy.npz"
            if base not in entries:
                continue  # a heavy file whose record is not written yet
            try:
                kernels = plane = None
                if heavy in entries:
                    try:
                        with np.load(folder / heavy, allow_pickle=False) as h:
                            kernels = np.array(h["kernels"]) if "kernels" in h.files else None
                            plane = _plane_from_arrays(h)
                    except FileNotFoundError:
                        pass  # thinned while reading
                with np.load(folder / base, allow_pickle=False) as z:
                    probes = _probes_from_arrays(z, kernels)
            except FileNotFoundError:
                continue  # thinned while listing
            except Exception as exc:  # noqa: BLE001 - a damaged file: say so, keep the rest
                self.problem = f"A probe record of this run is damaged ({name}: {type(exc).__name__})."
                self._files[base] = entries[base]
                continue
            self._files[base] = entries[base]
            if heavy in entries:
                self._files[heavy] = entries[heavy]
            self._probes[epoch] = (probes, plane)
            touched.add(epoch)
        changed = False
        for epoch in touched:
            i = self._index.get(epoch)
            if i is not None:
                self._items[i] = self._with_probes(self._items[i])
                changed = True
        return changed


# ---------------------------------------------------------------- writing


class _WriterThread(threading.Thread):
    """One per process: writes every run's records in order, and their heartbeats."""

    def __init__(self, store: Store):
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
                    import logging

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

    def __init__(self, store: Store, run_id: str, thread: _WriterThread, worker: str):
        self.store, self.run_id, self.thread, self.worker = store, run_id, thread, worker
        self.dir = store.run_dir(run_id)
        self._buffer: list[Snapshot] = []
        self._thinned = Thinned()
        self._rewrite = False
        self._last_model = 0.0
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
            setup, self._setup_written = {"hist_edges": np.asarray(runner.hist_edges)}, True
        if model and (final or now - self._last_model >= MODEL_SECONDS) and runner.epoch \
                and not runner.engine.mid_epoch:
            model_bytes = runner.export_model()
            self._last_model = now
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
            self.thread.active[self.run_id] = _owner()
        else:
            self.thread.active.pop(self.run_id, None)
        self.thread.submit(lambda: self._write_status(summary), wait=True)

    def _summary(self, runner) -> dict:
        latest = runner.history.latest
        probed = next((s for s in reversed(runner.history.snapshots()[-64:]) if s.has_probes), None) \
            if latest is not None and not latest.has_probes else latest
        energy = float(np.mean(probed.probes.energy_final)) if probed is not None and probed.has_probes else None
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
            _save_npz(self.dir / "setup.npz", setup)
        for snap in snapshots:
            if snap.probes is not None:
                name = _probe_name(snap.epoch)
                heavy = _heavy_to_arrays(snap)
                if heavy is not None:
                    _save_npz(probes_dir / f"{name}.heavy.npz", heavy)
                _save_npz(probes_dir / f"{name}.npz", _probes_to_arrays(snap.probes))
        for epoch in thinned.unheavy:
            (probes_dir / f"{_probe_name(epoch)}.heavy.npz").unlink(missing_ok=True)
        for epoch in thinned.unprobed:
            (probes_dir / f"{_probe_name(epoch)}.heavy.npz").unlink(missing_ok=True)
            (probes_dir / f"{_probe_name(epoch)}.npz").unlink(missing_ok=True)
        metrics_path = self.dir / "metrics.jsonl"
        if all_snapshots is not None:
            _write_atomic(metrics_path, "".join(_metric_line(s) for s in all_snapshots))
        else:
            lines = "".join(_metric_line(s) for s in snapshots if s.metrics is not None)
            if lines:
                with open(metrics_path, "a") as f:
                    f.write(lines)
        if checkpoint is not None:
            save_checkpoint(self.dir / "checkpoint.npz", checkpoint)
        if model_bytes is not None:
            _write_atomic(self.dir / "model.keras", model_bytes)
        self._write_status(summary)

    def _write_status(self, summary):
        if not self.dir.exists():
            return
        summary = dict(summary, updated=time.time())
        _write_atomic(self.dir / "status.json", _dumps(summary))
        self.store._db().execute(
            "UPDATE runs SET status = ?, error = ?, epochs = ?, metrics = ?, mean_energy = ?, gaps = ?, worker = ?, "
            "budget_end = ?, updated = ?, heartbeat = ?, owner = ? WHERE id = ?",
            (summary["status"], summary["error"], summary["epochs"], _dumps(summary["metrics"]),
             summary["mean_energy"], _dumps(summary["gaps"]), summary["worker"], summary["budget_end"],
             summary["updated"], time.time(), _owner(), self.run_id))


def _metric_line(s: Snapshot) -> str:
    metrics = {k: (float(v) if isinstance(v, (float, np.floating)) and math.isfinite(v) else v)
               for k, v in s.metrics.items()}
    return _dumps({"e": s.epoch, "t": round(s.time, 6), "m": metrics}) + "\n"

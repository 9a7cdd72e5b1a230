"""Small file helpers of the store: atomic writes, JSON, owners of runs, and its error."""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import threading
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

import numpy as np

__all__ = ["StoreError", "Folders", "default_home", "new_id", "owner_label", "pid_alive", "write_atomic", "dumps",
           "read_json", "save_npz", "frozen", "FORMAT", "WORKSPACE_ID_BYTES"]

FORMAT = 1
WORKSPACE_ID_BYTES = 24  # secrets.token_urlsafe(24): 192 bits, 32 characters
HOST = socket.gethostname()


class Folders(Protocol):
    """What a run's reader and writer need of the store (`infoif.runs.store.core.Store` is one): the
    folder of a run, and the index to update."""

    def run_dir(self, run_id: str) -> Path: ...

    def _db(self) -> sqlite3.Connection: ...


class StoreError(RuntimeError):
    """Something in the store is missing or damaged; the message says what, for that run only."""


def default_home() -> Path:
    return Path(os.environ.get("INFOIF_HOME") or Path.home() / ".infoif").expanduser()


def new_id(nbytes: int = WORKSPACE_ID_BYTES) -> str:
    """An unguessable identifier (URL-safe) that does not start with "-": one that did (1 in 64)
    would read as an option on a command line (`--workspace -x...`)."""
    while True:
        token = secrets.token_urlsafe(nbytes)
        if not token.startswith("-"):
            return token


def write_atomic(path: Path, data: bytes | str) -> None:
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


def dumps(value, sort_keys: bool = False) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"), sort_keys=sort_keys)


def read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise StoreError(f"{what} is missing ({path.name}).") from None
    except (OSError, ValueError) as exc:
        raise StoreError(f"{what} is damaged ({path.name}: {exc}).") from None


def owner_label() -> str:
    """This process, as the owner of the runs it writes: host:pid."""
    return f"{HOST}:{os.getpid()}"


def pid_alive(owner: str | None) -> bool | None:
    """Whether the process named by an owner string is alive (None: it is on another host)."""
    if not owner or ":" not in owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host != HOST:
        return None
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    # A killed process whose parent died too may linger as a zombie (where nothing reaps orphans,
    # e.g. in a container): it answers signals but will never write again.
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[-1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)

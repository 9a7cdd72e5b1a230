"""This process's own `infoif`, shipped to Dask workers that have only the requirements installed.

    version, data = bundle()                      # a zip of infoif/ and sample_data/, and its hash
    client.register_plugin(ShipCode(version, data))   # every worker, present and future, unpacks it
    client.submit(SENT.call, version, "infoif.runs.cluster:train_run", ...)   # runs that version's function

Why a worker plugin with the code as bytes (not `UploadDirectory`, `upload_file` or a wheel):

- **The scheduler unpickles the task graph** (distributed 2024.x and later), and it has
  nothing of ours. So what it sees must import nothing from `infoif`: the tasks are `call`
  and `keep`, functions of this module, which is registered with cloudpickle to travel *by
  value* (their code, not the name `infoif.runs.shipping.call`); they use the standard library
  only. Their arguments are strings, numbers, plain dicts and bytes. The plugin (with the
  zip in it) goes to the scheduler as bytes it keeps and hands to workers without
  unpickling it, and a worker unpickles it before it has any of our code: it is by value too.
- **Versioned**: the zip's SHA-256 names the plugin and the directory it unpacks to, and
  every task says which version it wants. Two clients with different code on one cluster
  do not collide: a worker process switches its `infoif` between versions between tasks
  (never while a task of the other version runs there).
- **Future workers too**: the scheduler keeps registered plugins and gives them to every
  worker that joins later (one replacing a lost worker, a dask-jobqueue job starting late).
  `upload_file` does too nowadays, but one file at a time and under a fixed name;
  `UploadDirectory` has no version and puts the directory at the same path for everyone;
  a wheel needs `pip install` rights on the workers and a restart to pick up new code.
- **The sample datasets** travel in the same zip (`sample_data/` beside `infoif/`, where
  `infoif.datasets` looks for them); uploaded files travel with the tasks (`keep`).

About 0.3 MB, unpacked once per worker process into its local directory (Dask removes it
with the worker). Everything on the worker side here is standard library only.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import io
import os
import sys
import threading
import types
import zipfile
from pathlib import Path

import cloudpickle
from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["bundle", "ShipCode", "SENT", "call", "keep", "stop", "stopping", "plugin_name", "environment",
           "by_value", "WORKER_PACKAGES"]

PACKAGE = "infoif"
WORKER_PACKAGES = ("tensorflow", "keras", "numpy", "pandas")  # what the tasks import on a worker
STATE_MODULE = "_infoif_shipped"  # the sys.modules entry that keeps a worker process's shipped versions
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # every member's date: the same files make the same zip, hence version


# ---------------------------------------------------------------- in the client


def _shipped_files() -> list[tuple[str, Path]]:
    """(name in the zip, path) of every file of the package (no caches) and every sample dataset."""
    from infoif.datasets import SAMPLE_DIR

    package = Path(__file__).resolve().parents[1]  # infoif/, this module being infoif/runs/shipping.py
    files = []
    for root, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")) or name.startswith("."):
                continue
            path = Path(root) / name
            files.append((f"{PACKAGE}/{path.relative_to(package).as_posix()}", path))
    for path in sorted(SAMPLE_DIR.glob("*.csv")):
        files.append((f"{SAMPLE_DIR.name}/{path.name}", path))
    return files


@functools.lru_cache(maxsize=1)
def bundle() -> tuple[str, bytes]:
    """(version, zip bytes): this process's `infoif` and the sample datasets, read once per process.
    The version is the first 16 hex digits of the zip's SHA-256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in _shipped_files():
            archive.writestr(zipfile.ZipInfo(name, _ZIP_DATE), path.read_bytes(), zipfile.ZIP_DEFLATED)
    data = buffer.getvalue()
    return hashlib.sha256(data).hexdigest()[:16], data


def plugin_name(version: str) -> str:
    return f"infoif-code-{version}"


# ---------------------------------------------------------------- on the workers (standard library only)


def _state():
    """This worker process's record of shipped versions: where each is unpacked, which one
    `import infoif` gives now, how many tasks of each run, which coordinators asked to stop.
    A module in sys.modules, so every by-value copy of these functions finds the same one."""
    state = sys.modules.get(STATE_MODULE)
    if state is None:
        state = types.ModuleType(STATE_MODULE)
        state.lock = threading.Condition()
        state.paths, state.running, state.stopping, state.active = {}, {}, set(), None
        state = sys.modules.setdefault(STATE_MODULE, state)
    return state


class ShipCode(WorkerPlugin):
    """A worker plugin holding one version of the code: unpacks it into the worker's local
    directory (once per worker process) where `call` finds it."""

    idempotent = True  # registered again by the next sweep: the scheduler keeps the first

    def __init__(self, version: str, data: bytes):
        self.version, self.data = version, data
        self.name = plugin_name(version)

    def setup(self, worker):
        base = getattr(worker, "local_directory", None) or os.path.join(os.path.expanduser("~"), ".infoif-code")
        target = os.path.join(base, self.name)
        if not os.path.isdir(target):
            partial = f"{target}.{os.getpid()}.{threading.get_ident()}.partial"
            with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
                archive.extractall(partial)
            try:
                os.rename(partial, target)
            except OSError:  # another worker process of this directory was first
                import shutil

                shutil.rmtree(partial, ignore_errors=True)
        state = _state()
        with state.lock:
            state.paths[self.version] = target


def _activate(state, version: str) -> None:
    """Makes `import infoif` give `version` in this process (the caller holds the lock and no
    task of another version runs here): our modules of another version, or of the worker's
    own environment, are forgotten, and the version's directory goes first on sys.path."""
    path = state.paths[version]
    for other in state.paths.values():
        while other in sys.path:
            sys.path.remove(other)
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    sys.path.insert(0, path)
    importlib.invalidate_caches()
    state.active = version


def call(version: str | None, target: str, *args):
    """A Dask task: runs `target` ("module:function") of the shipped `version` of infoif with
    `args` (None: the `infoif` the worker's environment has, for a cluster started the old
    way). Waits while tasks of another version run in this worker process."""
    if version is not None:
        state = _state()
        with state.lock:
            if version not in state.paths:
                raise RuntimeError(f"infoif {version} was not shipped to this worker (its plugin "
                                   f"{plugin_name(version)} did not run here); see the worker's log.")
            while state.active not in (None, version) and state.running.get(state.active):
                state.lock.wait()
            loaded = sys.modules.get(PACKAGE)
            if state.active != version or not str(getattr(loaded, "__file__", "")).startswith(state.paths[version]):
                _activate(state, version)
            state.running[version] = state.running.get(version, 0) + 1
    try:
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)(*args)
    finally:
        if version is not None:
            with state.lock:
                state.running[version] -= 1
                state.lock.notify_all()


def keep(data):
    """A task that returns its argument: an upload's bytes kept once in the scheduler's graph (so a
    lost copy is made again) and shared by every run that reads it."""
    return data


def environment() -> dict:
    """Python's version and each of `WORKER_PACKAGES`' version, None if it cannot be imported here
    (found without importing it: a worker asked this does not load TensorFlow, nor does the client)."""
    import importlib.metadata
    import importlib.util
    import platform

    found = {"python": platform.python_version()}
    for name in WORKER_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        version = None
        if spec is not None:
            try:
                version = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                version = "unknown"
        found[name] = version
    return found


def stop(token: str) -> bool:
    """Runs on every worker (`Client.run`): the tasks of coordinator `token` stop at their next look."""
    _state().stopping.add(token)
    return True


def stopping(token: str) -> bool:
    """Whether coordinator `token` asked its tasks to stop (`stop`), on this worker."""
    return token in _state().stopping


def by_value(function):
    """A copy of `function` that pickle cannot find under its name. distributed tries plain pickle
    first, which would send `infoif.runs.shipping.call` by name (the scheduler and a fresh worker cannot
    import it); with the copy it falls back to cloudpickle, which sends the code (and, since this
    module is registered by value, the code of what it uses from here)."""
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__, function.__defaults__,
                              function.__closure__)
    copy.__qualname__, copy.__module__, copy.__doc__ = function.__qualname__, function.__module__, function.__doc__
    copy.__kwdefaults__ = function.__kwdefaults__
    return copy


cloudpickle.register_pickle_by_value(sys.modules[__name__])
SENT = types.SimpleNamespace(**{f.__name__: by_value(f) for f in (call, keep, stop, environment)})
"""What the client sends: `SENT.call` and `SENT.keep` as tasks, `SENT.stop` and `SENT.environment` to
`Client.run` (the plain functions of the same names are what the worker side runs, and `environment`
is also what the client asks itself)."""

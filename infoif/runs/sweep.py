"""Sweeps: grids over model and training settings, times seeds, run as ordinary runs.

    plan = parse_plan(["num_interfaces=1,2,4,8", "leak=0,0.1"], seeds=3, epochs=100)
    record = create(store, workspace, plan, base_spec, dataset_ref, dataset_name, batch_size)
    launch(store, service, record["id"])         # every run through the training service
    progress(store, record["id"])                # SweepProgress: done of total, ETA
    results(store, record["id"])                 # one row per run: settings, final metrics, energy

A sweep's runs are ordinary runs of the workspace (the store's `sweep` field
groups them), so everything that shows, compares or deletes runs works on
them. Its record (`home/sweeps/<id>.json`) keeps the grid, the seeds, the
epochs each, the run ids in grid order, where it runs (this machine's
workers, or a Dask cluster) and which process coordinates it.

Locally the runs go to the training service (`infoif.runs.service`), which trains
one of them on each worker (beside anyone's runs there, at a lower weight) and
queues the rest. With a cluster
(`cluster=tcp://host:8786`, or `INFOIF_DASK`), each run is a Dask task
(`infoif.runs.cluster`). A sweep whose coordinating process died (a server
restart) is taken over by the next service to start on that home
(`resume_sweeps`): finished runs are kept, the rest are queued again and
continue from their checkpoints.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from infoif.constants import DASK_ENV, MAX_SEED, MAX_SWEEP_RUNS, MAX_SWEEP_SEEDS, NOT_IN_GRAPH, SWEEP_SETTINGS
from infoif.train.control import ACTIVE, DONE, check_batch_size, check_epochs
from infoif.nn.spec import ACTIVATIONS, MERGES, ModelSpec

__all__ = ["SweepError", "SweepPlan", "SweepProgress", "parse_values", "parse_grid", "parse_plan", "make_plan",
           "create", "launch", "cancel", "progress", "results", "resume_sweeps", "DONE", "SWEEP_SETTINGS"]

_INT_SETTINGS = ("num_interfaces", "units", "batch_size")
_REAL_SETTINGS = ("leak", "penalty", "learning_rate")
_CHOICES = {"activation": ACTIVATIONS, "merge": MERGES}


class SweepError(ValueError):
    """A sweep that cannot be run as asked; the message says what is wrong and what to write."""


# ---------------------------------------------------------------- the grid


def _parse_one(setting: str, text: str):
    text = text.strip()
    if setting in _CHOICES:
        if text not in _CHOICES[setting]:
            raise SweepError(f"{setting} must be one of {', '.join(_CHOICES[setting])}. Received: {setting}={text!r}")
        return text
    if setting == "units" and text.lower() in ("none", "input"):
        return None
    if setting in _INT_SETTINGS:
        try:
            return int(text)
        except ValueError:
            raise SweepError(f"{setting} takes whole numbers separated by commas, e.g. {setting}=1,2,4. "
                             f"Received: {setting}={text!r}") from None
    try:
        value = float(text)
    except ValueError:
        raise SweepError(f"{setting} takes numbers separated by commas, e.g. {setting}=0,0.1. "
                         f"Received: {setting}={text!r}") from None
    if not math.isfinite(value):
        raise SweepError(f"{setting} takes finite numbers. Received: {setting}={text!r}")
    return value


def _check_value(setting: str, value) -> None:
    """Refuses a value its setting cannot take, with the setting's own message."""
    try:
        if setting == "batch_size":
            check_batch_size(value)
        else:
            ModelSpec(**{setting: value})
    except ValueError as exc:
        raise SweepError(str(exc)) from None


def parse_values(setting: str, values) -> tuple:
    """A setting's values from text ("1, 2, 4") or a sequence, checked, duplicates dropped, order kept."""
    if setting not in SWEEP_SETTINGS:
        raise SweepError(f"A sweep can vary {', '.join(SWEEP_SETTINGS)}. Received: setting={setting!r}")
    if isinstance(values, str):
        parts = [p for p in values.replace(";", ",").split(",") if p.strip()]
        if not parts:
            raise SweepError(f"Give {setting} at least one value, e.g. {setting}=1,2,4. Received: {setting}={values!r}")
        values = [_parse_one(setting, p) for p in parts]
    else:
        values = list(values)
        if not values:
            raise SweepError(f"Give {setting} at least one value. Received: {setting}={values!r}")
    out = []
    for value in values:
        if setting in _REAL_SETTINGS and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        _check_value(setting, value)
        if value not in out:
            out.append(value)
    return tuple(out)


def parse_grid(items: Sequence[str] | Mapping[str, object]) -> dict[str, tuple]:
    """A grid from `["num_interfaces=1,2,4", "leak=0,0.1"]` (the command line) or a mapping of
    setting to values (text or sequences)."""
    grid: dict[str, tuple] = {}
    if isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        pairs = []
        for item in items:
            name, sep, text = str(item).partition("=")
            if not sep or not name.strip():
                raise SweepError(f"Write each grid entry as SETTING=V1,V2,... (e.g. num_interfaces=1,2,4); "
                                 f"the settings are {', '.join(SWEEP_SETTINGS)}. Received: grid={item!r}")
            pairs.append((name.strip().replace("-", "_"), text))
    for name, values in pairs:
        if name in ("lr",):
            name = "learning_rate"
        if name in grid:
            raise SweepError(f"{name} appears twice in the grid; give all its values in one entry. "
                             f"Received: grid={name}")
        grid[name] = parse_values(name, values)
    return grid


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep runs: every combination of the grid's values, once per seed, `epochs` each."""

    grid: dict = field(default_factory=dict)  # setting -> tuple of values (grid order)
    seeds: tuple = (0,)
    epochs: int = 100

    @property
    def size(self) -> int:
        return math.prod(len(v) for v in self.grid.values()) * len(self.seeds)

    def points(self) -> list[dict]:
        """One dict per run, in grid order (seeds innermost): the varied settings and "seed"."""
        names = list(self.grid)
        out = []
        for combo in itertools.product(*(self.grid[n] for n in names)):
            for seed in self.seeds:
                out.append({**dict(zip(names, combo)), "seed": int(seed)})
        return out

    def to_dict(self) -> dict:
        return {"grid": {k: list(v) for k, v in self.grid.items()}, "seeds": list(self.seeds), "epochs": self.epochs}


def make_plan(grid: Mapping[str, Sequence] | Sequence[str], seeds: int | Sequence[int] = 1, epochs: int = 100,
              base_seed: int = 0) -> SweepPlan:
    """A checked plan. `seeds` is a count (seeds base_seed, base_seed+1, ...) or the seeds themselves."""
    grid = parse_grid(grid)
    if isinstance(seeds, bool) or not (isinstance(seeds, int) or isinstance(seeds, (list, tuple))):
        raise SweepError(f"seeds must be a number of seeds or a list of seeds. Received: seeds={seeds!r}")
    if isinstance(seeds, int):
        if not 1 <= seeds <= MAX_SWEEP_SEEDS:
            raise SweepError(f"seeds must be from 1 to {MAX_SWEEP_SEEDS}. Received: seeds={seeds!r}")
        if not 0 <= base_seed <= MAX_SEED - seeds:
            raise SweepError(f"The first seed must be from 0 to {MAX_SEED - seeds}. Received: base_seed={base_seed!r}")
        seeds = tuple(range(base_seed, base_seed + seeds))
    else:
        seeds = tuple(dict.fromkeys(seeds))
        if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= MAX_SEED for s in seeds):
            raise SweepError(f"seeds must be whole numbers from 0 to {MAX_SEED}. Received: seeds={list(seeds)!r}")
    try:
        epochs = check_epochs(epochs)
    except ValueError as exc:
        raise SweepError(str(exc)) from None
    if epochs is None:
        raise SweepError("A sweep needs a number of epochs for each run. Received: epochs=None")
    plan = SweepPlan(grid, seeds, epochs)
    if plan.size > MAX_SWEEP_RUNS:
        raise SweepError(f"This grid makes {plan.size:,} runs; a sweep may have at most {MAX_SWEEP_RUNS:,}. "
                         f"Use fewer values or seeds. Received: runs={plan.size}")
    return plan


def parse_plan(items: Sequence[str], seeds: int = 1, epochs: int = 100, base_seed: int = 0) -> SweepPlan:
    """The command line's plan: `--grid` entries, `--seeds`, `--epochs`."""
    if not items:
        raise SweepError("A sweep needs at least one --grid SETTING=V1,V2,... (e.g. num_interfaces=1,2,4). "
                         "Received: grid=[]")
    return make_plan(parse_grid(items), seeds, epochs, base_seed)


def cluster_address(value: str | None = None) -> str | None:
    """The Dask scheduler to use: `value` (a --cluster flag), else INFOIF_DASK, else None (this machine)."""
    address = value if value is not None else os.environ.get(DASK_ENV) or None
    if address is None:
        return None
    address = address.strip()
    scheme, sep, rest = address.partition("://")
    host, colon, port = rest.rpartition(":")
    if not sep or scheme not in ("tcp", "tls", "ucx", "inproc") or (scheme != "inproc" and not (
            colon and host and port.isdigit())):
        raise SweepError("A Dask cluster is given by its scheduler's address, like tcp://10.0.0.5:8786. "
                         f"Received: cluster={address!r}")
    return address


# ---------------------------------------------------------------- sweeps in the store


def create(store, workspace: str, plan: SweepPlan, base_spec: ModelSpec, dataset_ref: dict, dataset_name: str,
           batch_size: int, probe_config=None, cluster: str | None = None, max_batch: int | None = None) -> dict:
    """Makes the sweep's runs (idle) and its record; nothing trains until `launch`.
    `max_batch` caps batch sizes (the training set's size)."""
    from infoif.train.probes import ProbeConfig
    from infoif.runs.store import owner_label

    probe_config = probe_config or ProbeConfig()
    points = plan.points()
    specs = []
    for point in points:  # every spec is checked before any run is made
        changes = {k: v for k, v in point.items() if k not in ("seed", "batch_size")}
        try:
            spec = base_spec.replace(**changes)
        except ValueError as exc:
            raise SweepError(str(exc)) from None
        batch = int(point.get("batch_size", batch_size))
        specs.append((spec, min(batch, max_batch) if max_batch else batch))
    record = store.create_sweep(workspace, {
        **plan.to_dict(), "base": {"spec": base_spec.to_dict(), "batch_size": int(batch_size)},
        "dataset": dataset_ref, "dataset_name": dataset_name, "points": points, "runs": [],
        "status": "creating", "cluster": cluster, "owner": owner_label(), "error": None, "started": None})
    ids = []
    for point, (spec, batch) in zip(points, specs):
        info = store.create_run(workspace, spec, dataset_ref, dataset_name, seed=point["seed"], batch_size=batch,
                                probe_config=probe_config, sweep=record["id"])
        ids.append(info.id)
    return store.update_sweep(record["id"], runs=ids, status="running")


def _remaining(store, run_id: str, epochs: int) -> int:
    """Epochs a run still needs: an interrupted or failed run continues from its checkpoint (the
    epochs after it are dropped when it resumes), any other from where it is."""
    from infoif.runs.store import StoreError, load_checkpoint

    try:
        info = store.run_info(run_id)
    except KeyError:
        return 0
    done = info.epochs
    if info.status in ("interrupted", "failed"):
        try:
            checkpoint = load_checkpoint(store.run_dir(run_id) / "checkpoint.npz")
        except StoreError:
            checkpoint = None
        done = checkpoint.epoch if checkpoint is not None else 0
    return max(0, epochs - done)


_coordinators: dict[str, object] = {}  # sweep id -> its Dask coordinator in this process
_coordinators_lock = threading.Lock()


def launch(store, service, sweep_id: str) -> dict:
    """Sends every run of the sweep that still has epochs to do to where it runs: the training
    service (queued beyond one per worker), or the sweep's Dask cluster."""
    from infoif.runs.store import owner_label

    record = store.update_sweep(sweep_id, owner=owner_label(), status="running",
                                started=store.sweep(sweep_id).get("started") or time.time())
    if record.get("cluster"):
        from infoif.runs.cluster import DaskSweep

        with _coordinators_lock:
            running = _coordinators.get(sweep_id)
            if running is None or not running.alive:
                _coordinators[sweep_id] = DaskSweep(store, sweep_id, record["cluster"]).start()
        return record
    for run_id in launch_order(record):
        try:
            info = store.run_info(run_id)
        except KeyError:
            continue  # deleted meanwhile
        if info.status in ("finished", "stopped") or info.status in ACTIVE:
            continue
        left = _remaining(store, run_id, record["epochs"])
        if left:
            service.train(run_id, left, wait=None)
    return record


def same_graph_runs(record: dict, run_id: str) -> int:
    """How many other runs of the sweep have the run's model graph (they differ in seed, learning
    rate or batch size only), so can take its compiled model over (infoif.runs.worker)."""
    points = record.get("points") or []
    try:
        point = points[record["runs"].index(run_id)]
    except (ValueError, IndexError):
        return 0
    graph = _graph_key(point)
    return sum(_graph_key(p) == graph for p in points) - 1


def launch_order(record: dict) -> list[str]:
    """The sweep's runs with the seeds outermost (every model graph's first run, then every
    second, ...): the first runs the workers get are different models, and each next seed of a
    setting finds a model of its graph done with, on the worker that ran it (infoif.runs.service)."""
    groups: dict[str, list[str]] = {}
    for run_id, point in zip(record["runs"], record.get("points") or [{}] * len(record["runs"])):
        groups.setdefault(_graph_key(point), []).append(run_id)
    depth = max((len(g) for g in groups.values()), default=0)
    return [g[i] for i in range(depth) for g in groups.values() if i < len(g)]


def _graph_key(point: dict) -> str:
    """A grid point's settings that its compiled model depends on (infoif.runs.store.model_signature)."""
    return json.dumps({k: v for k, v in point.items() if k not in NOT_IN_GRAPH}, sort_keys=True, default=str)


def cancel(store, service, sweep_id: str) -> dict:
    """Stops the sweep's runs that have not finished (their epochs are kept) and marks it cancelled."""
    record = store.update_sweep(sweep_id, status="cancelled")
    with _coordinators_lock:
        coordinator = _coordinators.get(sweep_id)
    if coordinator is not None:
        coordinator.cancel()
    local = service is not None and not record.get("cluster")
    for run_id in record["runs"]:
        try:
            info = store.run_info(run_id)
        except KeyError:
            continue
        if info.status in DONE:
            continue
        if local and service.where(run_id):  # queued, or on a worker (perhaps still loading it)
            service.stop(run_id, wait=None)
        elif info.status in ACTIVE + ("idle", "interrupted"):
            store.set_status(run_id, "stopped", None)
    return record


def coordinator(sweep_id: str):
    """This process's Dask coordinator of a sweep, if any (tests, the command line)."""
    with _coordinators_lock:
        return _coordinators.get(sweep_id)


def resume_sweeps(store, service) -> list[str]:
    """Takes over the sweeps left running by a process that is gone (a server restart): queues
    their unfinished runs again. Returns the ids of the sweeps resumed."""
    from infoif.runs.store.files import pid_alive

    resumed = []
    for record in store.sweeps():
        if record.get("status") not in ("running", "creating"):
            continue
        if pid_alive(record.get("owner")) is not False:
            continue  # its process is still at it (or on another host)
        if record.get("status") == "creating":  # died while making its runs: what exists is kept
            store.update_sweep(record["id"], status="cancelled",
                               error="The process making this sweep stopped before all its runs were made.")
            continue
        try:
            launch(store, service, record["id"])
            resumed.append(record["id"])
        except Exception as exc:  # noqa: BLE001 - one sweep's trouble (a cluster gone) is its own
            store.update_sweep(record["id"], error=f"Could not resume this sweep: {exc}")
    return resumed


# ---------------------------------------------------------------- progress and results


@dataclass(frozen=True)
class SweepProgress:
    total: int  # runs
    done: int  # runs that will not run again (finished, failed, stopped)
    finished: int
    failed: int
    epochs_done: int
    epochs_total: int
    status: str  # running / finished / cancelled / failed (some runs failed, the rest finished)
    eta: float | None  # seconds left, from the rate so far (None before any epoch)
    error: str | None = None

    @property
    def fraction(self) -> float:
        return self.epochs_done / self.epochs_total if self.epochs_total else 1.0

    def describe(self) -> str:
        text = f"{self.done} of {self.total} runs done"
        if self.failed:
            text += f" ({self.failed} failed)"
        if self.status == "running" and self.eta is not None:
            text += f" · about {_duration(self.eta)} left"
        return text


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def progress(store, sweep_id: str) -> SweepProgress:
    record = store.sweep(sweep_id)
    epochs = int(record["epochs"])
    infos = {i.id: i for i in store.runs(record["workspace"]) if i.sweep == sweep_id}
    statuses = [infos[r].status if r in infos else "stopped" for r in record["runs"]]
    total = len(record["runs"])
    finished = statuses.count("finished")
    failed = statuses.count("failed")
    done = sum(s in DONE for s in statuses)
    epochs_done = sum(min(epochs, infos[r].epochs) if r in infos else epochs for r in record["runs"])
    epochs_total = epochs * total
    status = record.get("status", "running")
    if status in ("running", "creating") and total and done == total:
        status = "finished" if not failed else "failed"
        store.update_sweep(sweep_id, status=status, ended=time.time())
    eta = None
    started = record.get("started")
    if status == "running" and started and epochs_done:
        rate = epochs_done / max(1e-3, time.time() - started)
        eta = (epochs_total - epochs_done) / rate
    return SweepProgress(total, done, finished, failed, epochs_done, epochs_total, status, eta, record.get("error"))


def results(store, sweep_id: str):
    """One row per run of the sweep, in grid order: run, id, status, worker, seed, epochs, every
    sweepable setting, the latest metrics and the mean energy (a pandas DataFrame)."""
    import pandas as pd

    record = store.sweep(sweep_id)
    infos = {i.id: i for i in store.runs(record["workspace"]) if i.sweep == sweep_id}
    rows = []
    for run_id in record["runs"]:
        info = infos.get(run_id)
        if info is None:
            continue
        settings = store.run_settings(run_id)
        row = {"run": info.name, "id": info.id, "status": info.status, "worker": info.worker, "seed": info.seed,
               "epochs": info.epochs}
        spec = info.spec.to_dict()
        row.update({k: (settings.get("batch_size") if k == "batch_size" else spec.get(k)) for k in SWEEP_SETTINGS})
        row.update({k: v for k, v in info.metrics.items() if k not in ("lr", "batch_size")})
        row["mean_energy"] = info.mean_energy
        rows.append(row)
    columns = ["run", "id", "status", "worker", "seed", "epochs", *SWEEP_SETTINGS]
    frame = pd.DataFrame(rows, columns=None if rows else columns)
    return frame


RESULT_METRICS = ("val_accuracy", "val_mae", "val_loss", "accuracy", "mae", "loss")  # as offered, in order


def result_metrics(frame) -> tuple[list[str], str | None]:
    """The metrics a sweep's results offer (validation first) and the one to show first: the
    headline metric of its latest finished run (of any run with metrics before one finishes)."""
    import pandas as pd

    from infoif.train.history import headline_metric

    metrics = [m for m in RESULT_METRICS if m in frame.columns]
    if not metrics:
        return [], None
    values = frame[metrics].apply(pd.to_numeric, errors="coerce")
    has = values.notna().any(axis=1)
    finished = has & (frame["status"] == "finished")
    rows = values[finished] if finished.any() else values[has]
    if rows.empty:
        return metrics, metrics[0]
    choice = headline_metric({m: v for m, v in rows.iloc[-1].items() if pd.notna(v)})
    return metrics, choice if choice in metrics else metrics[0]


def varied(record: dict) -> list[str]:
    """The settings a sweep varies (more than one value), in the grid's order."""
    return [k for k, v in record.get("grid", {}).items() if len(v) > 1]

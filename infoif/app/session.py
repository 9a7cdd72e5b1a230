"""One browser tab's view of one workspace, free of Streamlit so it can be tested directly.

A workspace lives in the store (`infoif.runs.store`) under an unguessable id that
the page keeps in its URL (`?ws=...`): its data choice, settings, current run
and every run it made. A reload, a copied link or a restarted server reopens
it; a link without an id starts a new one, and nothing here lists or reveals
another workspace.

`Session` offers the verbs of the dashboard (`train`, `pause`, `step`,
`stop`, `reset`, `status`), and decides what each means for the run at hand,
so that the pages hold no control rules. Training happens in the training
service's worker processes (`infoif.runs.service`), never in the server.

Data changes are transactional: a bad file or setting raises before anything
is replaced, so the dataset and runs the user had stay in place.

Importing this module does not import TensorFlow, and neither does anything
a session does: the server never trains.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html as html_lib
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from infoif import data as data_lib
from infoif import datasets
from infoif.constants import AUTO
from infoif.train.control import ACTIVE, BADGES, check_epochs
from infoif.runs.fairshare import Refresh
from infoif.train.history import headline_metric, history_csv
from infoif.train.probes import ProbeConfig
from infoif.nn.spec import ModelSpec
from infoif.runs.store import RunInfo, Store, StoreError
from infoif.app.urlstate import Settings, from_query, to_query

__all__ = ["Session", "RunView", "RunStatus", "Prediction", "run_status", "status_payload",
           "STEP_TIMEOUT"]

STEP_TIMEOUT = 60.0  # Step waits this long for its epoch (a new model is loaded and traced first)
CLICK_WAIT = 0.5  # Train waits this long for the worker's answer; later the status line tells
WORKSPACE_PARAM = "ws"


def run_status(store: Store, service, info, epochs_setting: int | None) -> RunStatus:
    """What the status line says of run `info` (a `RunInfo`, None: no run yet), with the epoch
    budget on screen; marks the run as watched (the service's fair share favours it)."""
    workers_starting = bool(getattr(service, "starting", False))
    if info is None:
        return RunStatus("idle", workers_starting=workers_starting)
    where = service.where(info.id) if service is not None else {}
    if service is not None and info.status in ACTIVE + ("idle",):
        service.touch(info.id)
    metric = headline_metric(info.metrics) if info.metrics else None
    budget = done = None
    if info.budget_end is not None and info.status in ("running", "paused", "queued") and epochs_setting:
        budget = epochs_setting
        done = max(0, min(budget, budget - (info.budget_end - info.epochs)))
    return RunStatus(
        info.status, info.name, info.id, info.epochs, metric, info.metrics.get(metric) if metric else None,
        info.error if info.status in ("failed", "interrupted") else None, where.get("queued"),
        # sent to a worker that has not started it yet (loading the data and the model)
        starting=bool(where.get("slot")) and info.status != "running", budget_done=done, budget=budget,
        workers_starting=workers_starting and info.status not in ("running",))


def status_payload(store: Store, service, workspace, run_id, epochs_setting) -> dict | None:
    """The status line's live refresh, read without a script run (pages/_server.py serves it):
    {"html": the line, "live": whether it may still change by itself (a run training, the workers
    starting), "status"}. None unless `run_id` (or "" for no run) belongs to `workspace`: a
    workspace id is the only key to its runs."""
    if not isinstance(workspace, str) or not store.workspace_exists(workspace):
        return None
    info = None
    if run_id:
        if not store.has_run(run_id, workspace):
            return None
        info = store.run_info(run_id)
    try:
        epochs = int(epochs_setting) if epochs_setting not in (None, "") else None
    except (TypeError, ValueError):
        epochs = None
    state = run_status(store, service, info, epochs)
    return {"html": state.html(), "live": state.live, "status": state.status}


@dataclass(frozen=True)
class RunStatus:
    """What the status line says about the current run."""

    status: str  # a control status, or "idle" with no run
    run: str | None = None  # the run's name
    run_id: str | None = None
    epoch: int = 0
    metric: str | None = None
    value: float | None = None
    error: str | None = None
    queued: int | None = None  # position in the service's queue
    starting: bool = False  # sent to a worker, not training yet (loading the model)
    budget_done: int | None = None
    budget: int | None = None
    workers_starting: bool = False  # the server's training workers are still starting (importing TensorFlow)

    @property
    def badge(self) -> tuple[str, str]:
        if self.starting:
            return "green", "starting"
        return BADGES[self.status]

    @property
    def active(self) -> bool:
        return self.starting or self.status in ("running", "queued")

    def text(self) -> str:
        colour, word = self.badge
        parts = []
        # idle while the workers start: not "ready" (a Train would wait for them), only what happens
        if not (self.workers_starting and self.status == "idle" and not self.starting):
            parts.append(f":{colour}-badge[{word}]")
        if self.workers_starting:
            parts.append(("· " if parts else "") + "starting the training workers (once per server start, a few "
                         "seconds)" + ("; training begins then" if self.starting else "")
                         + (" ·" if self.queued or self.epoch else ""))
        if self.queued:
            parts.append(f"position **{self.queued}** in the queue")
        if self.epoch:
            parts.append(f"epoch **{self.epoch}**")
            if self.metric is not None and self.value is not None:
                parts[-1] += f" · {self.metric} {self.value:.3f}"
        if self.run:
            parts[-1 if parts else 0:] = [(parts[-1] + " · " if parts else "") + f"`{self.run}`"]
        return " ".join(parts)

    @property
    def live(self) -> bool:
        """Whether the line may change without anyone pressing anything: a run training (or about
        to), or the server's workers starting."""
        return self.active or self.workers_starting

    def html(self) -> str:
        """`text()` as HTML for the live status element: badge, bold and code, everything escaped."""
        out = html_lib.escape(self.text(), quote=False)
        out = re.sub(r":(\w+)-badge\[([^\]]*)\]", r'<span class="infoif-badge infoif-badge-\1">\2</span>', out)
        out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


@dataclass(frozen=True)
class Prediction:
    """New rows and what a run's download model answered for them."""

    filename: str
    rows: object  # pandas.DataFrame as read
    answer: object  # pandas.DataFrame: "prediction" and, for classes, "probability_<class>"
    score: dict | None  # metrics when the target column was in the rows
    run: str
    epoch: int
    describe: dict

    @property
    def made_by(self) -> str:
        return f"run `{self.run}` after {self.epoch} epochs"


class RunView:
    """A run as the dashboard reads it: its index entry and its history, from the store; its
    downloads come from the training service (the server never loads a model)."""

    def __init__(self, store: Store, info: RunInfo, service=None):
        self.store, self._info, self.service = store, info, service

    @property
    def info(self) -> RunInfo:
        return self._info

    def refresh(self) -> "RunView":
        self._info = self.store.run_info(self._info.id)
        return self

    id = property(lambda self: self._info.id)
    name = property(lambda self: self._info.name)
    spec = property(lambda self: self._info.spec)
    seed = property(lambda self: self._info.seed)
    status = property(lambda self: self._info.status)
    error = property(lambda self: self._info.error)
    dataset_name = property(lambda self: self._info.dataset_name)

    @property
    def history(self):
        """Snapshots, oldest first, as written so far (read incrementally, shared between tabs)."""
        return self.store.reader(self.id).snapshots()

    @property
    def gaps(self) -> list[int]:
        return self.store.reader(self.id).read_gaps()

    @property
    def problem(self) -> str | None:
        """What could not be read of this run's files, if anything."""
        return self.store.reader(self.id).problem

    def probe_setup(self):
        """The run's fixed probe settings (`infoif.train.probes.ProbeSetup`), or None before it starts."""
        return self.store.probe_setup(self.id)

    def hist_edges(self):
        setup = self.probe_setup()
        return None if setup is None else setup.hist_edges

    def has_model(self) -> bool:
        return self.store.model_path(self.id).exists()

    def export(self, fmt: str = "keras") -> dict:
        """Has a worker write the download: {"path", "epoch", "describe"} (see infoif.export)."""
        if self.service is None:
            raise RuntimeError("Downloads need the training service.")
        return self.service.export(self.id, fmt)

    def export_model(self, fmt: str = "keras") -> bytes:
        """The download: a `.keras` model that takes the data's raw columns and answers in the
        user's terms (or, with fmt="savedmodel", a TensorFlow SavedModel as a zip), at the
        run's current epoch."""
        return Path(self.export(fmt)["path"]).read_bytes()

    def history_csv(self) -> str:
        return history_csv(self.history, self.spec.num_interfaces)


class Session:
    """One tab's state in one workspace (see the module docstring).

    Args:
        store: the workspace store.
        service: the training service (anything with train/step/pause/stop/
            set_learning_rate/set_batch_size/where/touch/forget), or None for
            a session that only reads.
        workspace: an existing workspace id; None makes a new workspace.
        settings: settings that override the workspace's (from a link).
    """

    def __init__(self, store: Store, service=None, workspace: str | None = None,
                 settings: Settings | None = None):
        self.store, self.service = store, service
        self.problems: list[str] = []
        state: dict = {}
        if workspace is not None and store.workspace_exists(workspace):
            self.workspace = workspace
            state = store.workspace_state(workspace)
        else:
            self.workspace = store.create_workspace()
        saved, _ = from_query(state.get("settings", {}))
        self.settings = settings or saved
        self.probe_config = ProbeConfig(**state["probe_config"]) if "probe_config" in state else ProbeConfig()
        self.data_ref: dict | None = state.get("data")
        self.run_id: str | None = state.get("current_run")
        self.sweep: dict | None = state.get("sweep")
        self.frame = None
        self.dataset = None
        self.load_report = None  # infoif.data.LoadReport: how the table was read
        self._predictor = None  # ((run id, epochs), what its download reads and answers)
        if self.run_id is not None and not store.has_run(self.run_id, self.workspace):
            self.run_id = None

    @classmethod
    def open(cls, store: Store, service, query: dict) -> "Session":
        """The session for a page's query parameters: its workspace (or a new one), the linked
        settings, and the workspace's data (or the default sample). `problems` says what of the
        link could not be used."""
        query = {k: (v[-1] if isinstance(v, (list, tuple)) and v else v) for k, v in dict(query).items()}
        ws = query.pop(WORKSPACE_PARAM, None)
        known = ws is not None and store.workspace_exists(ws)
        s = cls(store, service, ws if known else None)
        problems = []
        if ws is not None and not known:
            problems.append("That workspace link is not known on this server (it may have been deleted), "
                            "so a new workspace was started.")
        if query:
            s.settings, link_problems = from_query(query, base=s.settings)
            problems += link_problems
        s._open_data(problems)
        s.problems = problems
        s.save()
        s._prewarm()
        return s

    def _open_data(self, problems: list[str]) -> None:
        ref = self.data_ref
        linked = self.settings.data
        if ref is not None and (linked is None or (ref.get("kind") == "sample" and ref.get("name") == linked)):
            try:
                self._use_ref(ref)
                return
            except (data_lib.DataError, StoreError, KeyError) as exc:
                problems.append(f"Could not reopen this workspace's data ({exc}); opened a sample instead.")
        name = linked or datasets.DEFAULT_SAMPLE
        try:
            self.use_sample(name, target=self.settings.target, task=self.settings.task)
        except (data_lib.DataError, KeyError) as exc:
            problems.append(f"Could not open the linked dataset {name!r} ({exc}); opened the default one.")
            self.use_sample(datasets.DEFAULT_SAMPLE)

    # ------------------------------------------------------------ persistence

    def _prewarm(self) -> None:
        """With no current run, the next Train makes one from the settings on screen: have a worker
        build (and trace) that model now, so the first epoch shows at once (infoif.runs.service)."""
        if self.run_id is not None or self.service is None or self.dataset is None:
            return
        prewarm = getattr(self.service, "prewarm", None)
        if prewarm is not None:
            prewarm(self.spec.to_dict(), self._ref(self.data_ref), self.settings.seed,
                    min(self.settings.batch_size, len(self.dataset.x_train)), dataclasses.asdict(self.probe_config),
                    workspace=self.workspace)

    def save(self) -> None:
        """Writes this workspace's state (settings, data choice, current run) to the store. If the
        workspace was deleted meanwhile (from another tab), this tab carries on in a new one."""
        if not self.store.workspace_exists(self.workspace):
            self.workspace = self.store.create_workspace()
            self.run_id, self.sweep = None, None
            if self.data_ref is not None and self.data_ref.get("kind") == "upload":
                try:  # the upload went with the old workspace: keep this tab's copy
                    self.store.put_upload(self.workspace, self.store.upload_bytes(self.data_ref["sha256"]),
                                          self.data_ref["filename"])
                except StoreError:
                    pass
        state = {"settings": to_query(self.settings), "data": self.data_ref, "current_run": self.run_id,
                 "probe_config": dataclasses.asdict(self.probe_config), "sweep": self.sweep}
        self.store.save_workspace_state(self.workspace, state)

    def query(self) -> dict[str, str]:
        """The URL's query parameters: the workspace and the settings a link carries."""
        return {WORKSPACE_PARAM: self.workspace, **to_query(self.settings)}

    # ------------------------------------------------------------ data

    @property
    def data_name(self) -> str | None:
        return getattr(self.dataset, "name", None)

    @property
    def data_source(self) -> str | None:
        return None if self.data_ref is None else self.data_ref["kind"]

    @property
    def upload_digest(self) -> str | None:
        return self.data_ref.get("sha256") if self.data_ref else None

    @property
    def roles(self) -> dict:
        """The Data page's column choices: {"features": [...] or None (all), "kinds": {column:
        "numeric"/"categorical"}}, as `prepare` takes them (plain JSON)."""
        options = (self.data_ref or {}).get("prepare_options", {})
        return {"features": options.get("features"), "kinds": dict(options.get("kinds", {}))}

    def use_sample(self, name: str, target: str | None = None, task: str = AUTO) -> None:
        """Switches to a sample dataset (raises DataError/KeyError, changing nothing)."""
        if name not in datasets.SAMPLES:
            raise KeyError(f"No sample dataset {name!r}; choose one of {list(datasets.SAMPLES)}")
        loaded = datasets.read_sample(name)
        target = target if target in loaded.frame.columns else datasets.SAMPLES[name].target
        self._use({"kind": "sample", "name": name, "target": str(target), "task": task}, loaded)

    def use_upload(self, source, filename: str, encoding: str | None = None) -> bool:
        """Switches to an uploaded file; False if it is the same file as now.

        Raises `DataError` with the message for the user; nothing changes then. The file is
        kept in the store, once, so the workspace reopens with it.
        """
        raw = bytes(source if isinstance(source, (bytes, bytearray)) else source.getvalue())
        digest = hashlib.sha256(raw).hexdigest()
        if self.data_ref is not None and self.data_ref.get("sha256") == digest and encoding is None:
            return False
        loaded = data_lib.read_table(raw, filename=filename, encoding=encoding)
        ref = {"kind": "upload", "sha256": digest, "filename": filename, "target": str(loaded.frame.columns[-1]),
               "task": AUTO, "load_options": dict(loaded.report.options)}
        self._use(ref, loaded, raw=raw)
        return True

    def set_encoding(self, encoding: str | None) -> None:
        """Reads the current upload again in `encoding` (None: detect it); transactional.

        Column names may change with the encoding, so the column roles start afresh.
        """
        if self.data_source != "upload":
            raise ValueError("Only an uploaded file can be read in another encoding; upload one first.")
        raw = self.store.upload_bytes(self.data_ref["sha256"])
        loaded = data_lib.read_table(raw, filename=self.data_ref["filename"], encoding=encoding)
        columns = [str(c) for c in loaded.frame.columns]
        target = self.settings.target if self.settings.target in columns else columns[-1]
        ref = {k: v for k, v in self.data_ref.items() if k != "prepare_options"}
        self._use({**ref, "target": target, "load_options": dict(loaded.report.options)}, loaded, new_run=True)

    def set_roles(self, features: list[str] | None = None, kinds: dict[str, str] | None = None) -> bool:
        """Chooses the feature columns (None: all) and their kinds ("numeric"/"categorical");
        re-prepares the table (transactional). False when nothing changed."""
        roles = {"features": None if features is None else [str(f) for f in features],
                 "kinds": {str(k): v for k, v in (kinds or {}).items()}}
        if roles == self.roles:
            return False
        options = {k: v for k, v in roles.items() if v is not None and v != {}}  # [] means none: refused
        ref = {k: v for k, v in self.data_ref.items() if k != "prepare_options"}
        self._use({**ref, **({"prepare_options": options} if options else {})}, self._loaded(), new_run=True)
        return True

    def set_target(self, target: str, task: str = AUTO) -> None:
        """Re-prepares the current table for another target or task (transactional)."""
        if self.data_ref is None:
            raise ValueError("No data yet: choose a sample or upload a file first.")
        self._use({**self.data_ref, "target": str(target), "task": task}, self._loaded())

    def _loaded(self):
        return data_lib.Loaded(self.frame, self.load_report)

    def _ref(self, ref: dict) -> dict:
        return {**ref, "seed": int(self.settings.seed)}

    def _use_ref(self, ref: dict) -> None:
        opened = self.store.dataset(self._ref(ref))
        self.frame, self.dataset, self.load_report = opened.frame, opened.dataset, opened.report
        self.data_ref = ref

    def _use(self, ref: dict, loaded, raw: bytes | None = None, new_run: bool = False) -> None:
        """Prepares `loaded` (the table `ref` names) as `ref` says, then commits it: nothing
        changes unless everything worked."""
        full = self._ref(ref)
        name = ref.get("filename") or ref.get("name")
        task = ref.get("task", AUTO)
        dataset = data_lib.prepare(loaded, ref["target"], task=None if task == AUTO else task, seed=full["seed"],
                                   name=name, **ref.get("prepare_options", {}))
        # Everything validated: commit.
        if raw is not None:
            self.store.put_upload(self.workspace, raw, ref["filename"])
        changed = new_run or self.data_ref is None or any(
            self.data_ref.get(k) != ref.get(k) for k in ("kind", "name", "sha256", "target", "task"))
        self.frame, self.dataset, self.data_ref, self.load_report = loaded.frame, dataset, ref, loaded.report
        self.settings = dataclasses.replace(
            self.settings, data=ref["name"] if ref["kind"] == "sample" else None, target=ref["target"],
            task=task)
        if changed:
            self._retire_current_run()
        self.save()
        self._prewarm()

    # ------------------------------------------------------------ model and settings

    @property
    def spec(self) -> ModelSpec:
        return self.settings.spec

    def set_spec(self, spec: ModelSpec) -> bool:
        """Changes the model; the current run is set aside (kept if it trained)."""
        if spec == self.settings.spec:
            return False
        self.settings = dataclasses.replace(self.settings, spec=spec)
        self._retire_current_run()
        self.save()
        self._prewarm()
        return True

    def set_learning_rate(self, lr: float) -> None:
        """Changes the learning rate of the current run at its next epoch (no rebuild)."""
        spec = self.settings.spec.replace(learning_rate=lr)
        if self.run_id is not None and self.service is not None:
            self.service.set_learning_rate(self.run_id, lr)
        self.settings = dataclasses.replace(self.settings, spec=spec)
        self.save()

    def set_estimators(self, bins: int | None = None, noise_var: float | None = None) -> None:
        """Information-plane estimator settings for the runs made from now on (validated)."""
        changes = {k: v for k, v in (("info_bins", bins), ("kde_noise_var", noise_var)) if v is not None}
        self.probe_config = dataclasses.replace(self.probe_config, **changes)
        self.save()
        self._prewarm()

    def set_training(self, batch_size: int | None = None, epochs: int | None = None, seed: int | None = None):
        changes = {k: v for k, v in (("batch_size", batch_size), ("epochs", epochs), ("seed", seed)) if v is not None}
        self.settings = dataclasses.replace(self.settings, **changes)
        if batch_size is not None and self.run_id is not None and self.service is not None:
            self.service.set_batch_size(self.run_id, min(batch_size, len(self.dataset.x_train)))
        self.save()
        if batch_size is not None or seed is not None:
            self._prewarm()

    # ------------------------------------------------------------ runs

    def current_run(self) -> RunView | None:
        """The run the controls act on, if there is one yet (Train or Step makes it)."""
        if self.run_id is None:
            return None
        try:
            return RunView(self.store, self.store.run_info(self.run_id), self.service)
        except KeyError:
            self.run_id = None
            return None

    def _new_run(self) -> str:
        info = self.store.create_run(
            self.workspace, self.spec, self._ref(self.data_ref), self.data_name, seed=self.settings.seed,
            batch_size=min(self.settings.batch_size, len(self.dataset.x_train)), probe_config=self.probe_config)
        self.run_id = info.id
        self.save()
        return info.id

    def _service(self):
        if self.service is None:
            raise RuntimeError("This session has no training service.")
        return self.service

    def train(self) -> None:
        """Train: continues a paused run, trains the budget (Train page) on any other, or starts
        a run with the current settings when there is none."""
        run_id = self.run_id or self._new_run()
        status = self.store.run_info(run_id).status
        if status == "paused":
            self._service().train(run_id, "resume", wait=CLICK_WAIT)
        elif status != "running":
            self._service().train(run_id, self.settings.epochs or None, wait=CLICK_WAIT)

    def pause(self) -> None:
        if self.run_id is not None:
            self._service().pause(self.run_id)

    def step(self, timeout: float = STEP_TIMEOUT) -> bool:
        """Trains one epoch, then pauses; waits for that epoch. True if it was recorded."""
        run_id = self.run_id or self._new_run()
        info = self.store.run_info(run_id)
        if info.status == "running":
            return False
        before = info.epochs
        self._service().step(run_id)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.store.run_info(run_id)
            if info.epochs > before or info.status == "failed":
                return info.epochs > before
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self.run_id is not None:
            self._service().stop(self.run_id)

    def reset(self) -> None:
        """A fresh model with the same settings (the old run stays for comparison if it trained)."""
        self._retire_current_run()
        self.save()
        self._prewarm()

    def _retire_current_run(self) -> None:
        run_id, self.run_id = self.run_id, None
        if run_id is None or not self.store.has_run(run_id):
            return
        info = self.store.run_info(run_id)
        if info.status in ACTIVE and self.service is not None:
            self.service.stop(run_id)
        if self.store.run_info(run_id).epochs == 0:
            self._delete(run_id)  # an untrained run is not worth comparing
        elif getattr(self.service, "release", None) is not None:
            self.service.release(run_id)  # its model serves the next run of the same graph

    def status(self) -> RunStatus:
        """The current run's status, epoch and headline metric (marks the run as watched)."""
        run = self.current_run()
        return run_status(self.store, self.service, run.info if run is not None else None, self.settings.epochs)

    def is_training(self) -> bool:
        return self.status().active or self.sweep_running()

    def chart_refresh(self) -> Refresh:
        """How often a page redraws its live charts now: slower while many runs share the server's
        workers (`infoif.runs.fairshare.chart_refresh`)."""
        refresh = getattr(self.service, "chart_refresh", None)
        return refresh() if refresh is not None else Refresh()

    # ------------------------------------------------------------ the workspace's runs

    def runs(self, *, status: str | None = None, search: str | None = None, limit: int | None = None,
             offset: int = 0, newest_first: bool = False) -> list[RunInfo]:
        return self.store.runs(self.workspace, status=status, search=search, limit=limit, offset=offset,
                               newest_first=newest_first)

    def run(self, run_id: str) -> RunView:
        """A run of this workspace (KeyError for any other id)."""
        if not self.store.has_run(run_id, self.workspace):
            raise KeyError(f"No run {run_id!r} in this workspace.")
        return RunView(self.store, self.store.run_info(run_id), self.service)

    def _delete(self, run_id: str) -> None:
        if self.service is not None:
            self.service.forget(run_id)
        self.store.delete_run(run_id)

    def delete_run(self, run_id: str) -> None:
        """Deletes one of this workspace's runs (stopping it first)."""
        self.run(run_id)  # refuses another workspace's run
        if run_id == self.run_id:
            self.run_id = None
        self._delete(run_id)
        self.save()

    def delete_workspace(self) -> None:
        """Deletes this workspace, its runs and its uploads; the session starts a new, empty one."""
        for info in self.runs():
            if self.service is not None:
                self.service.forget(info.id)
        self.store.delete_workspace(self.workspace)
        self.workspace = self.store.create_workspace()
        self.run_id, self.sweep = None, None
        self._open_data([])
        self.save()

    def disk_bytes(self) -> int:
        return self.store.disk_bytes(self.workspace)

    # ------------------------------------------------------------ predictions

    def predictor(self) -> dict | None:
        """What the current run's download reads and answers ({"run", "epoch", "describe"}), or
        None before it has trained."""
        run = self.current_run()
        if run is None or not run.info.epochs:
            return None
        key = (run.id, run.info.epochs)
        if self._predictor is None or self._predictor[0] != key:
            reply = run.export("keras")
            self._predictor = (key, {"run": run.name, "epoch": reply["epoch"], "describe": reply["describe"]})
        return self._predictor[1]

    def predict(self, source, filename: str) -> "Prediction":
        """New rows (a file's bytes, as uploaded) through the current run's download model, in a
        worker. Raises `DataError` with the message for the user (a missing column, a bad file)."""
        import pandas as pd

        run = self.current_run()
        if run is None or not run.info.epochs:
            raise ValueError("No trained model yet: train one first.")
        raw = bytes(source if isinstance(source, (bytes, bytearray)) else source.getvalue())
        rows = data_lib.load_table(raw, filename=filename)  # refused here, with its message, if unreadable
        token = secrets.token_hex(6)
        folder = self.store.run_dir(run.id)
        rows_path, out = folder / f".predict-{token}.rows", folder / f".predict-{token}.parquet"
        rows_path.write_bytes(raw)
        try:
            reply = self._service().predict(run.id, str(rows_path), filename, str(out))
            answer = pd.read_parquet(out)
        finally:
            rows_path.unlink(missing_ok=True)
            out.unlink(missing_ok=True)
        answer.index = rows.index
        return Prediction(filename, rows, answer, reply["score"], run.name, reply["epoch"], reply["describe"])

    # ------------------------------------------------------------ sweeps

    def start_sweep(self, grid, seeds: int = 1, epochs: int = 100, cluster: str | None = None) -> dict:
        """A sweep over `grid` ({setting: "1, 2, 4" or a list}, see `infoif.runs.sweep`) times `seeds`
        seeds (from the current seed), `epochs` each, on the current data with the current settings
        for everything the grid does not vary. Its runs go to the training service (every local
        worker) or, with `cluster` (or INFOIF_DASK), to a Dask cluster. Raises `SweepError` (a
        ValueError) for a bad grid or a cluster that cannot train it (`infoif.runs.cluster.check_cluster`),
        before anything is made. Returns the sweep's record."""
        from infoif.runs import sweep as sweeps

        plan = sweeps.make_plan(grid, seeds, epochs, base_seed=self.settings.seed)
        cluster = sweeps.cluster_address(cluster)
        if self.dataset is None:
            raise sweeps.SweepError("Choose a dataset on the Data page first.")
        if cluster:
            from infoif.runs.cluster import ClusterError, check_cluster

            try:
                check_cluster(cluster)  # says what the cluster lacks; nothing is made
            except ClusterError as exc:
                raise sweeps.SweepError(str(exc)) from None
        record = sweeps.create(self.store, self.workspace, plan, self.spec, self._ref(self.data_ref),
                               self.data_name, self.settings.batch_size, self.probe_config, cluster=cluster,
                               max_batch=len(self.dataset.x_train))
        self.sweep = {"id": record["id"]}
        self.save()
        return sweeps.launch(self.store, None if cluster else self._service(), record["id"])

    def sweeps(self) -> list[dict]:
        """This workspace's sweeps, newest first (a running one's status settled from its runs)."""
        from infoif.runs import sweep as sweeps

        records = self.store.sweeps(self.workspace)
        for k, record in enumerate(records):
            if record.get("status") == "running" and sweeps.progress(self.store, record["id"]).status != "running":
                records[k] = self.store.sweep(record["id"])
        return records

    @property
    def sweep_id(self) -> str | None:
        """The workspace's latest sweep (the one the Compare page follows)."""
        return self._own_sweep(None)

    def _own_sweep(self, sweep_id: str | None) -> str | None:
        """`sweep_id` (default: the latest) if it is a sweep of this workspace, else None."""
        sweep_id = sweep_id or (self.sweep or {}).get("id")
        if sweep_id is None:
            return None
        try:
            record = self.store.sweep(sweep_id)
        except KeyError:
            return None
        return sweep_id if record.get("workspace") == self.workspace else None

    def sweep_progress(self, sweep_id: str | None = None):
        """The `SweepProgress` of a sweep of this workspace (the latest by default), or None."""
        from infoif.runs import sweep as sweeps

        sweep_id = self._own_sweep(sweep_id)
        return None if sweep_id is None else sweeps.progress(self.store, sweep_id)

    def sweep_running(self) -> bool:
        progress = self.sweep_progress()
        return progress is not None and progress.status == "running"

    def cancel_sweep(self, sweep_id: str | None = None) -> None:
        from infoif.runs import sweep as sweeps

        sweep_id = self._own_sweep(sweep_id)
        if sweep_id is not None:
            sweeps.cancel(self.store, self.service, sweep_id)

    def sweep_results(self, sweep_id: str | None = None):
        """One row per run of a sweep of this workspace (see `infoif.runs.sweep.results`), or None."""
        from infoif.runs import sweep as sweeps

        sweep_id = self._own_sweep(sweep_id)
        return None if sweep_id is None else sweeps.results(self.store, sweep_id)

"""One user's dashboard state, free of Streamlit so it can be tested directly.

A `Session` lives in `st.session_state` (one per browser session, never
shared). It owns the chosen data, the model settings, and the user's runs.
Changes are transactional: a bad file or setting raises before anything is
replaced, so the dataset and runs the user had stay in place.

Importing this module does not import TensorFlow; the first run does.
"""

from __future__ import annotations

import dataclasses
import hashlib

from infoif import data as data_lib
from infoif import datasets
from infoif.constants import AUTO
from infoif.probes import ProbeConfig
from infoif.spec import ModelSpec
from infoif.urlstate import Settings

__all__ = ["Session"]

NO_ROLES = {"features": None, "kinds": {}}  # every column that can be a feature, kinds inferred


class Session:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.frame = None  # the raw table (pandas)
        self.data_name: str | None = None
        self.data_source: str | None = None  # "sample" or "upload"
        self.dataset = None  # infoif.data.Dataset
        self.load_report = None  # infoif.data.LoadReport: how the table was read
        self.upload_digest: str | None = None
        self.upload_bytes: bytes | None = None  # kept to read the upload again (another encoding)
        self.roles: dict = dict(NO_ROLES)  # the Data page's feature choices: prepare(**roles), JSON
        self._prediction = (None, None)  # ((run id, epoch), exported model)
        self.prediction_source: dict | None = None  # {"run": id, "epoch": n} of the prediction model
        self._store = None
        self.run_id: str | None = None
        self.sweep = None
        self.probe_config = ProbeConfig()  # estimator settings for the next runs

    # ------------------------------------------------------------ data

    def use_sample(self, name: str, target: str | None = None, task: str = AUTO) -> None:
        """Switches to a sample dataset (raises DataError/KeyError, changing nothing)."""
        if name not in datasets.SAMPLES:
            raise KeyError(f"No sample dataset {name!r}; choose one of {list(datasets.SAMPLES)}")
        loaded = datasets.read_sample(name)
        target = target if target in loaded.frame.columns else datasets.SAMPLES[name].target
        self._use(loaded, name, "sample", target, task, roles=NO_ROLES)

    def use_upload(self, source, filename: str, encoding: str | None = None) -> bool:
        """Switches to an uploaded file; False if it is the same file as now.

        Raises `DataError` with the message for the user; nothing changes then.
        """
        raw = bytes(source if isinstance(source, (bytes, bytearray)) else source.getvalue())
        digest = hashlib.sha256(raw).hexdigest()
        if digest == self.upload_digest and self.data_source == "upload":
            return False
        loaded = data_lib.read_table(raw, filename=filename, encoding=encoding)
        target = loaded.frame.columns[-1]
        self._use(loaded, filename, "upload", target, AUTO, roles=NO_ROLES)
        self.upload_digest, self.upload_bytes = digest, raw
        return True

    def set_target(self, target: str, task: str = AUTO) -> None:
        """Re-prepares the current table for another target or task (transactional)."""
        if self.frame is None:
            raise ValueError("No data yet: choose a sample or upload a file first.")
        self._use(self._loaded(), self.data_name, self.data_source, target, task)

    def _use(self, loaded, name, source, target, task, roles=None, new_run=False):
        roles = self.roles if roles is None else roles
        dataset = data_lib.prepare(
            loaded, target, task=None if task == AUTO else task, seed=self.settings.seed, name=name, **roles
        )
        # Everything validated: commit.
        changed = new_run or self.dataset is None or self.data_name != name or self.settings.target != target \
            or self.settings.task != task
        self.frame, self.load_report, self.roles = loaded.frame, loaded.report, roles
        self.data_name, self.data_source, self.dataset = name, source, dataset
        if source != "upload":
            self.upload_digest, self.upload_bytes = None, None
        self.settings = dataclasses.replace(
            self.settings, data=name if source == "sample" else None, target=target, task=task
        )
        if changed:
            self._retire_current_run()

    def _loaded(self):
        return data_lib.Loaded(self.frame, self.load_report)

    # ------------------------------------------------------------ data options and predictions (issue 11)

    def set_encoding(self, encoding: str | None) -> None:
        """Reads the current upload again in `encoding` (None: detect it); transactional.

        Column names may change with the encoding, so the column roles start afresh.
        """
        if self.data_source != "upload" or self.upload_bytes is None:
            raise ValueError("Only an uploaded file can be read in another encoding; upload one first.")
        loaded = data_lib.read_table(self.upload_bytes, filename=self.data_name, encoding=encoding)
        columns = list(loaded.frame.columns)
        target = self.settings.target if self.settings.target in columns else columns[-1]
        self._use(loaded, self.data_name, "upload", target, self.settings.task, roles=NO_ROLES, new_run=True)

    def set_roles(self, features: list[str] | None = None, kinds: dict[str, str] | None = None) -> bool:
        """Chooses the feature columns (None: all) and their kinds ("numeric"/"categorical");
        re-prepares the table (transactional). False when nothing changed."""
        roles = {"features": None if features is None else [str(f) for f in features],
                 "kinds": {str(k): v for k, v in (kinds or {}).items()}}
        if roles == self.roles:
            return False
        self._use(self._loaded(), self.data_name, self.data_source, self.settings.target, self.settings.task,
                  roles=roles, new_run=True)
        return True

    def prediction_model(self):
        """The current run's model as its download gives it (raw rows in, answers out), or None
        before the run has trained. Made again when the run has trained further."""
        run = self.current_run(create=False)
        if run is None or not run.history:
            return None
        key = (run.id, run.trainer.epoch)
        if self._prediction[0] != key:
            from infoif import export

            self._prediction = (key, export.load_keras_bytes(run.export_model()))
            self.prediction_source = {"run": run.id, "epoch": key[1]}
        return self._prediction[1]

    # ------------------------------------------------------------ model and runs

    @property
    def spec(self) -> ModelSpec:
        return self.settings.spec

    def set_spec(self, spec: ModelSpec) -> bool:
        """Changes the model; the current run is set aside and a fresh one made on demand."""
        if spec == self.settings.spec:
            return False
        self.settings = dataclasses.replace(self.settings, spec=spec)
        self._retire_current_run()
        return True

    def set_learning_rate(self, lr: float) -> None:
        """Changes the learning rate of the current run at its next epoch (no rebuild)."""
        run = self.current_run(create=False)
        if run is not None and run.trainer.status != "failed":
            run.trainer.set_learning_rate(lr)
        self.settings = dataclasses.replace(self.settings, spec=self.settings.spec.replace(learning_rate=lr))

    def set_estimators(self, bins: int | None = None, noise_var: float | None = None) -> None:
        """Information-plane estimator settings for the runs made from now on (validated)."""
        changes = {k: v for k, v in (("info_bins", bins), ("kde_noise_var", noise_var)) if v is not None}
        self.probe_config = dataclasses.replace(self.probe_config, **changes)

    def set_training(self, batch_size: int | None = None, epochs: int | None = None, seed: int | None = None):
        changes = {k: v for k, v in (("batch_size", batch_size), ("epochs", epochs), ("seed", seed)) if v is not None}
        self.settings = dataclasses.replace(self.settings, **changes)
        run = self.current_run(create=False)
        if run is not None and batch_size is not None and run.trainer.batch_size != batch_size:
            run.trainer.set_batch_size(batch_size)

    @property
    def store(self):
        if self._store is None:
            from infoif.training import RunStore

            self._store = RunStore(max_runs=20)
        return self._store

    def has_store(self) -> bool:
        return self._store is not None

    def current_run(self, create: bool = True):
        """The run the controls act on; made from the current spec and data when needed."""
        if self.run_id is not None and self._store is not None and self.run_id in self._store:
            return self._store.get(self.run_id)
        if not create or self.dataset is None:
            return None
        run = self.store.new_run(self.spec, self.dataset, seed=self.settings.seed,
                                 batch_size=min(self.settings.batch_size, len(self.dataset.x_train)),
                                 probe_config=self.probe_config)
        self.run_id = run.id
        return run

    def reset_run(self):
        """A fresh model with the same settings (the old run stays for comparison if it trained)."""
        self._retire_current_run()
        return self.current_run()

    def _retire_current_run(self):
        run = self.current_run(create=False)
        if run is not None:
            run.trainer.stop()
            if not run.history:
                self._store.remove(run.id)
        self.run_id = None

    def close(self):
        if self.sweep is not None:
            self.sweep.cancel()
        if self._store is not None:
            self._store.close()

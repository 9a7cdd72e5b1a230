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
from infoif.probes import ProbeConfig
from infoif.spec import ModelSpec
from infoif.urlstate import Settings

__all__ = ["Session"]


class Session:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.frame = None  # the raw table (pandas)
        self.data_name: str | None = None
        self.data_source: str | None = None  # "sample" or "upload"
        self.dataset = None  # infoif.data.Dataset
        self.upload_digest: str | None = None
        self._store = None
        self.run_id: str | None = None
        self.sweep = None
        self.probe_config = ProbeConfig()  # estimator settings for the next runs

    # ------------------------------------------------------------ data

    def use_sample(self, name: str, target: str | None = None, task: str = "auto") -> None:
        """Switches to a sample dataset (raises DataError/KeyError, changing nothing)."""
        if name not in datasets.SAMPLES:
            raise KeyError(f"No sample dataset {name!r}; choose one of {list(datasets.SAMPLES)}")
        frame = datasets.load_sample(name)
        target = target if target in frame.columns else datasets.SAMPLES[name].target
        self._use(frame, name, "sample", target, task)

    def use_upload(self, source, filename: str) -> bool:
        """Switches to an uploaded file; False if it is the same file as now.

        Raises `DataError` with the message for the user; nothing changes then.
        """
        raw = source if isinstance(source, (bytes, bytearray)) else source.getvalue()
        digest = hashlib.sha256(raw).hexdigest()
        if digest == self.upload_digest and self.data_source == "upload":
            return False
        frame = data_lib.load_table(bytes(raw), filename=filename)
        target = frame.columns[-1]
        self._use(frame, filename, "upload", target, "auto")
        self.upload_digest = digest
        return True

    def set_target(self, target: str, task: str = "auto") -> None:
        """Re-prepares the current table for another target or task (transactional)."""
        if self.frame is None:
            raise ValueError("No data yet: choose a sample or upload a file first.")
        self._use(self.frame, self.data_name, self.data_source, target, task)

    def _use(self, frame, name, source, target, task):
        dataset = data_lib.prepare(
            frame, target, task=None if task == "auto" else task, seed=self.settings.seed
        )
        if getattr(dataset, "name", None) != name:
            dataset = dataclasses.replace(dataset, name=name)
        # Everything validated: commit.
        changed = self.dataset is None or self.data_name != name or self.settings.target != target \
            or self.settings.task != task
        self.frame, self.data_name, self.data_source, self.dataset = frame, name, source, dataset
        self.upload_digest = None
        self.settings = dataclasses.replace(
            self.settings, data=name if source == "sample" else None, target=target, task=task
        )
        if changed:
            self._retire_current_run()

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

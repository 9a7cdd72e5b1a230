"""Reading a run's files back into snapshots, incrementally (the dashboard's side)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dataclasses
import json
import math
import os
import threading
import time
from types import MappingProxyType

import numpy as np

from infoif.train.history import Snapshot
from infoif.runs.store.records import plane_from_arrays, probes_from_arrays

if TYPE_CHECKING:
    from infoif.runs.store.files import Folders

__all__ = ["RunReader"]


class RunReader:
    """Builds a run's snapshots from its files, incrementally; shared by every reader in a process.

    `problem` says, in a sentence, what could not be read (a damaged line or file); what
    could be read is still shown.
    """

    MIN_REFRESH = 0.2  # seconds: readers in several sessions share one refresh

    def __init__(self, store: Folders, run_id: str):
        self.store, self.run_id = store, run_id
        self.dir = store.run_dir(run_id)
        self._lock = threading.Lock()
        self.problem: str | None = None
        self.gaps: list[int] = []
        self._probes: dict[int, tuple] = {}  # epoch -> (probes, plane), as on disk
        self._files: dict[str, float] = {}  # probe file name -> mtime when read
        self._setup = None
        self._reset_metrics()
        self._refreshed = -math.inf

    def setup(self):
        """The run's `ProbeSetup` (probe batch, binning range, histogram edges), written when it
        starts; None before that, or if damaged (then `problem` says so)."""
        from infoif.train.probes import ProbeSetup

        with self._lock:
            if self._setup is None:
                try:
                    with np.load(self.dir / "setup.npz", allow_pickle=False) as z:
                        self._setup = ProbeSetup.from_flat({k: z[k] for k in z.files})
                except FileNotFoundError:
                    return None
                except Exception as exc:  # noqa: BLE001 - damaged: say so
                    self.problem = f"This run's probe settings file is damaged ({type(exc).__name__})."
                    return None
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
        self.read_gaps()

    def read_gaps(self) -> list[int]:
        """The epochs after which the run resumed from a checkpoint, as written now. `status.json`
        is small, so this reads it on every call, not at most every `MIN_REFRESH` as the history:
        a run that just resumed and finished within that time showed no gap."""
        try:
            self.gaps = list(json.loads((self.dir / "status.json").read_text()).get("gaps", []))
        except (OSError, ValueError):
            pass  # being replaced, or damaged: the last gaps read stand
        return list(self.gaps)

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
                            plane = plane_from_arrays(h)
                    except FileNotFoundError:
                        pass  # thinned while reading
                with np.load(folder / base, allow_pickle=False) as z:
                    probes = probes_from_arrays(z, kernels)
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

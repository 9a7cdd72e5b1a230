"""A run's history: one immutable `Snapshot` per epoch, bounded in memory. Numpy only.

The same `History` is filled by the training loop (in a worker process, or a
`Trainer` thread) and mirrored on disk by the store, whose reader builds the
same snapshots back. Its bounds are the run's `ProbeConfig`:

* probe records beyond `max_probe_records`: the older half loses every other
  record's probes (never its epoch's metrics), so the newest stay dense;
* metric records beyond `max_records`: the older half drops every other
  record that carries no probes;
* the heavy parts of a probe record (full kernels, the input-plane view) are
  kept in the newest `keep_kernels` records only.

Every change that removes something is reported as a `Thinned`, so that the
on-disk copy can remove the same things.
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from infoif.train.probes import ProbeConfig, Probes

TIME_DECIMALS = 6  # an epoch's training time (seconds) as the store writes it (store/records.py)

__all__ = ["Snapshot", "History", "Thinned", "history_csv", "headline_metric"]


def headline_metric(metrics) -> str:
    """The metric a run is summed up by: validation accuracy, else MAE, else loss."""
    return next((k for k in ("val_accuracy", "val_mae") if k in metrics), "val_loss")


@dataclass(frozen=True)
class Snapshot:
    """The state of a run after one epoch. Immutable; safe to read from any thread."""

    epoch: int  # 1-based: epochs completed
    time: float  # seconds of training (wall time while running) since the run started
    metrics: Mapping[str, float]  # loss, val_loss, accuracy/val_accuracy or mae/val_mae, lr, batch_size
    probes: Probes | None = None
    plane: Any = None  # an infoif.train.plane.PlaneView on 2-D data, in the newest probe records only

    @property
    def has_probes(self) -> bool:
        return self.probes is not None

    def without_heavy(self) -> "Snapshot":
        """This snapshot without full kernels and input-plane view (kept for recent epochs only)."""
        probes = self.probes.without_kernels() if self.probes is not None else None
        return replace(self, probes=probes, plane=None)

    @property
    def has_heavy(self) -> bool:
        return self.plane is not None or (self.probes is not None and self.probes.kernels is not None)


@dataclass
class Thinned:
    """What one change removed: epochs dropped whole, epochs that lost their probes, and epochs
    that lost their heavy parts (kernels, plane view)."""

    dropped: list[int] = field(default_factory=list)
    unprobed: list[int] = field(default_factory=list)
    unheavy: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.dropped or self.unprobed or self.unheavy)

    def extend(self, other: "Thinned") -> "Thinned":
        self.dropped += other.dropped
        self.unprobed += other.unprobed
        self.unheavy += other.unheavy
        return self


class History:
    """A bounded, append-only list of snapshots (see the module docstring). Thread-safe."""

    def __init__(self, config: ProbeConfig | None = None, gaps: tuple[int, ...] = ()):
        self.config = config or ProbeConfig()
        self._items: list[Snapshot] = []
        self._probe_records = 0
        self._lock = threading.RLock()
        self.gaps: list[int] = list(gaps)  # epochs after which training resumed from a checkpoint
        self.last_probed: Snapshot | None = None  # the newest snapshot with probes

    # ------------------------------------------------------------ reading

    def snapshots(self) -> tuple[Snapshot, ...]:
        with self._lock:
            return tuple(self._items)

    @property
    def latest(self) -> Snapshot | None:
        with self._lock:
            return self._items[-1] if self._items else None

    def __len__(self) -> int:
        return len(self._items)

    @property
    def probe_records(self) -> int:
        return self._probe_records

    # ------------------------------------------------------------ writing

    def append(self, snapshot: Snapshot) -> Thinned:
        with self._lock:
            if self._items and snapshot.epoch <= self._items[-1].epoch:
                raise ValueError(
                    f"Epochs must increase: the history ends at epoch {self._items[-1].epoch}. "
                    f"Received: epoch={snapshot.epoch}"
                )
            self._items.append(snapshot)
            thinned = Thinned()
            if snapshot.has_probes:
                self.last_probed = snapshot
                self._probe_records += 1
                thinned.extend(self._trim_heavy())
            cfg = self.config
            if self._probe_records > cfg.max_probe_records or len(self._items) > cfg.max_records:
                thinned.extend(self._bound())  # O(history), so only when a cap is passed
            return thinned

    def attach_probes(self, probes: Probes, plane=None) -> Thinned:
        """Gives the newest snapshot its probes (when the run ends on an unprobed epoch)."""
        with self._lock:
            last = self._items[-1]
            if last.has_probes:
                return Thinned()
            self._items[-1] = self.last_probed = replace(last, probes=probes, plane=plane)
            self._probe_records += 1
            return self._trim_heavy()

    def truncate(self, epoch: int) -> None:
        """Keeps the epochs up to `epoch` (a resume from a checkpoint older than the history)."""
        with self._lock:
            self._items = [s for s in self._items if s.epoch <= epoch]
            self._probe_records = sum(s.has_probes for s in self._items)
            self.last_probed = next((s for s in reversed(self._items) if s.has_probes), None)

    def mark_gap(self, epoch: int) -> None:
        with self._lock:
            if epoch not in self.gaps:
                self.gaps.append(int(epoch))

    def _trim_heavy(self) -> Thinned:
        """Heavy parts only in the newest `keep_kernels` probe records."""
        thinned = Thinned()
        kept = 0
        for i in range(len(self._items) - 1, -1, -1):
            s = self._items[i]
            if s.probes is None:
                continue
            if not s.has_heavy:
                if kept >= self.config.keep_kernels:
                    break
                continue
            kept += 1
            if kept > self.config.keep_kernels:
                self._items[i] = s.without_heavy()
                thinned.unheavy.append(s.epoch)
        return thinned

    def _bound(self) -> Thinned:
        """Thins the older half when a cap is exceeded: the newest records stay dense."""
        cfg = self.config
        thinned = Thinned()
        with_probes = [i for i, s in enumerate(self._items) if s.has_probes]
        if len(with_probes) > cfg.max_probe_records:
            # Older probe records lose their probes, never their epoch's metrics.
            for i in with_probes[: len(with_probes) // 2][1::2]:
                thinned.unprobed.append(self._items[i].epoch)
                self._items[i] = replace(self._items[i], probes=None, plane=None)
        if len(self._items) > cfg.max_records:
            without = [i for i, s in enumerate(self._items) if not s.has_probes]
            drop = set(without[: len(without) // 2][1::2])
            thinned.dropped = [self._items[i].epoch for i in sorted(drop)]
            self._items = [s for i, s in enumerate(self._items) if i not in drop]
        self._probe_records = sum(s.has_probes for s in self._items)
        return thinned


def _info_columns(probes: Probes) -> list[tuple[str, str, str]]:
    """(estimator, field, column prefix) of every per-interface information array in a record."""
    out = []
    for name, estimate in probes.info.items():
        for f in ("i_xt", "i_ty", "i_xt_lower", "i_ty_lower"):
            if getattr(estimate, f, None) is not None:
                out.append((name, f, f"{name}_{f}"))
    return out


def history_csv(history, num_interfaces: int) -> str:
    """One row per epoch: metrics, and per-interface probe summaries where measured."""
    n = num_interfaces
    metric_names = sorted({k for s in history for k in s.metrics})
    first_probed = next((s for s in history if s.has_probes), None)
    info = _info_columns(first_probed.probes) if first_probed is not None else []
    probe_columns = (
        [f"kernel_norm_{i}" for i in range(n)]
        + [f"energy_final_{i}" for i in range(n)]
        + [f"entropy_bits_{i}" for i in range(n)]
        + [f"{prefix}_{i}" for _, _, prefix in info for i in range(n)]
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch", "time_s", *metric_names, "has_probes", *probe_columns])
    for s in history:
        # the time as the store keeps it, so a live run's CSV and the one read back from disk agree
        row = [s.epoch, f"{round(s.time, TIME_DECIMALS):.4f}", *[s.metrics.get(k, "") for k in metric_names],
               int(s.has_probes)]
        if s.has_probes:
            p = s.probes
            row += [*p.kernel_norm, *p.energy_final, *p.entropy]
            for name, f, _ in info:
                estimate = p.info.get(name)
                values = getattr(estimate, f, None) if estimate is not None else None
                row += list(values) if values is not None else [""] * n
        else:
            row += [""] * len(probe_columns)
        writer.writerow(row)
    return out.getvalue()


def metric_arrays(history, names) -> dict[str, np.ndarray]:
    """Columns of the metrics (NaN where an epoch lacks one), for charts."""
    return {name: np.array([s.metrics.get(name, np.nan) for s in history], dtype=float) for name in names}

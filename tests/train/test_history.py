"""History: bounded snapshots and what thinning removes (numpy only, no TensorFlow)."""

import csv
import io
import subprocess
import sys
from types import MappingProxyType

import numpy as np
import pytest

from infoif.train.history import History, Snapshot, history_csv
from infoif.train.probes import InfoEstimate, ProbeConfig, Probes


def probes(n=2, kernels=True):
    f = np.ones
    info = {"binning": InfoEstimate("binning", "binning, 30 bins", MappingProxyType({"bins": 30}), f(n), f(n))}
    return Probes(kernel_norm=f(n), kernel_bands=f((n, 9)), bias=f((n, 3)),
                  kernels=f((n, 2, 3)) if kernels else None, output_hist=f((n, 4)), output_bands=f((n, 9)),
                  energy_curve=f((5, n)), energy_final=f(n), entropy=f(n), info=MappingProxyType(info))


def snap(epoch, with_probes=False):
    return Snapshot(epoch, epoch * 0.01, MappingProxyType({"loss": 1.0 / epoch, "val_loss": 2.0 / epoch}),
                    probes() if with_probes else None)


def test_history_and_control_need_no_tensorflow():
    code = ("import sys, infoif.train.history, infoif.train.control, infoif.runs.store, infoif.app.session\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, sorted(sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


def test_epochs_must_increase():
    h = History()
    h.append(snap(1))
    with pytest.raises(ValueError, match="Received: epoch=1"):
        h.append(snap(1))


def test_heavy_parts_only_in_the_newest_probe_records():
    h = History(ProbeConfig(keep_kernels=2))
    unheavy = []
    for e in range(1, 6):
        unheavy += h.append(snap(e, with_probes=True)).unheavy
    kept = [s.epoch for s in h.snapshots() if s.probes.kernels is not None]
    assert kept == [4, 5] and unheavy == [1, 2, 3]


def test_caps_thin_the_older_half_and_report_it():
    cfg = ProbeConfig(max_records=40, max_probe_records=6)
    h = History(cfg)
    dropped, unprobed = [], []
    for e in range(1, 201):
        t = h.append(snap(e, with_probes=e % 5 == 0))
        dropped += t.dropped
        unprobed += t.unprobed
    epochs = [s.epoch for s in h.snapshots()]
    assert len(epochs) <= 41 and h.probe_records <= 7
    assert epochs == sorted(epochs) and epochs[-5:] == [196, 197, 198, 199, 200], "the newest stay dense"
    assert set(dropped).isdisjoint(epochs) and len(dropped) + len(epochs) == 200
    assert all(not s.has_probes for s in h.snapshots() if s.epoch in unprobed)


def test_truncate_and_gaps():
    h = History(gaps=(3,))
    for e in range(1, 11):
        h.append(snap(e, with_probes=e == 9))
    h.truncate(6)
    assert [s.epoch for s in h.snapshots()] == [1, 2, 3, 4, 5, 6] and h.probe_records == 0
    h.mark_gap(6)
    h.mark_gap(6)
    assert h.gaps == [3, 6]


def test_attach_probes_to_the_last_epoch_only_once():
    h = History()
    h.append(snap(1))
    h.attach_probes(probes())
    assert h.latest.has_probes
    again = probes(kernels=False)
    h.attach_probes(again)
    assert h.latest.probes is not again


def test_csv_has_every_epoch_and_the_probe_columns():
    h = History()
    for e in range(1, 4):
        h.append(snap(e, with_probes=e == 3))
    rows = list(csv.DictReader(io.StringIO(history_csv(h.snapshots(), 2))))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["binning_i_xt_1"] == "" and rows[2]["binning_i_xt_1"] == "1.0"
    assert rows[2]["has_probes"] == "1" and "kde_i_xt_0" not in rows[0]


def test_the_csv_shows_an_epochs_time_as_the_store_keeps_it():
    """A time at a rounding boundary (0.25754999996 s: 0.2575 as it is, 0.2576 once the store has
    rounded it to microseconds) is written the same from memory and from disk. This made
    tests/runs/test_store.py's history comparison fail once in CI-like runs."""
    import json

    from infoif.runs.store.records import metric_line

    live = Snapshot(3, 0.25754999996, MappingProxyType({"loss": 0.5}))
    stored = Snapshot(3, json.loads(metric_line(live))["t"], MappingProxyType({"loss": 0.5}))
    assert history_csv([live], 1) == history_csv([stored], 1)
    assert "0.2576" in history_csv([live], 1)

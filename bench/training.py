"""Benchmark: the live Trainer (with probes) against a bare `model.fit` of the same model and data.

    python bench/training.py                   # about 3 minutes
    python bench/training.py --quick           # one repeat
    python bench/training.py --against d023688 # also: Playground size with the store on and off,
                                               # and with that commit's code, side by side

For a 500-row 2-D dataset and a 50,000 x 20 dataset, N in {4, 32}: epochs per
second of `model.fit(..., validation_data=...)` and of `Trainer` with its
probes on at their normal cadence, their ratio (target >= 0.9), and what the
probes cost, per probe and averaged per epoch. Then the Playground case
(500 rows, N=8; target >= 100 epochs/s). Medians of the repeats; both sides
are measured in the same run, so a busy machine shifts both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from infoif.nn.models import ModelSpec, build_model  # noqa: E402
from infoif.train.training import Trainer  # noqa: E402

BATCH = 32


def dataset(rows, dim, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, dim)).astype("float32")
    y = (x[:, 0] * x[:, -1] > 0).astype("int64")
    k = int(0.8 * rows)
    return SimpleNamespace(name=f"{rows}x{dim}", x_train=x[:k], y_train=y[:k], x_val=x[k:],
                           y_val=y[k:], task="binary", num_classes=2, input_dim=dim)


def fit_epochs_per_second(spec, ds, epochs):
    model = build_model(spec, ds.input_dim, "binary", seed=0)
    model.fit(ds.x_train, ds.y_train, batch_size=BATCH, epochs=1, verbose=0,
              validation_data=(ds.x_val, ds.y_val))  # trace and warm up
    start = time.perf_counter()
    model.fit(ds.x_train, ds.y_train, batch_size=BATCH, epochs=epochs, verbose=0,
              validation_data=(ds.x_val, ds.y_val))
    return epochs / (time.perf_counter() - start)


def trainer_epochs_per_second(spec, ds, epochs, store=None):
    sink = None
    if store is not None:  # the run is written to the store behind training, as in a worker
        info = store.create_run(store.create_workspace(), spec, {"kind": "bench"}, ds.name)
        sink = store.writer(info.id)
    trainer = Trainer(spec, ds, seed=0, batch_size=BATCH, sink=sink)
    trainer.step()  # prepare and trace, like fit's warm-up epoch
    trainer.wait_for_epoch(1, timeout=600)
    while trainer.status != "paused":
        time.sleep(0.001)
    engine = getattr(getattr(trainer, "_runner", None), "engine", None)
    if engine is not None:  # the fused path and the probe are traced in the background: wait for them
        engine.wait_traced(600)
    first = trainer.history[-1].time
    trainer.start(epochs=epochs)
    trainer.wait(timeout=3600)
    history = trainer.history
    seconds = history[-1].time - first
    probed = [s for s in history[1:] if s.has_probes]
    probe_total = sum(s.probes.seconds for s in probed)
    return epochs / seconds, probe_total / max(len(probed), 1), probe_total / epochs, len(probed)


OLD_CODE = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
from types import SimpleNamespace
from infoif.nn.models import ModelSpec
from infoif.train.training import Trainer
rng = np.random.default_rng(0)
x = rng.normal(size=(500, 2)).astype("float32")
y = (x[:, 0] * x[:, -1] > 0).astype("int64")
ds = SimpleNamespace(name="500x2", x_train=x[:400], y_train=y[:400], x_val=x[400:], y_val=y[400:],
                     task="binary", num_classes=2, input_dim=2)
t = Trainer(ModelSpec(num_interfaces=8, units=8), ds, seed=0, batch_size=32)
t.step()
t.wait_for_epoch(1, timeout=600)
while t.status != "paused":
    time.sleep(0.001)
first = t.history[-1].time
t.start(epochs=300)
t.wait(timeout=3600)
print(300 / (t.history[-1].time - first))
"""


def against(rev: str, repeats: int) -> None:
    """Playground size: this code with the store off and on, and `rev`'s code, interleaved."""
    import subprocess
    import tempfile

    from infoif.runs.store import Store

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    old = tempfile.mkdtemp(prefix="infoif-rev-")
    subprocess.run(["git", "-C", root, "worktree", "add", "--detach", old, rev], check=True,
                   capture_output=True)
    try:
        ds = dataset(500, 2)
        spec = ModelSpec(num_interfaces=8, units=8)
        store = Store(tempfile.mkdtemp(prefix="infoif-bench-"))
        off, on, before = [], [], []
        for _ in range(repeats):
            off.append(trainer_epochs_per_second(spec, ds, 300)[0])
            on.append(trainer_epochs_per_second(spec, ds, 300, store=store)[0])
            out = subprocess.run([sys.executable, "-c", OLD_CODE, old], capture_output=True, text=True,
                                 check=True, env={**os.environ, "PYTHONPATH": old})
            before.append(float(out.stdout.strip().splitlines()[-1]))
        m_off, m_on, m_before = (statistics.median(v) for v in (off, on, before))
        print(f"\nPlayground size, side by side (medians of {repeats} interleaved rounds, epochs/s with probes):")
        print(f"  {rev} (last commit)      {m_before:7.0f}   runs: " + ", ".join(f"{v:.0f}" for v in before))
        print(f"  now, store off         {m_off:7.0f}   runs: " + ", ".join(f"{v:.0f}" for v in off))
        print(f"  now, store on          {m_on:7.0f}   runs: " + ", ".join(f"{v:.0f}" for v in on))
        print(f"  store on / {rev}: {m_on / m_before:.2f}   store on / off: {m_on / m_off:.2f}   "
              "(target: within 10%)")
    finally:
        subprocess.run(["git", "-C", root, "worktree", "remove", "--force", old], capture_output=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--against", metavar="REV", help="a git revision to compare Playground size with")
    parser.add_argument("--only-against", action="store_true", help="skip the fit table")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    if args.against and args.only_against:
        against(args.against, 5 if not args.quick else 1)
        return

    print(f"Trainer vs bare model.fit, batch {BATCH}, Adam, validation every epoch, "
          f"{os.cpu_count()} CPUs; medians of {repeats}\n")
    header = (f"{'data':>10} {'N':>3} | {'fit ep/s':>9} {'trainer ep/s':>12} {'ratio':>6} | "
              f"{'probes':>6} {'ms/probe':>8} {'ms/epoch':>8}")
    print(header)
    print("-" * len(header))
    for rows, dim, epochs in ((500, 2, 200), (50_000, 20, 3)):
        ds = dataset(rows, dim)
        for n in (4, 32):
            spec = ModelSpec(num_interfaces=n, units=8)
            fits, trains, per_probe, per_epoch, counts = [], [], [], [], []
            for _ in range(repeats):
                fits.append(fit_epochs_per_second(spec, ds, epochs))
                eps, pp, pe, count = trainer_epochs_per_second(spec, ds, epochs)
                trains.append(eps)
                per_probe.append(pp)
                per_epoch.append(pe)
                counts.append(count)
            f, t = statistics.median(fits), statistics.median(trains)
            print(f"{ds.name:>10} {n:>3} | {f:>9.2f} {t:>12.2f} {t / f:>6.2f} | "
                  f"{statistics.median(counts):>6.0f} {1000 * statistics.median(per_probe):>8.1f} "
                  f"{1000 * statistics.median(per_epoch):>8.2f}")

    ds = dataset(500, 2)
    rates = [trainer_epochs_per_second(ModelSpec(num_interfaces=8, units=8), ds, 300)[0]
             for _ in range(repeats)]
    print(f"\nPlayground size (500 rows x 2, N=8, 300 epochs): "
          f"{statistics.median(rates):.0f} epochs/s with probes (target >= 100)")
    if args.against:
        against(args.against, 5 if not args.quick else 1)


if __name__ == "__main__":
    main()

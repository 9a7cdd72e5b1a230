"""Benchmark: cost per interface of the information-plane estimators in infoif.train.estimators.

    python bench/estimators.py                 # full table (a few seconds)
    python bench/estimators.py --quick         # fewer repeats
    python bench/estimators.py --contention    # also: with one core kept busy
    python bench/estimators.py --probe         # also: one whole probe (probes.measure) at batch 4,096

Prints the median milliseconds per call of `binning_mi` (30 bins), `kde_mi`
(noise_var 0.1) and `kde_mi_bounds` (both KDE bounds) on tanh activations
with 10 classes, for a probe batch of n in {256, 512, 1024} samples and
{2, 16} units, plus what one probe costs for N = 64 interfaces (64 calls). A second table shows why the distinct-row count
in binning uses an int64 key or a byte view with a 1-D np.unique instead of
np.unique(axis=0).

--contention adds a table for the KDE with one core kept busy by a spinning
child process (what Keras training does to a probe running beside it): the
row-blocked products `kde_mi` uses against one n x n product, which OpenBLAS
spreads over all cores. Median and worst call, ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from infoif.train import estimators  # noqa: E402
from infoif.train.estimators import binning_mi, kde_mi, kde_mi_bounds  # noqa: E402

SAMPLES = (256, 512, 1024)
UNITS = (2, 16)
INTERFACES = 64


def median_ms(fn, repeats: int, number: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times) * 1e3


def calls_ms(fn, calls: int) -> tuple[float, float]:
    """(median, max) ms of single calls."""
    fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, max(times) * 1e3


def contention_table(rng, calls: int) -> None:
    print("\nkde_mi with one core busy (spinning child process), ms median / worst of", calls, "calls:")
    print(f"{'n':>6} {'units':>5} {'row blocks (used)':>18} {'one n x n product':>18}")
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    blocked_work = estimators._KDE_GEMM_WORK
    try:
        time.sleep(0.5)
        for n, units in ((512, 16), (1024, 2), (1024, 16)):
            t = np.tanh(rng.normal(size=(n, units)))
            y = rng.integers(0, 10, size=n)
            estimators._KDE_GEMM_WORK = blocked_work
            b = calls_ms(lambda: kde_mi(t, y), calls)
            estimators._KDE_GEMM_WORK = 1 << 60
            o = calls_ms(lambda: kde_mi(t, y), calls)
            print(f"{n:>6} {units:>5} {b[0]:>9.2f} / {b[1]:>6.1f} {o[0]:>9.2f} / {o[1]:>6.1f}")
    finally:
        estimators._KDE_GEMM_WORK = blocked_work
        spinner.kill()
        spinner.wait()


def probe_table(repeats: int) -> None:
    """One whole probe, as the trainer makes it: `probes.measure` on a probe batch of 4,096."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from types import SimpleNamespace

    from infoif.nn.models import InterfaceProbe, ModelSpec, build_model
    from infoif.train.probes import ProbeConfig, measure, probe_setup

    batch, d, units = 4096, 12, 8
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2 * batch, d)).astype("float32")
    y = (x[:, 0] * x[:, 1] > 0).astype("int64")
    data = SimpleNamespace(name="bench", x_train=x[:batch], y_train=y[:batch], x_val=x[batch:], y_val=y[batch:])
    config = ProbeConfig()
    print(f"\nOne probe (probes.measure), batch {batch:,}, {units} tanh units per interface, default ProbeConfig; "
          f"median and worst of {repeats}, ms:")
    print(f"{'N':>4} {'KDE samples':>12} {'median':>8} {'worst':>8}   budget: cost_fraction {config.cost_fraction} "
          f"of a {config.max_interval:g} s interval = {1000 * config.cost_fraction * config.max_interval:.0f} ms")
    for n in (8, 64):
        model = build_model(ModelSpec(num_interfaces=n, units=units), d, "binary", seed=0)
        probe = InterfaceProbe(model)
        setup = probe_setup(data, "tanh", probe.outputs, config, np.random.default_rng(0))
        median, worst = calls_ms(lambda: measure(probe, setup, config), repeats)
        print(f"{n:>4} {len(setup.kde_index):>12} {median:>8.1f} {worst:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--contention", action="store_true", help="also time the KDE with one core busy")
    parser.add_argument("--probe", action="store_true", help="also time one whole probe at batch 4,096")
    args = parser.parse_args()
    repeats, number = (5, 5) if args.quick else (15, 10)
    rng = np.random.default_rng(0)

    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs; median ms per call ({repeats} x {number} calls)")
    print(f"{'n':>6} {'units':>5} {'binning_mi':>11} {'kde_mi':>9} {'kde_mi_bounds':>14} "
          f"{'64 interfaces: binning':>23} {'kde bounds':>11}")
    for n in SAMPLES:
        for units in UNITS:
            t = np.tanh(rng.normal(size=(n, units)))
            y = rng.integers(0, 10, size=n)
            b = median_ms(lambda: binning_mi(t, y, bins=30, value_range=(-1, 1)), repeats, number)
            k = median_ms(lambda: kde_mi(t, y, noise_var=0.1), repeats, number)
            kb = median_ms(lambda: kde_mi_bounds(t, y, noise_var=0.1), repeats, number)
            print(f"{n:>6} {units:>5} {b:>11.3f} {k:>9.3f} {kb:>14.3f} {b * INTERFACES:>20.1f} ms "
                  f"{kb * INTERFACES:>8.0f} ms")

    print("\nDistinct binned rows (30 bins), median ms per call:")
    print(f"{'n':>6} {'units':>5} {'int64 key':>10} {'void view':>10} {'unique(axis=0)':>15}")
    for n, units in ((512, 2), (512, 16), (1024, 16), (1024, 64)):
        codes = rng.integers(0, 30, size=(n, units))
        compact = np.ascontiguousarray(codes, dtype=np.uint8)
        void = compact.view(np.dtype((np.void, units))).reshape(n)
        powers = 30 ** np.arange(units - 1, -1, -1, dtype=np.int64)
        key = "n/a (>62 bits)"
        if units * np.log2(30) < 62:
            key = f"{median_ms(lambda: np.unique(codes @ powers, return_inverse=True), repeats, number):.3f}"
        v = median_ms(lambda: np.unique(void, return_inverse=True), repeats, number)
        a = median_ms(lambda: np.unique(compact, axis=0, return_inverse=True), repeats, number)
        print(f"{n:>6} {units:>5} {key:>10} {v:>10.3f} {a:>15.3f}")

    if args.contention:
        contention_table(rng, 20 if args.quick else 60)
    if args.probe:
        probe_table(5 if args.quick else 15)


if __name__ == "__main__":
    main()

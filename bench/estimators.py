"""Benchmark: cost per interface of the information-plane estimators in infoif.estimators.

    python bench/estimators.py                 # full table (a few seconds)
    python bench/estimators.py --quick         # fewer repeats
    python bench/estimators.py --contention    # also: with one core kept busy

Prints the median milliseconds per call of `binning_mi` (30 bins) and `kde_mi`
(noise_var 0.1) on tanh activations with 10 classes, for a probe batch of
n in {256, 512, 1024} samples and {2, 16} units, plus what one probe costs for
N = 64 interfaces (64 calls). A second table shows why the distinct-row count
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

from infoif import estimators  # noqa: E402
from infoif.estimators import binning_mi, kde_mi  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--contention", action="store_true", help="also time the KDE with one core busy")
    args = parser.parse_args()
    repeats, number = (5, 5) if args.quick else (15, 10)
    rng = np.random.default_rng(0)

    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs; median ms per call ({repeats} x {number} calls)")
    print(f"{'n':>6} {'units':>5} {'binning_mi':>11} {'kde_mi':>9} {'64 interfaces: binning':>23} {'kde':>8}")
    for n in SAMPLES:
        for units in UNITS:
            t = np.tanh(rng.normal(size=(n, units)))
            y = rng.integers(0, 10, size=n)
            b = median_ms(lambda: binning_mi(t, y, bins=30), repeats, number)
            k = median_ms(lambda: kde_mi(t, y, noise_var=0.1), repeats, number)
            print(f"{n:>6} {units:>5} {b:>11.3f} {k:>9.3f} {b * INTERFACES:>20.1f} ms {k * INTERFACES:>5.0f} ms")

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


if __name__ == "__main__":
    main()

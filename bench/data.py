"""Benchmark: load_table + prepare on a ~100 MB CSV; time and peak memory.

    python bench/data.py                # ~100 MB file, 3 runs each
    python bench/data.py --mb 20 --runs 1

Writes a CSV of 8 float columns, an integer column, a 5-valued text column
and a binary target into a temporary folder, then, for each source kind (a
path, and bytes already in memory as with an upload), runs load_table +
prepare in fresh subprocesses. Peak memory is the child's ru_maxrss at the end
minus its resident size right after the imports (tracemalloc does not see
pyarrow's allocations). For the bytes source the baseline is taken after the
bytes were read, since the caller (Streamlit) already holds them. Reports the
median of the runs. Targets from the issue: under 10 s and peak under 4x the
file size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(path: str, kind: str) -> None:
    """One measured run; prints a JSON line."""
    import resource

    sys.path.insert(0, ROOT)
    from infoif.data import load_table, prepare

    source = path
    if kind == "bytes":
        with open(path, "rb") as f:
            source = f.read()
    base = _rss_mb()
    t0 = time.perf_counter()
    df = load_table(source, filename=os.path.basename(path))
    t1 = time.perf_counter()
    ds = prepare(df, "target")
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(
        json.dumps(
            {
                "load_s": t1 - t0,
                "prepare_s": t2 - t1,
                "total_s": t2 - t0,
                "peak_mb": peak - base,
                "rows": len(df),
                "columns": df.shape[1],
                "inputs": ds.input_dim,
            }
        )
    )


def write_csv(path: str, target_mb: float) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows_per_mb = 13_350  # ~78.5 bytes per row
    n = int(target_mb * rows_per_mb)
    chunk = 200_000
    with open(path, "w", newline="") as f:
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            df = pd.DataFrame({f"f{i}": rng.normal(size=m).round(5) for i in range(8)})
            df["count"] = rng.integers(0, 1000, m)
            df["color"] = rng.choice(["red", "green", "blue", "yellow", "black"], m)
            df["target"] = (df["f0"] + df["f1"] + rng.normal(scale=0.5, size=m) > 0).astype(int)
            df.to_csv(f, index=False, header=start == 0, lineterminator="\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="approximate CSV size in MB")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    import numpy
    import pandas
    import pyarrow

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.csv")
        t = time.perf_counter()
        write_csv(path, args.mb)
        size_mb = os.path.getsize(path) / 2**20
        print(f"wrote {size_mb:.1f} MB CSV in {time.perf_counter() - t:.1f} s")
        print(
            f"python {platform.python_version()}, pandas {pandas.__version__}, pyarrow "
            f"{pyarrow.__version__}, numpy {numpy.__version__}, {os.cpu_count()} CPUs"
        )
        results = {}
        for kind in ("path", "bytes"):
            runs = []
            for _ in range(args.runs):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", path, kind],
                    capture_output=True, text=True, check=True,
                )
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            results[kind] = runs
        first = results["path"][0]
        print(
            f"table: {first['rows']:,} rows x {first['columns']} columns -> "
            f"{first['inputs']} inputs; median of {args.runs} runs, each in a fresh process"
        )
        header = f"{'source':<7}{'load s':>8}{'prepare s':>11}{'total s':>9}{'peak MB':>9}{'peak/file':>11}"
        print(header)
        print("-" * len(header))
        verdicts = []
        for kind, runs in results.items():
            med = {k: statistics.median(r[k] for r in runs) for k in ("load_s", "prepare_s", "total_s", "peak_mb")}
            ratio = med["peak_mb"] / size_mb
            print(
                f"{kind:<7}{med['load_s']:>8.2f}{med['prepare_s']:>11.2f}{med['total_s']:>9.2f}"
                f"{med['peak_mb']:>9.0f}{ratio:>10.2f}x"
            )
            verdicts.append(med["total_s"] < 10 and ratio < 4)
        print("targets (< 10 s, peak < 4x file):", "met" if all(verdicts) else "NOT met")


if __name__ == "__main__":
    main()

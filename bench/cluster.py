"""Benchmark: the cost of shipping the code to a Dask cluster (issue 22).

    python bench/cluster.py              # 3 rounds, about 3 minutes
    python bench/cluster.py --rounds 5

The first sweep on a fresh local cluster (a scheduler and 2 workers started as
the README writes them, `--nthreads 1`, from a temporary directory), two ways,
rounds alternating:

- shipped: nothing of the repository on the scheduler or the workers, no
  PYTHONPATH; the client ships its `infoif` (infoif.runs.shipping);
- PYTHONPATH: the repository on the scheduler's and the workers' PYTHONPATH, the
  code not shipped (`DaskSweep(ship_code=False)`, the old way).

The sweep: Circle, num_interfaces 1, 2 x 2 seeds, 100 epochs each; the clock runs
from launching it (connect, check the workers, ship, submit) until its last run
is in the store. The workers have joined before the clock starts; TensorFlow's
import on them is inside the clock, in both. Medians; target: shipped at most
3 s slower.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKERS = 2


def first_sweep(ship: bool) -> float:
    """Seconds of the first sweep on a fresh cluster (see the module's docstring)."""
    from infoif.runs import sweep
    from infoif.runs.cluster import DaskSweep
    from infoif.nn.spec import ModelSpec
    from infoif.runs.store import Store
    from tests.conftest import CIRCLE
    from tests.runs.test_cluster import recipe_cluster

    where = Path(tempfile.mkdtemp(prefix="infoif-bench-cluster-"))
    env = {} if ship else {"PYTHONPATH": str(ROOT)}  # the old way: the repository on every process's path
    try:
        with recipe_cluster(where / "cluster", [f"worker-{i}" for i in range(WORKERS)], **env) as cluster:
            store = Store(where / "home")
            workspace = store.create_workspace()
            plan = sweep.make_plan({"num_interfaces": (1, 2)}, seeds=2, epochs=100)
            record = sweep.create(store, workspace, plan, ModelSpec(), dict(CIRCLE), "Circle", 32,
                                  cluster=cluster.address)
            store.update_sweep(record["id"], status="running", started=time.time())
            began = time.perf_counter()
            coordinator = DaskSweep(store, record["id"], cluster.address, ship_code=ship).start()
            assert coordinator.join(600), "the sweep did not end"
            seconds = time.perf_counter() - began
            assert coordinator.error is None, coordinator.error
            assert [i.status for i in store.runs(workspace)] == ["finished"] * plan.size
            return seconds
    finally:
        shutil.rmtree(where, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times = {"shipped": [], "PYTHONPATH": []}
    for k in range(args.rounds):
        for name, ship in (("shipped", True), ("PYTHONPATH", False))[:: 1 if k % 2 == 0 else -1]:
            times[name].append(first_sweep(ship))
            print(f"round {k + 1}: {name:10s} {times[name][-1]:6.2f} s", flush=True)
    shipped, path = statistics.median(times["shipped"]), statistics.median(times["PYTHONPATH"])
    print(f"\nfirst sweep on a fresh cluster (4 runs x 100 epochs, {WORKERS} workers), medians of {args.rounds}:")
    print(f"  repository on PYTHONPATH: {path:6.2f} s")
    print(f"  code shipped:             {shipped:6.2f} s")
    print(f"  shipping costs {shipped - path:+.2f} s ({shipped / path:.2f}x); target: at most +3 s")


if __name__ == "__main__":
    main()

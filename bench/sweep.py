"""Benchmark: sweeps (issue 13).

    python bench/sweep.py            # about 5 minutes
    python bench/sweep.py --quick    # one round

1. A 16-run local sweep (num_interfaces 1, 2, 4, 8 x 4 seeds, 100 epochs each on
   Circle) through the training service with 2 workers (a sweep trains one run on each),
   against the same runs one after another (1 worker, 1 slot). Workers are started, ready
   (TensorFlow imported) and warmed up (a tiny model trained, as a server's idle workers do:
   infoif.runs.worker.Worker._warm_up) before the clock starts, in both. Rounds alternate;
   medians. Target: parallel <= 0.6x sequential.
2. The dashboard while a sweep runs: an Interfaces page rerun (AppTest, the
   page script only), with the service idle and with a sweep training on every
   worker (a sweep takes one slot per worker), side by side. Target: <= 300 ms
   while sweeping.
3. A 200-run sweep's Compare page (results written into the store, no
   training): one full draw under AppTest. Target: < 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

CIRCLE = {"kind": "sample", "name": "Circle", "target": "label", "task": "auto", "seed": 0}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sweep_seconds(workers: int, epochs: int) -> tuple[float, float]:
    """Wall seconds of the sweep, and the CPU seconds its workers spent meanwhile."""
    from infoif.runs import sweep
    from infoif.runs.service import Service
    from infoif.nn.spec import ModelSpec

    home = tempfile.mkdtemp(prefix="infoif-bench-sweep-")
    service = Service(home, workers=workers, worker_log=open(os.devnull, "wb")).start()
    try:
        assert service.wait_ready(300, warm=True), "workers did not start"
        store = service.store
        plan = sweep.make_plan({"num_interfaces": "1,2,4,8"}, seeds=4, epochs=epochs)
        record = sweep.create(store, store.create_workspace(), plan, ModelSpec(), CIRCLE, "Circle", 32)
        pids = [w.proc.pid for w in service._workers]
        cpu = [cpu_seconds(p) for p in pids]
        started = time.perf_counter()
        sweep.launch(store, service, record["id"])
        while sweep.progress(store, record["id"]).status == "running":
            time.sleep(0.05)
        took = time.perf_counter() - started
        used = sum(cpu_seconds(p) - c for p, c in zip(pids, cpu))
        assert sweep.progress(store, record["id"]).finished == 16
        return took, used
    finally:
        service.shutdown()


def page_seconds(page: str, repeats: int, setup=None) -> list[float]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    if setup is not None:
        setup(at.session_state["infoif"])
    at.switch_page(page)
    at.run()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
        assert not at.exception, at.exception
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-sweep", action="store_true", help="only the dashboard figures (2 and 3)")
    args = parser.parse_args()
    rounds = 0 if args.skip_sweep else 1 if args.quick else 3

    print("1. A 16-run sweep (4 N x 4 seeds, 100 epochs, Circle): 2 workers vs one after another")
    print("   (CPU: the workers' user + system seconds over the sweep; cores = CPU / wall)")
    par, seq, ratios = [], [], []
    for r in range(rounds):
        pair = {}
        for name in (("par", "seq") if r % 2 == 0 else ("seq", "par")):
            wall, cpu = sweep_seconds(2, 100) if name == "par" else sweep_seconds(1, 100)
            pair[name] = wall
            (par if name == "par" else seq).append(wall)
            print(f"   round {r + 1} {'parallel  ' if name == 'par' else 'sequential'} {wall:6.1f} s  "
                  f"CPU {cpu:5.1f} s  cores {cpu / wall:.2f}", flush=True)
        ratios.append(pair["par"] / pair["seq"])
    if rounds:
        p, q = statistics.median(par), statistics.median(seq)
        print(f"   median: parallel {p:.1f} s, sequential {q:.1f} s, ratio {p / q:.2f}; per round "
              f"{', '.join(f'{x:.2f}' for x in ratios)} (target <= 0.6)")

    # 2 and 3 under AppTest with the app's own shared service
    home = tempfile.mkdtemp(prefix="infoif-bench-sweep-app-")
    os.environ["INFOIF_HOME"] = home
    from infoif.runs import sweep
    from infoif.runs.service import shared

    service = shared(home)
    service.wait_ready(300)

    def trained(s):
        s.set_training(epochs=20)
        s.train()
        while s.status().status != "finished":
            time.sleep(0.05)

    print("2. Interfaces page rerun (AppTest), idle service vs a sweep training on every worker")
    idle = page_seconds("pages/interfaces.py", 15, trained)
    store = service.store
    from infoif.nn.spec import ModelSpec

    plan = sweep.make_plan({"num_interfaces": "1,2,4,8,16,32"}, seeds=2, epochs=100_000)
    record = sweep.create(store, store.create_workspace(), plan, ModelSpec(), CIRCLE, "Circle", 32)

    def trained_then_sweeping(s):
        trained(s)  # the page's own run first: the sweep then takes every worker slot
        sweep.launch(store, service, record["id"])
        while sum(store.run_info(r).status == "running" for r in record["runs"]) < service.n_workers:
            time.sleep(0.1)
        time.sleep(3)

    busy = page_seconds("pages/interfaces.py", 15, trained_then_sweeping)
    sweep.cancel(store, service, record["id"])
    print(f"   median: idle {statistics.median(idle) * 1000:.0f} ms, sweeping {statistics.median(busy) * 1000:.0f} ms "
          f"(max {max(busy) * 1000:.0f} ms; target <= 300 ms)")

    print("3. Compare page with a 200-run sweep (5 N x 2 activations x 2 leaks x 10 seeds)")

    def two_hundred(s):
        plan = sweep.make_plan({"num_interfaces": "1,2,4,8,16", "activation": "tanh,relu", "leak": "0,0.5"},
                               seeds=10, epochs=50)
        rec = sweep.create(s.store, s.workspace, plan, s.spec, {**s.data_ref, "seed": 0}, s.data_name, 32)
        for k, (run_id, point) in enumerate(zip(rec["runs"], plan.points())):
            s.store.set_progress(run_id, 50, {"loss": 0.3, "val_loss": 0.35, "accuracy": 0.9,
                                              "val_accuracy": 0.8 + 0.001 * k}, worker="w0", status="finished",
                                 mean_energy=0.1 * point["num_interfaces"])
        s.sweep = {"id": rec["id"]}
        s.save()

    draws = page_seconds("pages/compare.py", 7, two_hundred)
    print(f"   median {statistics.median(draws) * 1000:.0f} ms, max {max(draws) * 1000:.0f} ms (target < 1000 ms)")
    service.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

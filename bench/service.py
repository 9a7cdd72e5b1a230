"""Benchmark: concurrent runs in the training service against one run alone, and against the old
design (trainer threads inside the server's process).

    python bench/service.py            # about 4 minutes
    python bench/service.py --quick    # one round

Default dataset and model (Playground's Circle, 500 rows, 8 interfaces), runs
"until stopped". For 1, 2 and 4 concurrent runs, each run's epochs/s over a
window of steady training (from 5 s after every run's first epoch: a new run
traces its fused path in the background meanwhile), read from the store as
the dashboard reads it.
Targets (issue 9): with 2 runs on 2 cores, aggregate >= 1.6x one run alone;
with 4 runs, each >= half its fair share (an equal split of the 4-run
aggregate). The same counts are measured for `Trainer` threads in one process
with TensorFlow pinned to one thread (what the server did before), in
interleaved rounds of the same run; medians.
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

WINDOW = 8.0  # seconds of steady training measured
RUNS_PER_WORKER = 2  # runs training on every worker while the verbs' latency is measured
SETTLE = 5.0  # seconds after every run's first epoch before measuring (a new run traces in the background)
CIRCLE = {"kind": "sample", "name": "Circle", "target": "label", "task": "auto", "seed": 0}


def service_rates(service, workspace, k: int) -> list[float]:
    from infoif.nn.spec import ModelSpec

    store = service.store
    runs = [store.create_run(workspace, ModelSpec(), CIRCLE, "Circle", seed=i).id for i in range(k)]
    for r in runs:
        service.train(r, None, wait=None)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not all(store.run_info(r).epochs > 0 for r in runs):
        time.sleep(0.05)
    time.sleep(SETTLE)  # past the first seconds: tracing in the background, the young-run flushes

    def epochs():
        return [store.run_info(r).epochs for r in runs]

    e0, t0 = epochs(), time.perf_counter()
    time.sleep(WINDOW)
    e1, t1 = epochs(), time.perf_counter()
    for r in runs:
        service.stop(r)
    return [(b - a) / (t1 - t0) for a, b in zip(e0, e1)]


def control_latency(service, workspace, repeats: int = 10) -> dict[str, list[float]]:
    """Seconds from a verb's call to the worker's answer (it applies verbs between two calls), with
    two runs training on every worker."""
    from infoif.nn.spec import ModelSpec

    store = service.store
    k = RUNS_PER_WORKER * service.n_workers
    runs = [store.create_run(workspace, ModelSpec(), CIRCLE, "Circle", seed=i).id for i in range(k)]
    for r in runs:
        service.train(r, None, wait=None)
    while not all(store.run_info(r).epochs > 0 for r in runs):
        time.sleep(0.05)
    time.sleep(SETTLE)
    times = {"pause": [], "train (resume)": [], "learning rate": [], "step": []}
    for i in range(repeats):
        run = runs[i % k]
        for name, call in (("pause", lambda: service.pause(run)), ("step", lambda: service.step(run, wait=10)),
                           ("train (resume)", lambda: service.train(run, "resume", wait=10)),
                           ("learning rate", lambda: service.set_learning_rate(run, 0.01))):
            started = time.perf_counter()
            reply = call()
            times[name].append(time.perf_counter() - started)
            assert "pending" not in reply, reply
        time.sleep(0.2)
    for r in runs:
        service.stop(r)
    return times


def thread_rates(k: int) -> list[float]:
    """The old design: k Trainer threads in one process, TensorFlow on one intra- and one inter-op
    thread (as the server had it)."""
    from infoif import datasets
    from infoif.nn.spec import ModelSpec
    from infoif.train.training import Trainer

    ds = datasets.prepare_sample("Circle")
    trainers = [Trainer(ModelSpec(), ds, seed=i) for i in range(k)]
    for t in trainers:
        t.start()
    for t in trainers:
        t.wait_for_epoch(1, timeout=120)
    time.sleep(SETTLE)
    e0, t0 = [t.epoch for t in trainers], time.perf_counter()
    time.sleep(WINDOW)
    e1, t1 = [t.epoch for t in trainers], time.perf_counter()
    for t in trainers:
        t.stop()
    return [(b - a) / (t1 - t0) for a, b in zip(e0, e1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-threads", action="store_true", help="only the service")
    args = parser.parse_args()
    rounds = 1 if args.quick else 3

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)  # the old server's settings, for the threads
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from infoif.runs.service import Service

    home = tempfile.mkdtemp(prefix="infoif-bench-")
    service = Service(home).start()
    assert service.wait_ready(300)
    workspace = service.store.create_workspace()
    print(f"{service.n_workers} workers, {os.cpu_count()} CPUs; window {WINDOW:g} s; "
          f"medians of {rounds} interleaved rounds\n")
    results = {("service", k): [] for k in (1, 2, 4)}
    results.update({("threads", k): [] for k in (1, 2, 4)} if not args.skip_threads else {})
    for _ in range(rounds):
        for k in (1, 2, 4):
            results[("service", k)].append(service_rates(service, workspace, k))
            if not args.skip_threads:
                results[("threads", k)].append(thread_rates(k))
    latency = control_latency(service, workspace)
    service.shutdown()

    header = f"{'design':>8} {'runs':>4} | {'aggregate ep/s':>14} {'x one run':>9} | {'slowest/fair':>12}  per run (median round)"
    print(header)
    print("-" * len(header))
    for design in ("threads", "service"):
        if (design, 1) not in results:
            continue
        alone = statistics.median(sum(r) for r in results[(design, 1)])
        for k in (1, 2, 4):
            rounds_k = results[(design, k)]
            totals = [sum(r) for r in rounds_k]
            total = statistics.median(totals)
            fair = statistics.median(min(r) / (sum(r) / k) for r in rounds_k)
            middle = rounds_k[totals.index(total)] if total in totals else rounds_k[0]
            print(f"{design:>8} {k:>4} | {total:>14.0f} {total / alone:>9.2f} | {fair:>12.2f}  "
                  + ", ".join(f"{x:.0f}" for x in middle))
    print("\nTargets: service, 2 runs: aggregate >= 1.6x one run; 4 runs: slowest/fair >= 0.5.")
    print(f"\nVerb to worker and back, {RUNS_PER_WORKER * service.n_workers} runs training "
          "(median / max of 10, target 0.2 s):")
    for name, values in latency.items():
        print(f"  {name:16s} {1000 * statistics.median(values):6.1f} ms / {1000 * max(values):6.1f} ms")


if __name__ == "__main__":
    main()

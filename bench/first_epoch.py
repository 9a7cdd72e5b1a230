"""Benchmark: how soon a new model shows its first epoch, and how close training gets to raw TensorFlow.

    python bench/first_epoch.py            # about 3 minutes
    python bench/first_epoch.py --quick    # one repeat

1. Start to first snapshot (with its probes) of a fresh run, against a
   `model.fit(epochs=1)` (with validation) of the same fresh model on the same
   data, measured side by side in one process (TensorFlow imported and one
   model built before, as in a worker). Three ways to start:
     - cold: `Runner(...)` then `advance()` until the first epoch is recorded
       (model built; on small data the epoch runs eagerly, on larger data the
       chunked path is traced first; its probes);
     - built ahead: the dashboard's path, where a worker built and traced the
       model while the settings were on screen (`Worker._prewarm`); the
       clock starts at Train.
   N in {1, 8, 64} on 500 rows x 2, and N = 8 on 50,000 x 20 (batch 32).
   Issue 10's target: at most 0.3x fit.
2. Playground size (500 rows x 2, N = 8): epochs/s of the runner on its fused
   path, against a raw TensorFlow floor doing the same GEMMs, tanh, flatten,
   dense head, binary cross-entropy and Adam inside one `tf.while_loop`, with
   no Keras around them (aim: at least 0.6 of the floor).
Medians of the repeats.
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

BATCH = 32


def dataset(rows, dim, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, dim)).astype("float32")
    y = (x[:, 0] * x[:, -1] > 0).astype("int64")
    k = int(0.8 * rows)
    return SimpleNamespace(name=f"{rows}x{dim}", x_train=x[:k], y_train=y[:k], x_val=x[k:], y_val=y[k:],
                           task="binary", num_classes=2, input_dim=dim)


def grappler(on: bool) -> None:
    """TensorFlow's graph optimiser, process-wide: on (its default) for fit and the raw floor. The
    engine turns it off for its own calls only (`infoif.train.engine._call`)."""
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": not on})


def fit_first_epoch(spec, ds, seed) -> float:
    from infoif.nn.models import build_model

    grappler(True)  # fit as Keras runs it by default
    started = time.perf_counter()
    model = build_model(spec, ds.input_dim, "binary", seed=seed)
    model.fit(ds.x_train, ds.y_train, batch_size=BATCH, epochs=1, verbose=0, validation_data=(ds.x_val, ds.y_val))
    return time.perf_counter() - started


def runner_first_epoch(spec, ds, seed, ahead: bool) -> float:
    from infoif.train.runner import Runner

    if ahead:  # what a worker does while the settings are on screen
        runner = Runner(spec, ds, seed=seed, batch_size=BATCH)
        runner.prepare()
        started = time.perf_counter()
    else:
        started = time.perf_counter()
        runner = Runner(spec, ds, seed=seed, batch_size=BATCH)
    runner.command("train", epochs=None)
    while runner.epoch < 1:
        runner.advance()
    elapsed = time.perf_counter() - started
    assert runner.history.snapshots()[0].has_probes
    runner.command("stop")
    runner.engine.wait_traced(60)
    return elapsed


def runner_epochs_per_second(spec, ds, epochs=600) -> float:
    from infoif.train.runner import Runner

    runner = Runner(spec, ds, seed=0, batch_size=BATCH)
    runner.prepare()
    runner.command("train", epochs=50)
    while runner.advance():
        pass
    start_epoch, started = runner.epoch, runner.clock
    runner.command("train", epochs=epochs)
    while runner.advance():
        pass
    return (runner.epoch - start_epoch) / (runner.clock - started)


def raw_floor_epochs_per_second(spec, ds, epochs=600) -> float:
    """The same maths with no Keras: fused kernel GEMM, tanh, flatten, dense head, BCE, Adam,
    whole epochs in one tf.while_loop (batches drawn per epoch in numpy, as the trainer does)."""
    import tensorflow as tf

    grappler(True)  # raw TensorFlow as it runs by default
    n, units, d = spec.num_interfaces, spec.units, ds.input_dim
    rng = np.random.default_rng(0)
    x = tf.constant(ds.x_train)
    y = tf.constant(ds.y_train.astype("float32"))
    w1 = tf.Variable(rng.normal(0, 0.3, (d, n * units)).astype("float32"))
    b1 = tf.Variable(np.zeros(n * units, "float32"))
    w2 = tf.Variable(rng.normal(0, 0.1, (n * units, 1)).astype("float32"))
    b2 = tf.Variable(np.zeros(1, "float32"))
    params = [w1, b1, w2, b2]
    m = [tf.Variable(tf.zeros_like(p)) for p in params]
    v = [tf.Variable(tf.zeros_like(p)) for p in params]
    t = tf.Variable(0.0)
    lr, b1_, b2_, eps = 0.01, 0.9, 0.999, 1e-7

    def step(idx):
        xb, yb = tf.gather(x, idx), tf.gather(y, idx)
        with tf.GradientTape() as tape:
            h = tf.tanh(xb @ w1 + b1)
            logits = tf.squeeze(h @ w2 + b2, -1)
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=yb, logits=logits))
        grads = tape.gradient(loss, params)
        t.assign_add(1.0)
        for p, g, mm, vv in zip(params, grads, m, v):
            mm.assign(b1_ * mm + (1 - b1_) * g)
            vv.assign(b2_ * vv + (1 - b2_) * g * g)
            mhat = mm / (1 - b1_ ** t)
            vhat = vv / (1 - b2_ ** t)
            p.assign_sub(lr * mhat / (tf.sqrt(vhat) + eps))
        return loss

    @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.int32)])
    def run(all_batches):
        def body(e, total):
            def inner(i, acc):
                return i + 1, acc + step(all_batches[e, i])
            _, acc = tf.while_loop(lambda i, acc: i < tf.shape(all_batches)[1], inner, (0, 0.0))
            return e + 1, total + acc
        return tf.while_loop(lambda e, total: e < tf.shape(all_batches)[0], body, (0, 0.0))[1]

    rows = len(ds.x_train)
    steps = -(-rows // BATCH)

    def batches(k):
        out = []
        for _ in range(k):
            order = rng.permutation(rows)
            order = np.concatenate([order, order[: steps * BATCH - rows]])
            out.append(order.reshape(steps, BATCH))
        return np.stack(out).astype("int32")

    run(batches(5))  # trace and warm up
    per_call = 30  # about the trainer's epochs per call at this size
    started = time.perf_counter()
    for _ in range(epochs // per_call):
        run(batches(per_call))
    return epochs // per_call * per_call / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)  # as a worker runs
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from infoif.nn.spec import ModelSpec

    small = dataset(500, 2)
    fit_first_epoch(ModelSpec(num_interfaces=2), small, 99)  # a first model, as a worker has had
    print(f"1. Start to first snapshot (with probes) of a fresh run, vs fit(epochs=1) of the same fresh model "
          f"(medians of {repeats}; target <= 0.3x fit)\n")
    header = f"{'data':>10} {'N':>3} | {'fit 1st (s)':>11} | {'cold (s)':>8} {'x fit':>6} | {'built ahead (s)':>15} {'x fit':>6}"
    print(header)
    print("-" * len(header))
    cases = [(small, 1), (small, 8), (small, 64), (dataset(50_000, 20), 8)]
    for ds, n in cases:
        spec = ModelSpec(num_interfaces=n, units=8)
        fits, colds, aheads = [], [], []
        for r in range(repeats):
            fits.append(fit_first_epoch(spec, ds, seed=r))
            colds.append(runner_first_epoch(spec, ds, seed=r, ahead=False))
            aheads.append(runner_first_epoch(spec, ds, seed=r, ahead=True))
        f, c, a = (statistics.median(v) for v in (fits, colds, aheads))
        print(f"{ds.name:>10} {n:>3} | {f:>11.2f} | {c:>8.2f} {c / f:>6.2f} | {a:>15.2f} {a / f:>6.2f}")

    spec = ModelSpec(num_interfaces=8, units=8)
    ours, floor = [], []
    for _ in range(repeats):  # interleaved, so that the machine's mood hits both alike
        ours.append(runner_epochs_per_second(spec, small))
        floor.append(raw_floor_epochs_per_second(spec, small))
    o, fl = (statistics.median(v) for v in (ours, floor))
    print(f"\n2. Playground size (500 x 2, N=8, units 8, batch 32), fused path, probes on: runner {o:.0f} epochs/s; "
          f"raw TensorFlow floor {fl:.0f} epochs/s: ratio {o / fl:.2f} (aim >= 0.6)")


if __name__ == "__main__":
    main()

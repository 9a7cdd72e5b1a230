"""Benchmark: the fused InformationInterfaces against the seed's list of Dense layers.

    python bench/layers.py            # full table (about 2 minutes)
    python bench/layers.py --quick    # fewer repeats

For N in {1, 4, 16, 64} (64 features, batch 256, Adam, MSE on a Dense(1) head
after Flatten) it prints, for the seed-style layer and for ours:
  * first-step latency: build + compile + the first training step, i.e. what a
    user waits for after moving the num_interfaces slider;
  * the median training-step time over repeated steps;
and a raw-TensorFlow floor: a `tf.function` doing the same matmuls and an Adam
update with no Keras around it, measured in the same run. Ratios are computed
within the run, so a busy machine shifts all columns alike.

A second table compares the kernel layouts and formulations that were tried,
which is why the layer uses a (d_in, N, units) kernel and one GEMM on its
(d_in, N*units) view.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from infoif.nn.layers import InformationInterfaces  # noqa: E402

D_IN = 64
BATCH = 256
INTERFACES = (1, 4, 16, 64)


# --------------------------------------------------------------- contenders


class SeedInterfaces(keras.layers.Layer):
    """The seed's design: a Python list of N Dense layers, outputs stacked."""

    def __init__(self, num_interfaces, **kwargs):
        super().__init__(**kwargs)
        self.num_interfaces = num_interfaces

    def build(self, input_shape):
        self.interfaces = [keras.layers.Dense(input_shape[-1]) for _ in range(self.num_interfaces)]
        for layer in self.interfaces:
            layer.build(input_shape)

    def call(self, inputs):
        return keras.ops.stack([layer(inputs) for layer in self.interfaces], axis=1)


class EinsumInterfaces(keras.layers.Layer):
    """Alternative formulation: einsum over a (d_in, N, units) kernel."""

    def __init__(self, num_interfaces, **kwargs):
        super().__init__(**kwargs)
        self.num_interfaces = num_interfaces

    def build(self, input_shape):
        d = input_shape[-1]
        self.kernel = self.add_weight(shape=(d, self.num_interfaces, d), initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(self.num_interfaces, d), initializer="zeros")

    def call(self, inputs):
        return keras.ops.einsum("bd,dnu->bnu", inputs, self.kernel) + self.bias


class InterfaceMajorInterfaces(keras.layers.Layer):
    """Alternative layout: (N, d_in, units) kernel, transposed to a GEMM view per call."""

    def __init__(self, num_interfaces, **kwargs):
        super().__init__(**kwargs)
        self.num_interfaces = num_interfaces

    def build(self, input_shape):
        d = input_shape[-1]
        self.kernel = self.add_weight(shape=(self.num_interfaces, d, d), initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(self.num_interfaces, d), initializer="zeros")

    def call(self, inputs):
        n, d, u = self.kernel.shape
        k = keras.ops.reshape(keras.ops.transpose(self.kernel, (1, 0, 2)), (d, n * u))
        y = keras.ops.matmul(inputs, k) + keras.ops.reshape(self.bias, (n * u,))
        return keras.ops.reshape(y, (-1, n, u))


def make_model(layer):
    inputs = keras.Input((D_IN,))
    h = keras.layers.Flatten()(layer(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1)(h))
    model.compile(optimizer="adam", loss="mse", jit_compile=False)
    return model


# --------------------------------------------------------------- measurements


def first_step_seconds(layer_factory, x, y):
    keras.backend.clear_session()
    start = time.perf_counter()
    model = make_model(layer_factory())
    model.train_on_batch(x, y)
    return time.perf_counter() - start, model


class _EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


STEPS_PER_EPOCH = 20


def median_step_ms(model, x, y, repeats):
    """Median train-step time inside `model.fit` (as the issue measured it).

    Each epoch is STEPS_PER_EPOCH batches; a callback times epochs, so fit()'s
    set-up is left out, and the per-step time is the epoch time / its steps.
    """
    xs, ys = np.tile(x, (STEPS_PER_EPOCH, 1)), np.tile(y, (STEPS_PER_EPOCH, 1))
    model.fit(xs, ys, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)  # trace, warm up
    timer = _EpochTimer()
    model.fit(xs, ys, batch_size=BATCH, epochs=max(3, repeats // 4), verbose=0, shuffle=False,
              callbacks=[timer])
    return 1000 * statistics.median(timer.seconds) / STEPS_PER_EPOCH


def raw_tf_step_ms(n, x, y, repeats):
    """Same maths as ours (fused GEMM, flatten, Dense(1), MSE, Adam) in a bare tf.function."""
    rng = np.random.default_rng(0)
    params = [
        tf.Variable(rng.normal(0, 0.1, (D_IN, n * D_IN)).astype("float32")),
        tf.Variable(np.zeros(n * D_IN, "float32")),
        tf.Variable(rng.normal(0, 0.1, (n * D_IN, 1)).astype("float32")),
        tf.Variable(np.zeros(1, "float32")),
    ]
    m = [tf.Variable(tf.zeros_like(p)) for p in params]
    v = [tf.Variable(tf.zeros_like(p)) for p in params]
    t = tf.Variable(0.0)
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-7

    @tf.function
    def step(xb, yb):
        with tf.GradientTape() as tape:
            h = tf.matmul(xb, params[0]) + params[1]
            h = tf.reshape(tf.reshape(h, (-1, n, D_IN)), (-1, n * D_IN))
            loss = tf.reduce_mean(tf.square(tf.matmul(h, params[2]) + params[3] - yb))
        grads = tape.gradient(loss, params)
        t.assign_add(1.0)
        for p, g, mi, vi in zip(params, grads, m, v):
            mi.assign(b1 * mi + (1 - b1) * g)
            vi.assign(b2 * vi + (1 - b2) * g * g)
            p.assign_sub(lr * (mi / (1 - b1**t)) / (tf.sqrt(vi / (1 - b2**t)) + eps))
        return loss

    xt, yt = tf.constant(x), tf.constant(y)
    for _ in range(3):
        step(xt, yt)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step(xt, yt).numpy()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 15 if args.quick else 40
    first_repeats = 1 if args.quick else 3

    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH, D_IN)).astype("float32")
    y = rng.normal(size=(BATCH, 1)).astype("float32")
    first_step_seconds(lambda: InformationInterfaces(2), x, y)  # warm TF up once

    print(f"InformationInterfaces: d_in={D_IN}, units={D_IN}, batch={BATCH}, Adam, "
          f"{os.cpu_count()} CPUs, TF {tf.__version__}, Keras {keras.__version__}")
    print("first step = build + compile + first train step (median of "
          f"{first_repeats}); step = median train step in model.fit ({STEPS_PER_EPOCH}-step epochs)\n")
    header = (f"{'N':>3} | {'seed 1st (s)':>12} {'ours 1st (s)':>12} {'speed-up':>8} | "
              f"{'seed step':>9} {'ours step':>9} {'raw TF':>8} {'speed-up':>8} {'ours/raw':>8}")
    print(header)
    print("-" * len(header))
    for n in INTERFACES:
        seed_first, ours_first = [], []
        for _ in range(first_repeats):
            s, seed_model = first_step_seconds(lambda: SeedInterfaces(n), x, y)
            o, our_model = first_step_seconds(lambda: InformationInterfaces(n), x, y)
            seed_first.append(s)
            ours_first.append(o)
        keras.backend.clear_session()
        seed_model = make_model(SeedInterfaces(n))
        our_model = make_model(InformationInterfaces(n))
        seed_step = median_step_ms(seed_model, x, y, repeats)
        ours_step = median_step_ms(our_model, x, y, repeats)
        raw = raw_tf_step_ms(n, x, y, repeats)
        sf, of = statistics.median(seed_first), statistics.median(ours_first)
        print(f"{n:>3} | {sf:>12.3f} {of:>12.3f} {sf / of:>7.1f}x | "
              f"{seed_step:>7.2f}ms {ours_step:>7.2f}ms {raw:>6.2f}ms {seed_step / ours_step:>7.2f}x "
              f"{ours_step / raw:>7.2f}x")

    print("\nFormulations tried (N=64, median train step, ms):")
    keras.backend.clear_session()
    for name, factory in [
        ("(d_in, N, units) kernel, one GEMM on its view (used)", lambda: InformationInterfaces(64)),
        ("(N, d_in, units) kernel, transpose + GEMM per call", lambda: InterfaceMajorInterfaces(64)),
        ("einsum 'bd,dnu->bnu'", lambda: EinsumInterfaces(64)),
        ("seed: list of 64 Dense + stack", lambda: SeedInterfaces(64)),
    ]:
        print(f"  {name:<55} {median_step_ms(make_model(factory()), x, y, repeats):7.2f}")


if __name__ == "__main__":
    main()

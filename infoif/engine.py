"""The compiled TensorFlow part of training one model: no threads of its own to run, no control,
no history.

Why not `model.fit`: on Playground-sized data a `fit()` epoch costs about
30 ms of Keras overhead against a few milliseconds of maths. The engine calls
the model's own `train_step` inside long-lived `tf.function`s instead: the
model, loss, metrics and optimizer are all Keras', only the loop is ours.

Two compiled paths:

* `begin_epoch()`, `train_chunk(batches)`..., `end_epoch()`: one epoch in
  chunks of steps, so that a caller regains control every ~0.1 s on data of
  any size (a stop mid-epoch calls `rollback()`).
* `run_epochs(batches)`: several whole epochs in one `tf.while_loop` call,
  each with its validation, and an in-graph rollback of an epoch whose loss
  is not finite (the loop ends there). For small data.

Tracing is most of a new model's wait for its first epoch. So `prepare()`
traces only the chunked path (one `train_step` and one evaluation), which can
run every epoch on its own; the fused path, a loop that calls the chunked
path's compiled functions (their bodies are not traced again), is traced by
`trace_fused_in_background()` in a thread of its own while the first epochs
run, and is used once `fused_ready`. Both paths run the same graphs on the
same batches, so a run's history does not depend on when it switched.

Before every epoch the weights *and* the optimizer's slots are backed up in
graph, so a rolled-back epoch leaves no trace, and `state()` can always give
the state at the last finished epoch, even in the middle of one.
"""

from __future__ import annotations

import atexit
import functools
import logging
import threading

import numpy as np

__all__ = ["Engine", "Y_DTYPES"]

Y_DTYPES = {"regression": np.float32, "binary": np.float32, "multiclass": np.int64}

# Background tracing threads still alive. A process must not exit while one is inside TensorFlow's
# C++ (it aborts: "terminate called after throwing an instance of..."), so they are waited for.
_TRACERS: set[threading.Thread] = set()
# Set once the process is exiting: a trace still running then may fail as the interpreter winds
# down ("Too many leaves for PyTreeSpec" from keras' scan, seen after tests and command lines had
# finished); nobody needs it any more, so its failure is not reported.
_EXITING = threading.Event()


@atexit.register
def _wait_for_tracers(timeout: float = 60.0) -> None:
    _EXITING.set()
    for thread in list(_TRACERS):
        thread.join(timeout)


def _state_variables(model):
    """Variables whose values make the training state: weights, then the optimizer's slots and
    iteration count (its learning rate is a setting, kept apart)."""
    optimizer = [v for v in model.optimizer.variables if not v.path.endswith("learning_rate")]
    return list(model.weights) + optimizer


@functools.cache
def _call_options():
    """The function-call options the engine's calls run with: the process's, Grappler off."""
    from tensorflow.python.eager import context as tf_context

    config = tf_context.context().config
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    return tf_context.FunctionCallOptions(config_proto=config)


def _call(fn, *args):
    """Calls one of the engine's compiled functions with Grappler, TensorFlow's graph optimiser,
    off for this call only. On these small graphs it cost each new function's first call
    0.05-0.1 s (the fused path's trace and first call: 0.30-0.44 s with it, 0.17-0.21 s without)
    and bought no speed (epochs/s off/on, side by side: 0.97-1.38). TensorFlow takes the options
    of a call from the calling thread's context: they are set around the call and put back, so
    nothing else in the process (a user's `model.predict`, say) runs differently. Where
    TensorFlow's internals differ, the call runs with the process's own options."""
    try:
        from tensorflow.python.eager import context as tf_context

        ctx = tf_context.context()
        options, previous = _call_options(), ctx.function_call_options
    except Exception:  # noqa: BLE001 - an optimisation only
        return fn(*args)
    ctx.function_call_options = options
    try:
        return fn(*args)
    finally:
        ctx.function_call_options = previous


class Engine:
    """Compiled training of one built, compiled Keras model on in-memory arrays.

    Args:
        model: a compiled model (from `infoif.models.build_model`).
        dataset: anything with x_train, y_train, x_val, y_val and task.
    """

    def __init__(self, model, dataset):
        self.model = model
        self.dataset = dataset
        self.n_train = int(len(dataset.x_train))
        self.mid_epoch = False
        self.ready = False  # the chunked path is traced
        self._fused = threading.Event()
        self._tracer: threading.Thread | None = None
        self.trace_error: str | None = None
        # the optimizer's state before any step (its slots and iteration count), for `reset`
        model.optimizer.build(model.trainable_variables)
        self._initial_optimizer = [np.array(v.numpy()) for v in _state_variables(model)[len(model.weights):]]

    @property
    def _prepared(self) -> bool:
        return self.ready

    @property
    def fused_ready(self) -> bool:
        return self._fused.is_set()

    def prepare(self, fused: bool = False) -> None:
        """Traces the chunked path here and now (and the fused one too with `fused=True`)."""
        if not self.ready:
            self._trace_chunked()
        if fused:
            self._trace_fused()

    def _trace_chunked(self) -> None:
        import tensorflow as tf

        model, ds = self.model, self.dataset
        # The compiled functions close over locals only (never `self`), so an
        # abandoned engine is not kept alive by its own functions.
        y_dtype = Y_DTYPES[ds.task]
        x = tf.constant(np.asarray(ds.x_train, np.float32))
        y = tf.constant(np.asarray(ds.y_train).astype(y_dtype))
        x_val = tf.constant(np.asarray(ds.x_val, np.float32))
        y_val = tf.constant(np.asarray(ds.y_val).astype(y_dtype))
        model.optimizer.build(model.trainable_variables)
        variables = _state_variables(model)
        saved = [tf.Variable(v, trainable=False) for v in variables]

        # Compiled one by one below; the fused path calls them from its loop.
        def train_batches(batches):
            for i in tf.range(tf.shape(batches)[0]):
                idx = batches[i]
                model.train_step((tf.gather(x, idx), tf.gather(y, idx)))
            return tf.constant(0)

        def evaluate():
            train = model.get_metrics_result()
            for metric in model.metrics:
                metric.reset_state()
            val = model.test_step((x_val, y_val))
            return train, val

        def backup():
            for b, v in zip(saved, variables):
                b.assign(v)
            return tf.constant(0)

        def restore():
            for b, v in zip(saved, variables):
                v.assign(b)
            return tf.constant(0)

        def begin():
            backup()
            for metric in model.metrics:
                metric.reset_state()
            return tf.constant(0)

        self._train_chunk = tf.function(train_batches, input_signature=[tf.TensorSpec([None, None], tf.int32)])
        self._end_epoch = tf.function(evaluate)
        self._begin = tf.function(begin)
        self._restore = tf.function(restore)
        for fn in (self._train_chunk, self._end_epoch, self._begin, self._restore):
            fn.get_concrete_function()
        # A compiled function's first call has one-time costs too (~0.1 s here): pay them now, with
        # calls that change nothing training needs (no steps; an evaluation whose metrics the next
        # epoch resets; a backup, then a restore of that same state).
        _call(self._train_chunk, np.zeros((0, 1), np.int32))
        _call(self._end_epoch)
        _call(self._begin)
        _call(self._restore)
        self._variables, self._saved = variables, saved
        self.ready = True

    def _trace_fused(self) -> None:
        if self.fused_ready:
            return
        import tensorflow as tf

        # The chunked path's compiled functions, called as they are: their bodies are not traced
        # again (with Grappler off, tracing the loop around them and its first call took 0.14 s
        # where tracing `train_step` inline again took 0.36 s), and both paths run the same graphs.
        train_batches, evaluate, begin, restore = self._train_chunk, self._end_epoch, self._begin, self._restore

        def one_epoch(batches):
            begin()
            train_batches(batches)
            train, val = evaluate()
            values = {k: tf.cast(v, tf.float32) for k, v in train.items()}
            values.update({f"val_{k}": tf.cast(v, tf.float32) for k, v in val.items()})
            finite = tf.math.is_finite(values["loss"]) & tf.math.is_finite(values["val_loss"])
            tf.cond(finite, lambda: tf.constant(0), restore)  # a diverged epoch is rolled back
            return values, finite

        # The metrics' names, from the traced evaluation: the loop below starts with empty
        # arrays for them, so it can run zero epochs (a warm-up call that changes nothing).
        train_names, val_names = (list(d) for d in self._end_epoch.get_concrete_function().structured_outputs)
        names = train_names + [f"val_{k}" for k in val_names]

        def run_epochs(all_batches):
            # all_batches is (epochs, steps, batch): the thread crosses into
            # TensorFlow, and back for the GIL, once per call rather than once
            # per epoch. Ends after the first epoch whose loss is not finite.
            k = tf.shape(all_batches)[0]
            arrays = {name: tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=())
                      for name in names}

            def more(e, finite, arrays):
                return (e < k) & finite

            def body(e, finite, arrays):
                values, finite = one_epoch(all_batches[e])
                return e + 1, finite, {name: a.write(e, values[name]) for name, a in arrays.items()}

            _, finite, arrays = tf.while_loop(more, body, (tf.constant(0), tf.constant(True), arrays))
            return {name: a.stack() for name, a in arrays.items()}, finite

        fn = tf.function(run_epochs, input_signature=[tf.TensorSpec([None, None, None], tf.int32)])
        fn.get_concrete_function()
        _call(fn, np.zeros((0, 1, 1), np.int32))  # zero epochs: pays the first call's one-time cost, changes nothing
        self._run_epochs = fn
        self._fused.set()

    @property
    def tracing(self) -> bool:
        """Whether the fused path is being traced in the background now."""
        return self._tracer is not None and self._tracer.is_alive()

    def trace_fused_in_background(self, also=None) -> None:
        """Calls `also()` if given (say, tracing the probe), then traces the fused path, in a
        thread of its own (once); the chunked path must be traced already (everything Keras
        builds lazily then exists)."""
        if self._tracer is not None or self.fused_ready or not self.ready:
            return

        def trace():
            try:
                if also is not None:
                    also()
                self._trace_fused()
            except Exception as exc:  # noqa: BLE001 - the chunked path goes on; say why
                self.trace_error = f"{type(exc).__name__}: {exc}"
                if not _EXITING.is_set():
                    logging.getLogger("infoif.engine").exception("Tracing the fused path failed")

        self._tracer = self.in_background(trace, "infoif-trace")

    @staticmethod
    def in_background(fn, name: str) -> threading.Thread:
        """Runs `fn()` in a daemon thread that the process waits for before it exits (a thread
        inside TensorFlow's C++ must not be torn down)."""

        def run():
            try:
                fn()
            except Exception:  # noqa: BLE001 - a background nicety: log it, training goes on
                if not _EXITING.is_set():
                    logging.getLogger("infoif.engine").exception("%s failed", name)
            finally:
                _TRACERS.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=name, daemon=True)
        _TRACERS.add(thread)
        thread.start()
        return thread

    def wait_traced(self, timeout: float | None = None) -> bool:
        """Waits for the background tracing (if any); True when the fused path is ready."""
        if self._tracer is not None:
            self._tracer.join(timeout)
        return self.fused_ready

    # ------------------------------------------------------------ paths

    def run_epochs(self, all_batches: np.ndarray) -> tuple[list[dict], bool]:
        """Whole epochs, `all_batches` of shape (epochs, steps, batch): their metrics, oldest
        first, and whether the last one was finite (if not, it was rolled back)."""
        values, finite = _call(self._run_epochs, all_batches)
        columns = {name: v.numpy().tolist() for name, v in values.items()}
        count = len(columns["loss"])
        return [{name: col[i] for name, col in columns.items()} for i in range(count)], bool(finite)

    def begin_epoch(self) -> None:
        _call(self._begin)
        self.mid_epoch = True

    def train_chunk(self, batches: np.ndarray) -> None:
        _call(self._train_chunk, batches)

    def end_epoch(self) -> tuple[dict, bool]:
        """Ends a chunked epoch: its metrics, and whether they are finite (if not, rolled back)."""
        train, val = _call(self._end_epoch)
        values = {k: float(v) for k, v in train.items()}
        values.update({f"val_{k}": float(v) for k, v in val.items()})
        finite = bool(np.isfinite(values["loss"]) and np.isfinite(values["val_loss"]))
        if not finite:
            _call(self._restore)
        self.mid_epoch = False
        return values, finite

    def rollback(self) -> None:
        """Undoes the epoch in progress (weights and optimizer)."""
        if self.mid_epoch:
            _call(self._restore)
            self.mid_epoch = False

    # ------------------------------------------------------------ state

    def set_learning_rate(self, lr: float) -> None:
        self.model.optimizer.learning_rate.assign(float(lr))

    def state(self) -> list[np.ndarray]:
        """Weights and optimizer state at the last finished epoch (a copy)."""
        self.model.optimizer.build(self.model.trainable_variables)  # no-op once built
        source = self._saved if (self._prepared and self.mid_epoch) else _state_variables(self.model)
        return [np.array(v.numpy()) for v in source]

    def reset(self, weights: list[np.ndarray]) -> None:
        """A fresh start on the same compiled functions: these initial weights, and the optimizer
        as new (its learning rate is the caller's to set)."""
        self.mid_epoch = False
        self.load_state(list(weights) + self._initial_optimizer)

    def load_state(self, arrays: list[np.ndarray]) -> None:
        """Sets weights and optimizer state from `state()`'s output (before or after `prepare`)."""
        self.model.optimizer.build(self.model.trainable_variables)
        variables = _state_variables(self.model)
        if len(arrays) != len(variables) or any(tuple(a.shape) != tuple(v.shape) for a, v in zip(arrays, variables)):
            raise ValueError(
                "The saved state does not fit this model: "
                f"{[tuple(a.shape) for a in arrays]} against {[tuple(v.shape) for v in variables]}."
            )
        for a, v in zip(arrays, variables):
            v.assign(a)

"""The compiled TensorFlow part of training one model: no threads of its own to run, no control,
no history.

Why not `model.fit`: on Playground-sized data a `fit()` epoch costs about
30 ms of Keras overhead against a few milliseconds of maths. The engine runs
its training step inside long-lived `tf.function`s instead: Keras' `train_step`
for these models (the model, loss, metrics and optimizer are all Keras'), with
a plain Adam's update fused into one TensorFlow operation per weight
(`_train_step`).

Two compiled paths:

* `begin_epoch()`, `train_chunk(batches)`..., `end_epoch()`: one epoch in
  chunks of steps, so that a caller regains control every ~0.1 s on data of
  any size (a stop mid-epoch calls `rollback()`).
* `run_epochs(batches)`: several whole epochs in one `tf.while_loop` call,
  each with its validation, and an in-graph rollback of an epoch whose loss
  is not finite (the loop ends there). For small data.

Tracing is most of a new model's wait for its first epoch. Until `prepare()`
the chunked path's functions run eagerly (on small data the runner's first
epoch does: `infoif.train.runner.EAGER_STEPS`). `prepare()` traces only the chunked
path (one training step and one evaluation), which can run every epoch on its
own; the fused path, a loop that calls the chunked path's compiled functions
(their bodies are not traced again), is traced by
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
from types import SimpleNamespace

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


def _build_compiled(model, y_true: np.ndarray) -> None:
    """Creates the compiled metrics' and loss's state before anything is traced.

    Keras creates them lazily, inside the first `train_step`: a `tf.function` that creates
    variables is traced twice, so the chunked path's `train_step` was traced twice (0.3-0.4 s of a
    new model's 0.6-0.8 s before its first epoch). `fit` avoids that with `_symbolic_build`, which
    traces the model into a scratch graph; that failed when another thread called
    `clear_session()` meanwhile, as Streamlit does after every script run. The builders only read
    the structure and shapes of the targets and outputs, so plain arrays of the right shape do:
    nothing is traced or run."""
    metrics, loss = model._compile_metrics, model._compile_loss
    if (metrics is None or metrics.built) and (loss is None or loss.built):
        return
    y_pred = [np.zeros((1, *tuple(out.shape)[1:]), np.float32) for out in model.outputs]
    y_pred = y_pred[0] if len(y_pred) == 1 else y_pred
    if metrics is not None and not metrics.built:
        metrics.build(y_true, y_pred)
    if loss is not None and not loss.built:
        loss.build(y_true, y_pred)


def _train_step(model):
    """One training step on a batch, `step(x, y)`: Keras' `train_step` for a model such as
    `infoif.nn.models.build_model` makes (its forward pass, `compute_loss` with the layers' own losses,
    loss tracker and compiled metrics), with two differences that cost nothing in results:

    * no metric results are computed per step (the loop reads them once per epoch);
    * a plain `Adam` (no clipping, weight decay, EMA, AMSGrad, loss scaling or accumulation,
      float32 weights without constraints) applies its update with TensorFlow's fused
      `ResourceApplyAdam`, the same formula in one operation per weight instead of about fifteen:
      tracing Keras' `optimizer.apply` and its first call took 0.11-0.2 s of a new model's wait,
      the fused update 0.04 s, and an eager step ~10 ms instead of 16-30 ms. Any other optimizer
      is applied by Keras (`optimizer.apply`).
    """
    import tensorflow as tf

    optimizer, variables = model.optimizer, model.trainable_variables
    fused = _fused_adam(optimizer, variables)
    metrics = model._compile_metrics

    def step(x, y):
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        model._loss_tracker.update_state(loss, sample_weight=tf.shape(x)[0])
        grads = tape.gradient(loss, variables)
        if fused is not None:
            fused(grads)
        else:
            optimizer.apply(grads, variables)
        if metrics is not None:
            metrics.update_state(y, y_pred)

    return step


def _fused_adam(optimizer, variables):
    """`apply(grads)`: what `optimizer.apply(grads, variables)` does for a plain Adam, in one fused
    operation per weight; None when the optimizer or weights need anything else."""
    import keras
    import tensorflow as tf

    plain = (
        type(optimizer) is keras.optimizers.Adam
        and not optimizer.amsgrad
        and not optimizer.weight_decay
        and optimizer.clipnorm is None and optimizer.clipvalue is None and optimizer.global_clipnorm is None
        and not optimizer.use_ema
        and not optimizer.gradient_accumulation_steps
        and optimizer.loss_scale_factor is None
        and isinstance(optimizer._learning_rate, keras.Variable)  # not a schedule
        and all(v.dtype == "float32" and v.constraint is None and not getattr(v, "overwrite_with_gradient", False)
                for v in variables)
    )
    if not plain:
        return None
    optimizer.build(variables)
    slots = [(optimizer._momentums[optimizer._get_variable_index(v)],
              optimizer._velocities[optimizer._get_variable_index(v)]) for v in variables]
    beta_1, beta_2, epsilon = float(optimizer.beta_1), float(optimizer.beta_2), float(optimizer.epsilon)

    def apply(grads):
        # Keras' Adam.update_step: the powers of the betas at the step about to be taken
        local_step = tf.cast(optimizer.iterations + 1, tf.float32)
        beta_1_power = tf.pow(tf.constant(beta_1, tf.float32), local_step)
        beta_2_power = tf.pow(tf.constant(beta_2, tf.float32), local_step)
        lr = tf.cast(optimizer.learning_rate, tf.float32)
        for v, g, (m, s) in zip(variables, grads, slots):
            if g is None:  # no gradient: Keras skips the weight too
                continue
            tf.raw_ops.ResourceApplyAdam(
                var=v.value.handle, m=m.value.handle, v=s.value.handle,
                beta1_power=beta_1_power, beta2_power=beta_2_power, lr=lr,
                beta1=tf.constant(beta_1, tf.float32), beta2=tf.constant(beta_2, tf.float32),
                epsilon=tf.constant(epsilon, tf.float32), grad=tf.convert_to_tensor(g))
        optimizer.iterations.assign_add(1)

    return apply


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
        model: a compiled model (from `infoif.nn.models.build_model`).
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
        self._plain = None  # the chunked path's Python functions (`_functions()`)
        self._compiled = None  # the same, compiled (`prepare()`)
        # the optimizer's state before any step (its slots and iteration count), for `reset`
        model.optimizer.build(model.trainable_variables)
        self._initial_optimizer = [np.array(v.numpy()) for v in _state_variables(model)[len(model.weights):]]

    @property
    def fused_ready(self) -> bool:
        return self._fused.is_set()

    def prepare(self, fused: bool = False) -> None:
        """Traces the chunked path here and now (and the fused one too with `fused=True`)."""
        if not self.ready:
            self._trace_chunked()
        if fused:
            self._trace_fused()

    def _functions(self):
        """The chunked path's Python functions: run eagerly until `prepare()` compiles them."""
        if self._plain is None:
            self._plain = self._make_functions()
        return self._plain

    def _make_functions(self):
        import tensorflow as tf

        model, ds = self.model, self.dataset
        # The functions close over locals only (never `self`), so an abandoned engine is not kept
        # alive by its own compiled functions.
        y_dtype = Y_DTYPES[ds.task]
        x = tf.constant(np.asarray(ds.x_train, np.float32))
        y = tf.constant(np.asarray(ds.y_train).astype(y_dtype))
        x_val = tf.constant(np.asarray(ds.x_val, np.float32))
        y_val = tf.constant(np.asarray(ds.y_val).astype(y_dtype))
        model.optimizer.build(model.trainable_variables)
        _build_compiled(model, np.asarray(ds.y_train[:1]).astype(y_dtype))
        variables = _state_variables(model)
        saved = [tf.Variable(v, trainable=False) for v in variables]
        step = _train_step(model)

        def train_batches(batches):
            batches = tf.convert_to_tensor(batches)
            for i in tf.range(tf.shape(batches)[0]):
                idx = batches[i]
                step(tf.gather(x, idx), tf.gather(y, idx))
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

        return SimpleNamespace(train_chunk=train_batches, end_epoch=evaluate, begin=begin, restore=restore,
                               variables=variables, saved=saved)

    def _trace_chunked(self) -> None:
        import tensorflow as tf

        fns = self._functions()
        # Compiled one by one, under the same names; the fused path calls them from its loop.
        compiled = SimpleNamespace(
            train_chunk=tf.function(fns.train_chunk, input_signature=[tf.TensorSpec([None, None], tf.int32)]),
            end_epoch=tf.function(fns.end_epoch), begin=tf.function(fns.begin), restore=tf.function(fns.restore))
        for fn in vars(compiled).values():
            fn.get_concrete_function()
        # A compiled function's first call has one-time costs too (~0.1 s here): pay them now, with
        # calls that change nothing training needs (no steps; an evaluation whose metrics the next
        # epoch resets; a backup, then a restore of that same state). Not mid-epoch: an eager
        # epoch in progress goes on compiled, and its backup must stay.
        _call(compiled.train_chunk, np.zeros((0, 1), np.int32))
        if not self.mid_epoch:
            _call(compiled.end_epoch)
            _call(compiled.begin)
            _call(compiled.restore)
        self._compiled = compiled
        self.ready = True

    def _trace_fused(self) -> None:
        if self.fused_ready:
            return
        import tensorflow as tf

        # The chunked path's compiled functions, called as they are: their bodies are not traced
        # again (with Grappler off, tracing the loop around them and its first call took 0.14 s
        # where tracing `train_step` inline again took 0.36 s), and both paths run the same graphs.
        compiled = self._compiled
        train_batches, evaluate = compiled.train_chunk, compiled.end_epoch
        begin, restore = compiled.begin, compiled.restore

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
        train_names, val_names = (list(d) for d in compiled.end_epoch.get_concrete_function().structured_outputs)
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

    def _chunked(self, name: str):
        """One of the chunked path's functions: compiled once `prepare()`d, else run eagerly."""
        if self.ready:
            return functools.partial(_call, getattr(self._compiled, name))
        return getattr(self._functions(), name)

    def begin_epoch(self) -> None:
        self._chunked("begin")()
        self.mid_epoch = True

    def train_chunk(self, batches: np.ndarray) -> None:
        self._chunked("train_chunk")(batches)

    def end_epoch(self) -> tuple[dict, bool]:
        """Ends a chunked epoch: its metrics, and whether they are finite (if not, rolled back)."""
        train, val = self._chunked("end_epoch")()
        values = {k: float(v) for k, v in train.items()}
        values.update({f"val_{k}": float(v) for k, v in val.items()})
        finite = bool(np.isfinite(values["loss"]) and np.isfinite(values["val_loss"]))
        if not finite:
            self._chunked("restore")()
        self.mid_epoch = False
        return values, finite

    def rollback(self) -> None:
        """Undoes the epoch in progress (weights and optimizer)."""
        if self.mid_epoch:
            self._chunked("restore")()
            self.mid_epoch = False

    # ------------------------------------------------------------ state

    def set_learning_rate(self, lr: float) -> None:
        self.model.optimizer.learning_rate.assign(float(lr))

    def state(self) -> list[np.ndarray]:
        """Weights and optimizer state at the last finished epoch (a copy)."""
        self.model.optimizer.build(self.model.trainable_variables)  # no-op once built
        source = self._plain.saved if (self._plain is not None and self.mid_epoch) else _state_variables(self.model)
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

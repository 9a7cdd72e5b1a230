"""The first epoch at once: the chunked path first, the fused path traced in the background, and
fresh models built ahead of the Train click. Same numbers whichever way a run got them."""

import io
import json

import numpy as np
import pytest

from infoif import datasets
from infoif.train.runner import Runner
from infoif.nn.spec import ModelSpec

from tests.conftest import CIRCLE

SPEC = ModelSpec(num_interfaces=4, units=3)


@pytest.fixture(scope="module")
def circle():
    return datasets.prepare_sample("Circle"), datasets.load_sample("Circle")


def train(runner, epochs):
    runner.command("train", epochs=epochs)
    while runner.advance():
        pass
    assert runner.status == "finished", runner.error
    return runner.history.snapshots()


def losses(history):
    return np.array([[s.metrics["loss"], s.metrics["val_loss"]] for s in history])


def test_the_first_snapshot_is_the_same_whichever_path_ran_it(circle):
    ds, frame = circle
    eager = Runner(SPEC, ds, seed=5, frame=frame)  # a new model on small data: epoch 1 runs eagerly
    assert eager.eager_first_epoch
    chunked = Runner(SPEC, ds, seed=5, frame=frame)
    chunked.engine.prepare()  # the chunked path traced: epoch 1 runs compiled, in chunks
    fused = Runner(SPEC, ds, seed=5, frame=frame)
    fused.prepare()  # everything traced: epoch 1 runs fused
    a, b, c = train(eager, 1), train(chunked, 1), train(fused, 1)
    assert not eager.engine.ready, "nothing was traced before the first epoch"
    assert not chunked.engine.fused_ready or chunked._epochs_per_call == 1
    for other, runner in ((b, chunked), (c, fused)):
        np.testing.assert_allclose(losses(a), losses(other), rtol=1e-5)
        for x, y in zip(eager.engine.state(), runner.engine.state()):
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-6)
        assert a[0].has_probes and other[0].has_probes
        np.testing.assert_allclose(a[0].probes.energy_final, other[0].probes.energy_final, rtol=1e-4, atol=1e-6)
    assert not eager.eager_first_epoch, "only the first epoch runs eagerly"
    train(eager, 2)
    assert eager.engine.ready, "traced for the epochs after it"


def test_an_eager_epoch_stopped_midway_leaves_the_last_finished_state(circle):
    ds, frame = circle
    runner = Runner(SPEC, ds, seed=1, frame=frame)
    before = runner.engine.state()
    runner._chunk_steps = 2  # the epoch in several calls
    runner.command("train", epochs=None)
    runner.advance()
    assert runner.engine.mid_epoch and not runner.engine.ready
    assert any(not np.array_equal(x, y) for x, y in zip(before, runner.engine._functions().variables)), "trained"
    for x, y in zip(before, runner.engine.state()):
        np.testing.assert_array_equal(x, y)  # a checkpoint now holds the last finished epoch's state
    runner.command("stop")
    for x, y in zip(before, runner.engine.state()):
        np.testing.assert_array_equal(x, y)
    assert runner.epoch == 0


def test_an_eager_epoch_continued_compiled_is_the_same_epoch(circle):
    """A first epoch begun eagerly and traced mid-way (as a worker may) ends as if run in one go."""
    ds, frame = circle
    split = Runner(SPEC, ds, seed=4, frame=frame)
    split._chunk_steps = 3
    split.command("train", epochs=1)
    split.advance()
    assert split.engine.mid_epoch and not split.engine.ready
    split.engine.prepare()
    while split.advance():
        pass
    whole = Runner(SPEC, ds, seed=4, frame=frame)
    np.testing.assert_allclose(losses(split.history.snapshots()), losses(train(whole, 1)), rtol=1e-5)


def test_only_a_small_new_runs_first_epoch_runs_eagerly(circle):
    ds, frame = circle
    assert Runner(SPEC, ds, batch_size=64).eager_first_epoch
    assert not Runner(SPEC, ds, batch_size=1).eager_first_epoch, "too many steps: tracing pays"
    sweep_run = Runner(SPEC, ds)
    sweep_run.done_when_ended = True  # a sweep's run: its epochs count, not how soon the first shows
    assert not sweep_run.eager_first_epoch


def test_the_fused_adam_update_is_keras_adam(circle, monkeypatch):
    """The engine's step applies a plain Adam in one fused operation per weight: the same numbers as
    Keras' own `optimizer.apply`; any other optimizer goes through Keras."""
    import keras

    import infoif.train.engine as engine_module
    from infoif.nn.models import build_model

    ds, _ = circle
    x, y = ds.x_train[:64].astype("float32"), ds.y_train[:64].astype("float32")

    def trained(fused: bool, **optimizer):
        model = build_model(SPEC, ds.input_dim, ds.task, ds.num_classes, seed=3)
        if optimizer:
            model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05, **optimizer), loss=model.loss,
                          metrics=["accuracy"])
        model.optimizer.build(model.trainable_variables)
        assert (engine_module._fused_adam(model.optimizer, model.trainable_variables) is not None) == fused
        step = engine_module._train_step(model)
        for i in range(20):
            step(x[i % 2 * 32:][:32], y[i % 2 * 32:][:32])
        return model

    fused = trained(True)
    monkeypatch.setattr(engine_module, "_fused_adam", lambda *args: None)
    plain = trained(False)
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(fused.optimizer.iterations.numpy()) == int(plain.optimizer.iterations.numpy()) == 20
    monkeypatch.undo()
    clipped = trained(False, clipnorm=1.0)  # not a plain Adam: Keras applies it
    assert all(np.isfinite(w).all() for w in clipped.get_weights())


def test_a_run_that_switches_paths_has_the_history_of_one_that_does_not(circle):
    ds, frame = circle
    switching = Runner(SPEC, ds, seed=2, frame=frame)
    train(switching, 3)
    switching.trace_rest()  # 3 epochs alone would not repay tracing the fused path
    assert switching.engine.wait_traced(120), switching.engine.trace_error
    train(switching, 27)  # now on the fused path
    assert switching._epochs_per_call > 1
    steady = Runner(SPEC, ds, seed=2, frame=frame)
    steady.prepare()
    history = train(steady, 30)
    np.testing.assert_allclose(losses(switching.history.snapshots()), losses(history), rtol=1e-4)


def test_a_fresh_model_built_ahead_is_the_one_the_run_gets(service):
    """A worker given the settings on screen builds that model before Train; the run adopts it."""
    import infoif.runs.worker as worker_module
    from infoif.train.probes import ProbeConfig
    from infoif.runs.store import Store

    store = Store(service.store.home)
    worker = worker_module.Worker(store.home, "test", io.BytesIO())
    ws = store.create_workspace()
    settings = {"spec": SPEC.to_dict(), "dataset": CIRCLE, "seed": 0, "batch_size": 32,
                "probe_config": __import__("dataclasses").asdict(ProbeConfig())}
    worker._prewarm(settings)
    (built,) = worker.warm.values()
    assert built.engine.ready, "its chunked path is traced already"
    info = store.create_run(ws, SPEC, CIRCLE, "Circle", seed=0, batch_size=32)
    assert worker.load(info.id) is built and not worker.warm
    other = store.create_run(ws, SPEC.replace(num_interfaces=5), CIRCLE, "Circle")
    assert worker.load(other.id) is not built, "other settings: built on demand"
    for k in range(1, 6):  # the warm cache is bounded
        worker._prewarm({**settings, "seed": k})
    assert len(worker.warm) == worker_module.MAX_WARM
    assert [json.loads(key)["seed"] for key in worker.warm] == [3, 4, 5], "the newest guesses stay"


def test_the_dashboard_asks_for_the_next_model_ahead(service):
    from infoif.app.session import Session

    s = Session.open(service.store, service, {})
    key_count = len(service._warm)
    s.set_spec(s.spec.replace(num_interfaces=11))
    assert len(service._warm) == key_count + 1
    s.set_training(epochs=3)
    s.train()
    run = s.current_run()
    assert run.spec.num_interfaces == 11


def test_a_short_budget_does_not_pay_for_the_fused_path_but_a_long_one_does(circle):
    """Tracing the fused path costs a core for a fraction of a second: a run that ends sooner than
    that would repay it (5 epochs on small data) skips it, and still gets its probe compiled; a run
    until stopped (or whose budget grows) gets it."""
    ds, frame = circle
    short = Runner(SPEC, ds, seed=1, frame=frame)
    train(short, 5)
    assert short._probe_tracer is not None, "the compiled probe is worth it at once"
    short._probe_tracer.join(120)
    assert short.probe.traced(short.x_probe.shape)
    assert not short.engine.fused_ready and not short.engine.tracing and short.engine._tracer is None
    short.command("train", epochs=None)  # until stopped: now it pays
    assert short.advance()
    assert short.engine.wait_traced(120), short.engine.trace_error
    while short.epoch < 40:
        short.advance()
    assert short._epochs_per_call > 1, "on the fused path now"
    short.command("stop")
    sweep_seed = Runner(SPEC, ds, seed=2, frame=frame)
    sweep_seed.epochs_to_come = 3 * 1000  # later runs of a sweep will train on this model
    train(sweep_seed, 5)
    assert sweep_seed.engine.wait_traced(120), "traced for the runs that follow"


def test_a_sweep_run_is_traced_whole_before_its_first_epoch_when_that_pays(circle, tmp_path):
    """A run whose first epochs nobody waits for (a sweep's) traces what it will use before it
    starts, in the caller's thread: the fused path and the compiled probe when its model will train
    many epochs (its own and later seeds'), only the chunked path for a few. Nothing is left to
    trace behind its training, and its history is a fresh run's. Its model is written at its end,
    not at its first flush too (a run someone watches has it at once)."""
    from infoif.train.runner import FUSE_AHEAD_EPOCHS
    from infoif.runs.store import Store

    ds, frame = circle
    store = Store(tmp_path / "home")
    ws = store.create_workspace()
    long_run = Runner(SPEC, ds, seed=4, frame=frame, sink=store.writer(store.create_run(ws, SPEC, CIRCLE, "Circle").id))
    long_run.done_when_ended, long_run.epochs_to_come = True, 3 * 40
    long_run.prepare_ahead(40)
    assert long_run.engine.ready and long_run.engine.fused_ready and long_run.probe.traced(long_run.x_probe.shape)
    assert long_run.engine._tracer is None and long_run._probe_tracer is None, "traced here, not behind"
    long_run.command("train", epochs=40)
    assert long_run.advance() and long_run._epochs_per_call > 1, "on the fused path from its first call"
    assert not long_run.sink.store.model_path(long_run.sink.run_id).exists(), "not at its first flush"
    while long_run.advance():
        pass
    assert long_run.status == "finished" and long_run.engine._tracer is None and long_run._probe_tracer is None
    long_run.sink.status(long_run)
    assert store.model_path(long_run.sink.run_id).stat().st_size > 0, "written at its end"
    watched = Runner(SPEC, ds, seed=4, frame=frame, sink=store.writer(store.create_run(ws, SPEC, CIRCLE, "Circle").id))
    watched.command("train", epochs=40)
    watched.advance()
    watched.sink.status(watched)
    assert store.model_path(watched.sink.run_id).exists(), "a run someone watches: its model at once"
    while watched.advance():
        pass
    np.testing.assert_allclose(losses(long_run.history.snapshots()), losses(watched.history.snapshots()),
                               rtol=1e-4)

    short = Runner(SPEC, ds, seed=5, frame=frame)
    short.done_when_ended = True
    short.prepare_ahead(FUSE_AHEAD_EPOCHS // 2)
    assert short.engine.ready and not short.engine.fused_ready, "a few epochs: the chunked path only"
    assert not short.probe.traced(short.x_probe.shape)


def test_a_run_on_a_reused_model_has_the_history_of_a_fresh_one(circle):
    """The next run of the same graph (a sweep's next seed) takes over a model done with: its own
    initial weights and a new optimizer, the compiled functions kept; same numbers as a fresh model."""
    ds, frame = circle
    done = Runner(SPEC, ds, seed=3, frame=frame)
    train(done, 12)
    done.trace_rest()
    assert done.engine.wait_traced(120)
    model, engine = done.model, done.engine
    reused = Runner(SPEC.replace(learning_rate=0.02), ds, seed=8, frame=frame, reuse=done)
    assert reused.model is model and reused.engine is engine and done.model is None
    assert reused.engine.ready and reused.engine.fused_ready, "nothing to trace"
    fresh = Runner(SPEC.replace(learning_rate=0.02), ds, seed=8, frame=frame)
    for x, y in zip(reused.engine.state(), fresh.engine.state()):
        np.testing.assert_array_equal(x, y)  # seed 8's weights, a new optimizer (iterations 0)
    a, b = train(reused, 20), train(fresh, 20)
    np.testing.assert_allclose(losses(a), losses(b), rtol=1e-4)
    assert a[0].metrics["lr"] == b[0].metrics["lr"] == 0.02
    with pytest.raises(ValueError, match="same settings and data"):
        Runner(SPEC.replace(num_interfaces=5), ds, seed=1, frame=frame, reuse=reused)


def test_a_worker_reuses_models_within_a_workspace_only_and_keeps_few(service):
    import infoif.runs.worker as worker_module
    from infoif.runs.store import Store

    store = Store(service.store.home)
    worker = worker_module.Worker(store.home, "test", io.BytesIO())
    ws, other_ws = store.create_workspace(), store.create_workspace()
    first = store.create_run(ws, SPEC, CIRCLE, "Circle", seed=0)
    runner = worker.load(first.id)
    runner.engine.prepare()
    worker.runners[first.id] = runner
    model = runner.model
    worker.unload(first.id)
    assert len(worker.retired) == 1
    elsewhere = worker.load(store.create_run(other_ws, SPEC, CIRCLE, "Circle", seed=1).id)
    assert elsewhere.model is not model, "never another workspace's model"
    next_seed = worker.load(store.create_run(ws, SPEC, CIRCLE, "Circle", seed=1).id)
    assert next_seed.model is model and not worker.retired, "the same graph in the same workspace: reused"
    for n in range(1, 8):  # the retired models are bounded
        info = store.create_run(ws, SPEC.replace(num_interfaces=n), CIRCLE, "Circle")
        r = worker.load(info.id)
        r.engine.prepare()
        worker.runners[info.id] = r
        worker.unload(info.id)
    assert len(worker.retired) == worker_module.MAX_RETIRED


def test_reset_hands_the_old_runs_model_to_the_next_fresh_one(service):
    """Reset: the service has the old run unloaded (its files are complete), and the model built
    ahead for the next Train takes the old one over instead of tracing (same workspace only)."""
    import dataclasses

    import infoif.runs.worker as worker_module
    from infoif.train.probes import ProbeConfig
    from infoif.runs.store import Store

    store = Store(service.store.home)
    worker = worker_module.Worker(store.home, "test", io.BytesIO())
    ws = store.create_workspace()
    old = store.create_run(ws, SPEC, CIRCLE, "Circle", seed=0)
    runner = worker.load(old.id)
    runner.engine.prepare()
    worker.runners[old.id] = runner
    model = runner.model
    worker.unload(old.id)  # what Service.release asks for
    settings = {"spec": SPEC.to_dict(), "dataset": CIRCLE, "seed": 0, "batch_size": 32,
                "probe_config": dataclasses.asdict(ProbeConfig())}
    worker._prewarm({**settings, "workspace": "someone-else"})
    (other,) = worker.warm.values()
    assert other.model is not model, "never another workspace's model"
    worker.warm.clear()
    worker._prewarm({**settings, "workspace": ws})
    (built,) = worker.warm.values()
    assert built.model is model and built.engine.ready


def test_the_dashboard_releases_the_old_run_at_reset(service):
    from infoif.app.session import Session
    from tests.conftest import wait_for

    s = Session.open(service.store, service, {})
    s.set_training(epochs=3)
    s.train()
    first = s.current_run()
    wait_for(lambda: service.store.run_info(first.id).status == "finished", 120)
    assert service.where(first.id), "held by a worker while it is the current run"
    s.reset()
    assert service.store.run_info(first.id).epochs == 3, "kept for comparison"
    assert first.id not in service._where, "its worker was asked to unload it"


def test_a_run_released_before_the_service_heard_it_finished_is_unloaded_and_not_counted(service):
    """Reset right after a run finished: the store says finished, but the worker's word of it has
    not reached the service yet (the order in which a Reset can come). The run is released all the
    same, and no longer counted on its worker (its word, arriving later, is ignored)."""
    from infoif.app.session import Session
    from tests.conftest import wait_for

    s = Session.open(service.store, service, {})
    s.set_training(epochs=3)
    s.train()
    run_id = s.current_run().id
    wait_for(lambda: service.store.run_info(run_id).status == "finished", 120)
    wait_for(lambda: run_id not in service._where[run_id].running, 60, what="the worker's word of it")
    worker = service._where[run_id]
    with service._lock:
        worker.running.add(run_id)  # as it was a moment before that word arrived
    s.reset()
    assert run_id not in service._where, "its worker was asked to unload it"
    assert run_id not in worker.running, "no longer counted on its worker"
    wait_for(lambda: run_id not in worker.send("ping", wait=30)["resident"], 60, what="the worker unloaded it")


def test_the_engines_call_options_stay_with_its_calls(circle):
    """The engine runs its compiled functions without Grappler, set for each of its calls only:
    after training, the process's optimiser options and this thread's call options are as
    before, so a user's own models run as they would anywhere."""
    import tensorflow as tf
    from tensorflow.python.eager import context as tf_context

    ds, frame = circle
    before_global = tf.config.optimizer.get_experimental_options()
    before_thread = tf_context.context().function_call_options
    runner = Runner(SPEC, ds, seed=3, frame=frame)
    runner.prepare()
    train(runner, 3)
    assert tf.config.optimizer.get_experimental_options() == before_global
    assert tf_context.context().function_call_options is before_thread
    from infoif.train.engine import _call

    seen = []
    _call(lambda: seen.append(tf_context.context().function_call_options))
    config = tf.compat.v1.ConfigProto()
    config.ParseFromString(seen[0].config_proto_serialized)
    assert config.graph_options.rewrite_options.disable_meta_optimizer, "inside a call: Grappler off"
    assert tf_context.context().function_call_options is before_thread

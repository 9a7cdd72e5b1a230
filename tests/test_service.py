"""The training service: worker processes, exact pause and step, slots and the queue, idle runs,
a worker killed mid-run. Behaviour only: every wait below is a deadline, not a measurement."""

import os
import select
import signal
import time

import pytest

from infoif.service import Service, ServiceError
from tests.conftest import wait_for


def epochs(service, run_id):
    return service.store.run_info(run_id).epochs


def status(service, run_id):
    return service.store.run_info(run_id).status


def test_pause_and_step_are_exact(service, new_run):
    run = new_run(num_interfaces=4)
    service.train(run, None)
    wait_for(lambda: epochs(service, run) > 20, what="training")
    reply = service.pause(run)
    assert reply["status"] == "paused"
    at = reply["epoch"]
    assert epochs(service, run) == at == len(service.store.reader(run).snapshots())
    time.sleep(0.5)  # a paused run records nothing more, ever
    assert epochs(service, run) == at and status(service, run) == "paused"
    for k in (1, 2, 3):
        service.step(run)
        wait_for(lambda: epochs(service, run) >= at + k, what="a step")
        time.sleep(0.2)
        assert epochs(service, run) == at + k and status(service, run) == "paused"
    service.train(run, "resume")
    wait_for(lambda: epochs(service, run) > at + 10, what="the resumed run")
    assert service.stop(run)["status"] == "stopped"


def test_learning_rate_and_batch_size_reach_the_worker(service, new_run):
    run = new_run()
    service.step(run)
    wait_for(lambda: epochs(service, run) == 1, what="the first epoch")
    service.set_learning_rate(run, 0.001)
    service.set_batch_size(run, 64)
    service.step(run)
    wait_for(lambda: epochs(service, run) == 2, what="the second epoch")
    metrics = service.store.reader(run).snapshots()[-1].metrics
    assert (metrics["lr"], metrics["batch_size"]) == (0.001, 64)


def test_concurrent_runs_all_progress_and_extra_ones_queue(service, new_run):
    capacity = service.n_workers * service.slots
    runs = [new_run(num_interfaces=k + 1) for k in range(capacity + 1)]
    replies = [service.train(r, None, wait=None) for r in runs]
    assert replies[-1] == {"status": "queued", "queued": 1}
    assert service.where(runs[-1]) == {"queued": 1} and status(service, runs[-1]) == "queued"
    for r in runs[:-1]:
        wait_for(lambda: epochs(service, r) > 5, what=f"run {r} to train")
    before = [epochs(service, r) for r in runs[:-1]]
    wait_for(lambda: all(epochs(service, r) > b for r, b in zip(runs[:-1], before)), what="all to progress")
    assert epochs(service, runs[-1]) == 0
    service.stop(runs[0])  # a slot frees: the queued run starts
    wait_for(lambda: epochs(service, runs[-1]) > 5, what="the queued run to start")
    assert service.where(runs[-1]).get("worker")
    for r in runs:
        service.stop(r)


def test_a_queued_run_can_be_paused_or_stopped_before_it_starts(service, new_run):
    capacity = service.n_workers * service.slots
    busy = [new_run() for _ in range(capacity)]
    for r in busy:
        service.train(r, None, wait=None)
    waiting = new_run()
    assert service.train(waiting, None)["status"] == "queued"
    assert service.pause(waiting)["status"] == "paused" and service.where(waiting) == {}
    assert status(service, waiting) == "paused"
    for r in busy:
        service.stop(r)


def test_a_budgeted_run_finishes_with_no_one_watching(service, new_run):
    old = service.idle_pause
    try:
        budgeted, endless = new_run(), new_run()
        service.train(endless, None, wait=None)
        wait_for(lambda: epochs(service, endless) > 0, what="the run to start")
        service.idle_pause = 0.5  # unwatched runs "until stopped" are paused after this long
        service.train(budgeted, 400, wait=None)
        wait_for(lambda: status(service, endless) == "paused", what="the unwatched run to be paused")
        wait_for(lambda: status(service, budgeted) == "finished", what="the budgeted run to finish")
        assert epochs(service, budgeted) == 400
    finally:
        service.idle_pause = old


def test_a_killed_worker_fails_its_run_with_a_message_and_the_service_lives_on(service, new_run):
    run = new_run(num_interfaces=2)
    service.train(run, None)
    wait_for(lambda: epochs(service, run) > 50, what="training")
    worker = service.where(run)["worker"]
    pid = next(w["pid"] for w in service.workers if w["name"] == worker)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: status(service, run) == "failed", what="the run to be marked failed")
    info = service.store.run_info(run)
    assert "stopped unexpectedly" in info.error and "press Train to continue" in info.error
    kept = info.epochs
    assert kept > 0
    wait_for(lambda: len(service.workers) == service.n_workers and all(w["alive"] for w in service.workers)
             and service.wait_ready(120), what="a replacement worker")
    assert pid not in [w["pid"] for w in service.workers]
    service.train(run, 20, wait=None)  # continues from its last checkpoint, the gap marked
    wait_for(lambda: status(service, run) == "finished", what="the resumed run")
    info = service.store.run_info(run)
    assert len(info.gaps) == 1 and info.epochs == info.gaps[0] + 20
    other = new_run()
    service.train(other, 5, wait=None)
    wait_for(lambda: status(service, other) == "finished", what="a new run on the new worker")


def test_a_run_whose_checkpoint_is_gone_is_refused_with_its_reason(service, new_run):
    run = new_run()
    service.train(run, 3, wait=None)
    wait_for(lambda: status(service, run) == "finished", what="a short run")
    service.forget(run)  # unloaded: the next train loads it from the store
    (service.store.run_dir(run) / "checkpoint.npz").unlink()
    with pytest.raises(ServiceError, match="checkpoint is missing"):
        service.train(run, 3, wait=60)
    assert len(service.store.reader(run).snapshots()) == 3, "its history is kept"


def test_settings_from_the_environment_are_checked(monkeypatch, tmp_path):
    from infoif.service import default_workers

    monkeypatch.setenv("INFOIF_WORKERS", "many")
    with pytest.raises(ServiceError, match="Received: INFOIF_WORKERS='many'"):
        default_workers()
    monkeypatch.setenv("INFOIF_WORKERS", "3")
    assert default_workers() == 3
    monkeypatch.setenv("INFOIF_SLOTS", "0")
    with pytest.raises(ServiceError, match="INFOIF_SLOTS"):
        Service(tmp_path, workers=1)


def test_workers_that_cannot_start_are_not_respawned_for_ever(tmp_path):
    """A worker dying before it is ready (here: its store folder is unusable) is replaced after a
    growing pause; after a few such deaths the service gives up and says why, instead of spinning."""
    service = Service(tmp_path / "home", workers=1)
    runs = service.store.home / "runs"
    runs.rmdir()
    runs.write_text("not a folder")  # the workers' Store() fails; the server's was made already
    service.start()
    try:
        wait_for(lambda: service.broken is not None, timeout=300, what="the service to give up")
        assert "cannot start" in service.broken
        with pytest.raises(ServiceError, match="cannot start"):
            service.train("0123456789abcdef", 1)
        started = len({w["pid"] for w in service.workers})
        time.sleep(1.0)
        assert len({w["pid"] for w in service.workers}) == started, "no new worker after giving up"
    finally:
        service.shutdown()


def test_idle_workers_warm_up_and_report_it(service):
    """A worker with nothing to do trains a tiny model through every path once (TensorFlow's and
    Keras' one-time costs), then says so."""
    assert service.wait_ready(300, warm=True), "every worker warms up, or stops warming up for real work"
    assert all(w.warm.is_set() for w in service._workers)


def test_warming_up_gives_way_to_real_work():
    from infoif.runner import warm_up

    asked = []

    def interrupted():
        asked.append(True)
        return len(asked) > 2  # real work arrives during the eager first epoch

    assert warm_up(interrupted) is False
    assert len(asked) <= 4, "it stopped at the first step boundary after the work came"
    assert warm_up() is True


def test_a_loaded_run_wakes_the_workers_loop_at_once(tmp_path):
    """The worker's loop waits for requests on its standard input; what the loader thread hands over
    (a run loaded, the warm-up done) wakes it too, so a loaded run starts without waiting for the
    loop's next look. No timing: a read woken by the loader has drained the wake-up (one that timed
    out would have left it in the pipe)."""
    import io

    from infoif.worker import Worker, _Lines

    stdin_read, stdin_write = os.pipe()
    lines = _Lines(stdin_read)
    worker = Worker(str(tmp_path / "home"), "test", io.BytesIO())
    worker.stop_loader()  # its warm-up (which wakes the loop too) cut short: nothing else writes below
    lines.read(0, wake=worker._wake_read)
    while not worker._loaded.empty():
        worker._loaded.get_nowait()

    def wake_pending():
        return bool(select.select([worker._wake_read], [], [], 0)[0])

    try:
        worker._done_loading(("some-run", RuntimeError("a load that failed")))
        assert wake_pending()
        assert lines.read(60, wake=worker._wake_read) == []
        assert not wake_pending(), "woken by the loader, not timed out"
        os.write(stdin_write, b'{"op": "ping"}\n')
        worker._done_loading(("another-run", RuntimeError("and another")))
        assert lines.read(60, wake=worker._wake_read) == [b'{"op": "ping"}'], "a request that came meanwhile"
        assert not wake_pending()
    finally:
        os.close(stdin_read)
        os.close(stdin_write)
    handed = []
    while not worker._loaded.empty():
        handed.append(worker._loaded.get_nowait()[0])
    assert handed == ["some-run", "another-run"], "in order, none lost"

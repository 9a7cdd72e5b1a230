"""The training service: worker processes, exact pause and step, every run training at once,
admission limits, idle runs, a worker killed mid-run. Behaviour only: every wait below is a
deadline, not a measurement."""

import os
import select
import signal
import time

import pytest

from infoif.runs.fairshare import Limits
from infoif.runs.service import AdmissionError, Service, ServiceError
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


def test_every_run_trains_at_once_shared_across_the_workers(service):
    """Runs "until stopped", more than the old slots (2 per worker) and in several workspaces: none
    queues, all progress together, spread over every worker; each pauses exactly. Meanwhile pages
    are told to redraw their charts less often, and as often as before once the runs pause."""
    from infoif.runs.fairshare import Refresh, chart_refresh
    from infoif.nn.spec import ModelSpec
    from tests.conftest import CIRCLE

    store = service.store
    runs = [store.create_run(store.create_workspace(), ModelSpec(num_interfaces=k % 3 + 1), CIRCLE, "Circle").id
            for k in range(2 * service.n_workers + 2)]
    try:
        for r in runs:
            assert "queued" not in service.train(r, None, wait=None)
        assert all(service.where(r).get("slot") for r in runs), "every run is on a worker, none in a queue"
        wait_for(lambda: all(epochs(service, r) > 3 for r in runs), what="every run to train")
        before = [epochs(service, r) for r in runs]
        wait_for(lambda: all(epochs(service, r) > b for r, b in zip(runs, before)), what="all to progress together")
        used = {service.where(r)["worker"] for r in runs}
        assert len(used) == service.n_workers, f"spread over every worker: {used}"
        assert service.chart_refresh() == chart_refresh(len(runs), service.n_workers) != Refresh()
        for r in runs:
            reply = service.pause(r)
            assert reply["status"] == "paused" and epochs(service, r) == reply["epoch"]
        assert service.chart_refresh() == Refresh()
    finally:
        for r in runs:
            service.forget(r)


def test_admission_refuses_past_the_limits_with_a_message_and_keeps_what_trains(service, new_run):
    """A workspace trains at most `per_workspace` runs at once, the server `total`: one more is
    refused with a message saying what to do; once one is paused, Train works again. Steps and
    a run already training (a new budget) are never refused."""
    old = service.limits
    service.limits = Limits(per_workspace=2, total=3)
    runs = [new_run(num_interfaces=k + 1) for k in range(3)]
    try:
        for r in runs[:2]:
            service.train(r, None, wait=None)
        with pytest.raises(AdmissionError, match=r"already training 2 runs.*INFOIF_MAX_RUNS_PER_WORKSPACE=2.*"
                                                 r"Pause or stop one of them"):
            service.train(runs[2], None)
        assert status(service, runs[2]) == "idle" and service.where(runs[2]) == {}, "nothing half-made"
        service.train(runs[0], 500, wait=None)  # a new budget for a run that trains: not a new run
        wait_for(lambda: epochs(service, runs[0]) > 0, what="the first run to train")
        paused_at = service.pause(runs[0])["epoch"]
        service.train(runs[2], None, wait=None)
        wait_for(lambda: epochs(service, runs[2]) > 0, what="the admitted run to train")

        from infoif.nn.spec import ModelSpec
        from tests.conftest import CIRCLE

        elsewhere = service.store.create_run(service.store.create_workspace(), ModelSpec(), CIRCLE, "Circle").id
        service.train(elsewhere, None, wait=None)  # the server's third
        another = service.store.create_run(service.store.create_workspace(), ModelSpec(), CIRCLE, "Circle").id
        with pytest.raises(AdmissionError, match=r"This server is already training 3 runs.*INFOIF_MAX_RUNS=3"):
            service.train(another, None)
        service.step(another)  # one epoch, then paused: always allowed
        wait_for(lambda: epochs(service, another) == 1, what="the step")
        service.forget(elsewhere)
        assert status(service, runs[0]) == "paused" and epochs(service, runs[0]) == paused_at
        assert status(service, runs[1]) == "running", "what trains goes on"
    finally:
        service.limits = old


def test_a_queued_run_can_be_paused_or_stopped_before_it_starts(tmp_path):
    """With no worker to take it (here: a service never started), a run waits in the queue; pause
    and stop take it out."""
    from infoif.nn.spec import ModelSpec
    from tests.conftest import CIRCLE

    svc = Service(tmp_path, workers=1)  # never started: no processes
    ws = svc.store.create_workspace()
    waiting, stopped = (svc.store.create_run(ws, ModelSpec(), CIRCLE, "Circle").id for _ in range(2))
    assert svc.train(waiting, None) == {"status": "queued", "queued": 1}
    assert svc.train(stopped, None) == {"status": "queued", "queued": 2}
    assert svc.where(stopped) == {"queued": 2} and status(svc, stopped) == "queued"
    assert svc.pause(waiting)["status"] == "paused" and svc.where(waiting) == {}
    assert status(svc, waiting) == "paused"
    assert svc.where(stopped) == {"queued": 1}
    assert svc.stop(stopped)["status"] == "stopped" and status(svc, stopped) == "stopped"


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


def kill_worker_of(service, run, among=()):
    """Kills (-9) the worker training `run`; returns its pid and which of `among` it trained."""
    worker = service.where(run)["worker"]
    pid = next(w["pid"] for w in service.workers if w["name"] == worker)
    victims = [r for r in among if service.where(r).get("worker") == worker]
    os.kill(pid, signal.SIGKILL)
    return pid, victims


def all_workers_ready(service):
    return (len(service.workers) == service.n_workers and all(w["alive"] for w in service.workers)
            and service.wait_ready(120))


def test_a_killed_workers_runs_continue_elsewhere_with_their_budget_and_the_service_lives_on(service, new_run):
    """kill -9 of the worker under a run: the run continues by itself from its last checkpoint (the gap
    marked) with the budget it had, and a new worker takes the dead one's place. When its worker dies
    under it a second time it waits, failed with a message, for Train, which continues it."""
    budgeted, endless = new_run(num_interfaces=2), new_run(num_interfaces=3)
    service.train(budgeted, 5000)
    service.train(endless, None)
    wait_for(lambda: epochs(service, budgeted) > 50 and epochs(service, endless) > 50, what="training")
    target_end = service.store.run_info(budgeted).budget_end
    pid, victims = kill_worker_of(service, budgeted, among=(budgeted, endless))
    wait_for(lambda: all(service.store.run_info(r).gaps for r in victims), what="the runs to continue, the gap marked")
    gap = service.store.run_info(budgeted).gaps[0]
    wait_for(lambda: epochs(service, budgeted) > gap + 20, what="the budgeted run to train on")
    assert status(service, budgeted) == "running"
    assert service.store.run_info(budgeted).budget_end == target_end, "the budget it had"
    wait_for(lambda: all_workers_ready(service), what="a replacement worker")
    assert pid not in [w["pid"] for w in service.workers]

    kill_worker_of(service, budgeted)  # a second time: it waits for Train
    wait_for(lambda: status(service, budgeted) == "failed", what="the run to be marked failed")
    info = service.store.run_info(budgeted)
    assert "stopped unexpectedly" in info.error and "press Train to continue" in info.error
    wait_for(lambda: all_workers_ready(service), what="a replacement worker")
    service.train(budgeted, 20, wait=None)  # continues from its last checkpoint, the gap marked
    wait_for(lambda: status(service, budgeted) == "finished", what="the resumed run")
    info = service.store.run_info(budgeted)
    assert len(info.gaps) == 2 and info.epochs == info.gaps[-1] + 20
    service.stop(endless)
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
    from infoif.runs.service import default_workers

    monkeypatch.setenv("INFOIF_WORKERS", "many")
    with pytest.raises(ServiceError, match="Received: INFOIF_WORKERS='many'"):
        default_workers()
    monkeypatch.setenv("INFOIF_WORKERS", "3")
    assert default_workers() == 3
    for bad in ("0", "two", "2.5"):
        monkeypatch.setenv("INFOIF_MAX_RUNS_PER_WORKSPACE", bad)
        with pytest.raises(ServiceError, match=f"Received: INFOIF_MAX_RUNS_PER_WORKSPACE='{bad}'"):
            Service(tmp_path, workers=1)
    monkeypatch.setenv("INFOIF_MAX_RUNS_PER_WORKSPACE", "2")
    monkeypatch.setenv("INFOIF_MAX_RUNS", "5")
    assert Service(tmp_path, workers=1).limits == Limits(per_workspace=2, total=5)
    monkeypatch.delenv("INFOIF_MAX_RUNS")
    assert Service(tmp_path, workers=3).limits.total == 36, "12 per worker by default"


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
    from infoif.train.runner import warm_up

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

    from infoif.runs.worker import Worker, _Lines

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

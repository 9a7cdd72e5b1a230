"""The control state machine (plain Python): every verb from every status."""

import pytest

from infoif.train.control import ACTIVE, STATUSES, Control


def test_train_budget_then_finished():
    c = Control()
    c.train(2)
    assert c.status == "running" and c.wants_work and c.epochs_allowed() == 2
    c.epoch_done()
    c.epoch_done()
    assert c.status == "finished" and not c.wants_work


def test_pause_resume_keeps_the_budget():
    c = Control()
    c.train(5)
    c.epoch_done()
    c.pause()
    assert c.status == "paused" and not c.wants_work
    c.resume()
    assert c.status == "running" and c.budget == 4


def test_step_runs_exactly_one_epoch_and_stays_paused():
    c = Control()
    c.step()
    assert c.status == "paused" and c.wants_work and c.epochs_allowed() == 1
    c.epoch_done()
    assert c.status == "paused" and not c.wants_work
    c.step()
    c.step()
    assert c.steps == 2


def test_step_does_nothing_while_running():
    c = Control()
    c.train(None)
    c.step()
    assert c.status == "running" and c.steps == 0


def test_stop_asks_for_a_rollback_and_failed_runs_can_continue():
    c = Control()
    c.train(None)
    c.stop()
    assert c.status == "stopped" and c.stop_requested
    c.fail("diverged")
    assert c.status == "failed" and c.error == "diverged"
    c.train(3)
    assert c.status == "running" and c.error is None


@pytest.mark.parametrize("status", STATUSES)
def test_interrupt_only_touches_active_runs(status):
    c = Control(status=status)
    c.interrupt()
    assert c.status == ("interrupted" if status in ACTIVE else status)


@pytest.mark.parametrize("call, message", [
    (lambda c: c.train(0), "Received: epochs=0"),
    (lambda c: c.train(True), "Received: epochs=True"),
    (lambda c: c.set_learning_rate(0), "Received: lr=0"),
    (lambda c: c.set_learning_rate(float("nan")), "Received: lr=nan"),
    (lambda c: c.set_batch_size(0), "Received: batch_size=0"),
    (lambda c: c.apply("jump"), "Received: verb='jump'"),
    (lambda c: Control(status="sleeping"), "Received: status='sleeping'"),
])
def test_bad_verbs_are_refused_with_their_value(call, message):
    with pytest.raises(ValueError, match=message):
        call(Control())


def test_settings_are_marked_changed_for_the_owner():
    c = Control()
    c.apply("lr", lr=0.5)
    c.apply("batch_size", n=64)
    assert c.changed and (c.learning_rate, c.batch_size) == (0.5, 64)

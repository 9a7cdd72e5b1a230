"""The sharing policy (`infoif.runs.fairshare`), as plain data in and decisions out: weighted turns,
placement, rebalancing and admission. No processes, no clock."""

import pytest

from infoif.runs.fairshare import (CHART_SECONDS, CHART_SECONDS_MAX, MAX_LEAD_SECONDS, SWEEP, UNWATCHED, WATCHED, Limits, Refresh, Turns,
                              WorkerLoad, admission, chart_refresh, place, rebalance, weight)


def simulate(turns: Turns, wanting: dict, calls: int, seconds=lambda run: 0.1) -> dict:
    """Runs `calls` turns; returns each run's seconds of the worker."""
    used = dict.fromkeys(wanting, 0.0)
    for _ in range(calls):
        run = turns.next(wanting)
        used[run] += seconds(run)
        turns.charge(run, seconds(run), wanting[run])
    return used


def test_weights_rank_a_watched_run_over_an_unwatched_one_over_a_sweep():
    assert weight(sweep=False, watched=True) == WATCHED > weight(sweep=False, watched=False) == UNWATCHED
    assert weight(sweep=True, watched=True) == weight(sweep=True, watched=False) == SWEEP < UNWATCHED


def test_equal_runs_get_equal_time_whatever_their_calls_cost():
    turns = Turns()
    used = simulate(turns, {"a": WATCHED, "b": WATCHED, "c": WATCHED}, 3000,
                    seconds=lambda run: {"a": 0.02, "b": 0.1, "c": 0.3}[run])
    total = sum(used.values())
    for run, seconds in used.items():
        assert seconds / total == pytest.approx(1 / 3, abs=0.01), (run, used)


def test_time_is_shared_in_proportion_to_the_weights():
    used = simulate(Turns(), {"watched": WATCHED, "unwatched": UNWATCHED, "sweep": SWEEP}, 7000)
    total = sum(used.values())
    assert used["watched"] / total == pytest.approx(4 / 7, abs=0.01)
    assert used["unwatched"] / total == pytest.approx(2 / 7, abs=0.01)
    assert used["sweep"] / total == pytest.approx(1 / 7, abs=0.01), "a sweep gets turns, fewer"


def test_one_long_call_does_not_leave_its_run_waiting_for_every_other_run_to_train_as_long():
    """A new run tracing its compiled paths may hold the worker for seconds in one call; it then
    waits until each other run has trained MAX_LEAD_SECONDS, not as long as that call took."""
    turns = Turns()
    runs = {f"r{i}": WATCHED for i in range(8)}
    simulate(turns, runs, 80)
    long_call = 30.0
    first = turns.next(runs)
    turns.charge(first, long_call, WATCHED)
    others = dict.fromkeys(runs, 0.0)
    while (run := turns.next(runs)) != first:
        others[run] += 0.1
        turns.charge(run, 0.1, WATCHED)
    del others[first]
    assert max(others.values()) <= MAX_LEAD_SECONDS + 0.1 + 1e-9, others
    assert sum(others.values()) < long_call / 4, "it did not wait for 7 x 30 s of the others"


def test_a_new_run_goes_next_and_a_returning_one_saved_nothing_up():
    turns = Turns()
    simulate(turns, {"a": WATCHED, "b": WATCHED}, 100)
    assert turns.next({"a": WATCHED, "b": WATCHED, "new": WATCHED}) == "new", "its first epoch at once"
    simulate(turns, {"a": WATCHED}, 50)  # b paused meanwhile: forgotten
    used = simulate(turns, {"a": WATCHED, "b": WATCHED}, 100)
    assert used["a"] == pytest.approx(used["b"], abs=0.11), "b does not take the worker for 50 turns"
    assert turns.next({}) is None


def test_placement_takes_the_least_loaded_worker_ready_first_and_keeps_a_run_where_its_model_is():
    a = WorkerLoad("w0", runs={"x": WATCHED, "y": WATCHED})
    b = WorkerLoad("w1", runs={"z": WATCHED})
    assert place([a, b]) == "w1"
    assert place([a, b], holder="w0") == "w0", "one run more there: it resumes at once rather than reload"
    c = WorkerLoad("w1", runs={})
    assert place([a, c], holder="w0") == "w1", "two runs more: it goes where there is room"
    starting = WorkerLoad("w2", ready=False)
    idle_ready = WorkerLoad("w3")
    assert place([starting, idle_ready]) == "w3", "a ready worker before one still importing TensorFlow"
    busy_ready = WorkerLoad("w3", runs={"x": WATCHED, "y": WATCHED, "z": WATCHED})
    assert place([starting, busy_ready]) == "w3", "a share of a ready worker now, rather than seconds of nothing"
    assert place([starting, WorkerLoad("w4", ready=False, runs={"x": WATCHED})]) == "w2", \
        "none ready (the server starting): the least loaded"
    assert place([WorkerLoad("w0", runs={"s": SWEEP}), WorkerLoad("w1", runs={"p": WATCHED})]) == "w0", \
        "a sweep's run weighs less than a person's"
    assert place([]) is None


def test_rebalancing_moves_a_movable_run_only_when_that_narrows_the_gap():
    heavy = WorkerLoad("w0", runs={"a": WATCHED, "b": WATCHED, "c": WATCHED}, movable=frozenset("abc"))
    light = WorkerLoad("w1", runs={"d": WATCHED}, movable=frozenset("d"))
    run, source, target = rebalance([heavy, light])
    assert (source, target) == ("w0", "w1") and run in "abc"
    two_one = WorkerLoad("w0", runs={"a": WATCHED, "b": WATCHED}, movable=frozenset("ab"))
    assert rebalance([two_one, light]) is None, "2 against 1: a move would only swap them"
    pinned = WorkerLoad("w0", runs={"a": WATCHED, "b": WATCHED, "c": WATCHED}, movable=frozenset())
    assert rebalance([pinned, light]) is None, "runs placed moments ago (or a sweep's) stay"
    mixed = WorkerLoad("w0", runs={"p": WATCHED, "q": UNWATCHED}, movable=frozenset("pq"))
    assert rebalance([mixed, WorkerLoad("w1")]) == ("p", "w0", "w1"), "the heaviest run that fits"
    new = WorkerLoad("w1", ready=False)
    assert rebalance([heavy, new]) is None, "never onto a worker that is not ready"
    assert rebalance([heavy]) is None


def test_admission_says_which_limit_and_what_to_do():
    limits = Limits(per_workspace=2, total=5)
    assert admission(1, 4, limits) is None
    message = admission(2, 3, limits)
    assert "already training 2 runs" in message and "INFOIF_MAX_RUNS_PER_WORKSPACE=2" in message
    assert "Pause or stop one of them" in message
    message = admission(0, 5, limits)
    assert "server is already training 5 runs" in message and "INFOIF_MAX_RUNS=5" in message
    with pytest.raises(ValueError, match="Received: per_workspace=0"):
        Limits(per_workspace=0)
    with pytest.raises(ValueError, match="Received: total=2.5"):
        Limits(total=2.5)


@pytest.mark.parametrize("training, workers, seconds", [
    (0, 2, CHART_SECONDS), (1, 2, CHART_SECONDS), (2, 2, CHART_SECONDS),  # a worker each: as fast as alone
    (3, 2, 2 * CHART_SECONDS), (4, 2, 2 * CHART_SECONDS),  # two runs a worker: each half as fast
    (5, 2, 4 * CHART_SECONDS), (8, 2, 4 * CHART_SECONDS),
    (16, 2, CHART_SECONDS_MAX), (200, 2, CHART_SECONDS_MAX), (3, 0, CHART_SECONDS_MAX),  # no worker counts as one
])
def test_charts_refresh_slower_as_runs_share_the_workers(training, workers, seconds):
    refresh = chart_refresh(training, workers)
    assert refresh.seconds == seconds
    assert CHART_SECONDS <= refresh.seconds <= CHART_SECONDS_MAX


def test_a_slower_refresh_says_why_and_the_usual_one_says_nothing():
    assert chart_refresh(2, 2) == Refresh() and Refresh().note is None
    note = chart_refresh(8, 2).note
    assert "every 8 s" in note and "8 runs" in note and "2 training workers" in note and "status line" in note
    assert "1 training worker;" in chart_refresh(2, 1).note
    # what a page compares to know its timer is stale: equal loads give equal refreshes
    assert chart_refresh(6, 2) == chart_refresh(6, 2) and chart_refresh(6, 2).seconds == chart_refresh(8, 2).seconds

"""pages/_rerun_fix.py: a fragment's timed rerun waits for the end of the run before it instead of
discarding it. Driven on a real asyncio loop with a stand-in for Streamlit's AppSession (the
same attributes the patch reads); `install` is checked against the Streamlit we run."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from pages import _rerun_fix

SHUTDOWN = "shutdown requested"


class Runner:
    def __init__(self, accepts: bool):
        self.accepts, self.requests = accepts, []

    def request_rerun(self, data) -> bool:
        self.requests.append(data)
        return self.accepts


class Session:
    def __init__(self, loop, runner):
        self._event_loop, self._scriptrunner, self._state = loop, runner, "running"
        self.fragments = {"status"}
        self.started = []

    def has_fragment(self, fragment_id) -> bool:
        return fragment_id in self.fragments


def start(self, data) -> None:  # what Streamlit's _create_scriptrunner does, as far as this needs
    self.started.append(data)
    self._scriptrunner = Runner(accepts=True)


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def spin(loop, seconds: float) -> None:
    loop.run_until_complete(asyncio.sleep(seconds))


def spin_until(loop, condition, limit: float = 5.0) -> None:
    for _ in range(int(limit / 0.01)):
        if condition():
            return
        spin(loop, 0.01)
    raise AssertionError("the condition never held")


FRAGMENT = SimpleNamespace(fragment_id="status")
FULL = SimpleNamespace(fragment_id=None)


def test_a_full_run_or_an_idle_session_starts_at_once(loop):
    create = _rerun_fix.waiting(start, SHUTDOWN)
    s = Session(loop, Runner(accepts=False))
    create(s, FULL)
    assert s.started == [FULL]
    idle = Session(loop, None)
    create(idle, FRAGMENT)
    assert idle.started == [FRAGMENT]


def test_a_fragment_rerun_waits_until_the_finished_runner_has_ended(loop):
    create = _rerun_fix.waiting(start, SHUTDOWN)
    finished = Runner(accepts=False)
    s = Session(loop, finished)
    create(s, FRAGMENT)
    spin(loop, 0.1)  # the finished runner's last events are still being handled
    assert s.started == [] and s._scriptrunner is finished
    s._scriptrunner = None  # its SHUTDOWN event was handled: everything it sent was delivered
    spin_until(loop, lambda: s.started)
    assert s.started == [FRAGMENT]


def test_a_newer_runner_takes_the_rerun(loop):
    create = _rerun_fix.waiting(start, SHUTDOWN)
    s = Session(loop, Runner(accepts=False))
    create(s, FRAGMENT)
    newer = Runner(accepts=True)
    s._scriptrunner = newer  # a full run started meanwhile (a click)
    spin_until(loop, lambda: newer.requests)
    spin(loop, 0.05)
    assert newer.requests == [FRAGMENT] and s.started == []


def test_a_fragment_the_run_removed_or_a_closed_tab_runs_nothing(loop):
    create = _rerun_fix.waiting(start, SHUTDOWN)
    gone = Session(loop, Runner(accepts=False))
    create(gone, FRAGMENT)
    gone.fragments.clear()
    gone._scriptrunner = None
    closed = Session(loop, Runner(accepts=False))
    create(closed, FRAGMENT)
    closed._state = SHUTDOWN
    closed._scriptrunner = None
    spin(loop, 0.2)
    assert gone.started == [] and closed.started == []


def test_a_runner_that_never_ends_is_replaced_after_the_limit(loop):
    now = [0.0]
    create = _rerun_fix.waiting(start, SHUTDOWN, clock=lambda: now[0])
    stuck = Runner(accepts=False)
    s = Session(loop, stuck)
    create(s, FRAGMENT)
    spin(loop, 0.05)
    assert s.started == []
    now[0] = _rerun_fix.GIVE_UP_SECONDS + 1
    spin_until(loop, lambda: s.started)
    assert s.started == [FRAGMENT]


def test_install_patches_this_streamlit_once():
    from streamlit.runtime.app_session import AppSession

    before = AppSession._create_scriptrunner
    try:
        assert _rerun_fix.install()
        patched = AppSession._create_scriptrunner
        assert patched is not before and patched._infoif_waits
        assert _rerun_fix.install() and AppSession._create_scriptrunner is patched  # not twice
    finally:
        AppSession._create_scriptrunner = before


def test_the_developer_switch_leaves_streamlit_as_it_is(monkeypatch):
    from streamlit.runtime.app_session import AppSession

    before = AppSession._create_scriptrunner
    monkeypatch.setenv(_rerun_fix.DISABLE_ENV, "1")
    assert not _rerun_fix.install()
    assert AppSession._create_scriptrunner is before

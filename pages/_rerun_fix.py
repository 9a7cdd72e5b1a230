"""A fragment's timed rerun never throws away the end of the run before it (Streamlit 1.67).

Every live view here is a fragment that reruns on a timer while training runs. Streamlit's
`AppSession.request_rerun` hands such a rerun to the session's current ScriptRunner; when that
runner has just finished its last run (its thread is past the script, its last events still wait
on the busy event loop) it refuses, and AppSession starts a new ScriptRunner at once. The old
runner's events that were still waiting (the last elements of a full page run, its "finished"
message) then come from a "non-current" runner and are dropped (`_handle_scriptrunner_event_on_
event_loop`; Streamlit's own comment in `request_rerun` describes the race). The page keeps a
half-drawn state, or its old one, until the next full run: with 8 sessions on 2 cores some pages
stopped updating for good (bench/load.py), and a reload could draw nothing of the sidebar.

`install()` makes such a rerun wait, on the event loop, until the old runner's last event
(SHUTDOWN, after which the session holds no runner) has been handled; it then starts, so nothing
is dropped. A rerun for a fragment the finished run removed is dropped, as Streamlit does. After
`GIVE_UP_SECONDS` it starts anyway (Streamlit's behaviour). On a Streamlit without these internals
nothing is changed (logged once). INFOIF_NO_RERUN_FIX=1 leaves Streamlit as it is (bench/load.py
compares both).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Callable

log = logging.getLogger("infoif.app")

RETRY_SECONDS = 0.01  # how often a waiting rerun looks again (on the event loop: no thread sleeps)
GIVE_UP_SECONDS = 5.0  # a runner that never reports its end: Streamlit's behaviour after this
DISABLE_ENV = "INFOIF_NO_RERUN_FIX"


def install() -> bool:
    """Patches `AppSession._create_scriptrunner` once per process (unless INFOIF_NO_RERUN_FIX=1);
    True if it is (now) patched."""
    if os.environ.get(DISABLE_ENV) == "1":
        return False
    try:
        from streamlit.runtime.app_session import AppSession, AppSessionState
    except ImportError:  # pragma: no cover - another Streamlit layout
        log.warning("Streamlit's AppSession was not found; fragment reruns are left as Streamlit makes them.")
        return False
    original = getattr(AppSession, "_create_scriptrunner", None)
    if original is None or not hasattr(AppSession, "has_fragment"):
        log.warning("Streamlit's AppSession has no _create_scriptrunner; fragment reruns are left as they are.")
        return False
    if getattr(original, "_infoif_waits", False):
        return True
    AppSession._create_scriptrunner = waiting(original, AppSessionState.SHUTDOWN_REQUESTED)
    return True


def waiting(original: Callable, shutdown_state, clock: Callable[[], float] = time.monotonic) -> Callable:
    """`original` (AppSession._create_scriptrunner), made to wait for the finished runner's end
    before it starts a fragment's rerun."""

    def _create_scriptrunner(self, rerun_data) -> None:
        finished = self._scriptrunner
        if finished is None or not rerun_data.fragment_id:
            return original(self, rerun_data)  # nothing in flight, or a full run (it redraws everything)
        deadline = clock() + GIVE_UP_SECONDS

        def again() -> None:
            if self._state == shutdown_state or not self.has_fragment(rerun_data.fragment_id):
                return  # the tab is gone, or the finished run removed that fragment
            current = self._scriptrunner
            if current is None or clock() > deadline:
                log.debug("a fragment rerun waited %.0f ms for the previous run to end",
                          (clock() - deadline + GIVE_UP_SECONDS) * 1000)
                original(self, rerun_data)
            elif current is finished or not current.request_rerun(rerun_data):
                self._event_loop.call_later(RETRY_SECONDS, again)
            # else: a newer runner (a full run started meanwhile) took the rerun

        self._event_loop.call_soon_threadsafe(again)

    _create_scriptrunner._infoif_waits = True
    return _create_scriptrunner

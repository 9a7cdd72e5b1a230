"""Eight people on one server, each in a browser of their own: every one of them trains, and each can
pause.

Eight browser contexts (so eight workspaces) on one fresh `streamlit run app.py` open the Train page
with an epoch budget of 0 (until stopped) and press Train. Runs until stopped never end, so none may
wait in a queue behind the others: every one gets turns. Behaviour only, never speed: the deadlines
are generous, and bench/load.py measures how fast.
"""

from __future__ import annotations

import re
import time

import pytest

from bench.load import PAUSE, click, epoch_in, open_sessions, sidebar_status, wait_status
from infoif.runs.store import Store
from tests.e2e.test_browser import CHROMIUM_FLAGS, chromium_path, start_server, stop_server

pytestmark = pytest.mark.e2e

SESSIONS = 8
TRAIN_DEADLINE = 120.0  # seconds for every session's first epoch on screen (a deadline, not a target)
PAUSE_DEADLINE_MS = 30_000
LOOK = 0.25  # seconds between looks at the sessions' status lines
STILL = 2.0  # seconds after the pauses: a run still training moves by hundreds of epochs meanwhile


def statuses(pages, home) -> str:
    """Each session's status line, and what the store says of its workspace's runs (status, epochs)."""
    store = Store(home)

    def stored(page):
        match = re.search(r"[?&]ws=([^&]+)", page.url)
        return [(run.status, run.epochs) for run in store.runs(match.group(1))] if match else "no workspace in the URL"

    return "; ".join(f"session {i}: {sidebar_status(page)!r} (store: {stored(page)})" for i, page in enumerate(pages, 1))


def test_eight_sessions_all_train_and_each_pauses(tmp_path):
    from playwright.sync_api import sync_playwright

    home = tmp_path / "home"
    server = start_server(home)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            try:
                pages = open_sessions(browser, server.url, SESSIONS)
                for page in pages:
                    click(page, "sidebar_play")

                # Every one trains: its status line shows an epoch.
                deadline = time.monotonic() + TRAIN_DEADLINE
                while not all(epoch_in(sidebar_status(page)) for page in pages) and time.monotonic() < deadline:
                    time.sleep(LOOK)
                untrained = sum(not epoch_in(sidebar_status(page)) for page in pages)
                assert not untrained, (f"{untrained} of {SESSIONS} sessions showed no epoch within "
                                       f"{TRAIN_DEADLINE:.0f} s of Train: {statuses(pages, home)}")

                # Each pauses: the status line says so, and the run's epoch stays where it stopped
                # (read again after a reload, which draws the status afresh from the store).
                # Under this load Streamlit may drop a page's update (the output of a script run that a
                # newer run superseded while it was still being sent), and that page then shows its old
                # state until reloaded, as a person would: bench/load.py counts how often. The run
                # itself must be paused either way, and say so after a reload.
                for i, page in enumerate(pages, 1):
                    click(page, *PAUSE, timeout_ms=PAUSE_DEADLINE_MS)
                    try:
                        wait_status(page, r"\bpaused\b", PAUSE_DEADLINE_MS)
                    except Exception:  # noqa: BLE001 - Playwright's TimeoutError: a dropped update
                        page.reload(wait_until="commit")
                        try:
                            wait_status(page, r"\bpaused\b", PAUSE_DEADLINE_MS)
                        except Exception:  # noqa: BLE001 - said plainly
                            pytest.fail(f"session {i} does not show paused after Pause, nor after a reload: "
                                        f"{sidebar_status(page)!r}; {statuses(pages, home)}")
                paused = [epoch_in(sidebar_status(page)) for page in pages]
                time.sleep(STILL)
                for page in pages:
                    assert "ws=" in page.url, f"the URL names the workspace, so a reload reopens it: {page.url}"
                    page.reload(wait_until="commit")
                for page in pages:
                    wait_status(page, r"\bpaused\b", PAUSE_DEADLINE_MS)
                after = [epoch_in(sidebar_status(page)) for page in pages]
                assert after == paused, f"epochs when paused {paused}, {STILL:.0f} s later {after}"
            finally:
                browser.close()
    finally:
        stop_server(server)

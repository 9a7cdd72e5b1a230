"""What a failing browser test reports, besides Playwright's timeout: what every open page showed,
and each running server's log with a dump of its threads (CI keeps nothing but the output)."""

from __future__ import annotations

import signal
import time

import pytest

PAGE_CHARS = 1500
LOG_CHARS = 12_000


def _pages_text(browser) -> str:
    parts = []
    for c, context in enumerate(browser.contexts):
        for p, page in enumerate(context.pages):
            try:
                text = page.locator("body").inner_text(timeout=2_000)
            except Exception as exc:  # noqa: BLE001 - a closed or hung page: say so, go on
                text = f"(could not read: {type(exc).__name__})"
            parts.append(f"--- context {c} page {p} {page.url}\n{text[:PAGE_CHARS]}")
    return "\n".join(parts)


def _servers_log() -> str:
    from tests.e2e.test_browser import LIVE_SERVERS

    parts = []
    for server in LIVE_SERVERS:
        if server.proc.poll() is None:
            server.proc.send_signal(signal.SIGUSR1)  # pages/_server.py: every thread's stack to the log
            time.sleep(1.0)  # the dump is written by the server process; a missing dump says it hung hard
        text = server.log.read_text(errors="replace") if server.log.exists() else "(no log)"
        parts.append(f"--- server {server.url} (pid {server.proc.pid}, exit {server.proc.poll()})\n"
                     f"{text[-LOG_CHARS:]}")
    return "\n".join(parts)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        browser = item.funcargs.get("browser")
        if browser is not None:
            report.sections.append(("what the pages showed", _pages_text(browser)))
        report.sections.append(("server logs", _servers_log()))
    return report

"""Benchmark: many people on one server (issue 21): N browser sessions press Train at once.

    python bench/load.py                  # N = 1, 4, 8, 16 and a 20 s window; needs Debian's chromium
    python bench/load.py --quick          # N = 1, 8 and a 12 s window
    python bench/load.py --sessions 8 --seconds 30
    python bench/load.py --sessions 8 --rerun-fix   # without and with pages/_rerun_fix.py, side by side

Each N takes about a minute, plus up to 35 s per session whose Pause does not show.

For each N: a fresh `streamlit run app.py` (a fresh temporary INFOIF_HOME) and one headless Chromium.
A throwaway session opens `/train?epochs=0` as soon as the server listens and presses Train: its
first epoch on screen, counted from the server's start, is the "cold first epoch" (the workers
import TensorFlow meanwhile). It is stopped, and once the workers are quiet, N sessions (a browser
context each, without `?ws=`: a workspace each) open `/train?epochs=0` (train until stopped);
once every one can train, Train is clicked in all of them within a few milliseconds. A
MutationObserver in each page records (Date.now(), the sidebar's status line) at every change of
that line, so click times and what each user saw compare on one clock.

Steady window: `--seconds` long, from 5 s after the last session's first epoch on screen (from 5 s
after the clicks if some session shows none by the end of such a window: it counts "never").

Prints, per N:
  - server start -> Train page ready in a first browser, and -> that session's first epoch (cold);
  - a table per session: first epoch on screen after its Train click; epochs/s on screen over the
    window, its ratio to the fair share (aggregate / N), and epochs/s in the store (what the
    screen should follow); median and longest time between status-line changes in the window (a
    gap still open at its end counts up to the end); the Pause latency, click -> "paused" on
    screen, measured after the window one session after another ("> 30 s" if it never shows;
    "*": the sidebar showed no Pause, the Train page's was clicked), and the run's status in the
    store after the pauses;
  - how often each session's epochs in the store changed (read every STORE_POLL s over the window:
    median, and each session's longest gap), to tell a stalled run from a page that stalled;
  - spreads of those figures, the aggregate epochs/s and its ratio to one session alone (N = 1 in
    the same invocation), and CPU over the window in cores: the Streamlit process, the workers
    (with their RSS at the window's end), this benchmark's Chromium (all N pages; a user's browser
    runs elsewhere) and every other process on the machine (someone else's tests, say).
Then a table across N, and the targets marked ok or MISS ("-" when that N was not measured):
  8 sessions:  every first epoch on screen <= 5 s after Train; slowest >= 0.5 of the fair share;
               aggregate >= 1.5x one session alone; Pause shown <= 0.5 s (every session);
               status line changes every <= 1.5 s (longest gap); Streamlit process <= 0.25 core;
  16 sessions: every session trains; slowest >= 0.3 of the fair share.
Server, workers and the browser share this machine's cores, so the browser's CPU is taken from
training here.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infoif.runs.store import Store  # noqa: E402
from pages._rerun_fix import DISABLE_ENV as NO_FIX  # noqa: E402 - light: Streamlit is imported only to install it
from tests.e2e.test_browser import CHROMIUM_FLAGS, chromium_path, free_port  # noqa: E402

SESSIONS = "1,4,8,16"
QUICK_SESSIONS = "1,8"
SECONDS = 20.0  # the steady window
QUICK_SECONDS = 12.0
SETTLE = 5.0  # the window starts this long after the last first epoch (a new run traces meanwhile)
VIEWPORT = {"width": 1280, "height": 900}
TRAIN_PATH = "/train?epochs=0"  # the Train page, epoch budget 0: until stopped

# ---------------------------------------------------------------- page helpers (tests use them too)

SIDEBAR = '[data-testid="stSidebar"]'
# The status line is the sidebar's live status element (pages/_ui.live_status: "training epoch 123 ·
# val_accuracy 0.950 · run-1", "starting · run-1", "paused epoch 40 · ..."); "" before it is drawn.
STATUS_JS = f"""() => {{
    const line = document.querySelector('{SIDEBAR} .infoif-status');
    return line ? line.textContent.trim() : '';
}}"""
# Records [Date.now(), status line] in window.__infoifStatus at every change of the line.
OBSERVER_JS = f"""() => {{
    if (window.__infoifStatus) return;
    const status = {STATUS_JS};
    const records = window.__infoifStatus = [];
    let last = '';
    const note = () => {{
        const text = status();
        if (text && text !== last) {{ last = text; records.push([Date.now(), text]); }}
    }};
    new MutationObserver(note).observe(document.querySelector('{SIDEBAR}'),
                                       {{subtree: true, childList: true, characterData: true}});
    note();
}}"""
# The first of some controls (widget keys: `sidebar_play`, `train_pause`, ...) that is enabled and on
# screen: not a stale copy left while a rerun replaces it, nor the hidden copy Streamlit draws of a
# button with a tooltip.
BUTTON_JS = """(keys) => keys.map(key => [...document.querySelectorAll(`.st-key-${key} button`)]
    .find(b => !b.disabled && b.offsetParent !== null && !b.closest('[data-stale="true"]'))).find(b => b)"""
CLICK_JS = f"""(keys) => {{
    const b = ({BUTTON_JS})(keys);
    if (!b) return null;
    b.click();
    return [Date.now(), [...b.closest('[class*="st-key-"]').classList].find(c => c.startsWith('st-key-')).slice(7)];
}}"""
# Pause in the sidebar, or on the Train page when the sidebar shows none: on 601fe6d the sidebar's
# Train/Pause row sometimes vanishes while a run trains (the per-session table marks those).
PAUSE = ("sidebar_pause", "train_pause")
EPOCH = re.compile(r"\bepoch (\d+)")


def epoch_in(status: str) -> int | None:
    """The epoch number a status line shows, or None."""
    match = EPOCH.search(status)
    return int(match.group(1)) if match else None


def open_sessions(browser, url: str, n: int, timeout_ms: int = 120_000) -> list:
    """n fresh browser sessions (a context each, so a workspace each) on `url` + TRAIN_PATH, opened
    together; returns their pages once each shows the Train page with Train enabled in the sidebar."""
    pages = []
    for _ in range(n):
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(url + TRAIN_PATH, wait_until="commit", timeout=timeout_ms)
        pages.append(page)
    for page in pages:
        page.wait_for_selector("h1:has-text('Train')", timeout=timeout_ms)
        page.wait_for_function(f"() => !!({BUTTON_JS})(['sidebar_play'])", timeout=timeout_ms)
        page.wait_for_function("() => /[?&]ws=/.test(location.search)", timeout=timeout_ms)  # set after the draw
    return pages


def close_sessions(pages) -> None:
    for page in pages:
        page.context.close()


def sidebar_status(page) -> str:
    return page.evaluate(STATUS_JS)


def wait_status(page, pattern: str, timeout_ms: int) -> None:
    """Waits until the sidebar's status line matches the regular expression `pattern`."""
    page.wait_for_function(f"(p) => new RegExp(p).test(({STATUS_JS})())", arg=pattern, timeout=timeout_ms, polling=50)


def click(page, *keys: str, timeout_ms: int = 30_000) -> tuple[float, str]:
    """Clicks the first of these controls (widget keys) that is enabled and on screen, waiting for
    one; returns the page's Date.now() at the click (epoch ms) and the key clicked."""
    clicked = page.wait_for_function(CLICK_JS, arg=list(keys), timeout=timeout_ms)  # clicks once, when it can
    return tuple(clicked.json_value())


def install_observer(page) -> None:
    page.evaluate(OBSERVER_JS)


def status_records(page) -> list[tuple[float, str]]:
    """What the observer recorded: (epoch ms, status line) at every change."""
    return [(t, text) for t, text in page.evaluate("() => window.__infoifStatus || []")]


# ---------------------------------------------------------------- the server and /proc

SERVER_STOP_WAIT = 20.0  # terminate, then kill after this
LISTEN_TIMEOUT = 60.0
TICK = os.sysconf("SC_CLK_TCK")


def start_server(home: Path) -> tuple[subprocess.Popen, str, float]:
    """`streamlit run app.py` on a free loopback port; returns (process, url, time.time() at Popen)
    once it accepts connections. Its output goes to home/server.log."""
    port = free_port()
    started = time.time()
    with open(home / "server.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
             "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.headless", "true"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "INFOIF_HOME": str(home)},
        )
    deadline = time.monotonic() + LISTEN_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {(home / 'server.log').read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"http://127.0.0.1:{port}", started
        except OSError:
            time.sleep(0.05)
    stop_server(proc)
    raise RuntimeError(f"streamlit did not listen on port {port} within {LISTEN_TIMEOUT:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(SERVER_STOP_WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def processes() -> dict[int, tuple[int, str, int]]:
    """pid -> (ppid, comm, utime + stime in ticks), for every process readable in /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()  # from field 3, state
        table[int(entry)] = (int(fields[1]), comm, int(fields[11]) + int(fields[12]))
    return table


def descendants(table, root: int) -> set[int]:
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, (ppid, _, _) in table.items() if ppid in frontier} - found
        found |= frontier
    return found


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine_busy() -> int:
    """CPU ticks all cores spent on anything but idling, since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return sum(ticks[:8]) - ticks[3] - ticks[4]  # user .. steal, less idle and iowait


@dataclass
class Sample:
    """CPU ticks at one moment of: the server, its workers (its child processes: `python -m
    infoif.runs.worker`), this benchmark's Chromium processes, everything this benchmark started (with
    itself), and the whole machine; the workers' RSS; and the epochs each session's workspace has in
    the store (what the status lines should show)."""

    time: float
    server: int
    workers: dict[int, int]
    chromium: dict[int, int]
    ours: dict[int, int]
    machine: int
    worker_rss: dict[int, float] = field(default_factory=dict)
    stored: list[int] = field(default_factory=list)


def sample(server_pid: int, store=None, workspaces=()) -> Sample:
    table = processes()
    workers = {pid: table[pid][2] for pid, (ppid, _, _) in table.items() if ppid == server_pid}
    ours = descendants(table, os.getpid()) | {os.getpid()}
    chromium = {pid: table[pid][2] for pid in ours - descendants(table, server_pid) if "chrom" in table[pid][1]}
    return Sample(time.time(), table.get(server_pid, (0, "", 0))[2], workers, chromium,
                  {pid: table[pid][2] for pid in ours}, machine_busy(), {pid: rss_mb(pid) for pid in workers},
                  [sum(run.epochs for run in store.runs(ws)) for ws in workspaces])


def lower_browser_priority(nice: int) -> str:
    """Gives this benchmark's Chromium the CPU priority `nice` (19: the lowest), as if it ran on the
    users' own machines and left these cores to the server; returns how it was done. Where the
    kernel groups CPU time by session (autogroup), the nice of Chromium's group is set, which covers
    the renderers of pages opened later; else every thread's, now (call again after opening pages)."""
    table = processes()
    pids = [pid for pid in descendants(table, os.getpid()) if "chrom" in table[pid][1]]
    done = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/autogroup") as f:
                group = f.read().split()[0]
            if group not in done:
                with open(f"/proc/{pid}/autogroup", "w") as f:
                    f.write(str(nice))
                done.add(group)
        except OSError:
            pass
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:  # the process is gone
            threads = []
        for tid in threads:
            try:
                os.setpriority(os.PRIO_PROCESS, int(tid), nice)
            except OSError:  # a thread gone, or one Chromium raised itself (root): the group's nice holds
                pass
    return f"nice {nice} for {len(pids)} Chromium processes" + (f" and their autogroup" if done else "")


def cores(before: dict[int, int], after: dict[int, int], seconds: float) -> float:
    """CPU used between two samples of a set of processes, in cores (a process started meanwhile
    counts from zero)."""
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items()) / TICK / seconds


QUIET_CORES = 0.15  # the workers count as quiet below this, all together
QUIET_STEP = 0.5
QUIET_TIMEOUT = 60.0


def wait_workers_quiet(server_pid: int) -> float:
    """Waits (at most QUIET_TIMEOUT) until the workers use less than QUIET_CORES over QUIET_STEP:
    done importing TensorFlow and warming up. Returns the seconds waited."""
    started = time.monotonic()
    last = sample(server_pid)
    while time.monotonic() - started < QUIET_TIMEOUT:
        time.sleep(QUIET_STEP)
        now = sample(server_pid)
        if cores(last.workers, now.workers, now.time - last.time) < QUIET_CORES:
            break
        last = now
    return time.monotonic() - started


# ---------------------------------------------------------------- one N

COLD_TIMEOUT_MS = 180_000  # the throwaway session's first epoch (the workers import TensorFlow)
PAUSE_CAP = 30.0  # seconds; a Pause not shown by then is "> 30 s"
BUTTON_WAIT_MS = 5_000  # for a Pause enabled on screen, before giving up on that session's Pause
POLL = 0.5  # how often the first epochs are looked for after the clicks (not during the window)
STORE_POLL = 0.25  # how often the store's epochs are read during the window


@dataclass
class SessionResult:
    first: float | None  # seconds from its Train click to its first epoch on screen
    rate: float  # epochs/s on screen over the window
    stored_rate: float  # epochs/s in the store over the window (the truth the screen should follow)
    gaps: list[float]  # seconds between status-line changes in the window
    pause: float | None  # seconds from its Pause click to "paused" on screen
    pause_key: str | None  # the Pause clicked (`PAUSE`), None if none was enabled on screen
    stored_status: str  # the status of its workspace's run in the store after the pauses
    stored_gaps: list[float] = field(default_factory=list)  # seconds between changes of its epochs in the store


@dataclass
class Result:
    n: int
    page_ready: float  # server start -> Train page ready in a first browser
    cold: float  # server start -> that session's first epoch on screen
    quiet: float  # seconds waited for the workers to be quiet before the N sessions
    sessions: list[SessionResult]
    window: tuple[float, float]  # (start, end), epoch seconds
    clicks_spread: float  # seconds between the first and last Train click
    window_after_clicks: float  # seconds from the first Train click to the window's start
    server_cpu: float  # cores, over the window
    workers_cpu: float  # cores, all workers
    workers_rss: list[float]  # MB per worker at the window's end, largest first
    chromium_cpu: float  # cores, this benchmark's Chromium processes
    others_cpu: float  # cores, every other process on the machine (another user's tests, say)

    @property
    def rates(self) -> list[float]:
        return [s.rate for s in self.sessions]

    @property
    def aggregate(self) -> float:
        return sum(self.rates)

    @property
    def slowest_fair(self) -> float:
        return min(self.rates) / (self.aggregate / self.n) if self.aggregate else 0.0

    @property
    def firsts(self) -> list[float]:
        return [s.first if s.first is not None else float("inf") for s in self.sessions]

    @property
    def pauses(self) -> list[float]:
        return [s.pause if s.pause is not None else float("inf") for s in self.sessions]

    @property
    def no_sidebar_pause(self) -> int:
        return sum(s.pause_key != PAUSE[0] for s in self.sessions)

    @property
    def gaps(self) -> list[float]:
        return [g for s in self.sessions for g in s.gaps]


def first_epoch_ms(records, since_ms: float) -> float | None:
    return next((t for t, text in records if t >= since_ms and epoch_in(text)), None)


def epoch_at(records, at_ms: float) -> int:
    """The epoch on screen at `at_ms` (0 before the first)."""
    shown = [epoch_in(text) for t, text in records if t <= at_ms and epoch_in(text) is not None]
    return shown[-1] if shown else 0


def status_gaps(records, start_ms: float, end_ms: float) -> list[float]:
    """Seconds between changes of the status line in [start, end]: from the last change before the
    start (or the start), the one still open at the end counted up to the end."""
    before = [t for t, _ in records if t <= start_ms]
    times = [before[-1] if before else start_ms] + [t for t, _ in records if start_ms < t <= end_ms] + [end_ms]
    return [(b - a) / 1000 for a, b in zip(times, times[1:])]


def pause_latency(page) -> tuple[float | None, str | None]:
    """Clicks Pause (`PAUSE`); (seconds until the sidebar's status line shows "paused", from the
    observer's records, or None if not within PAUSE_CAP; the control clicked, None if none could be)."""
    try:
        clicked, key = click(page, *PAUSE, timeout_ms=BUTTON_WAIT_MS)
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError: no Pause enabled on screen
        return None, None
    try:
        wait_status(page, r"\bpaused\b", timeout_ms=int(PAUSE_CAP * 1000))
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError: it never showed
        return None, key
    shown = next(t for t, text in status_records(page) if t >= clicked and "paused" in text)
    return (shown - clicked) / 1000, key


def cold_start(browser, url: str, started: float) -> tuple[float, float]:
    """A throwaway session opens the Train page as soon as the server listens and presses Train:
    (server start -> Train enabled, server start -> first epoch on screen). Then it stops the run."""
    (page,) = open_sessions(browser, url, 1)
    ready = time.time() - started
    install_observer(page)
    clicked, _ = click(page, "sidebar_play")
    wait_status(page, r"\bepoch \d+", COLD_TIMEOUT_MS)
    cold = first_epoch_ms(status_records(page), clicked) / 1000 - started
    click(page, "sidebar_stop", "train_stop")
    wait_status(page, r"\b(stopped|finished)\b", int(PAUSE_CAP * 1000))
    close_sessions([page])
    return ready, cold


def measure(browser, n: int, seconds: float, browser_nice: int = 0) -> Result:
    home = Path(tempfile.mkdtemp(prefix="infoif-load-"))
    proc, url, started = start_server(home)
    pages = []
    try:
        page_ready, cold = cold_start(browser, url, started)
        quiet = wait_workers_quiet(proc.pid)
        pages = open_sessions(browser, url, n)
        if browser_nice:
            lower_browser_priority(browser_nice)  # the renderers of these pages too
        for page in pages:
            install_observer(page)
        clicked = [page.evaluate(CLICK_JS, ["sidebar_play"]) for page in pages]  # no waiting: all enabled
        if None in clicked:
            raise RuntimeError("a session's Train button went away before the click")
        clicks = [t for t, _ in clicked]
        store = Store(home)
        workspaces = [re.search(r"[?&]ws=([^&]+)", page.url).group(1) for page in pages]

        def snapshot() -> Sample:
            return sample(proc.pid, store, workspaces)

        # The first epochs; a CPU sample at SETTLE after the clicks in case some never show one.
        t0 = min(clicks) / 1000
        give_up = t0 + SETTLE + seconds
        early = None
        while True:
            firsts = [first_epoch_ms(status_records(page), c) for page, c in zip(pages, clicks)]
            if early is None and time.time() >= t0 + SETTLE:
                early = snapshot()
            if None not in firsts or time.time() >= give_up:
                break
            time.sleep(POLL)
        if None not in firsts:
            time.sleep(max(0.0, max(firsts) / 1000 + SETTLE - time.time()))
            begin = snapshot()
        else:
            begin = early
        # The epochs in the store every STORE_POLL s over the window: where the status line stalls,
        # whether the store (the workers) stalled too, or only the page.
        stored = []
        while time.time() < begin.time + seconds:
            stored.append((time.time() * 1000, [sum(run.epochs for run in store.runs(ws)) for ws in workspaces]))
            time.sleep(min(STORE_POLL, max(0.0, begin.time + seconds - time.time())))
        end = snapshot()
        span = end.time - begin.time

        records = [status_records(page) for page in pages]
        pauses = [pause_latency(page) for page in pages]
        stored_status = [",".join(run.status for run in store.runs(ws)) for ws in workspaces]
        sessions = []
        for i, (rec, at, (pause, pause_key), stored_span, status) in enumerate(
                zip(records, clicks, pauses, zip(begin.stored, end.stored), stored_status)):
            changes = [(t, str(epochs[i])) for k, (t, epochs) in enumerate(stored)
                       if k == 0 or epochs[i] != stored[k - 1][1][i]]
            first = first_epoch_ms(rec, at)
            done = epoch_at(rec, end.time * 1000) - epoch_at(rec, begin.time * 1000)
            sessions.append(SessionResult(None if first is None else (first - at) / 1000, done / span,
                                          (stored_span[1] - stored_span[0]) / span,
                                          status_gaps(rec, begin.time * 1000, end.time * 1000), pause, pause_key,
                                          status, status_gaps(changes, begin.time * 1000, end.time * 1000)))
        return Result(
            n, page_ready, cold, quiet, sessions, (begin.time, end.time), (max(clicks) - min(clicks)) / 1000,
            begin.time - t0, (end.server - begin.server) / TICK / span, cores(begin.workers, end.workers, span),
            sorted(end.worker_rss.values(), reverse=True), cores(begin.chromium, end.chromium, span),
            (end.machine - begin.machine) / TICK / span - cores(begin.ours, end.ours, span))
    finally:
        close_sessions(pages)
        stop_server(proc)
        if not os.environ.get("INFOIF_BENCH_KEEP"):
            shutil.rmtree(home, ignore_errors=True)


# ---------------------------------------------------------------- printing


def secs(value: float) -> str:
    return "never" if value == float("inf") else f"{value:.2f} s"


def pause_text(value: float) -> str:
    return f"> {PAUSE_CAP:.0f} s" if value == float("inf") else f"{value:.2f} s"


def report(r: Result, one: Result | None) -> None:
    print(f"\nN = {r.n}: server start -> Train page ready {r.page_ready:.1f} s, -> first epoch on screen "
          f"(cold) {r.cold:.1f} s; workers quiet {r.quiet:.1f} s later; {r.n} Train clicks within "
          f"{1000 * r.clicks_spread:.0f} ms; window {r.window[1] - r.window[0]:.1f} s from "
          f"{r.window_after_clicks:.1f} s after the first click")
    print("  session  first epoch  epochs/s  /fair  in the store  status gap med / max      pause  in the store")
    fair = r.aggregate / r.n
    for i, s in enumerate(r.sessions, 1):
        gap = f"{statistics.median(s.gaps):.2f} / {max(s.gaps):5.2f} s"
        pause = "no Pause" if s.pause_key is None else pause_text(r.pauses[i - 1]) + (
            " *" if s.pause_key != PAUSE[0] else "  ")
        print(f"  {i:7d}  {secs(r.firsts[i - 1]):>11}  {s.rate:8.1f}  {s.rate / fair if fair else 0:5.2f}  "
              f"{s.stored_rate:12.1f}  {gap:>20}  {pause:>9}  {s.stored_status}")
    ratio = f"{r.aggregate / one.aggregate:.2f}x one session" if one and one.aggregate else "one session not measured"
    print(f"  first epoch after Train: median {secs(statistics.median(r.firsts))}, max {secs(max(r.firsts))}")
    print(f"  epochs/s: min {min(r.rates):.1f}, median {statistics.median(r.rates):.1f}, max {max(r.rates):.1f}; "
          f"aggregate {r.aggregate:.1f} ({ratio}); slowest/fair {r.slowest_fair:.2f}; in the store: aggregate "
          f"{sum(s.stored_rate for s in r.sessions):.1f}, min {min(s.stored_rate for s in r.sessions):.1f}")
    stored_gaps = [g for x in r.sessions for g in x.stored_gaps] or [float("nan")]
    print(f"  epochs in the store change every: median {statistics.median(stored_gaps):.2f} s, longest "
          + ", ".join(f"{max(x.stored_gaps, default=float('nan')):.1f}" for x in r.sessions) + " s (per session)")
    print(f"  status line gap: median {statistics.median(r.gaps):.2f} s, max {max(r.gaps):.2f} s; Pause -> paused: "
          f"median {pause_text(statistics.median(r.pauses))}, max {pause_text(max(r.pauses))}"
          + (f" (* no Pause in the sidebar in {r.no_sidebar_pause} of {r.n}: the Train page's clicked)"
             if r.no_sidebar_pause else ""))
    print(f"  CPU over the window, cores: Streamlit server {r.server_cpu:.2f}, workers {r.workers_cpu:.2f} "
          f"({len(r.workers_rss)} workers, RSS {sum(r.workers_rss):.0f} MB total, "
          f"{max(r.workers_rss, default=0):.0f} MB max), chromium {r.chromium_cpu:.2f}; other processes on "
          f"this machine {r.others_cpu:.2f}")


def summary(results: dict[int, Result]) -> None:
    one = results.get(1)
    print("\nAcross N")
    print("      N  cold first epoch  first epoch max  epochs/s aggregate  /one  slowest/fair  gap max  "
          "pause max  no sidebar Pause  server CPU  workers RSS  chromium CPU  other CPU")
    for n, r in results.items():
        ratio = f"{r.aggregate / one.aggregate:4.2f}" if one and one.aggregate else "   -"
        print(f"  {n:5d}  {r.cold:14.1f} s  {secs(max(r.firsts)):>15}  {r.aggregate:18.1f}  {ratio}  "
              f"{r.slowest_fair:12.2f}  {max(r.gaps):5.2f} s  {pause_text(max(r.pauses)):>9}  "
              f"{r.no_sidebar_pause:16d}  {r.server_cpu:10.2f}  {sum(r.workers_rss):8.0f} MB  {r.chromium_cpu:12.2f}  {r.others_cpu:9.2f}")

    eight, sixteen = results.get(8), results.get(16)
    targets = [
        (eight, "8 sessions: every first epoch on screen <= 5 s after Train",
         lambda r: (secs(max(r.firsts)), max(r.firsts) <= 5.0)),
        (eight, "8 sessions: slowest >= 0.5 of the fair share",
         lambda r: (f"{r.slowest_fair:.2f}", r.slowest_fair >= 0.5)),
        (eight if one and one.aggregate else None, "8 sessions: aggregate >= 1.5x one session alone",
         lambda r: (f"{r.aggregate / one.aggregate:.2f}x", r.aggregate >= 1.5 * one.aggregate)),
        (eight, "8 sessions: Pause shown <= 0.5 s (every session)",
         lambda r: (pause_text(max(r.pauses)), max(r.pauses) <= 0.5)),
        (eight, "8 sessions: status line changes every <= 1.5 s (longest gap)",
         lambda r: (f"{max(r.gaps):.2f} s", max(r.gaps) <= 1.5)),
        (eight, "8 sessions: Streamlit process <= 0.25 of a core",
         lambda r: (f"{r.server_cpu:.2f}", r.server_cpu <= 0.25)),
        (sixteen, "16 sessions: every session trains",
         lambda r: (f"{sum(f != float('inf') for f in r.firsts)} of 16", all(f != float("inf") for f in r.firsts))),
        (sixteen, "16 sessions: slowest >= 0.3 of the fair share",
         lambda r: (f"{r.slowest_fair:.2f}", r.slowest_fair >= 0.3)),
    ]
    print("\nTargets")
    for r, name, check in targets:
        value, ok = check(r) if r is not None else ("not measured", None)
        print(f"  {name:64s} {value:>13}  {'-' if ok is None else 'ok' if ok else 'MISS'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"N = {QUICK_SESSIONS}, a {QUICK_SECONDS:.0f} s window")
    parser.add_argument("--sessions", help=f"comma-separated N (default {SESSIONS})")
    parser.add_argument("--seconds", type=float, help=f"the steady window (default {SECONDS:.0f} s)")
    parser.add_argument("--browser-nice", type=int, default=0, metavar="NICE",
                        help="run Chromium at this CPU priority (19: the lowest), as if the users' browsers ran on "
                             "their own machines and left these cores to the server; 0 (default): as it comes")
    parser.add_argument("--rerun-fix", action="store_true",
                        help="each N twice, side by side: Streamlit as it is (INFOIF_NO_RERUN_FIX=1), then with "
                             "pages/_rerun_fix.py (fragment reruns wait for the end of the run before them)")
    args = parser.parse_args()
    if not 0 <= args.browser_nice <= 19:
        parser.error(f"--browser-nice must be from 0 to 19. Received: --browser-nice={args.browser_nice}")
    counts = [int(n) for n in (args.sessions or (QUICK_SESSIONS if args.quick else SESSIONS)).split(",")]
    seconds = args.seconds or (QUICK_SECONDS if args.quick else SECONDS)
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    print(f"bench/load.py at {commit or '?'}, {datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; N = {', '.join(map(str, counts))}; window {seconds:.0f} s"
          + (f"; Chromium at nice {args.browser_nice}" if args.browser_nice else ""))
    from playwright.sync_api import sync_playwright

    results, without = {}, {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        if args.browser_nice:
            print(f"Chromium's CPU priority: {lower_browser_priority(args.browser_nice)}")
        try:
            for n in counts:
                if args.rerun_fix:
                    print(f"\n=== N = {n}: Streamlit as it is (INFOIF_NO_RERUN_FIX=1)")
                    os.environ[NO_FIX] = "1"
                    try:
                        without[n] = measure(browser, n, seconds, args.browser_nice)
                    finally:
                        del os.environ[NO_FIX]
                    report(without[n], without.get(1))
                    print(f"\n=== N = {n}: with pages/_rerun_fix.py")
                results[n] = measure(browser, n, seconds, args.browser_nice)
                report(results[n], results.get(1))
        finally:
            browser.close()
    if without:
        side_by_side(without, results)
    summary(results)




def _fix_figures(r: Result) -> tuple:
    """(longest and median status gap, longest Pause, Pauses never shown, aggregate epochs/s) of one N."""
    gaps = [g for x in r.sessions for g in x.gaps] or [float("nan")]
    pauses = [x.pause for x in r.sessions if x.pause is not None]
    missing = sum(x.pause is None for x in r.sessions)
    return max(gaps), statistics.median(gaps), max(pauses, default=float("nan")), missing, r.aggregate


def side_by_side(without: dict, fixed: dict) -> None:
    """The figures the rerun fix is about, without and with it, per N."""
    print("\nRerun fix, side by side (without -> with)")
    print(f"  {'N':>3}  {'status gap max':>18}  {'status gap median':>18}  {'Pause max':>16}  "
          f"{'Pause not shown':>16}  {'aggregate epochs/s':>20}")
    for n in fixed:
        a, b = _fix_figures(without[n]), _fix_figures(fixed[n])
        print(f"  {n:>3}  {a[0]:7.1f} -> {b[0]:5.1f} s  {a[1]:7.2f} -> {b[1]:5.2f} s  {a[2]:6.2f} -> {b[2]:5.2f} s"
              f"  {a[3]:>7} -> {b[3]:<5}  {a[4]:8.0f} -> {b[4]:<8.0f}")


if __name__ == "__main__":
    main()

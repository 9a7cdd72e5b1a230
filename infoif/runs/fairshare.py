"""Sharing one machine fairly: who may train, on which worker, and whose call is next.

Plain data in, a decision out: no processes, no threads, no clock. The
training service (`infoif.runs.service`) asks `admission` whether a run may start,
`place` which worker takes it and `rebalance` whether a run should move; each
worker process (`infoif.runs.worker`) asks its `Turns` whose compiled call is next.

Every runnable run trains. A worker takes any number of runs and interleaves
them one compiled call (~0.1 s) at a time, so N runs on W workers each get
about W/N of a core; nothing waits in a queue behind runs that never end.
Turns are weighted (stride scheduling over the seconds each call took): a run
someone is watching gets `WATCHED` shares, a person's run nobody watches
`UNWATCHED`, a sweep's run `SWEEP`. So a watched run answers first, and a
sweep never starves a person pressing Train.

    turns = Turns()
    run = turns.next({"a": WATCHED, "b": SWEEP})   # the run with the least weighted time so far
    turns.charge(run, seconds=0.1, weight=WATCHED)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infoif.validate import positive_int

__all__ = [
    "WATCHED", "UNWATCHED", "SWEEP", "WATCH_SECONDS", "MOVE_AFTER_SECONDS", "RUNS_PER_WORKER", "weight", "Turns", "WorkerLoad",
    "place", "rebalance", "admission", "Limits", "CHART_SECONDS", "CHART_SECONDS_MAX", "MAX_LEAD_SECONDS", "Refresh", "chart_refresh",
]

WATCHED, UNWATCHED, SWEEP = 4.0, 2.0, 1.0  # shares of a worker's time
WATCH_SECONDS = 10.0  # a run counts as watched this long after a page last showed it (pages look every 1-2 s)
MOVE_AFTER_SECONDS = 10.0  # a run placed or moved this recently is not moved again (a move reloads it)
RUNS_PER_WORKER = 12  # the default server-wide limit of runs training at once, per worker process
# A page redraws a training run's charts every CHART_SECONDS while the runs training fit the
# workers, less often as more share them (`chart_refresh`); the status line changes every second
# regardless. Redrawing is what the browser spends its time on: eight pages at 2 s kept a Chromium
# on the same 2 cores 1.3-1.5 of them busy, at 6 s 0.85 (bench/load.py, 2026-12-07).
CHART_SECONDS, CHART_SECONDS_MAX = 2.0, 8.0
# A run's turns are charged the seconds its calls took, but never more than this ahead of the run
# served least: a rare long call (a new run tracing its compiled paths, seconds while 16 runs share 2
# cores) otherwise left that run waiting until every other run on its worker had trained as long,
# 8 runs x seconds (16 sessions: one run showed no epoch for the whole 20 s window, bench/load.py).
MAX_LEAD_SECONDS = 0.5


def weight(sweep: bool, watched: bool) -> float:
    """A run's shares: a sweep's run the fewest, a person's run more, most while someone watches it."""
    if sweep:
        return SWEEP
    return WATCHED if watched else UNWATCHED


class Turns:
    """One worker's turns: the run that wants to train with the least weighted time so far goes next.

    A run that stops wanting turns (paused, finished) is forgotten; when it wants them again it
    starts level with the others (no credit saved up while it waited, so it cannot take the
    worker for a while), and goes first among equals, so that a new run's first epoch shows at once."""

    def __init__(self):
        self._used: dict[str, float] = {}  # run id -> seconds used / weight, since it last joined

    def next(self, wanting: dict[str, float]) -> str | None:
        """The run whose call is next among `wanting` (run id -> weight), or None."""
        for run_id in [r for r in self._used if r not in wanting]:
            del self._used[run_id]
        if not wanting:
            return None
        floor = min(self._used.values(), default=0.0)
        for run_id in wanting:
            if run_id not in self._used:
                self._used[run_id] = floor - 1e-9  # ahead of the others by a hair: goes next
        return min(wanting, key=lambda r: self._used[r])

    def charge(self, run_id: str, seconds: float, weight: float) -> None:
        """Counts a call of `seconds` against the run, up to a lead of MAX_LEAD_SECONDS (of its own
        time) over the run served least among the others."""
        if run_id not in self._used:
            return
        used = self._used[run_id] + max(0.0, seconds) / max(weight, 1e-9)
        others = [u for r, u in self._used.items() if r != run_id]
        if others:
            used = min(used, max(self._used[run_id], min(others) + MAX_LEAD_SECONDS / max(weight, 1e-9)))
        self._used[run_id] = used


@dataclass(frozen=True)
class WorkerLoad:
    """A worker as placement sees it: whether it can train now, and the runs it trains, with their
    weights and whether each may be moved (a person's run placed long enough ago)."""

    name: str
    ready: bool = True
    runs: dict = field(default_factory=dict)  # run id -> weight
    movable: frozenset = frozenset()

    @property
    def load(self) -> float:
        return sum(self.runs.values())


def place(workers: list[WorkerLoad], holder: str | None = None, run_weight: float = WATCHED) -> str | None:
    """The worker for a run: the one that holds its model (`holder`, where it resumes at once) unless
    another has less load by more than the run itself, else the least loaded of the ready ones (of
    all while none is): a worker still importing TensorFlow trains nothing for seconds (a killed
    worker's runs waited 3.7 s for its replacement, bench/worker_fault.py), and `rebalance` moves
    runs onto it once it is ready."""
    if not workers:
        return None
    best = min(workers, key=lambda w: (not w.ready, w.load, len(w.runs), w.name))
    kept = next((w for w in workers if w.name == holder), None)
    if kept is not None and (kept.ready or not best.ready) and kept.load - best.load <= run_weight:
        return kept.name
    return best.name


def rebalance(workers: list[WorkerLoad]) -> tuple[str, str, str] | None:
    """A run to move (run id, from, to) so that the ready workers' loads come closer, or None.

    Moves only when that narrows the gap (the heavier's load exceeds the lighter's by more than
    the run's weight), so runs never go back and forth; the run moved is the heaviest that fits."""
    ready = [w for w in workers if w.ready]
    if len(ready) < 2:
        return None
    heavy = max(ready, key=lambda w: (w.load, w.name))
    light = min(ready, key=lambda w: (w.load, w.name))
    gap = heavy.load - light.load
    fits = [(w, r) for r, w in heavy.runs.items() if r in heavy.movable and w < gap]
    if not fits:
        return None
    run_id = max(fits, key=lambda item: (item[0], item[1]))[1]
    return run_id, heavy.name, light.name


@dataclass(frozen=True)
class Refresh:
    """How often a page redraws a training run's charts, and why, when it is slower than usual."""

    seconds: float = CHART_SECONDS
    note: str | None = None


def chart_refresh(training: int, workers: int) -> Refresh:
    """The charts' refresh while `training` runs (everyone's, sweeps' too) share `workers` workers.

    Every CHART_SECONDS while each run has a worker to itself; twice that each time the runs per
    worker double, up to CHART_SECONDS_MAX. Each run then trains about that much slower, so a redraw
    still adds about as many epochs as it does for a run alone, and the browsers' redrawing stops
    taking the cores training needs. The result changes only at a doubling: a page re-arms its timer
    when it does."""
    workers = max(1, workers)
    seconds, per_worker = CHART_SECONDS, training / workers
    while per_worker > 1 and seconds < CHART_SECONDS_MAX:
        seconds, per_worker = seconds * 2, per_worker / 2
    if seconds == CHART_SECONDS:
        return Refresh()
    return Refresh(seconds, f"Charts redraw every {seconds:g} s while {_runs(training)} share this server's "
                            f"{workers} training worker{'s' if workers > 1 else ''}; the status line changes every second.")


@dataclass(frozen=True)
class Limits:
    """How many of a person's runs may train at once: per workspace, and on the whole server."""

    per_workspace: int = 4
    total: int = 2 * RUNS_PER_WORKER

    def __post_init__(self):
        positive_int("per_workspace", self.per_workspace)
        positive_int("total", self.total)


def admission(workspace_active: int, total_active: int, limits: Limits) -> str | None:
    """None if one more run may start, else the message saying why not and what to do.

    `workspace_active` and `total_active` count the runs already training (a person's, not a
    sweep's: sweeps take their turns in the queue) in the run's workspace and on the server."""
    if workspace_active >= limits.per_workspace:
        return (f"This workspace is already training {_runs(workspace_active)}, the most one workspace may train "
                f"at once on this server (INFOIF_MAX_RUNS_PER_WORKSPACE={limits.per_workspace}). Pause or stop "
                "one of them in the tab that started it, then press Train again.")
    if total_active >= limits.total:
        return (f"This server is already training {_runs(total_active)}, the most it trains at once "
                f"(INFOIF_MAX_RUNS={limits.total}); everyone shares its cores. Pause or stop one of your runs, "
                "or press Train again in a few minutes.")
    return None


def _runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"

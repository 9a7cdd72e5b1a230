"""Streamlit glue shared by app.py and the pages (not a page itself: app.py lists the pages).

The per-user state is an `infoif.app.session.Session` in `st.session_state`;
everything that decides anything lives in `infoif`. This module only reads
and writes widgets, and turns user-caused errors into messages.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
from typing import Callable
from urllib.parse import urlencode

import streamlit as st

from infoif.app.session import Session

SESSION_KEY = "infoif"
# While training runs, live views refresh on timers: the sidebar's status line every second (polled
# by the browser, see `live_status`), the charts every two seconds, or up to eight while many runs
# share the workers (fragments; `infoif.runs.fairshare.chart_refresh` decides). A timer changes only when
# that refresh does: a faster timer for a young run, re-armed by a rerun of the whole page once its
# first epoch showed, made each page ask for eight refreshes a second; with eight sessions the server
# fell behind and pages stopped updating (bench/load.py, 2026-12-07). Redrawing a page's charts every
# second kept a watching Chromium renderer busy 0.64-0.74 of a core (mostly Plotly's redraw), which
# a 2-core machine took from training.
STATUS_SECONDS = 1.0

log = logging.getLogger("infoif.app")


@st.cache_resource(max_entries=1)
def service():
    """The server's training service (one per server process): its workers start with the server
    (`pages/_server.lifespan`), or, without it (AppTest), on the first visit and held until the first page is
    drawn, so TensorFlow's import is off every user's path. The home is INFOIF_HOME.

    Also, once per server: Streamlit runs a full garbage collection after every script run (and
    live views rerun every second or two in every watching tab). The server no longer imports
    TensorFlow, but pandas, plotly and Streamlit still make a collection cost 64-85 ms holding the
    GIL; with the long-lived import-time objects frozen out of the collector it is ~0 ms
    (bench/app.py prints both)."""
    import gc

    from infoif import figures  # noqa: F401 - imported before the freeze: the pages use them
    from infoif.train import plane  # noqa: F401 - likewise

    figures.import_all()
    from infoif.runs.service import shared

    # Started by the lifespan already; if not, the workers start now and import TensorFlow (seconds
    # of every core) once the first page is drawn: app.py calls `service().go()` after every script run.
    svc = shared(hold=True)
    gc.freeze()
    return svc


@contextlib.contextmanager
def guard(where: str):
    """Turns an unexpected error into a message; the user's data and runs stay as they were.

    Streamlit's own control flow (rerun, stop) derives from BaseException and
    passes through. Tests set INFOIF_STRICT=1 so that bugs fail them instead.
    """
    try:
        yield
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("INFOIF_STRICT") == "1":
            raise
        log.exception("Unexpected error in %s", where)
        st.error(
            f"Something went wrong on this page ({type(exc).__name__}: {exc}). "
            "Your data and runs are kept; try again, or press ↺ Reset for a fresh model."
        )


# ---------------------------------------------------------------- frame

_frame = threading.local()  # each session runs its script in a thread of its own


@contextlib.contextmanager
def frame():
    """Marks the current script run as going through app.py (the router and sidebar)."""
    _frame.active = True
    try:
        yield
    finally:
        _frame.active = False


def page_session() -> Session:
    """The session, for a page; makes sure the page runs inside app.py's frame.

    With a `pages/` folder beside app.py, Streamlit (1.67) starts in its legacy
    multipage mode until some run calls `st.navigation`. If the first request
    a fresh server gets is a deep link (say a shared `/interfaces?n=12`), it
    runs that page file alone: no sidebar, and a navigation made of file
    names. Leaving legacy mode and rerunning resolves the same URL through
    app.py's `st.navigation`, so the link opens the right page, framed.
    """
    if not getattr(_frame, "active", False):
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()
    return session()


# ---------------------------------------------------------------- session


def session() -> Session:
    """This browser session's state: the workspace in the URL (or a new one), made on first use."""
    s = st.session_state.get(SESSION_KEY)
    if s is not None:
        return s
    svc = service()
    s = Session.open(svc.store, svc, st.query_params.to_dict())
    st.session_state[SESSION_KEY] = s
    st.session_state["link_problems"] = s.problems
    return s


def sync_url(s: Session) -> None:
    """Mirrors the workspace and set-up into the URL: a reload or a copied link reopens them."""
    wanted = s.query()
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def nearest(options, value):
    """The option closest to `value`: a setting from a link need not be one of a slider's stops."""
    return min(options, key=lambda option: abs(option - value))


def is_training(s: Session) -> bool:
    return s.is_training()


# ---------------------------------------------------------------- training controls


def _act(verb: Callable[[], object]) -> None:
    """Runs a control verb; what cannot be done becomes a message under the controls."""
    from infoif.runs.service import ServiceError
    from infoif.runs.store import StoreError

    try:
        verb()
    except (ServiceError, StoreError, ValueError) as exc:
        st.session_state["control_message"] = str(exc)


def training_controls(s: Session, where: str) -> None:
    """Train, pause, step, stop, reset; `where` keeps widget keys unique per place."""
    state = s.status()
    running = state.status in ("running", "queued") or state.starting
    first, second = st.columns(2, gap="small"), st.columns(2, gap="small")
    first[0].button("Train", icon=":material/play_arrow:", key=f"{where}_play", help="Train (or resume)",
                    on_click=_act, args=(s.train,), disabled=running, type="primary", width="stretch")
    first[1].button("Pause", icon=":material/pause:", key=f"{where}_pause", on_click=_act, args=(s.pause,),
                    disabled=not running, width="stretch")
    second[0].button("Step", icon=":material/skip_next:", key=f"{where}_step", help="Train one epoch",
                     on_click=_act, args=(s.step,), disabled=running, width="stretch")
    second[1].button("Stop", icon=":material/stop:", key=f"{where}_stop", on_click=_act, args=(s.stop,),
                     disabled=state.status not in ("running", "paused", "queued") and not state.starting,
                     width="stretch")
    st.button("Reset: a fresh model", icon=":material/restart_alt:", key=f"{where}_reset",
              help="A new run with the same settings; a trained run stays on the Compare page",
              on_click=_act, args=(s.reset,), type="tertiary")
    message = st.session_state.pop("control_message", None)
    if message:
        st.warning(message)


PAGE_DRAWN_WITH = "page_drawn_with"  # (training?, run id) when the page was last drawn whole


def sidebar_controls(s: Session) -> None:
    """The sidebar's status line and controls, in a fragment: a click reruns only them, so Pause
    shows at once instead of after the whole page and its charts (0.88 s at most with 8 sessions
    watching, bench/load.py). A click after which the page must change (training started, another
    run) then redraws the whole page; when training stops, the page's live charts notice at their
    next refresh and redraw it (`live`), and a page without them keeps its content as it is."""
    st.session_state[PAGE_DRAWN_WITH] = (is_training(s), s.run_id)

    @st.fragment
    def _controls():
        live_status(s)
        training_controls(s, "sidebar")
        was_training, run_id = st.session_state.get(PAGE_DRAWN_WITH, (False, None))
        if s.run_id != run_id or (not was_training and is_training(s)):
            st.rerun()  # the whole page: its live views start, or show another run

    _controls()


def status_line(s: Session) -> None:
    state = s.status()
    st.markdown(state.text())
    _status_error(state)


def _status_error(state) -> None:
    """A failed run's error, or why a run was interrupted, under its status line."""
    if state.error:
        (st.error if state.status == "failed" else st.warning)(state.error)


# Loads the live charts' plotly.js once per page (see `chart`); the status line preloads it.
_PLOTLY_JS = """
function infoifPlotly(url) {
  if (!window.__infoifPlotly) {
    window.__infoifPlotly = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = url;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { window.__infoifPlotly = null; reject(new Error('plotly.js did not load')); };
      document.head.appendChild(script);
    });
  }
  return window.__infoifPlotly;
}
"""

# The sidebar's status line is an element of its own whose script polls the server's status route
# (pages/_server.py) every STATUS_SECONDS while the line may change by itself: no script run, no
# websocket message, nothing for Streamlit to queue behind the charts' refreshes. With 8 sessions
# the line as a timed fragment went 18-28 s without a change (bench/load.py). When the run stops
# training (or the workers are ready) the element asks for a rerun of the sidebar's controls (their
# fragment, `sidebar_controls`): the buttons change.
_STATUS_JS = _PLOTLY_JS + """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (data.plotly && !window.__infoifPlotly) {  // for the live charts, while nothing else happens
    const load = () => infoifPlotly(data.plotly).catch(() => {});
    if (window.requestIdleCallback) requestIdleCallback(load, { timeout: 3000 }); else setTimeout(load, 1000);
  }
  let box = parentElement.querySelector('.infoif-status');
  if (!box) {
    box = document.createElement('div');
    box.className = 'infoif-status';
    parentElement.appendChild(box);
  }
  // One timer per line: Streamlit calls this again on every rerun that draws the line and does not
  // always call the cleanup below first, so each call stops the timer of the one before it, and a
  // timer whose line left the page stops itself (before this, a page polled 2-3 times a second
  // after a few reruns, and a browser with 8 sessions spent 0.3 of a core on it).
  if (box.__infoifStop) box.__infoifStop();
  box.innerHTML = data.html;
  if (!data.live) return;
  let busy = false, timer = null;
  const stop = () => {
    clearInterval(timer);
    if (box.__infoifStop === stop) box.__infoifStop = null;
  };
  const tick = async () => {
    if (busy || box.__infoifStop !== stop) return;
    if (!box.isConnected) return stop();
    busy = true;
    try {
      const answer = await fetch(data.url, { cache: 'no-store' });
      if (!answer.ok || box.__infoifStop !== stop) return;
      const payload = await answer.json();
      if (box.__infoifStop !== stop) return;
      box.innerHTML = payload.html;
      if (!payload.live) {
        stop();
        setTriggerValue('settled', Date.now());
      }
    } catch (error) {
      // the server restarts or the network drops: the next tick tries again
    } finally {
      busy = false;
    }
  };
  timer = setInterval(tick, data.seconds * 1000);
  box.__infoifStop = stop;
  return stop;
}
"""
_STATUS_CSS = """
.infoif-status { font-size: 1rem; line-height: 1.6; }
.infoif-status code { font-size: 0.8em; padding: 0.1em 0.25em; border-radius: 0.25rem;
  background: rgba(128, 128, 128, 0.12); color: rgb(9, 171, 59); }
.infoif-badge { display: inline-block; font-size: 0.875em; padding: 0 0.4em; border-radius: 0.25rem; }
.infoif-badge-green { background: rgba(33, 195, 84, 0.1); color: rgb(21, 130, 55); }
.infoif-badge-orange { background: rgba(255, 164, 33, 0.1); color: rgb(200, 80, 0); }
.infoif-badge-red { background: rgba(255, 43, 43, 0.09); color: rgb(189, 65, 65); }
.infoif-badge-blue { background: rgba(28, 131, 225, 0.1); color: rgb(0, 84, 163); }
.infoif-badge-violet { background: rgba(128, 61, 245, 0.1); color: rgb(88, 63, 132); }
.infoif-badge-gray, .infoif-badge-grey { background: rgba(49, 51, 63, 0.1); color: rgb(49, 51, 63); }
"""
@functools.cache
def _status_component():
    """The status line's element, registered once per process."""
    return st.components.v2.component("infoif_status", js=_STATUS_JS, css=_STATUS_CSS, isolate_styles=False)


def live_status(s: Session, where: str = "sidebar") -> None:
    """The status line, refreshed in the browser from the server's status route while it may change
    by itself; its error (a failed or interrupted run) below it. What it is in reruns once when the
    line settles."""
    from pages._server import PLOTLY_PATH, STATUS_PATH

    state = s.status()  # what infoif.app.session.status_payload answers the polls with, for the same run
    query = urlencode({"ws": s.workspace, "run": state.run_id or "", "epochs": s.settings.epochs or ""})
    _status_component()(
        # relative to the page (/train, or /lab/train under `server.baseUrlPath` lab or a proxy's prefix)
        data={"html": state.html(), "live": state.live, "url": f"{STATUS_PATH.lstrip('/')}?{query}",
              "seconds": STATUS_SECONDS, "plotly": PLOTLY_PATH.lstrip("/")},
        key=f"{where}_status", on_settled_change=lambda: None,
    )
    _status_error(state)


def live(render: Callable[[], None], s: Session) -> None:
    """Draws `render()` in a fragment that refreshes while training runs, as often as
    `Session.chart_refresh` says. When training ends, or that refresh changes (runs started or
    ended elsewhere on the server), the whole page is drawn once more: its controls change, its
    timer is re-armed or stops."""
    training = is_training(s)
    refresh = s.chart_refresh()
    inline = {"now": True}  # the first call is part of the full script run

    @st.fragment(run_every=refresh.seconds if training else None)
    def _live():
        now = refresh if inline["now"] or not training else s.chart_refresh()
        if training and now.note:
            st.caption(now.note)  # above the charts: why they change less often than the status line
        _LIVE.on = training
        try:
            with guard("live view"):
                render()
        finally:
            _LIVE.on = False
        if training and not inline["now"] and (now.seconds != refresh.seconds or not is_training(s)):
            st.rerun()  # the whole page, with its timer as it should be now (none if training ended)

    _live()
    inline["now"] = False


# ---------------------------------------------------------------- charts


# While training runs, `live` draws its charts with an element of our own that redraws the figure in
# place (Plotly.react on the same <div>) instead of st.plotly_chart, which Streamlit 1.67 mounts
# afresh whenever the figure changes (its element id includes the figure) and which then draws it
# twice. At rest (and in AppTest) the charts are st.plotly_chart, with Streamlit's toolbar. The
# plotly.js the element uses comes from the plotly package (pages/_server.PLOTLY_PATH, cached by
# the browser): evaluating it costs a page about a second of CPU, so every page loads it when the
# browser is idle (the sidebar's status line asks), not when the first chart of a run is due and
# every watching tab would load it at once: 8 tabs doing that starved training and the status
# lines for 5-8 s (bench/load.py).
_LIVE = threading.local()
LIVE_SUFFIX = "_live"  # a live chart's element key: its chart's key and this
_CHART_JS = _PLOTLY_JS + """
export default function (component) {
  const { data, parentElement } = component;
  let box = parentElement.querySelector('.infoif-chart');
  if (!box) {
    box = document.createElement('div');
    box.className = 'infoif-chart';
    parentElement.appendChild(box);
  }
  const figure = JSON.parse(data.figure);
  box.style.height = (figure.layout.height || 450) + 'px';
  box.__infoifFigure = figure;
  infoifPlotly(data.script).then((Plotly) => {
    if (box.__infoifFigure !== figure || !box.isConnected) return;  // a newer figure came meanwhile
    // close to how Streamlit themes its own plotly charts: the page's font, titles in bold
    const font = Object.assign({ family: getComputedStyle(box).fontFamily, color: '#31333F' }, figure.layout.font);
    const title = figure.layout.title && Object.assign({}, figure.layout.title,
      { font: Object.assign({ weight: 600, size: 16 }, figure.layout.title.font) });
    const layout = Object.assign({}, figure.layout, { autosize: true, font }, title ? { title } : {});
    Plotly.react(box, figure.data, layout, { displaylogo: false, responsive: true });
  }).catch(() => {
    box.textContent = 'The chart could not load plotly.js from the server; it shows again when training stops.';
  });
}
"""


@functools.cache
def _chart_component():
    """The live charts' element, registered once per process."""
    return st.components.v2.component("infoif_chart", js=_CHART_JS, isolate_styles=False)


def chart(fig, key: str, filename: str | None = None) -> None:
    """A plotly chart with a download of the data behind it."""
    if getattr(_LIVE, "on", False):  # `live` draws a training run: redrawn in place
        from pages._server import PLOTLY_PATH

        _chart_component()(data={"figure": fig.to_json(), "script": PLOTLY_PATH.lstrip("/")},
                           key=f"{key}{LIVE_SUFFIX}")
    else:
        st.plotly_chart(fig, key=key, config={"displaylogo": False})
    if filename:
        from infoif.figures.table import figure_data

        st.download_button(
            "Data (CSV)", data=lambda: figure_data(fig).to_csv(index=False), file_name=filename,
            mime="text/csv", key=f"{key}_csv", on_click="ignore", type="tertiary", icon=":material/download:",
        )


def need_history(s: Session) -> "tuple | None":
    """The current run's history, or a hint to train first (and None)."""
    run = s.current_run()
    history = run.history if run is not None else ()
    if run is not None and run.problem:
        st.warning(run.problem)
    if not history:
        if is_training(s):
            st.info("Training has started: the first measurement arrives within a second.")
        else:
            st.info("No training yet: press **Train** in the sidebar (or on the Train page) to start.")
        return None
    return history

"""Streamlit glue shared by app.py and the pages (not a page itself: app.py lists the pages).

The per-user state is an `infoif.session.Session` in `st.session_state`;
everything that decides anything lives in `infoif`. This module only reads
and writes widgets, and turns user-caused errors into messages.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Callable

import streamlit as st

from infoif import datasets
from infoif.data import DataError
from infoif.session import Session
from infoif.urlstate import from_query, to_query

SESSION_KEY = "infoif"
LIVE_SECONDS = 1.0  # charts refresh this often while training runs

STATUS_BADGES = {
    "idle": ("gray", "ready"),
    "running": ("green", "training"),
    "paused": ("orange", "paused"),
    "stopped": ("blue", "stopped"),
    "finished": ("blue", "finished"),
    "failed": ("red", "failed"),
}


log = logging.getLogger("infoif.app")


def keep_keras_state() -> bool:
    """Stops Streamlit from calling `keras.backend.clear_session()` after every script run.

    Streamlit does that to free old Keras graphs, but here models live on across
    reruns and train in a background thread, and the call clears TensorFlow's
    kernel and function caches under them. With the live charts and the sidebar
    rerunning twice a second, training ran at 40% of its speed: 416 vs 1,036
    epochs/s for a Trainer beside a thread calling `clear_session()` every 0.5 s
    (Circle, default model). Our models are kept and freed with their runs, so
    there is nothing for that call to clean. Streamlit's only other clean-up
    there is for matplotlib, which this app does not use. Returns whether the
    hook was found (a Streamlit without it needs nothing).
    """
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:  # pragma: no cover - moved in some future Streamlit
        return False
    if not hasattr(script_runner, "_clean_problem_modules"):
        return False
    script_runner._clean_problem_modules = _no_clean_up
    return True


def _no_clean_up() -> None:
    """Replaces Streamlit's per-run Keras/matplotlib clean-up (see `keep_keras_state`)."""


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
    """This browser session's state, made on first use from the URL's settings."""
    s = st.session_state.get(SESSION_KEY)
    if s is not None:
        return s
    settings, problems = from_query(st.query_params.to_dict())
    s = Session(settings)
    name = settings.data or datasets.DEFAULT_SAMPLE
    try:
        s.use_sample(name, target=settings.target, task=settings.task)
    except (DataError, KeyError) as exc:
        problems.append(f"Could not open the linked dataset {name!r} ({exc}); opened the default one.")
        s.use_sample(datasets.DEFAULT_SAMPLE)
    st.session_state[SESSION_KEY] = s
    st.session_state["link_problems"] = problems
    return s


def sync_url(s: Session) -> None:
    """Mirrors the set-up into the URL so that a copied link reproduces it."""
    wanted = to_query(s.settings)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def run_status(s: Session) -> str:
    run = s.current_run(create=False)
    return run.trainer.status if run is not None else "idle"


def is_training(s: Session) -> bool:
    sweep_running = s.sweep is not None and s.sweep.status == "running"
    return run_status(s) == "running" or sweep_running


# ---------------------------------------------------------------- training controls


def _start(s: Session):
    run = s.current_run()
    if run.trainer.status == "failed":
        st.session_state["control_message"] = "This run failed; press Reset for a fresh model."
        return
    epochs = s.settings.epochs or None
    if run.trainer.status == "paused":
        run.trainer.resume()
    else:
        run.trainer.start(epochs=epochs)


def _pause(s: Session):
    run = s.current_run(create=False)
    if run is not None:
        run.trainer.pause()


def _step(s: Session):
    run = s.current_run()
    if run.trainer.status == "failed":
        st.session_state["control_message"] = "This run failed; press Reset for a fresh model."
        return
    target = run.trainer.epoch + 1  # read before stepping: a fast epoch may finish at once
    run.trainer.step()
    run.trainer.wait_for_epoch(target, timeout=30)


def _stop(s: Session):
    run = s.current_run(create=False)
    if run is not None:
        run.trainer.stop()


def _reset(s: Session):
    s.reset_run()


def training_controls(s: Session, where: str) -> None:
    """Play, pause, step, stop, reset; `where` keeps widget keys unique per place."""
    status = run_status(s)
    running = status == "running"
    first, second = st.columns(2, gap="small"), st.columns(2, gap="small")
    first[0].button("Train", icon=":material/play_arrow:", key=f"{where}_play", help="Train (or resume)",
                    on_click=_start, args=(s,), disabled=running, type="primary", width="stretch")
    first[1].button("Pause", icon=":material/pause:", key=f"{where}_pause", on_click=_pause, args=(s,),
                    disabled=not running, width="stretch")
    second[0].button("Step", icon=":material/skip_next:", key=f"{where}_step", help="Train one epoch",
                     on_click=_step, args=(s,), disabled=running, width="stretch")
    second[1].button("Stop", icon=":material/stop:", key=f"{where}_stop", on_click=_stop, args=(s,),
                     disabled=status not in ("running", "paused"), width="stretch")
    st.button("Reset: a fresh model", icon=":material/restart_alt:", key=f"{where}_reset",
              help="A new run with the same settings; a trained run stays on the Compare page",
              on_click=_reset, args=(s,), type="tertiary")
    message = st.session_state.pop("control_message", None)
    if message:
        st.warning(message)


def status_line(s: Session) -> None:
    run = s.current_run(create=False)
    status = run.trainer.status if run is not None else "idle"
    colour, word = STATUS_BADGES[status]
    latest = run.trainer.latest if run is not None else None
    text = f":{colour}-badge[{word}]"
    if latest is not None:
        metric = next((k for k in ("val_accuracy", "val_mae") if k in latest.metrics), "val_loss")
        text += f" epoch **{latest.epoch}** · {metric} {latest.metrics[metric]:.3f}"
    if run is not None:
        text += f" · `{run.id}`"
    st.markdown(text)
    if run is not None and status == "failed":
        st.error(run.trainer.error)


def live(render: Callable[[], None], s: Session) -> None:
    """Draws `render()` in a fragment that refreshes every second while training runs."""
    running = is_training(s)
    inline = {"now": True}  # the first call is part of the full script run

    @st.fragment(run_every=LIVE_SECONDS if running else None)
    def _live():
        with guard("live view"):
            render()
        if running and not inline["now"] and not is_training(s):
            st.rerun()  # training ended: redraw the whole page once, timers off

    _live()
    inline["now"] = False


# ---------------------------------------------------------------- charts


def chart(fig, key: str, filename: str | None = None) -> None:
    """A plotly chart with a download of the data behind it."""
    st.plotly_chart(fig, key=key, config={"displaylogo": False})
    if filename:
        from infoif.figures import figure_data

        st.download_button(
            "Data (CSV)", data=lambda: figure_data(fig).to_csv(index=False), file_name=filename,
            mime="text/csv", key=f"{key}_csv", on_click="ignore", type="tertiary", icon=":material/download:",
        )


def need_history(s: Session) -> "tuple | None":
    """The current run's history, or a hint to train first (and None)."""
    run = s.current_run(create=False)
    history = run.history if run is not None else ()
    if not history:
        if is_training(s):
            st.info("Training has started: the first measurement arrives within a second.")
        else:
            st.info("No training yet: press **Train** in the sidebar (or on the Train page) to start.")
        return None
    return history

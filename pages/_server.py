"""The server's life, from its start to its end: `lifespan` for the `st.App` in app.py.

Kept apart from `_ui` so that the server's start imports little (no pandas, no plotly): it
listens sooner, and the pages' imports come with the first visit, while the workers import
TensorFlow.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import logging
import signal

log = logging.getLogger("infoif.app")


@contextlib.asynccontextmanager
async def lifespan(app):
    """At the start, before any browser connects: Streamlit leaves the legacy multipage mode that a
    `pages/` folder beside app.py puts it in (a fresh server's first deep link ran that page file
    alone, showing a navigation of file names for about a second, where a click could land on the
    wrong page), and the training service's workers start, so they import TensorFlow while nobody
    waits yet; the sidebar says "starting the training workers" until one is ready. At the end the
    workers write everything and mark their runs interrupted (`Service.shutdown`)."""
    from streamlit.runtime.pages_manager import PagesManager

    from infoif.runs.service import ServiceError, shared
    from pages import _rerun_fix

    show_library_log()
    PagesManager.uses_pages_directory = False  # app.py's st.navigation routes every page
    _rerun_fix.install()  # a fragment's timed rerun never drops the end of the run before it
    with contextlib.suppress(AttributeError, ValueError, RuntimeError):  # no SIGUSR1 (Windows), not the main thread
        faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 PID`: every thread's stack to stderr
    try:
        svc = shared()
    except ServiceError as exc:  # a bad INFOIF_* setting: the pages say it too, with what to do
        log.error("The training service could not start: %s", exc)
        svc = None
    try:
        yield
    finally:
        if svc is not None:
            await asyncio.to_thread(svc.shutdown)


def show_library_log(level: int = logging.INFO) -> None:
    """The library's log lines (a run moved to another worker, a run paused because nobody watched
    it, a worker that died) on the server's standard error, in Streamlit's format. Nothing showed
    them before: Python's default handler prints only warnings and errors, without a time."""
    logger = logging.getLogger("infoif")
    if logger.handlers:  # configured already (a second lifespan in one process, or by the host)
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s: %(message)s",
                                           "%Y-%m-%d %H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


STATUS_PATH = "/infoif/status"  # the status line's live refresh (pages/_ui.live_status polls it)
PLOTLY_PATH = "/infoif/plotly.min.js"  # plotly.js for the live charts (pages/_ui.live_chart)


async def status(request):
    """GET STATUS_PATH?ws=...&run=...&epochs=...: the status line of that workspace's run, as
    `infoif.app.session.status_payload` makes it, read in a thread (the store is files and SQLite).
    A page refreshes its line this way every second without a script run. 404 for a workspace and
    run that do not go together (nothing says which part was wrong)."""
    from starlette.responses import JSONResponse

    from infoif.runs.service import ServiceError, shared
    from infoif.app.session import status_payload

    query = request.query_params
    try:
        svc = shared()
    except ServiceError as exc:  # a bad INFOIF_* setting: the page says so with what to do
        return JSONResponse({"error": str(exc)}, status_code=503)
    payload = await asyncio.to_thread(status_payload, svc.store, svc, query.get("ws"), query.get("run", ""),
                                      query.get("epochs"))
    if payload is None:
        return JSONResponse({"error": "no such run in that workspace"}, status_code=404)
    return JSONResponse(payload, headers={"Cache-Control": "no-store"})


async def plotly_js(request):
    """GET PLOTLY_PATH: the plotly.js that comes with the plotly package (the one its figures' JSON
    is made for), cached by the browser for a day."""
    from starlette.responses import FileResponse

    return FileResponse(_plotly_js_path(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})


def _plotly_js_path():
    from pathlib import Path

    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def routes(base_url_path: str | None = None) -> list:
    """The status route, at STATUS_PATH under the server's `server.baseUrlPath` too (where the
    pages, which poll it by a relative address, find it), and at the root."""
    from starlette.routing import Route

    if base_url_path is None:
        from streamlit import config

        base_url_path = config.get_option("server.baseUrlPath") or ""
    base = base_url_path.strip("/")
    found = []
    for path, endpoint in ((STATUS_PATH, status), (PLOTLY_PATH, plotly_js)):
        found += [Route(where, endpoint, methods=["GET"]) for where in ([f"/{base}{path}"] if base else []) + [path]]
    return found


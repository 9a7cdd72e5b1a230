"""Compare runs: sweeps (a grid of settings times seeds: build, follow, cancel, and their results
against each setting and across all of them), and every run of this workspace (filter, pages,
delete), overlaid curves, metric and energy against num_interfaces."""

import numpy as np
import pandas as pd
import streamlit as st

from infoif.runs import sweep as sweeps
from infoif.constants import MAX_SWEEP_SEEDS, SWEEP_SETTINGS
from infoif.train.control import STATUSES
from infoif.runs.service import ServiceError
from infoif.train.history import headline_metric
from infoif.runs.store import StoreError
from pages import _ui

s = _ui.page_session()
st.title("Compare runs")

PAGE_SIZES = [20, 50, 100]
MAX_OVERLAY = 12
# The metrics a sweep's results can show, validation first (`infoif.runs.sweep.results` has the latest of each).
GRID_PREFILL = {"num_interfaces": "1, 2, 4, 8"}


# ---------------------------------------------------------------- sweep builder


def _current(setting: str) -> str:
    value = s.settings.batch_size if setting == "batch_size" else getattr(s.spec, setting)
    return "input" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _grid() -> dict:
    """The builder's grid: {setting: its text} for every field filled in (empty: the current setting)."""
    grid = {}
    for setting in SWEEP_SETTINGS:
        text = st.session_state.get(f"compare_grid_{setting}", GRID_PREFILL.get(setting, ""))
        if text and text.strip():
            grid[setting] = text
    return grid


def _start_sweep():
    try:
        record = s.start_sweep(_grid(), int(st.session_state["compare_seeds"]),
                               int(st.session_state["compare_epochs"]))
    except (ValueError, ServiceError, StoreError) as exc:  # SweepError is a ValueError
        st.session_state["compare_sweep_error"] = str(exc)
        return
    st.session_state["compare_sweep"] = record["id"]  # the results follow the new sweep


def _cancel_sweep():
    try:
        s.cancel_sweep()
    except (ServiceError, StoreError) as exc:
        st.session_state["compare_sweep_error"] = str(exc)


def _where() -> tuple[str, str | None]:
    """Where a sweep would run, and the cluster's trouble if its address is bad."""
    try:
        address = sweeps.cluster_address()
    except sweeps.SweepError as exc:
        return "", str(exc)
    if address:
        return f"on the Dask cluster at {address}", None
    workers = len(getattr(s.service, "workers", None) or []) if s.service is not None else 0
    return (f"on this machine's {workers} training workers" if workers else "on this machine's workers"), None


def sweep_builder():
    running = s.sweep_running()
    st.caption("Trains one run per combination of the values below, once per seed, on the current data. "
               "Write values separated by commas; an empty field keeps the current setting (shown in grey).")
    for row in range(0, len(SWEEP_SETTINGS), 4):
        for col, setting in zip(st.columns(4), SWEEP_SETTINGS[row:row + 4]):
            col.text_input(setting, GRID_PREFILL.get(setting, ""), key=f"compare_grid_{setting}",
                           placeholder=f"now {_current(setting)}",
                           help="units: whole numbers, or 'input' for the input's width" if setting == "units"
                           else None)
    a, b, c = st.columns([1, 1, 2])
    a.number_input("seeds", 1, MAX_SWEEP_SEEDS, 3, key="compare_seeds",
                   help=f"Each combination is trained with seeds {s.settings.seed}, {s.settings.seed + 1}, …")
    b.number_input("epochs each", 1, 100_000, 100, step=50, key="compare_epochs")
    where, cluster_error = _where()
    error = st.session_state.pop("compare_sweep_error", None)
    try:
        plan = sweeps.make_plan(_grid(), int(st.session_state["compare_seeds"]),
                                int(st.session_state["compare_epochs"]), base_seed=s.settings.seed)
    except sweeps.SweepError as exc:
        plan, error = None, error or str(exc)
    if plan is not None:
        shape = " × ".join(f"{len(v)} {k}" for k, v in plan.grid.items() if len(v) > 1)
        c.markdown(f"**{plan.size:,} runs** of {plan.epochs:,} epochs"
                   + (f" ({shape} × {len(plan.seeds)} seeds)" if shape else f" ({len(plan.seeds)} seeds)")
                   + (f", {where}" if where else ""))
    begin, stop = st.columns([1, 1])
    begin.button("Start sweep", key="compare_start", on_click=_start_sweep, disabled=running, type="primary",
              icon=":material/play_arrow:", help="One sweep at a time: cancel it, or let it finish" if running
              else None)
    stop.button("Cancel sweep", key="compare_cancel", on_click=_cancel_sweep, disabled=not running,
                icon=":material/stop:", help="Stops its unfinished runs; what they trained is kept")
    for message in dict.fromkeys(m for m in (error, cluster_error) if m):
        st.error(message)


with st.expander("Sweep: a grid of settings × seeds", expanded=not s.sweeps() and len(s.runs(limit=2)) < 2):
    sweep_builder()


# ---------------------------------------------------------------- views


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024


def _sweep_label(record: dict) -> str:
    varied = sweeps.varied(record)
    what = " × ".join(varied) if varied else "seeds only"
    return f"{record['name']} · {len(record.get('runs', []))} runs · {what} · {record.get('status', '?')}"


def sweep_views():
    from infoif.figures.compare import SWEEP_MAX_GROUPS, sweep_band_figure, sweep_parcoords_figure

    records = {r["id"]: r for r in s.sweeps()}
    if not records:
        return
    st.subheader("Sweeps")
    if st.session_state.get("compare_sweep") not in records:
        st.session_state.pop("compare_sweep", None)
    chosen = st.selectbox("Sweep", list(records), format_func=lambda i: _sweep_label(records[i]),
                          key="compare_sweep")
    record = records[chosen]
    progress = s.sweep_progress(chosen)
    if progress is not None:
        if progress.status == "running":
            st.progress(min(1.0, progress.fraction), text=progress.describe())
        else:
            st.caption(f"**{progress.status.capitalize()}** · {progress.describe()} · "
                       f"{record.get('dataset_name', '')}, {record['epochs']:,} epochs each"
                       + (" · on the Dask cluster" if record.get("cluster") else ""))
        if progress.error:
            st.warning(progress.error)
    frame = s.sweep_results(chosen)
    if frame is None or frame.empty:
        st.info("This sweep has no runs left (they were deleted).")
        return
    metrics, default = sweeps.result_metrics(frame)
    if not metrics or not frame[metrics].apply(pd.to_numeric, errors="coerce").notna().any().any():
        st.info("No run of this sweep has finished an epoch yet: its results show here as they come.")
        metric = None
    else:
        varied = sweeps.varied(record)
        left, right = st.columns(2)
        metric = left.selectbox("Metric", metrics, index=metrics.index(default), key="compare_sweep_metric")
        colour = None
        if len(varied) >= 2:
            few = [v for v in varied if frame[v].nunique(dropna=False) <= SWEEP_MAX_GROUPS]
            pick = right.selectbox("Colour by", ["nothing"] + few, key="compare_sweep_colour",
                                   help=f"One line per value of another setting (settings with at most "
                                        f"{SWEEP_MAX_GROUPS} values)")
            colour = None if pick == "nothing" else pick
        if not varied:
            st.caption("This sweep varies only the seed: its spread is in the table below.")
        cells = st.columns(2) if len(varied) > 1 else [st.container()]
        for k, setting in enumerate(varied):
            with cells[k % len(cells)]:
                fig = sweep_band_figure(frame, setting, metric, colour if colour != setting else None)
                _ui.chart(fig, f"compare_band_{setting}", f"{record['name']}_{metric}_by_{setting}.csv")
        fig = sweep_parcoords_figure(frame, varied, metrics, metric)
        _ui.chart(fig, "compare_parcoords")  # its data is the results table (and its CSV) below
    st.dataframe(frame.drop(columns=["id"]), hide_index=True, key="compare_sweep_table")
    st.download_button("Results (CSV)", data=lambda: frame.to_csv(index=False), file_name=f"{record['name']}.csv",
                       mime="text/csv", key="compare_sweep_csv", on_click="ignore", type="tertiary",
                       icon=":material/download:")


def runs_views():
    from infoif.figures.compare import compare_curves_figure, sweep_figure

    everything = s.runs()
    if not everything:
        if not s.sweeps():
            st.info("No runs yet: train a model, or start a sweep.")
        return
    st.subheader("Runs")
    f1, f2, f3, f4 = st.columns([1, 2, 1, 1])
    status = f1.selectbox("Status", ["any"] + [x for x in STATUSES if x != "idle"], key="compare_status")
    search = f2.text_input("Search (name, dataset, settings)", key="compare_search")
    size = f3.selectbox("Per page", PAGE_SIZES, key="compare_page_size")
    matching = s.runs(status=None if status == "any" else status, search=search or None, newest_first=True)
    pages = max(1, -(-len(matching) // size))
    page = f4.number_input(f"Page (of {pages})", 1, pages, 1, key="compare_page")
    shown = matching[(page - 1) * size: page * size]
    st.caption(f"{len(matching)} of {len(everything)} runs · {_size(s.disk_bytes())} on disk in this workspace")
    if shown:
        st.dataframe(pd.DataFrame([r.summary() for r in shown]).drop(columns=["id"]), hide_index=True)

    with_epochs = [r for r in everything if r.epochs]
    if not with_epochs:
        return
    names = {r.name: r for r in with_epochs}
    default = [r.name for r in with_epochs[-min(len(with_epochs), 6):]]
    chosen = st.multiselect(f"Runs to overlay (up to {MAX_OVERLAY})", list(names), default=default,
                            key="compare_runs", max_selections=MAX_OVERLAY)
    metrics = ["val_loss", "loss"] + [m for m in ("val_accuracy", "accuracy", "val_mae", "mae")
                                      if m in with_epochs[-1].metrics]
    metric = st.selectbox("Curve", metrics, key="compare_metric")
    series = []
    for name in chosen:
        history = s.run(names[name].id).history
        if history and metric in history[-1].metrics:
            series.append({"label": f"{name} (N={names[name].spec.num_interfaces})",
                           "epochs": np.array([h.epoch for h in history]),
                           "values": np.array([h.metrics.get(metric, np.nan) for h in history])})
    if series:
        _ui.chart(compare_curves_figure(series, metric), "compare_curves", "compare_curves.csv")

    # a sweep's runs have their own views above
    same_data = [r for r in with_epochs if r.dataset_name == s.data_name and r.metrics and r.sweep is None]
    if len(same_data) >= 2:
        final_metric = headline_metric(same_data[-1].metrics)
        rows = [(r.spec.num_interfaces, r.metrics.get(final_metric, np.nan),
                 np.nan if r.mean_energy is None else r.mean_energy) for r in same_data]
        n, m, e = map(np.array, zip(*rows))
        st.markdown(f"**Against num_interfaces** (runs on {s.data_name}, not in a sweep)")
        _ui.chart(sweep_figure(n, m, e, final_metric), "compare_sweep_n", "sweep.csv")


def render():
    sweep_views()
    runs_views()


_ui.live(render, s)


# ---------------------------------------------------------------- delete


def _delete_run():
    name = st.session_state.get("compare_delete_run")
    run = next((r for r in s.runs() if r.name == name), None)
    if run is not None:
        s.delete_run(run.id)
    st.session_state["compare_confirm_run"] = False


def _delete_workspace():
    s.delete_workspace()
    st.session_state["compare_confirm_workspace"] = False


runs = s.runs(newest_first=True)
if runs:
    with st.expander("Delete runs"):
        left, right = st.columns(2)
        with left:
            st.selectbox("Run", [r.name for r in runs], key="compare_delete_run")
            if not st.session_state.get("compare_confirm_run"):
                st.button("Delete this run…", key="compare_ask_run", icon=":material/delete:",
                          on_click=lambda: st.session_state.update(compare_confirm_run=True))
            else:
                st.warning(f"Delete **{st.session_state['compare_delete_run']}** and its files? This cannot be "
                           "undone.")
                yes, no = st.columns(2)
                yes.button("Yes, delete it", key="compare_yes_run", type="primary", on_click=_delete_run)
                no.button("Keep it", key="compare_no_run",
                          on_click=lambda: st.session_state.update(compare_confirm_run=False))
        with right:
            st.markdown(f"The whole workspace: {len(runs)} runs, its uploads, {_size(s.disk_bytes())}.")
            if not st.session_state.get("compare_confirm_workspace"):
                st.button("Delete the workspace…", key="compare_ask_workspace", icon=":material/delete_forever:",
                          on_click=lambda: st.session_state.update(compare_confirm_workspace=True))
            else:
                st.warning("Delete **every run and upload** of this workspace? This cannot be undone; you get "
                           "a new, empty workspace.")
                yes, no = st.columns(2)
                yes.button("Yes, delete everything", key="compare_yes_workspace", type="primary",
                           on_click=_delete_workspace)
                no.button("Keep it", key="compare_no_workspace",
                          on_click=lambda: st.session_state.update(compare_confirm_workspace=False))

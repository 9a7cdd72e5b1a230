"""Compare runs: every run of this workspace (filter, pages, delete), overlaid curves, metric and energy
against num_interfaces, and sweeps."""

import numpy as np
import pandas as pd
import streamlit as st

from infoif.control import STATUSES
from infoif.session import headline_metric
from pages import _ui

s = _ui.page_session()
st.title("Compare runs")

PAGE_SIZES = [20, 50, 100]
MAX_OVERLAY = 12


def _start_sweep():
    text = st.session_state["compare_values"]
    try:
        values = [int(v) for v in text.replace(";", ",").split(",") if v.strip()]
        s.start_sweep(values, int(st.session_state["compare_epochs"]))
        st.session_state.pop("compare_error", None)
    except ValueError as exc:
        msg = str(exc)
        if "invalid literal" in msg:
            msg = f"Could not read {text!r}: write whole numbers separated by commas, e.g. 1, 2, 4, 8."
        st.session_state["compare_error"] = msg


with st.expander("Sweep num_interfaces", expanded=len(s.runs(limit=2)) < 2):
    st.caption("Trains one run per value on the same data, seed and other settings, on every free worker.")
    a, b, c = st.columns([2, 1, 1])
    a.text_input("num_interfaces values", "1, 2, 4, 8, 16, 32", key="compare_values")
    b.number_input("epochs each", 1, 100_000, 100, step=50, key="compare_epochs")
    sweeping = s.sweep_running()
    c.button("Start sweep", key="compare_start", on_click=_start_sweep, disabled=sweeping, type="primary")
    c.button("Cancel", key="compare_cancel", on_click=s.cancel_sweep, disabled=not sweeping)
    if st.session_state.get("compare_error"):
        st.error(st.session_state["compare_error"])


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024


def render():
    from infoif.figures import compare_curves_figure, sweep_figure

    done, total, sweep_status = s.sweep_progress()
    if total:
        st.progress(done / total, text=f"Sweep {sweep_status}: {done} of {total} runs")
    everything = s.runs()
    if not everything:
        st.info("No runs yet: train a model, or start a sweep.")
        return

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

    same_data = [r for r in with_epochs if r.dataset_name == s.data_name and r.metrics]
    if len(same_data) >= 2:
        final_metric = headline_metric(same_data[-1].metrics)
        rows = [(r.spec.num_interfaces, r.metrics.get(final_metric, np.nan),
                 np.nan if r.mean_energy is None else r.mean_energy) for r in same_data]
        n, m, e = map(np.array, zip(*rows))
        st.markdown(f"**Against num_interfaces** (runs on {s.data_name})")
        _ui.chart(sweep_figure(n, m, e, final_metric), "compare_sweep", "sweep.csv")


_ui.live(render, s)


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

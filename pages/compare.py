"""Compare runs: table, overlaid curves, accuracy and energy against num_interfaces, sweeps."""

import numpy as np
import pandas as pd
import streamlit as st

from pages import _ui

s = _ui.page_session()
st.title("Compare runs")


def _start_sweep():
    from infoif.training import Sweep

    text = st.session_state["compare_values"]
    try:
        values = [int(v) for v in text.replace(";", ",").split(",") if v.strip()]
        s.sweep = Sweep(s.store, s.spec, s.dataset, values, int(st.session_state["compare_epochs"]),
                        seed=s.settings.seed, batch_size=min(s.settings.batch_size, len(s.dataset.x_train)),
                        probe_config=s.probe_config)
        st.session_state.pop("compare_error", None)
    except ValueError as exc:
        msg = str(exc)
        if "invalid literal" in msg:
            msg = f"Could not read {text!r}: write whole numbers separated by commas, e.g. 1, 2, 4, 8."
        st.session_state["compare_error"] = msg


def _cancel_sweep():
    if s.sweep is not None:
        s.sweep.cancel()


with st.expander("Sweep num_interfaces", expanded=not s.has_store() or len(s.store) < 2):
    st.caption("Trains one run per value on the same data, seed and other settings, one after another.")
    a, b, c = st.columns([2, 1, 1])
    a.text_input("num_interfaces values", "1, 2, 4, 8, 16, 32", key="compare_values")
    b.number_input("epochs each", 1, 100_000, 100, step=50, key="compare_epochs")
    sweeping = s.sweep is not None and s.sweep.status == "running"
    c.button("Start sweep", key="compare_start", on_click=_start_sweep, disabled=sweeping, type="primary")
    c.button("Cancel", key="compare_cancel", on_click=_cancel_sweep, disabled=not sweeping)
    if st.session_state.get("compare_error"):
        st.error(st.session_state["compare_error"])


def render():
    from infoif.figures import compare_curves_figure, sweep_figure

    sweep = s.sweep
    if sweep is not None:
        done, total = sweep.progress
        st.progress(sweep.fraction, text=f"Sweep {sweep.status}: {done} of {total} runs"
                    + (f" · {sweep.error}" if sweep.error else ""))
    if not s.has_store() or not len(s.store):
        st.info("No runs yet: train a model, or start a sweep.")
        return
    runs = [r for r in s.store if r.history]
    table = pd.DataFrame(s.store.table())
    st.dataframe(table, hide_index=True)
    if not runs:
        return
    ids = [r.id for r in runs]
    chosen = st.multiselect("Runs to overlay", ids, default=ids[-min(len(ids), 6):], key="compare_runs")
    metric = st.selectbox("Curve", ["val_loss", "loss"] + [m for m in ("val_accuracy", "accuracy", "val_mae", "mae")
                                                           if m in runs[-1].history[-1].metrics],
                          key="compare_metric")
    series = []
    for r in runs:
        if r.id in chosen and metric in r.history[-1].metrics:
            series.append({"label": f"{r.id} (N={r.spec.num_interfaces})",
                           "epochs": np.array([h.epoch for h in r.history]),
                           "values": np.array([h.metrics[metric] for h in r.history])})
    if series:
        _ui.chart(compare_curves_figure(series, metric), "compare_curves", "compare_curves.csv")

    same_data = [r for r in runs if r.dataset_name == s.data_name]
    final_metric = next((m for m in ("val_accuracy", "val_mae") if m in same_data[-1].history[-1].metrics),
                        "val_loss") if same_data else None
    if len(same_data) >= 2:
        rows = [(r.spec.num_interfaces, r.history[-1].metrics[final_metric], r.summary().get("mean_energy", np.nan))
                for r in same_data]
        n, m, e = map(np.array, zip(*rows))
        st.markdown(f"**Against num_interfaces** (runs on {s.data_name})")
        _ui.chart(sweep_figure(n, m, e, final_metric), "compare_sweep", "sweep.csv")


_ui.live(render, s)

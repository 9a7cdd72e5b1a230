"""Interfaces: what each interface learned, over time, scrubbable by epoch.

The views sit in tabs, and only the open tab is computed and drawn: a browser
redrawing ten live charts every second took most of a core, which on a small
machine it took from training (bench/app.py). They now refresh every two
seconds, less often while many runs share the server (infoif.runs.fairshare.chart_refresh).
"""

import numpy as np
import streamlit as st

from pages import _ui

s = _ui.page_session()
st.title("Interfaces")

VIEWS = ["Weights", "Outputs", "Energy", "Input plane"]

history = _ui.need_history(s)
if history is not None:
    from infoif.train.plane import is_planar

    probed_epochs = [h.epoch for h in history if h.has_probes]
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        follow = st.toggle("Follow the latest epoch", value=True, key="if_follow",
                           help="Off: scrub back through history with the slider.")
        if len(probed_epochs) > 1 and not follow:
            st.select_slider("Epoch", probed_epochs, value=probed_epochs[-1], key="if_epoch")
    n = s.spec.num_interfaces
    with right:
        st.selectbox("Interface for the distribution bands", range(n), format_func=lambda i: f"if {i}",
                     key="if_focus")
    views = VIEWS if is_planar(s.dataset) else VIEWS[:-1]
    if st.session_state.get("if_view") not in views:
        st.session_state.pop("if_view", None)  # e.g. "Input plane" kept from a 2-D dataset
    tabs = dict(zip(views, st.tabs(views, key="if_view", on_change="rerun")))


def _chosen():
    """(run, probed snapshots, the chosen snapshot), or None before the first measurement."""
    run = s.current_run()
    history = run.history if run is not None else ()
    probed = [h for h in history if h.has_probes]
    if not probed:
        st.info("The first measurement arrives within a second of training.")
        return None
    by_epoch = {h.epoch: h for h in probed}
    chosen = st.session_state.get("if_epoch") if not st.session_state.get("if_follow", True) else None
    snap = by_epoch.get(chosen, probed[-1])
    st.caption(f"Epoch **{snap.epoch}** of {history[-1].epoch} · {len(probed)} measurements · "
               f"probe batch of {snap.probes.probe_size:,} samples · run `{run.name}`")
    return run, probed, snap


def _series(probed, field: str):
    """(epochs, values stacked over epochs) of one probe field, for the over-time charts."""
    return np.array([h.epoch for h in probed]), np.stack([getattr(h.probes, field) for h in probed])


def weights():
    from infoif.figures.interfaces import (
        distribution_bands_figure, kernel_heatmaps_figure, kernel_norm_figure, similarity_figure,
    )

    got = _chosen()
    if got is None:
        return
    run, probed, snap = got
    with_kernels = next((h for h in reversed(probed) if h.epoch <= snap.epoch and h.probes.kernels is not None),
                        None) or next(h for h in reversed(probed) if h.probes.kernels is not None)
    a, b = st.columns([3, 2])
    with a:
        if with_kernels.epoch != snap.epoch:
            st.caption(f"Full kernels are kept for recent epochs only; showing epoch {with_kernels.epoch}.")
        _ui.chart(kernel_heatmaps_figure(with_kernels.probes.kernels, s.dataset.feature_names),
                  "if_kernels", "kernels.csv")
    with b:
        _ui.chart(similarity_figure(snap.probes.similarity), "if_similarity", "similarity.csv")
    focus = st.session_state.get("if_focus", 0)
    c, d = st.columns(2)
    with c:
        _ui.chart(kernel_norm_figure(*_series(probed, "kernel_norm")),
                  "if_norms", "kernel_norms.csv")
    with d:
        _ui.chart(distribution_bands_figure(*_series(probed, "kernel_bands"),
                                            interface=focus, title=f"Weights of if {focus}"),
                  "if_weight_bands", "weight_bands.csv")


def outputs():
    from infoif.figures.interfaces import distribution_bands_figure, output_histograms_figure

    got = _chosen()
    if got is None:
        return
    run, probed, snap = got
    focus = st.session_state.get("if_focus", 0)
    c, d = st.columns(2)
    with c:
        _ui.chart(output_histograms_figure(run.hist_edges(), snap.probes.output_hist, snap.epoch),
                  "if_histograms", "output_histograms.csv")
    with d:
        _ui.chart(distribution_bands_figure(*_series(probed, "output_bands"),
                                            interface=focus, title=f"Outputs of if {focus}"),
                  "if_output_bands", "output_bands.csv")


def energy():
    from infoif.figures.interfaces import energy_curves_figure, final_energy_figure

    got = _chosen()
    if got is None:
        return
    run, probed, snap = got
    g, h = st.columns(2)
    with g:
        _ui.chart(energy_curves_figure(snap.probes.energy_curve, s.spec.leak, snap.epoch), "if_energy",
                  "energy_curves.csv")
    with h:
        _ui.chart(final_energy_figure(*_series(probed, "energy_final")),
                  "if_final_energy", "final_energy.csv")


def input_plane():
    from infoif.figures.input_plane import decision_surface_figure, interface_response_figure

    run = s.current_run()
    history = run.history if run is not None else ()
    with_plane = next((h for h in reversed(history) if h.plane is not None), None)
    if with_plane is None:
        st.info("The first measurement arrives within a second of training.")
        return
    view = with_plane.plane
    d = s.dataset
    raw = s.frame[list(d.raw_feature_columns)].to_numpy(dtype=float)
    labels = s.frame[s.settings.target].to_numpy()
    st.caption(f"The weights of epoch {with_plane.epoch} over the input plane, as in TensorFlow Playground: "
               "the model's prediction, and each interface's mean output.")
    i, j = st.columns([2, 3])
    with i:
        _ui.chart(decision_surface_figure(view.xx, view.yy, view.z, raw, labels, d.class_names, d.task,
                                          x_name=view.x_name, y_name=view.y_name),
                  "if_surface", "decision_surface.csv")
    with j:
        _ui.chart(interface_response_figure(view.xx, view.yy, view.responses), "if_plane",
                  "interface_responses.csv")


RENDER = {"Weights": weights, "Outputs": outputs, "Energy": energy, "Input plane": input_plane}

if history is not None:
    for name, tab in tabs.items():
        if tab.open:
            with tab:
                _ui.live(RENDER[name], s)
elif _ui.is_training(s):

    def _tabs_once_history_exists():
        run = s.current_run()
        if run is not None and run.history:
            st.rerun()  # the whole page, now with its tabs

    _ui.live(_tabs_once_history_exists, s)

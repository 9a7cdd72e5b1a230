"""Information plane: I(X;T) against I(T;Y) per interface over training, and the clustering binning tracks."""

import numpy as np
import streamlit as st

from pages import _ui

s = _ui.page_session()
st.title("Information plane")
st.markdown(
    "Each point is one interface at one epoch: across, how much its outputs still tell the inputs apart, "
    "I(X;T); up, how much they tell about the label, I(T;Y); both in bits, measured on the same probe "
    "samples every time. Both are estimates, not exact values: *binning* sorts the outputs into equal boxes "
    "and counts them, *KDE* blurs each output with a little noise and gives a lower and an upper bound, "
    "so read the trends, not the decimals."
)

NOISE_VARIANCES = [0.001, 0.01, 0.1, 1.0]
VIEW_PANELS = 16  # clustering view: interfaces drawn at once


def _estimator_settings():
    s.set_estimators(bins=int(st.session_state["info_bins"]), noise_var=float(st.session_state["info_noise"]))


with st.expander("Estimator settings"):
    st.caption("Estimates are measured while training, so new settings apply from the next run "
               "(press Reset for a fresh run with them).")
    a, b = st.columns(2)
    a.number_input("Binning: bins per unit", 2, 200, value=s.probe_config.info_bins, key="info_bins",
                   on_change=_estimator_settings,
                   help="Shwartz-Ziv & Tishby binned tanh outputs into about 30 equal bins over [-1, 1]. "
                        "Fewer bins: fewer samples alone in a bin.")
    b.select_slider("KDE: noise variance σ²", NOISE_VARIANCES, value=s.probe_config.kde_noise_var,
                    key="info_noise", on_change=_estimator_settings, help="Saxe et al. used 0.1.")

history = _ui.need_history(s)
if history is not None:
    estimator = st.radio("Estimator", ["binning", "kde"], horizontal=True, key="info_estimator",
                         format_func={"binning": "Binning (Shwartz-Ziv & Tishby 2017)",
                                      "kde": "KDE, lower and upper bound (Saxe et al. 2018)"}.get)
    probed_epochs = [h.epoch for h in history if h.has_probes]
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        follow = st.toggle("Clustering: follow the latest epoch", value=True, key="info_follow",
                           help="Off: scrub back through the epochs with the slider.")
        if len(probed_epochs) > 1 and not follow:
            st.select_slider("Epoch", probed_epochs, value=probed_epochs[-1], key="info_epoch")
    n = s.spec.num_interfaces
    if n > VIEW_PANELS:
        groups = list(range(0, n, VIEW_PANELS))
        right.selectbox("Interfaces in the clustering view", groups, key="info_view_group",
                        format_func=lambda g: f"if {g} to if {min(g + VIEW_PANELS, n) - 1}")


def _plane(probed, key: str):
    from infoif.figures.information import info_plane_figure
    from infoif.train.probes import saturation_note

    info = [h.probes.info[key] for h in probed]
    latest = info[-1]
    binning = probed[-1].probes.info["binning"]
    lower = latest.i_xt_lower is not None
    plot, notes = st.columns([3, 1])
    with plot:
        fig = info_plane_figure(
            np.stack([i.i_xt for i in info]), np.stack([i.i_ty for i in info]),
            np.array([h.epoch for h in probed]), latest.label,
            i_xt_lower=np.stack([i.i_xt_lower for i in info]) if lower else None,
            i_ty_lower=np.stack([i.i_ty_lower for i in info]) if lower else None,
            samples=latest.samples or None, h_y=latest.h_y if np.isfinite(latest.h_y) else None,
            range_note=latest.params.get("range_note"),
        )
        _ui.chart(fig, "info_plane", f"information_plane_{key}.csv")
    with notes:
        st.markdown("**Estimates, not exact values**")
        st.markdown(latest.label)
        shown = {k: v for k, v in latest.params.items() if k not in ("range_note", "batch")}
        st.markdown("\n".join(f"- {k}: `{v:.4g}`" if isinstance(v, float) else f"- {k}: `{v}`"
                              for k, v in shown.items()))
        n_probe = probed[-1].probes.probe_size
        batch = binning.params.get("batch", f"{n_probe:,} samples")
        text = f"Measured on {batch}, the same every epoch. "
        if key == "kde":
            text += (f"The KDE uses a fixed random {latest.samples:,} of them (its cost grows with the square "
                     f"of that), so I(X;T) is at most log2({latest.samples:,}) = {latest.ceiling_xt:.2f} bits. "
                     "The bars run from the lower to the upper bound of I(X;T); for I(T;Y) the two are two "
                     "estimates, not a bracket.")
        else:
            text += (f"I(X;T) is at most log2({latest.samples:,}) = {latest.ceiling_xt:.2f} bits (dotted line), "
                     f"reached when every sample has a bin of its own. Bins: {latest.params.get('range_note')}.")
        text += f" I(T;Y) is at most H(Y) = {latest.h_y:.2f} bits (dashed line)."
        st.caption(text)
    note = saturation_note(binning)
    if note:
        st.warning(note, icon=":material/info:")
    if key == "binning" and binning.outside is not None and float(np.max(binning.outside)) > 0.05:
        worst = int(np.argmax(binning.outside))
        st.info(f"At epoch {probed[-1].epoch}, {float(binning.outside[worst]):.0%} of the outputs of if {worst} "
                "lie beyond the range fixed at the first probe. They are counted in the end bins, which makes "
                "binning read less I(X;T) than there is: a fall in I(X;T) may be this, not compression "
                "(see the KDE estimate).")


def _clustering(probed):
    from infoif.figures.information import clustering_figure

    by_epoch = {h.epoch: h for h in probed}
    chosen = st.session_state.get("info_epoch") if not st.session_state.get("info_follow", True) else None
    snap = by_epoch.get(chosen, probed[-1])
    p = snap.probes
    if p.view is None:
        return
    st.subheader("Clustering: what binning tracks")
    st.caption(
        "Each panel is one interface: the probe samples' outputs on its two main axes (PCA), coloured by "
        "class. Binning reads a low I(X;T) when the outputs sit in a few tight clusters and a high one when "
        "they spread out; I(T;Y) is high when each cluster holds one class (Goldfeld et al. 2019)."
    )
    n = p.view.shape[0]
    first = int(st.session_state.get("info_view_group", 0) or 0)
    first = first if 0 <= first < n else 0
    class_names = getattr(s.dataset, "class_names", None)
    labels = p.view_labels
    if class_names is not None and (labels.size == 0 or int(labels.max()) >= len(class_names)):
        class_names = None
    _ui.chart(clustering_figure(p.view, labels, snap.epoch, variance=p.view_variance, class_names=class_names,
                                interfaces=list(range(first, min(first + VIEW_PANELS, n)))),
              "info_clustering", f"clustering_epoch_{snap.epoch}.csv")


def render():
    run = s.current_run()
    probed = [h for h in run.history if h.has_probes] if run is not None else []
    if not probed:
        st.info("The first measurement arrives within a second of training.")
        return
    key = st.session_state.get("info_estimator", "binning")
    _plane(probed, key)
    _clustering(probed)


if history is not None or _ui.is_training(s):  # go live as soon as training starts
    _ui.live(render, s)

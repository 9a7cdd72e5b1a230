"""Information plane: I(X;T) against I(T;Y) per interface, over training."""

import numpy as np
import streamlit as st

from pages import _ui

s = _ui.page_session()
st.title("Information plane")

NOISE_VARIANCES = [0.001, 0.01, 0.1, 1.0]


def _estimator_settings():
    s.set_estimators(bins=int(st.session_state["info_bins"]), noise_var=float(st.session_state["info_noise"]))


with st.expander("Estimator settings"):
    st.caption("Estimates are measured while training, so new settings apply from the next run "
               "(press Reset for a fresh run with them).")
    a, b = st.columns(2)
    a.number_input("Binning: bins", 2, 200, value=s.probe_config.info_bins, key="info_bins",
                   on_change=_estimator_settings, help="Shwartz-Ziv & Tishby used 30 equal-width bins.")
    b.select_slider("KDE: noise variance σ²", NOISE_VARIANCES, value=s.probe_config.kde_noise_var,
                    key="info_noise", on_change=_estimator_settings, help="Saxe et al. used 0.1.")

history = _ui.need_history(s)
if history is not None:
    estimator = st.radio("Estimator", ["binning", "kde"], horizontal=True, key="info_estimator",
                         format_func={"binning": "Binning (Shwartz-Ziv & Tishby 2017)",
                                      "kde": "KDE upper bound (Saxe et al. 2018)"}.get)


def render():
    from infoif.figures import info_plane_figure

    run = s.current_run()
    probed = [h for h in run.history if h.has_probes] if run is not None else []
    if not probed:
        st.info("The first measurement arrives within a second of training.")
        return
    key = st.session_state.get("info_estimator", "binning")
    info = [h.probes.info[key] for h in probed]
    plot, notes = st.columns([3, 1])
    with plot:
        _ui.chart(info_plane_figure(np.stack([i.i_xt for i in info]), np.stack([i.i_ty for i in info]),
                                    np.array([h.epoch for h in probed]), info[-1].label),
                  "info_plane", f"information_plane_{key}.csv")
    with notes:
        st.markdown("**Estimates, not exact values**")
        st.markdown(f"{info[-1].label}")
        st.markdown("\n".join(f"- {k}: `{v}`" for k, v in info[-1].params.items()))
        n_probe = probed[-1].probes.energy_curve.shape[0]
        st.caption(
            f"Measured on a fixed batch of {n_probe} validation samples. With every sample a distinct input, "
            f"I(X;T) is at most log2({n_probe}) = {np.log2(n_probe):.2f} bits; I(T;Y) at most H(Y)."
        )


if history is not None or _ui.is_training(s):  # go live as soon as training starts
    _ui.live(render, s)

"""Train: controls, live loss and metric curves, epoch budget and progress."""

import streamlit as st

from pages import _ui

s = _ui.page_session()
st.title("Train")

LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
# Points per curve: while a run trains the charts are redrawn every two seconds, about a point per
# pixel of a half-width chart (a browser watching eight runs spent 1.2-1.3 of a core redrawing them
# at 2,000); at rest, more detail for zooming. Thinning keeps every stretch's highest and lowest point.
LIVE_POINTS, REST_POINTS = 600, 2000

# Each control's default is the current setting, not a pre-seeded session value: a browser that
# loses a control's state while a rerun redraws it (Streamlit 1.67, under load) sends the control's
# default back as a change, and a default of the first option set the batch size to 1 (or the
# budget to 0) behind the user's back (bench/load.py caught it: 37 epochs/s instead of 900).
controls, settings = st.columns([1, 2])
with controls:
    _ui.training_controls(s, "train")
    st.number_input("Epoch budget (0: until stopped)", 0, 1_000_000, s.settings.epochs, step=50, key="train_epochs",
                    on_change=lambda: s.set_training(epochs=int(st.session_state["train_epochs"])))
with settings:
    st.select_slider("Learning rate (applies at the next epoch)", LEARNING_RATES,
                     _ui.nearest(LEARNING_RATES, s.spec.learning_rate), key="train_lr",
                     on_change=lambda: s.set_learning_rate(float(st.session_state["train_lr"])))
    st.select_slider("Batch size (applies at the next epoch)", BATCH_SIZES,
                     _ui.nearest(BATCH_SIZES, s.settings.batch_size), key="train_bs",
                     on_change=lambda: s.set_training(batch_size=int(st.session_state["train_bs"])))
    smoothing = st.slider("Smoothing", 0.0, 0.99, 0.6, 0.01, key="train_smoothing",
                          help="TensorBoard's debiased exponential moving average.")


def render():
    _ui.status_line(s)
    state = s.status()
    run = s.current_run()
    history = run.history if run is not None else ()
    if state.budget and state.budget_done is not None:
        st.progress(min(1.0, state.budget_done / state.budget), text=f"{state.budget_done} of {state.budget} epochs")
    if run is not None and run.problem:
        st.warning(run.problem)
    if not history:
        st.info("No epochs yet: press **Train** to start." if not state.active else
                "Starting: the first epochs arrive within a few seconds.")
        return
    from infoif.figures.train import loss_curves_figure

    epochs = [snap.epoch for snap in history]
    points = LIVE_POINTS if state.active else REST_POINTS
    metrics = history[-1].metrics
    metric = next((k for k in ("accuracy", "mae") if k in metrics), None)
    per_second = history[-1].epoch / max(history[-1].time, 1e-9)
    gaps = run.gaps
    st.caption(f"{history[-1].epoch} epochs in {history[-1].time:.1f} s of training ({per_second:.0f} epochs/s) · "
               f"lr {metrics['lr']:g} · batch {int(metrics['batch_size'])}"
               + (f" · resumed after an interruption at epoch {', '.join(map(str, gaps))}" if gaps else ""))
    a, b = st.columns(2)
    with a:
        series = {"train": [h.metrics["loss"] for h in history], "validation": [h.metrics["val_loss"] for h in history]}
        _ui.chart(loss_curves_figure(epochs, series, smoothing=smoothing, title="Loss", gaps=gaps,
                                     max_points=points), "train_loss",
                  "loss.csv")
    if metric:
        with b:
            series = {"train": [h.metrics[metric] for h in history],
                      "validation": [h.metrics[f"val_{metric}"] for h in history]}
            _ui.chart(loss_curves_figure(epochs, series, smoothing=smoothing, title=metric, gaps=gaps,
                                         max_points=points),
                      "train_metric", f"{metric}.csv")


_ui.live(render, s)

run = s.current_run()
if run is not None and run.history:
    d1, d2 = st.columns(2)
    if run.has_model():
        d1.download_button("Download model (.keras)", data=run.export_model, file_name=f"infoif-{run.name}.keras",
                           mime="application/octet-stream", key="train_download_model", on_click="ignore",
                           icon=":material/download:")
    d2.download_button("Download history (CSV)", data=run.history_csv, file_name=f"infoif-{run.name}-history.csv",
                       mime="text/csv", key="train_download_history", on_click="ignore",
                       icon=":material/download:")
    st.caption("The model is saved at every pause, stop and end (and every 30 s while training); it loads "
               "anywhere with `import infoif, keras; keras.models.load_model(path)`.")

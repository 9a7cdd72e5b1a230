"""Predict: new rows through the trained model, exactly as its download answers them.

The model runs in a training worker (the server never loads one): the page sends the file and
shows the table that comes back.
"""

import os

import streamlit as st

from infoif.data import UPLOAD_TYPES, DataError
from infoif.constants import PREDICTION
from infoif.runs.service import ServiceError
from pages import _ui

s = _ui.page_session()
st.title("Predict")

try:
    predictor = s.predictor()
except ServiceError as exc:
    predictor = None
    st.warning(f"The model could not be prepared for predictions: {exc}")

if predictor is None:
    st.info("No trained model yet: train one (**Train** in the sidebar), then upload new rows here.")
else:
    info = predictor["describe"]
    st.caption(
        f"The model of run `{predictor['run']}` after {predictor['epoch']} epochs · predicts **{info['target']}** "
        f"({info['task']}) from " + ", ".join(f"`{c['column']}`" for c in info["columns"])
    )

    def _predict():
        file = st.session_state.get("predict_upload")
        if file is None:
            return
        try:
            st.session_state["predict_result"] = s.predict(file, file.name)
            st.session_state.pop("predict_error", None)
        except (DataError, ValueError, ServiceError) as exc:
            st.session_state["predict_error"] = f"Could not predict for {file.name}: {exc}"
        except Exception as exc:  # noqa: BLE001 - never a traceback for a user's file
            if os.environ.get("INFOIF_STRICT") == "1":
                raise
            _ui.log.exception("Unexpected error while predicting")
            st.session_state["predict_error"] = f"Predicting failed unexpectedly ({type(exc).__name__}: {exc})."

    st.file_uploader("New rows (the columns the model was trained on; extra columns are ignored)",
                     type=UPLOAD_TYPES, key="predict_upload", on_change=_predict)
    error = st.session_state.get("predict_error")
    result = st.session_state.get("predict_result")
    if error:
        st.error(error)
        if result is not None:
            st.caption(f"Still showing the predictions for **{result.filename}**.")
    if result is not None:
        st.caption(f"Predictions for **{result.filename}** by {result.made_by}.")
        scores = result.score
        if scores:
            st.markdown(f"**{info['target']}** is in the file, so here is how the model did on its "
                        f"{scores['rows']:,} rows:")
            cols = st.columns(len(scores) - 1)
            for col, (key, value) in zip(cols, [(k, v) for k, v in scores.items() if k != "rows"]):
                col.metric(key.replace("_", " "), f"{value:.4g}")
        answer, rows = result.answer, result.rows
        table = answer.join(rows.drop(columns=[c for c in answer.columns if c in rows.columns]))
        st.dataframe(table.head(1000), height=320, column_config={
            c: st.column_config.ProgressColumn(c, min_value=0.0, max_value=1.0, format="%.3f")
            for c in answer.columns if c != PREDICTION
        })
        st.caption(f"{len(answer):,} rows" + (" (the first 1,000 shown)" if len(answer) > 1000 else ""))
        st.download_button("Predictions (CSV)", data=lambda: table.to_csv(index=False),
                           file_name=f"predictions-{os.path.splitext(result.filename)[0]}.csv", mime="text/csv",
                           key="predict_csv", on_click="ignore", icon=":material/download:")

    st.subheader("Use the model elsewhere")
    run = s.current_run()
    d1, d2 = st.columns(2)
    stem = f"infoif-{predictor['run']}"
    d1.download_button("Model (.keras)", data=lambda: run.export_model("keras"), file_name=f"{stem}.keras",
                       mime="application/octet-stream", key="predict_keras", on_click="ignore",
                       icon=":material/download:")
    d2.download_button("TensorFlow SavedModel (.zip)", data=lambda: run.export_model("savedmodel"),
                       file_name=f"{stem}-savedmodel.zip", mime="application/zip", key="predict_savedmodel",
                       on_click="ignore", icon=":material/download:")
    st.code(
        "import infoif, keras, pandas\n"
        f'model = keras.models.load_model("{stem}.keras")\n'
        'infoif.predict(model, pandas.read_csv("new_rows.csv"))   # prediction'
        + (", probability_<class>" if info["class_names"] else "") + "\n",
        language="python",
    )
    st.caption("The SavedModel runs where only TensorFlow is installed; its README lists the inputs.")

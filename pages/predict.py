"""Predict: new rows through the trained model, exactly as its download answers them."""

import os

import streamlit as st

import infoif
from infoif import export
from infoif.data import UPLOAD_TYPES, DataError, load_table
from pages import _ui

MADE_BY = "run `{run}` after {epoch} epochs"  # from Session.prediction_source

s = _ui.page_session()
st.title("Predict")

model = s.prediction_model()
if model is None:
    st.info("No trained model yet: train one (**Train** in the sidebar), then upload new rows here.")
else:
    info = export.describe(model)
    st.caption(
        f"The model of {MADE_BY.format(**s.prediction_source)} · predicts **{info['target']}** ({info['task']}) from "
        + ", ".join(f"`{c['column']}`" for c in info["columns"])
    )

    def _predict():
        file = st.session_state.get("predict_upload")
        if file is None:
            return
        try:
            current = s.prediction_model()
            if current is None:
                st.session_state["predict_error"] = "The model has changed and not trained yet: train it first."
                return
            rows = load_table(file, file.name)
            answer = infoif.predict(current, rows)
            st.session_state["predict_result"] = (file.name, rows, answer, export.score(current, rows, answer),
                                                  MADE_BY.format(**s.prediction_source))
            st.session_state.pop("predict_error", None)
        except DataError as exc:
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
            st.caption(f"Still showing the predictions for **{result[0]}**.")
    if result is not None:
        name, rows, answer, scores, predicted_by = result
        st.caption(f"Predictions for **{name}** by {predicted_by}.")
        if scores:
            st.markdown(f"**{info['target']}** is in the file, so here is how the model did on its "
                        f"{scores['rows']:,} rows:")
            cols = st.columns(len(scores) - 1)
            for col, (key, value) in zip(cols, [(k, v) for k, v in scores.items() if k != "rows"]):
                col.metric(key.replace("_", " "), f"{value:.4g}")
        table = answer.join(rows.drop(columns=[c for c in answer.columns if c in rows.columns]))
        st.dataframe(table.head(1000), height=320, column_config={
            c: st.column_config.ProgressColumn(c, min_value=0.0, max_value=1.0, format="%.3f")
            for c in answer.columns if c != export.PREDICTION
        })
        st.caption(f"{len(answer):,} rows" + (" (the first 1,000 shown)" if len(answer) > 1000 else ""))
        st.download_button("Predictions (CSV)", data=lambda: table.to_csv(index=False),
                           file_name=f"predictions-{os.path.splitext(name)[0]}.csv", mime="text/csv",
                           key="predict_csv", on_click="ignore", icon=":material/download:")

    st.subheader("Use the model elsewhere")
    d1, d2 = st.columns(2)
    stem = f"infoif-{s.prediction_source['run']}"
    d1.download_button("Model (.keras)", data=lambda: export.keras_bytes(model), file_name=f"{stem}.keras",
                       mime="application/octet-stream", key="predict_keras", on_click="ignore",
                       icon=":material/download:")
    d2.download_button("TensorFlow SavedModel (.zip)", data=lambda: export.saved_model_zip(model),
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

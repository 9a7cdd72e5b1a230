"""Data: pick a sample or upload a file; preview, column types, target, preparation report."""

import os

import pandas as pd
import streamlit as st

from infoif import datasets
from infoif.data import MAX_UPLOAD_MB, DataError
from pages import _ui

s = _ui.page_session()
st.title("Data")


def _apply(action, what: str):
    """Runs a data change; any failure becomes a message and the previous data stays."""
    try:
        action()
        st.session_state.pop("data_error", None)
    except DataError as exc:
        st.session_state["data_error"] = f"{what}: {exc}" if what else str(exc)
    except Exception as exc:  # noqa: BLE001 - never a traceback for a user's file
        if os.environ.get("INFOIF_STRICT") == "1":
            raise
        _ui.log.exception("Unexpected error while changing data")
        st.session_state["data_error"] = (
            f"{what or 'That change'} failed unexpectedly ({type(exc).__name__}: {exc}). "
            "Your previous data is still in use."
        )


def _choose_sample():
    _apply(lambda: s.use_sample(st.session_state["data_sample"]), "")


def _upload():
    file = st.session_state.get("data_upload")
    if file is not None:
        _apply(lambda: s.use_upload(file, file.name), f"Could not use {file.name}")
        if s.data_source == "upload":
            st.session_state["data_sample"] = None  # the sample box shows that the upload is in use


def _retarget():
    _apply(lambda: s.set_target(st.session_state["data_target"], st.session_state["data_task"]), "")


left, right = st.columns(2)
with left:
    names = list(datasets.SAMPLES)
    current = s.data_name if s.data_source == "sample" else None
    st.selectbox(
        "Sample dataset", names, index=names.index(current) if current in names else None,
        placeholder="(your upload is in use)", key="data_sample", on_change=_choose_sample,
        help="Real datasets and TensorFlow Playground's 2-D sets.",
    )
    if current in datasets.SAMPLES:
        st.caption(datasets.SAMPLES[current].description)
with right:
    st.file_uploader(
        "Or upload your own table", type=["csv", "tsv", "txt", "parquet", "json"], key="data_upload",
        on_change=_upload,
        help=f"CSV/TSV (any delimiter, UTF-8/UTF-16/Latin-1), Parquet or JSON; up to {MAX_UPLOAD_MB} MB.",
    )

error = st.session_state.get("data_error")
if error:
    st.error(error)
    st.caption(f"Still using **{s.data_name}**.")

frame, d = s.frame, s.dataset
st.subheader(f"{s.data_name}")
st.caption(f"{len(frame)} rows × {frame.shape[1]} columns · {len(d.x_train)} for training, "
           f"{len(d.x_val)} for validation")

target_col, task_col = st.columns(2)
columns = list(map(str, frame.columns))
target_col.selectbox("Target column", columns, index=columns.index(str(s.settings.target)),
                     key="data_target", on_change=_retarget)
tasks = ["auto", "binary", "multiclass", "regression"]
task_col.selectbox("Task", tasks, index=tasks.index(s.settings.task), key="data_task", on_change=_retarget,
                   help=f"Inferred from the target: **{d.task}**.")
st.markdown(f"Task: **{d.task}**" + (f" · classes: {', '.join(map(str, d.class_names))}" if d.class_names else ""))

with st.expander("What preparation did", expanded=True):
    st.markdown("\n".join(f"- {line}" for line in d.report))

preview, types = st.tabs(["Preview", "Columns"])
with preview:
    st.dataframe(frame.head(200), height=280)
with types:
    info = pd.DataFrame({
        "column": columns,
        "type": [str(t) for t in frame.dtypes],
        "missing": frame.isna().sum().to_numpy(),
        "distinct": frame.nunique().to_numpy(),
    })
    st.dataframe(info, hide_index=True)

from infoif.plane import is_planar  # noqa: E402

if is_planar(d):
    from infoif.figures import scatter_2d_figure

    x_name, y_name = d.raw_feature_columns
    _ui.chart(scatter_2d_figure(frame, x_name, y_name, s.settings.target), "data_scatter", "data_scatter.csv")

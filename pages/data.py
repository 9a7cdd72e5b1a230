"""Data: pick a sample or upload a file; preview, the feature columns and their roles, target,
encoding, preparation report."""

import os

import streamlit as st

from infoif import datasets
from infoif.constants import TASK_CHOICES
from infoif.data import ENCODINGS, ROLE_KINDS, UPLOAD_TYPES, DataError, describe_limits, roles_from_table, roles_table
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


# The sample box is a different widget while an upload is in use (it shows none selected). Setting
# one widget's value from another's callback was lost whenever the browser sent its next request
# before it had drawn the new value: the stale "Circle" then counted as a choice and the upload was
# replaced by the sample (a timed refresh during a slow upload did it). A stale value of the box no
# longer drawn is not a change.
SAMPLE_KEYS = {"sample": "data_sample", "upload": "data_sample_upload"}


def _choose_sample(key: str):
    name = st.session_state.get(key)
    if name is not None:
        _apply(lambda: s.use_sample(name), "")
        st.session_state.pop("data_encoding", None)  # the encoding box starts afresh with new data


def _upload():
    file = st.session_state.get("data_upload")
    if file is not None:
        _apply(lambda: s.use_upload(file, file.name), f"Could not use {file.name}")
        st.session_state.pop("data_encoding", None)


def _retarget():
    _apply(lambda: s.set_target(st.session_state["data_target"], st.session_state["data_task"]), "")


def _encoding():
    _apply(lambda: s.set_encoding(st.session_state["data_encoding"]), "Could not read the file in that encoding")


def _roles_key() -> str:
    return f"data_roles_{st.session_state.setdefault('data_roles_version', 0)}"


def _roles():
    """Applies the editor's changes to the table it was drawn from; the editor starts afresh."""
    edits = st.session_state.get(_roles_key(), {}).get("edited_rows", {})
    table = roles_table(s.frame, s.dataset, s.roles)
    for row, changes in edits.items():
        for column, value in changes.items():
            table.loc[int(row), column] = value
    _apply(lambda: s.set_roles(**roles_from_table(table)), "Could not use those columns")
    st.session_state["data_roles_version"] += 1


left, right = st.columns(2)
with left:
    names = list(datasets.SAMPLES)
    current = s.data_name if s.data_source == "sample" else None
    sample_key = SAMPLE_KEYS["sample" if s.data_source == "sample" else "upload"]
    if st.session_state.get(sample_key, current) != current:  # the data changed elsewhere (a link, a reset)
        st.session_state.pop(sample_key)
    st.selectbox(
        "Sample dataset", names, index=names.index(current) if current in names else None,
        placeholder="(your upload is in use)", key=sample_key, on_change=_choose_sample, args=(sample_key,),
        help="Real datasets and TensorFlow Playground's 2-D sets.",
    )
    if current in datasets.SAMPLES:
        st.caption(datasets.SAMPLES[current].description)
with right:
    st.file_uploader(
        "Or upload your own table", type=UPLOAD_TYPES, key="data_upload", on_change=_upload,
        help=describe_limits() + " Separators, encodings and quoted names are detected.",
    )
    report = s.load_report
    if s.data_source == "upload" and report is not None and (not report.unicode or report.options.get("encoding")):
        codes = [None, *ENCODINGS]
        chosen = report.options.get("encoding")
        st.selectbox(
            "Encoding of the file", codes, index=codes.index(chosen) if chosen in codes else 0,
            format_func=lambda c: "Detect it" if c is None else ENCODINGS[c], key="data_encoding",
            on_change=_encoding,
            help=f"The file is not UTF-8; it was read as **{ENCODINGS.get(report.encoding, report.encoding)}**. "
                 "If letters look wrong, "
                 "choose the encoding it was saved in.",
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
tasks = list(TASK_CHOICES)
task_col.selectbox("Task", tasks, index=tasks.index(s.settings.task), key="data_task", on_change=_retarget,
                   help=f"Inferred from the target: **{d.task}**.")
st.markdown(f"Task: **{d.task}**" + (f" · classes: {', '.join(map(str, d.class_names))}" if d.class_names else ""))

with st.expander("What preparation did", expanded=True):
    st.markdown("\n".join(f"- {line}" for line in d.report))

preview, types = st.tabs(["Preview", "Columns"])
with preview:
    st.dataframe(frame.head(200), height=280)
with types:
    st.caption("Choose which columns the model uses, and whether a column is a number or categories "
               "(codes such as zip codes are categories). **prepared as** shows what preparation made of it.")
    st.data_editor(
        roles_table(frame, d, s.roles), key=_roles_key(), on_change=_roles, hide_index=True,
        disabled=["column", "prepared as", "type", "missing", "distinct"],
        column_config={
            "use": st.column_config.CheckboxColumn("use", help="Use this column as a feature"),
            "as": st.column_config.SelectboxColumn("as", options=list(ROLE_KINDS), required=True,
                                                   help="auto: as detected; numeric; categorical (one-hot)"),
        },
    )

from infoif.train.plane import is_planar  # noqa: E402

if is_planar(d):
    from infoif.figures.data import scatter_2d_figure

    x_name, y_name = d.raw_feature_columns
    _ui.chart(scatter_2d_figure(frame, x_name, y_name, s.settings.target), "data_scatter", "data_scatter.csv")

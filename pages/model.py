"""Model: the interface architecture; any change rebuilds the model at once."""

import streamlit as st

from infoif.constants import SLIDER_MAX_INTERFACES
from infoif.nn.spec import ACTIVATIONS, MERGES, ModelSpec
from pages import _ui

s = _ui.page_session()
st.title("Model")

spec = s.spec
# Each control's default is the current setting (not a pre-seeded session value), so a browser that
# loses a control's state while a rerun redraws it sends back the setting as it is (pages/train.py).
PENALTIES = [0.0, 0.0001, 0.001, 0.01, 0.1, 1.0]


def _rebuild():
    state = st.session_state
    new = ModelSpec(
        num_interfaces=int(state["model_n"]),
        units=None if state["model_units_same"] else int(state["model_units"]),
        activation=state["model_activation"],
        leak=float(state["model_leak"]),
        penalty=float(state["model_penalty"]),
        merge=state["model_merge"],
        hidden=int(state["model_hidden"]) or None,
        learning_rate=s.spec.learning_rate,
    )
    s.set_spec(new)


left, right = st.columns([1, 2])
with left:
    st.slider("num_interfaces", 1, SLIDER_MAX_INTERFACES, spec.num_interfaces, key="model_n", on_change=_rebuild,
              help="How many parallel Dense interfaces the input goes through.")
    same = st.toggle("Units = input width (as in the original layer)", spec.units is None, key="model_units_same",
                     on_change=_rebuild)
    st.slider("units per interface", 1, 64, spec.units or 8, key="model_units", on_change=_rebuild, disabled=same)
    st.selectbox("activation", ACTIVATIONS, ACTIVATIONS.index(spec.activation), key="model_activation",
                 on_change=_rebuild)
    st.slider("EnergyReservoir leak", 0.0, 1.0, float(spec.leak), step=0.01, key="model_leak", on_change=_rebuild,
              help="0: plain integral of the power over the batch; 1: no memory.")
    st.select_slider("energy penalty", PENALTIES, _ui.nearest(PENALTIES, spec.penalty), key="model_penalty",
                     on_change=_rebuild, help="Weight of the average-power loss: bottleneck pressure.")
    st.radio("merge", MERGES, MERGES.index(spec.merge), key="model_merge", on_change=_rebuild, horizontal=True,
             help="concat: flatten all interfaces; mean: average them.")
    st.slider("hidden layer width (0: none)", 0, 64, spec.hidden or 0, key="model_hidden", on_change=_rebuild)

with right:
    from infoif.figures.model import architecture_figure
    from infoif.nn.spec import head_units, parameter_counts

    d = s.dataset
    counts = parameter_counts(s.spec, d.input_dim, d.task, d.num_classes)
    units = s.spec.units or d.input_dim
    _ui.chart(architecture_figure(d.input_dim, s.spec.num_interfaces, units, s.spec.merge, s.spec.hidden,
                                  head_units(d.task, d.num_classes), counts), "model_architecture")
    st.dataframe({"layer": list(counts), "parameters": list(counts.values())}, hide_index=True)
    run = s.current_run()
    st.caption(f"{sum(counts.values()):,} parameters in all · "
               + (f"current run `{run.name}`" if run is not None else "a fresh model is built when you press Train"))
    st.code(
        f"import infoif, keras\n"
        f"spec = infoif.ModelSpec(**{s.spec.to_dict()!r})\n"
        f"model = infoif.build_model(spec, input_dim={d.input_dim}, task={d.task!r}"
        + (f", num_classes={d.num_classes}" if d.task == "multiclass" else "") + ")",
        language="python",
    )

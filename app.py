"""InfoIF Lab: the router and frame.

    streamlit run app.py

Navigation over the pages in `pages/`, the sidebar every page shares (data,
run status, training controls), and the per-session state. Pages are thin:
they read widgets, call `infoif`, and draw figures built by `infoif.figures`.
"""

import streamlit as st

st.set_page_config(page_title="InfoIF Lab", page_icon=":material/hub:", layout="wide")

from pages import _ui  # noqa: E402  (after set_page_config)

_ui.service()  # the training service's workers start (they import TensorFlow once this page is drawn)

PAGES = [
    st.Page("pages/data.py", title="Data", icon=":material/table:", default=True),
    st.Page("pages/model.py", title="Model", icon=":material/account_tree:"),
    st.Page("pages/train.py", title="Train", icon=":material/play_circle:"),
    st.Page("pages/predict.py", title="Predict", icon=":material/online_prediction:"),
    st.Page("pages/interfaces.py", title="Interfaces", icon=":material/grid_view:"),
    st.Page("pages/information.py", title="Information plane", icon=":material/scatter_plot:"),
    st.Page("pages/compare.py", title="Compare runs", icon=":material/compare_arrows:"),
]

page = st.navigation(PAGES)
s = _ui.session()

with st.sidebar:
    st.markdown("### InfoIF Lab")
    d = s.dataset
    st.caption(
        f"**{s.data_name}** · {len(d.x_train) + len(d.x_val)} rows · {d.input_dim} features · {d.task}"
    )
    spec = s.spec
    st.caption(f"{spec.num_interfaces} interfaces × {spec.units or 'input-width'} units · {spec.activation}")
    _ui.live(lambda: _ui.status_line(s), s, _ui.STATUS_SECONDS)
    _ui.training_controls(s, "sidebar")
    for problem in st.session_state.get("link_problems", []):
        st.warning(problem)

with _ui.frame(), _ui.guard(page.title):
    page.run()
_ui.sync_url(s)
_ui.service().go()  # the page is drawn: the workers may import TensorFlow now

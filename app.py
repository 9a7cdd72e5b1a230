"""InfoIF Lab: the router and frame.

    streamlit run app.py

Navigation over the pages in `pages/`, the sidebar every page shares (data,
run status, training controls), and the per-session state. Pages are thin:
they read widgets, call `infoif`, and draw figures built by `infoif.figures`.
"""

import gc
import importlib
import threading

import streamlit as st

st.set_page_config(page_title="InfoIF Lab", page_icon=":material/hub:", layout="wide")

from pages import _ui  # noqa: E402  (after set_page_config)

_ui.keep_keras_state()

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
    _ui.live(lambda: _ui.status_line(s), s)
    _ui.training_controls(s, "sidebar")
    for problem in st.session_state.get("link_problems", []):
        st.warning(problem)

with _ui.frame(), _ui.guard(page.title):
    page.run()
_ui.sync_url(s)


def _import_tensorflow_then_freeze():
    importlib.import_module("infoif.training")
    import tensorflow as tf

    try:
        # These models' ops are too small to split across cores: one intra-op thread
        # was as fast alone (519 vs 459 epochs/s, 500 rows; equal at 50,000 rows),
        # and one inter-op thread faster still (829 vs 707 epochs/s on 1.0 instead of
        # 1.3 cores). Training then keeps to one core and leaves the other to the
        # server and the browser (bench/app.py).
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # a model was already built in this process; keep TensorFlow's default
    # Streamlit runs a full garbage collection after every script run, and again
    # inside keras.backend.clear_session(): with TensorFlow's ~400k objects each
    # one took ~200 ms holding the GIL, four times a second while live charts
    # refresh, and training slowed to a crawl. Freezing the long-lived import-time
    # objects out of the collector makes each collection ~0 ms (bench/app.py).
    gc.freeze()


@st.cache_resource(max_entries=1)
def _warm_up_tensorflow() -> threading.Thread:
    """Imports TensorFlow (~3 s) in the background once per server, after the first page is drawn,
    so the first Model or Train click does not wait for it."""
    thread = threading.Thread(target=_import_tensorflow_then_freeze, daemon=True)
    thread.start()
    return thread


_warm_up_tensorflow()

"""InfoIF Lab: the server, the router and the frame.

    streamlit run app.py

`streamlit run` finds the `st.App` at the bottom of this file and serves it.
Its lifespan (`pages/_server.lifespan`) runs once, when the server starts: the
training workers start then (they import TensorFlow while nobody waits yet),
and Streamlit leaves the legacy multipage mode that a `pages/` folder beside
this file would otherwise put it in, so a first deep link after a restart is
routed through here like any other.

Every browser session then runs this same file as its script (`__main__`):
navigation over the pages in `pages/`, the sidebar every page shares (data,
run status, training controls), and the per-session state. Pages are thin:
they read widgets, call `infoif`, and draw figures built by `infoif.figures`.
"""

import streamlit as st

PAGES = [  # (file, title, icon); the first is the default page
    ("pages/data.py", "Data", ":material/table:"),
    ("pages/model.py", "Model", ":material/account_tree:"),
    ("pages/train.py", "Train", ":material/play_circle:"),
    ("pages/predict.py", "Predict", ":material/online_prediction:"),
    ("pages/interfaces.py", "Interfaces", ":material/grid_view:"),
    ("pages/information.py", "Information plane", ":material/scatter_plot:"),
    ("pages/compare.py", "Compare runs", ":material/compare_arrows:"),
]


def main() -> None:
    """One script run of a browser session."""
    st.set_page_config(page_title="InfoIF Lab", page_icon=":material/hub:", layout="wide")

    from pages import _ui

    _ui.service()  # the training service (started with the server; see `pages/_server.lifespan`)
    page = st.navigation([st.Page(path, title=title, icon=icon, default=i == 0)
                          for i, (path, title, icon) in enumerate(PAGES)])
    s = _ui.session()

    with st.sidebar:
        st.markdown("### InfoIF Lab")
        d = s.dataset
        st.caption(
            f"**{s.data_name}** · {len(d.x_train) + len(d.x_val)} rows · {d.input_dim} features · {d.task}"
        )
        spec = s.spec
        st.caption(f"{spec.num_interfaces} interfaces × {spec.units or 'input-width'} units · {spec.activation}")
        _ui.sidebar_controls(s)
        for problem in st.session_state.get("link_problems", []):
            st.warning(problem)

    with _ui.frame(), _ui.guard(page.title):
        page.run()
    _ui.sync_url(s)
    _ui.service().go()  # the page is drawn: held workers (a server without the lifespan) may import TensorFlow


if __name__ == "__main__":
    main()
else:  # imported by `streamlit run` as the server's ASGI app
    from pages._server import lifespan, routes

    app = st.App(__file__, lifespan=lifespan, routes=routes())

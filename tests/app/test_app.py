"""The dashboard as a person uses it, through Streamlit's AppTest (no browser).

Training runs in the training service's worker processes (the `service`
fixture; the app opens the same one). `run_every` timers do not fire inside
AppTest, so tests wait for the run in the store and then rerun the page, as
the timer would.

AppTest (Streamlit 1.67) captures the sidebar of an `st.navigation` app only
on the first run: from the second run on `at.sidebar` is empty, although a
browser shows it (a six-line app reproduces this). So sidebar elements are
checked on the first run, the controls are driven through the Train page's
identical controls afterwards, and the real sidebar and URL are checked in
the browser test (tests/e2e).
"""

import json
import os
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from infoif import datasets
from tests.conftest import wait_for

os.environ["INFOIF_STRICT"] = "1"  # unexpected errors fail tests instead of becoming messages

APP = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "app.py")
PAGES = ["pages/data.py", "pages/model.py", "pages/train.py", "pages/predict.py", "pages/interfaces.py",
         "pages/information.py", "pages/compare.py"]


def open_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def session(at):
    return at.session_state["infoif"]


def figures(at):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def values(trace, key):
    """A trace's array, decoding plotly's typed-array form {"dtype", "bdata"}."""
    import base64

    import numpy as np

    v = trace.get(key, [])
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray(v)


def trace_names(fig):
    return [t.get("name") for t in fig["data"]]




def train(at, epochs=6):
    """Trains the current run (or a new one) for `epochs` epochs through the session's verbs."""
    s = session(at)
    s.set_training(epochs=epochs)
    before = s.status().epoch
    s.train()
    wait_for(lambda: s.status().status in ("finished", "failed"), what="training to finish")
    assert s.status().status == "finished", s.status().error
    run = s.current_run()
    assert len(run.history) == before + epochs
    return run


def close(app):
    s = session(app)
    for info in s.runs():
        if info.status in ("running", "paused", "queued"):
            s.service.stop(info.id)


@pytest.fixture
def at(service):
    app = open_app()
    yield app
    close(app)


def test_opens_on_the_default_dataset(at):
    s = session(at)
    assert s.data_name == datasets.DEFAULT_SAMPLE and s.data_source == "sample"
    assert at.selectbox(key="data_sample").value == datasets.DEFAULT_SAMPLE
    assert at.query_params["data"] in (datasets.DEFAULT_SAMPLE, [datasets.DEFAULT_SAMPLE])
    assert any(datasets.DEFAULT_SAMPLE in c.value for c in at.sidebar.caption)
    assert not at.error
    # the default 2-D dataset shows its scatter plot
    assert figures(at), "the Data page of a 2-D dataset shows a scatter plot"


SERVER_IMPORTS = """
import os, sys, time
os.environ["INFOIF_STRICT"] = "1"
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=120)
at.run()
s = at.session_state["infoif"]
s.set_training(epochs=5)
s.train()
deadline = time.monotonic() + 180
while s.status().status != "finished" and time.monotonic() < deadline:
    time.sleep(0.1)
assert s.status().status == "finished", s.status()
for page in sys.argv[2:]:
    at.switch_page(page)
    at.run()
    assert not at.exception, (page, at.exception)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))
"""


def test_the_server_never_imports_tensorflow(service):
    """Training lives in worker processes: the server's pages (and their GC, and Streamlit's Keras
    clean-up after every script run) never touch TensorFlow."""
    out = subprocess.run([sys.executable, "-c", SERVER_IMPORTS, APP, *PAGES], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                         cwd=os.path.dirname(APP))
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout[-2000:]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_before_training(at, page):
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    assert not at.error
    assert at.title, f"{page} has no title"


def chart_titles(at):
    return [f["layout"].get("title", {}).get("text", "") for f in figures(at)]


def test_every_page_after_training_holds_its_charts(at):
    train(at, epochs=8)
    expected = {
        "pages/train.py": 2,  # loss, metric
        "pages/information.py": 1,
        "pages/compare.py": 1,  # overlaid curves (one run)
    }
    for page, count in expected.items():
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, at.exception)
        figs = figures(at)
        assert len(figs) >= count, (page, len(figs))
    # the Interfaces page draws only its open tab
    at.switch_page("pages/interfaces.py")
    at.run()
    assert [t.label for t in at.tabs] == ["Weights", "Outputs", "Energy", "Input plane"]
    tabs = {
        None: ["Kernels", "Kernel similarity", "Kernel norms", "Weights of if 0"],  # the first tab opens
        "Outputs": ["Output histograms · epoch 8", "Outputs of if 0"],
        "Energy": ["Energy E[b] · epoch 8", "Final energy per interface"],
        "Input plane": ["Decision surface", "Interfaces over the input plane"],
        "Weights": ["Kernels", "Kernel similarity", "Kernel norms", "Weights of if 0"],
    }
    for tab, titles in tabs.items():
        if tab is not None:
            at.session_state["if_view"] = tab
            at.run()
        assert not at.exception, (tab, at.exception)
        assert chart_titles(at) == titles, tab
    at.switch_page("pages/train.py")
    at.run()
    loss = figures(at)[0]
    assert {"train", "validation"} <= set(filter(None, trace_names(loss)))
    n_points = max(len(values(t, "x")) for t in loss["data"])
    assert n_points == 8


def test_interfaces_page_shows_one_trace_per_interface(at):
    at.switch_page("pages/model.py")
    at.run()
    at.slider(key="model_n").set_value(5).run()
    assert not at.exception, at.exception
    train(at, epochs=5)
    at.switch_page("pages/interfaces.py")
    at.run()
    at.session_state["if_view"] = "Energy"
    at.run()
    assert not at.exception, at.exception
    figs = figures(at)
    energy = next(f for f in figs if "nergy" in json.dumps(f["layout"].get("title", "")) and
                  "sample" in json.dumps(f["layout"]).lower())
    assert len([t for t in energy["data"] if t.get("type", "scatter") in ("scatter", "scattergl")]) >= 5


def test_num_interfaces_slider_rebuilds_the_model(at):
    at.switch_page("pages/model.py")
    at.run()
    before = train(at, epochs=2)
    at.slider(key="model_n").set_value(13).run()
    assert not at.exception, at.exception
    s = session(at)
    assert s.current_run() is None and before.id in [r.id for r in s.runs()], "the trained run is set aside"
    table = at.dataframe[0].value
    assert table["parameters"].iloc[0] == 2 * 13 * 8 + 13 * 8  # interfaces: kernel + bias, from the spec
    run = train(at, epochs=2)
    assert run.id != before.id and run.spec.num_interfaces == 13
    assert run.history[-1].probes.kernels.shape[0] == 13
    assert s.settings.spec.num_interfaces == 13  # what the URL mirrors (checked in tests/e2e)


def test_upload_good_file_switches_dataset(at):
    csv = b"a;b;c;label\n" + b"".join(
        f"{i % 7};{(i * 3) % 5};{i % 2};{'yes' if (i % 7) > 3 else 'no'}\n".encode() for i in range(120)
    )
    at.file_uploader(key="data_upload").set_value(("mine.csv", csv, "text/csv")).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    s = session(at)
    assert s.data_name == "mine.csv" and s.data_source == "upload"
    assert at.selectbox(key="data_sample_upload").value is None  # no sample shown as selected
    # a sample chosen from that box replaces the upload; the box is the sample's again
    at.selectbox(key="data_sample_upload").set_value("Iris").run()
    assert session(at).data_name == "Iris" and at.selectbox(key="data_sample").value == "Iris"
    at.file_uploader(key="data_upload").set_value(("mine.csv", csv, "text/csv")).run()
    assert session(at).data_name == "mine.csv"
    assert s.dataset.input_dim == 3 and s.dataset.task == "binary"
    # and the model follows the new data
    at.switch_page("pages/model.py")
    at.run()
    assert "input_dim=3" in at.code[0].value
    assert train(at, epochs=1).history[-1].probes.kernels.shape[1] == 3


def test_bad_upload_shows_its_message_and_keeps_the_old_dataset(at):
    s = session(at)
    before_name, before_dataset = s.data_name, s.dataset
    at.file_uploader(key="data_upload").set_value(("broken.csv", b"PK\x03\x04\x14\x00\x00\x00 zip", "text/csv")).run()
    assert not at.exception, at.exception
    assert at.error, "a bad upload must show an error"
    message = at.error[0].value
    assert "broken.csv" in message and ("ZIP" in message or "zip" in message)
    assert session(at).data_name == before_name and session(at).dataset is before_dataset


def test_training_keeps_run_when_a_bad_upload_arrives(at):
    run = train(at, epochs=3)
    at.file_uploader(key="data_upload").set_value(("empty.csv", b"   \n\n", "text/csv")).run()
    assert at.error
    assert session(at).current_run().id == run.id and len(run.history) == 3


def test_sidebar_controls_start_training(at):
    assert [b.key for b in at.sidebar.button] == [
        "sidebar_play", "sidebar_pause", "sidebar_step", "sidebar_stop", "sidebar_reset"]
    at.sidebar.button(key="sidebar_play").click().run()
    assert not at.exception, at.exception
    s = session(at)
    assert s.current_run() is not None and s.status().active or s.status().status == "finished"
    wait_for(lambda: s.status().epoch >= 2, what="two epochs")


def test_train_page_controls_pause_stop_and_reset(at):
    at.switch_page("pages/train.py")
    at.run()
    at.number_input(key="train_epochs").set_value(0).run()  # until stopped
    at.button(key="train_play").click().run()
    s = session(at)
    run = s.current_run()
    wait_for(lambda: s.status().epoch >= 2, what="two epochs")
    assert s.status().status == "running"
    at.button(key="train_pause").click().run()
    assert s.status().status == "paused"
    paused_at = s.status().epoch
    at.button(key="train_play").click().run()  # resumes
    wait_for(lambda: s.status().epoch > paused_at, what="the resumed run")
    assert s.status().status == "running"
    at.button(key="train_stop").click().run()
    assert s.status().status == "stopped"
    assert not at.exception, at.exception
    at.button(key="train_reset").click().run()
    assert s.current_run() is None
    assert run.id in [r.id for r in s.runs()], "a trained run stays for comparison"


def test_train_past_the_servers_limit_says_why_and_what_to_do_and_keeps_everything(at, service):
    """With the server's limit reached, Train shows the reason and what to do under the controls (no
    traceback); the data, the settings and the runs already trained stay; once a run is paused,
    Train works."""
    from infoif.runs.fairshare import Limits
    from infoif.nn.spec import ModelSpec
    from tests.conftest import CIRCLE

    other = service.store.create_run(service.store.create_workspace(), ModelSpec(), CIRCLE, "Circle").id
    old = service.limits
    service.limits = Limits(per_workspace=4, total=1)
    try:
        service.train(other, None, wait=None)  # someone else's run fills the server
        at.switch_page("pages/train.py")
        at.run()
        before = session(at).dataset
        at.button(key="train_play").click().run()
        assert not at.exception, at.exception
        warning = " ".join(w.value for w in at.warning)
        assert "already training 1 run," in warning and "Pause or stop one of your runs" in warning, warning
        assert session(at).dataset is before and session(at).status().status == "idle"
        service.pause(other)
        at.button(key="train_play").click().run()
        assert not at.exception, at.exception
        wait_for(lambda: session(at).status().epoch >= 1, what="training once there is room")
    finally:
        service.limits = old
        service.forget(other)


def test_charts_refresh_slower_while_many_runs_share_the_server_and_say_so(at, service):
    """While more runs train than the server has workers, the Train page's charts redraw less often
    and the page says why; once the others pause, the usual refresh is back and the note is gone."""
    from infoif.runs.fairshare import chart_refresh
    from infoif.nn.spec import ModelSpec
    from tests.conftest import CIRCLE

    store = service.store
    others = [store.create_run(store.create_workspace(), ModelSpec(), CIRCLE, "Circle").id
              for _ in range(2 * service.n_workers)]
    try:
        for r in others:
            service.train(r, None, wait=None)
        at.switch_page("pages/train.py")
        at.run()
        at.number_input(key="train_epochs").set_value(0).run()
        at.button(key="train_play").click().run()
        wait_for(lambda: session(at).status().epoch >= 1, what="the first epoch")
        at.run()  # as the charts' timer would
        assert not at.exception, at.exception
        note = chart_refresh(len(others) + 1, service.n_workers).note
        assert note and note in [c.value for c in at.caption], [c.value for c in at.caption]
        for r in others:
            service.pause(r)
        at.run()
        assert session(at).status().status == "running"
        assert not [c.value for c in at.caption if "Charts redraw" in c.value]
    finally:
        for r in others:
            service.forget(r)


def test_learning_rate_and_batch_size_reach_the_trainer(at):
    at.switch_page("pages/train.py")
    at.run()
    at.select_slider(key="train_lr").set_value(0.001).run()
    at.select_slider(key="train_bs").set_value(64).run()
    assert not at.exception, at.exception
    run = train(at, epochs=1)
    metrics = run.history[-1].metrics
    assert (metrics["lr"], metrics["batch_size"]) == (0.001, 64)
    assert session(at).spec.learning_rate == 0.001


def test_step_button_trains_one_epoch(at):
    at.switch_page("pages/train.py")
    at.run()
    at.button(key="train_step").click().run()
    assert not at.exception, at.exception
    state = session(at).status()
    assert state.epoch == 1 and state.status == "paused"
    assert len(session(at).current_run().history) == 1


def test_sample_switch_and_target_change(at):
    at.selectbox(key="data_sample").set_value("Palmer penguins").run()
    assert not at.exception, at.exception
    s = session(at)
    assert s.data_name == "Palmer penguins" and s.dataset.task == "multiclass"
    numeric_target = next(c for c in s.frame.columns if "mass" in str(c).lower())
    at.selectbox(key="data_target").set_value(numeric_target).run()
    assert not at.exception, at.exception
    assert session(at).dataset.task == "regression"


def test_interfaces_tabs_follow_the_dataset(at):
    train(at, epochs=3)
    at.switch_page("pages/interfaces.py")
    at.run()
    at.session_state["if_view"] = "Input plane"
    at.run()
    assert "Decision surface" in chart_titles(at)
    at.switch_page("pages/data.py")
    at.run()
    at.selectbox(key="data_sample").set_value("Iris").run()
    train(at, epochs=3)
    at.switch_page("pages/interfaces.py")
    at.run()
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs] == ["Weights", "Outputs", "Energy"], "4 features: no input plane"
    assert chart_titles(at)[0] == "Kernels", "the stale Input plane choice falls back to the first tab"


def test_link_settings_are_applied_and_bad_ones_explained(service):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"n": "7", "act": "relu", "leak": "9"})
    at.run()
    assert not at.exception, at.exception
    s = session(at)
    assert s.spec.num_interfaces == 7 and s.spec.activation == "relu"
    assert any("leak" in w.value for w in at.sidebar.warning)  # first run: sidebar captured
    assert at.query_params["n"] in ("7", ["7"]) and at.query_params["act"] in ("relu", ["relu"])


def test_a_control_that_loses_its_state_in_the_browser_falls_back_to_the_current_setting(service):
    """A browser that loses a control's state while a rerun redraws it sends the control's default
    back as a change (Streamlit 1.67, seen under load: the batch size became 1, the first stop).
    Every setting control of the Train and Model pages has the current setting as that default."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"n": "5", "units": "12", "act": "relu", "leak": "0.3", "penalty": "0.01",
                            "merge": "mean", "hidden": "16", "lr": "0.003", "bs": "64", "epochs": "150"})
    at.run()
    assert not at.exception, at.exception
    s = session(at)
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception

    def option(widget):  # a select slider's default: an index into its options
        return widget.options[int(widget.proto.default[0])]

    assert option(at.select_slider(key="train_lr")) == "0.003" and option(at.select_slider(key="train_bs")) == "64"
    assert at.number_input(key="train_epochs").proto.default == 150 == s.settings.epochs
    at.switch_page("pages/model.py").run()
    assert not at.exception, at.exception
    assert list(at.slider(key="model_n").proto.default) == [5]
    assert list(at.slider(key="model_units").proto.default) == [12]
    assert at.toggle(key="model_units_same").proto.default is False
    assert at.selectbox(key="model_activation").options[at.selectbox(key="model_activation").proto.default] == "relu"
    assert list(at.slider(key="model_leak").proto.default) == [pytest.approx(0.3)]
    assert option(at.select_slider(key="model_penalty")) == "0.01"
    assert at.radio(key="model_merge").proto.default == 1  # mean
    assert list(at.slider(key="model_hidden").proto.default) == [16]
    assert s.spec.num_interfaces == 5 and s.spec.hidden == 16 and s.settings.batch_size == 64


def test_compare_page_sweep_runs_to_the_end_and_shows_its_results(at):
    """A small sweep through the training service (tests/app/test_compare_sweeps.py: the builder's
    checks, the views in detail, and cancel)."""
    import numpy as np

    at.switch_page("pages/compare.py")
    at.run()
    at.text_input(key="compare_grid_num_interfaces").set_value("1, 2").run()
    at.number_input(key="compare_seeds").set_value(2).run()
    at.number_input(key="compare_epochs").set_value(5).run()
    at.button(key="compare_start").click().run()
    assert not at.exception, at.exception
    s = session(at)
    wait_for(lambda: s.sweep_progress().status == "finished", what="the sweep")
    at.run()
    assert not at.exception, at.exception
    assert s.sweep_progress().finished == 4 and {r.epochs for r in s.runs()} == {5}
    assert {(r.spec.num_interfaces, r.seed) for r in s.runs()} == {(1, 0), (1, 1), (2, 0), (2, 1)}
    figs = figures(at)
    band = next(f for f in figs if "against num_interfaces" in f["layout"]["title"]["text"])
    mean = next(t for t in band["data"] if t.get("mode") == "lines+markers")
    finals = {n: [r.metrics[mean["name"]] for r in s.runs() if r.spec.num_interfaces == n] for n in (1, 2)}
    np.testing.assert_allclose(values(mean, "y"), [np.mean(finals[1]), np.mean(finals[2])], rtol=1e-6)
    assert list(mean["text"]) == ["n=2", "n=2"]
    assert any(f["data"] and f["data"][0]["type"] == "parcoords" for f in figs)
    assert any(f["layout"]["title"]["text"] == "val_loss across runs" for f in figs)  # overlays, as before
    table = next(d.value for d in at.dataframe if "worker" in d.value.columns)
    assert len(table) == 4 and set(table["status"]) == {"finished"}


def test_estimator_settings_apply_to_the_next_run(at):
    at.switch_page("pages/information.py")
    at.run()
    at.number_input(key="info_bins").set_value(12).run()
    at.select_slider(key="info_noise").set_value(0.01).run()
    assert not at.exception, at.exception
    session(at).reset()
    run = train(at, epochs=2)
    at.run()
    info = run.history[-1].probes.info
    assert info["binning"].params["bins"] == 12 and "12 bins" in info["binning"].label
    assert info["kde"].params["noise_var"] == 0.01
    assert any("12 bins" in m.value for m in at.markdown)


def test_a_reload_reopens_the_workspace(at):
    run = train(at, epochs=4)
    ws = session(at).workspace
    assert at.query_params["ws"] in (ws, [ws])
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params.update({"ws": ws})
    again.run()
    assert not again.exception, again.exception
    s = session(again)
    assert s.workspace == ws and s.current_run().id == run.id
    again.switch_page("pages/train.py")
    again.run()
    loss = figures(again)[0]
    assert max(len(values(t, "x")) for t in loss["data"]) == 4
    assert any(run.name in m.value for m in again.markdown)


def test_an_interrupted_run_says_so_and_train_resumes_it(at):
    run = train(at, epochs=3)
    s = session(at)
    s.service.forget(run.id)  # as after a server restart: no worker holds it
    s.store.set_status(run.id, "interrupted", "Interrupted: the server stopped. Press Train to resume.")
    at.switch_page("pages/train.py")
    at.run()
    assert any("Press Train to resume" in w.value for w in at.warning)
    s.set_training(epochs=2)
    at.button(key="train_play").click().run()
    wait_for(lambda: s.status().status == "finished", what="the resumed run")
    assert s.current_run().id == run.id and s.status().epoch == 5
    assert s.current_run().gaps == [3]
    at.run()
    loss = figures(at)[0]
    assert [shape["x0"] for shape in loss["layout"]["shapes"]] == [3.5], "the gap is marked"


def test_compare_lists_filters_pages_and_deletes_with_confirmation(at):
    s = session(at)
    first = train(at, epochs=2)
    for _ in range(2):
        s.reset()
        train(at, epochs=2)
    at.switch_page("pages/compare.py")
    at.run()
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) == 3
    assert any("on disk" in c.value for c in at.caption)
    at.text_input(key="compare_search").set_value("run-1").run()
    assert list(at.dataframe[0].value["run"]) == ["run-1"]
    at.text_input(key="compare_search").set_value("").run()
    at.selectbox(key="compare_status").set_value("failed").run()
    assert not at.dataframe or len(at.dataframe[0].value) == 0
    at.selectbox(key="compare_status").set_value("any").run()
    # deleting asks first
    at.selectbox(key="compare_delete_run").set_value(first.name).run()
    at.button(key="compare_ask_run").click().run()
    assert any(first.name in w.value for w in at.warning)
    at.button(key="compare_no_run").click().run()
    assert first.id in [r.id for r in s.runs()]
    at.button(key="compare_ask_run").click().run()
    at.button(key="compare_yes_run").click().run()
    assert not at.exception, at.exception
    assert first.id not in [r.id for r in s.runs()] and len(s.runs()) == 2
    # and the whole workspace
    old = s.workspace
    at.button(key="compare_ask_workspace").click().run()
    at.button(key="compare_yes_workspace").click().run()
    assert not at.exception, at.exception
    assert s.workspace != old and s.runs() == [] and not s.store.workspace_exists(old)
    assert at.query_params["ws"] in (s.workspace, [s.workspace])

"""The dashboard as a person uses it, through Streamlit's AppTest (no browser).

`run_every` timers do not fire inside AppTest, so tests drive the trainer
directly (start, wait) and then rerun the page, as the timer would.

AppTest (Streamlit 1.67) captures the sidebar of an `st.navigation` app only
on the first run: from the second run on `at.sidebar` is empty, although a
browser shows it (a six-line app reproduces this). So sidebar elements are
checked on the first run, the controls are driven through the Train page's
identical controls afterwards, and the real sidebar and URL are checked in
the browser test (tests/e2e).
"""

import json
import os

import pytest
from streamlit.testing.v1 import AppTest

from infoif import datasets

os.environ["INFOIF_STRICT"] = "1"  # unexpected errors fail tests instead of becoming messages

APP = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "app.py")
PAGES = ["pages/data.py", "pages/model.py", "pages/train.py", "pages/interfaces.py",
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
    run = session(at).current_run()
    run.trainer.start(epochs=epochs)
    assert run.trainer.wait(60), "training did not finish"
    assert run.trainer.status == "finished", run.trainer.error
    return run


@pytest.fixture
def at():
    app = open_app()
    yield app
    session(app).close()


def test_opens_on_the_default_dataset(at):
    s = session(at)
    assert s.data_name == datasets.DEFAULT_SAMPLE and s.data_source == "sample"
    assert at.selectbox(key="data_sample").value == datasets.DEFAULT_SAMPLE
    assert at.query_params["data"] in (datasets.DEFAULT_SAMPLE, [datasets.DEFAULT_SAMPLE])
    assert any(datasets.DEFAULT_SAMPLE in c.value for c in at.sidebar.caption)
    assert not at.error
    # the default 2-D dataset shows its scatter plot
    assert figures(at), "the Data page of a 2-D dataset shows a scatter plot"


def test_script_runs_leave_keras_state_alone(at):
    """Streamlit clears the Keras session after each script run unless the app stops it; that
    clears TensorFlow's caches under a training run and slowed it to 40% (pages/_ui.py)."""
    import keras

    first = keras.backend.get_uid("infoif_test_uid")
    at.run()
    at.switch_page("pages/train.py")
    at.run()
    assert not at.exception, at.exception
    assert keras.backend.get_uid("infoif_test_uid") == first + 1, "a script run cleared the Keras session"


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
    before = session(at).current_run()
    assert before.trainer.model.get_layer("interfaces").num_interfaces == session(at).spec.num_interfaces
    at.slider(key="model_n").set_value(13).run()
    assert not at.exception, at.exception
    run = session(at).current_run()
    assert run.id != before.id
    layer = run.trainer.model.get_layer("interfaces")
    assert layer.num_interfaces == 13 and layer.kernel.shape[1] == 13
    assert session(at).settings.spec.num_interfaces == 13  # what the URL mirrors (checked in tests/e2e)


def test_upload_good_file_switches_dataset(at):
    csv = b"a;b;c;label\n" + b"".join(
        f"{i % 7};{(i * 3) % 5};{i % 2};{'yes' if (i % 7) > 3 else 'no'}\n".encode() for i in range(120)
    )
    at.file_uploader(key="data_upload").set_value(("mine.csv", csv, "text/csv")).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    s = session(at)
    assert s.data_name == "mine.csv" and s.data_source == "upload"
    assert at.selectbox(key="data_sample").value is None  # no sample shown as selected
    assert s.dataset.input_dim == 3 and s.dataset.task == "binary"
    # and the model follows the new data
    at.switch_page("pages/model.py")
    at.run()
    assert session(at).current_run().trainer.model.input_shape == (None, 3)


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
    assert session(at).current_run(create=False) is run and len(run.history) == 3


def test_sidebar_controls_start_training(at):
    assert [b.key for b in at.sidebar.button] == [
        "sidebar_play", "sidebar_pause", "sidebar_step", "sidebar_stop", "sidebar_reset"]
    at.sidebar.button(key="sidebar_play").click().run()
    assert not at.exception, at.exception
    run = session(at).current_run()
    assert run.trainer.status in ("running", "finished")
    assert run.trainer.wait_for_epoch(2, timeout=30)


def test_train_page_controls_pause_stop_and_reset(at):
    at.switch_page("pages/train.py")
    at.run()
    at.number_input(key="train_epochs").set_value(0).run()  # until stopped
    at.button(key="train_play").click().run()
    run = session(at).current_run()
    assert run.trainer.status == "running"
    assert run.trainer.wait_for_epoch(2, timeout=30)
    at.button(key="train_pause").click().run()
    assert run.trainer.status == "paused"
    at.button(key="train_play").click().run()  # resumes
    assert run.trainer.status == "running"
    at.button(key="train_stop").click().run()
    assert run.trainer.status == "stopped"
    assert not at.exception, at.exception
    at.button(key="train_reset").click().run()
    assert session(at).current_run().id != run.id
    assert run.id in session(at).store, "a trained run stays for comparison"


def test_learning_rate_and_batch_size_reach_the_trainer(at):
    at.switch_page("pages/train.py")
    at.run()
    at.select_slider(key="train_lr").set_value(0.001).run()
    at.select_slider(key="train_bs").set_value(64).run()
    assert not at.exception, at.exception
    run = session(at).current_run()
    run.trainer.start(epochs=1)
    assert run.trainer.wait(30)
    metrics = run.history[-1].metrics
    assert (metrics["lr"], metrics["batch_size"]) == (0.001, 64)
    assert session(at).spec.learning_rate == 0.001


def test_step_button_trains_one_epoch(at):
    at.switch_page("pages/train.py")
    at.run()
    at.button(key="train_step").click().run()
    assert not at.exception, at.exception
    run = session(at).current_run()
    assert run.trainer.epoch == 1 and run.trainer.status == "paused"


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


def test_link_settings_are_applied_and_bad_ones_explained():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"n": "7", "act": "relu", "leak": "9"})
    at.run()
    try:
        assert not at.exception, at.exception
        s = session(at)
        assert s.spec.num_interfaces == 7 and s.spec.activation == "relu"
        assert any("leak" in w.value for w in at.sidebar.warning)  # first run: sidebar captured
        assert at.query_params["n"] in ("7", ["7"]) and at.query_params["act"] in ("relu", ["relu"])
    finally:
        session(at).close()


def test_compare_page_sweep_runs_and_can_be_cancelled(at):
    at.switch_page("pages/compare.py")
    at.run()
    at.text_input(key="compare_values").set_value("1, 2").run()
    at.number_input(key="compare_epochs").set_value(3).run()
    at.button(key="compare_start").click().run()
    assert not at.exception, at.exception
    sweep = session(at).sweep
    assert sweep.wait(60) and sweep.status == "finished"
    at.run()
    assert not at.exception, at.exception
    figs = figures(at)
    assert len(figs) >= 2  # overlaid curves + against num_interfaces
    # bad sweep input
    at.text_input(key="compare_values").set_value("one, two").run()
    at.button(key="compare_start").click().run()
    assert any("whole numbers" in e.value for e in at.error)


def test_estimator_settings_apply_to_the_next_run(at):
    at.switch_page("pages/information.py")
    at.run()
    at.number_input(key="info_bins").set_value(12).run()
    at.select_slider(key="info_noise").set_value(0.01).run()
    assert not at.exception, at.exception
    run = session(at).reset_run()
    run.trainer.start(epochs=2)
    assert run.trainer.wait(30)
    at.run()
    info = run.history[-1].probes.info
    assert info["binning"].params["bins"] == 12 and "12 bins" in info["binning"].label
    assert info["kde"].params["noise_var"] == 0.01
    assert any("12 bins" in m.value for m in at.markdown)

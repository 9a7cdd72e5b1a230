"""The Compare page's sweeps through AppTest: the builder (a bad grid gets a message and runs
nothing), a sweep's views (a band chart per varied setting with the seeds' means, colour by
another setting, parallel coordinates, the results table), and cancelling a sweep through the
training service. The views are tested on a sweep whose results are written into the store
directly (no training); tests/app/test_app.py runs a small sweep to its end through the service.
"""

import os
import time

import numpy as np
import pytest

from infoif.runs import sweep as sweeps
from infoif.constants import SWEEP_SETTINGS
from tests.app.test_app import close, figures, open_app, session, values
from tests.conftest import wait_for

os.environ["INFOIF_STRICT"] = "1"  # unexpected errors fail tests instead of becoming messages


@pytest.fixture
def at(service):
    app = open_app()
    yield app
    close(app)


def accuracy(point):
    """The made-up final metrics of a run: val_accuracy = 0.5 + 0.05 log2 N + 0.1 (relu) + 0.01 seed."""
    n, relu, seed = point.get("num_interfaces", 8), point.get("activation") == "relu", point["seed"]
    return {"val_accuracy": 0.5 + 0.05 * np.log2(n) + 0.1 * relu + 0.01 * seed, "accuracy": 0.9,
            "val_loss": 1.0 / n, "loss": 0.5}


def finished_sweep(s, grid, seeds=3, epochs=5, metrics=accuracy):
    """A sweep of the session's workspace whose runs are marked finished with `metrics(point)` and a
    mean energy of N / 2, without training."""
    plan = sweeps.make_plan(grid, seeds, epochs, base_seed=0)
    record = sweeps.create(s.store, s.workspace, plan, s.spec, {**s.data_ref, "seed": 0}, s.data_name, 32)
    for run_id, point in zip(record["runs"], plan.points()):
        n = point.get("num_interfaces", s.spec.num_interfaces)
        s.store.set_progress(run_id, epochs, metrics(point), worker="w0", status="finished", mean_energy=n / 2)
    s.store.update_sweep(record["id"], started=time.time())
    return record, plan


def chart(at, title_part):
    found = [f for f in figures(at) if title_part in (f["layout"].get("title") or {}).get("text", "")]
    assert len(found) == 1, [(f["layout"].get("title") or {}).get("text") for f in figures(at)]
    return found[0]


def parcoords(at):
    found = [f for f in figures(at) if f["data"] and f["data"][0]["type"] == "parcoords"]
    assert len(found) == 1
    return found[0]["data"][0]


def results_table(at):
    tables = [d.value for d in at.dataframe if "worker" in d.value.columns]
    assert len(tables) == 1
    return tables[0]


def test_a_sweeps_results_against_each_setting_across_settings_and_in_a_table(at):
    s = session(at)
    record, plan = finished_sweep(s, {"num_interfaces": "1, 2, 4, 8", "activation": "tanh, relu"})
    at.switch_page("pages/compare.py")
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="compare_sweep").value == record["id"]
    assert any("Finished" in c.value and "24 of 24 runs done" in c.value for c in at.caption)
    assert at.selectbox(key="compare_sweep_metric").value == "val_accuracy"  # the headline metric
    # one band chart per varied setting: the mean over both activations and three seeds at each N
    by_n = chart(at, "val_accuracy against num_interfaces")
    mean = next(t for t in by_n["data"] if t["name"] == "val_accuracy")
    np.testing.assert_array_equal(values(mean, "x"), [1, 2, 4, 8])
    runs = [0.5 + 0.05 * np.log2(n) + np.array([0, 0.01, 0.02, 0.1, 0.11, 0.12]) for n in (1, 2, 4, 8)]
    np.testing.assert_allclose(values(mean, "y"), [r.mean() for r in runs])
    upper = next(t for t in by_n["data"] if t["name"] == "val_accuracy (mean + std)")
    np.testing.assert_allclose(values(upper, "y") - values(mean, "y"), [r.std(ddof=1) for r in runs])
    assert list(mean["text"]) == ["n=6"] * 4
    by_activation = chart(at, "val_accuracy against activation")
    assert by_activation["layout"]["xaxis"]["type"] == "category"
    mean = next(t for t in by_activation["data"] if t["name"] == "val_accuracy")
    assert list(mean["x"]) == ["tanh", "relu"]
    # parallel coordinates: the varied settings, then the metrics, then the mean energy
    trace = parcoords(at)
    assert [d["label"] for d in trace["dimensions"]] == ["num_interfaces", "activation", "val_accuracy",
                                                          "val_loss", "accuracy", "loss", "mean_energy"]
    assert list(trace["dimensions"][1]["ticktext"]) == ["tanh", "relu"]
    assert len(values(trace["dimensions"][0], "values")) == 24
    # the table: one row per run, every setting, the metrics and the energy
    table = results_table(at)
    assert len(table) == plan.size == 24
    assert {*SWEEP_SETTINGS, "seed", "val_accuracy", "mean_energy", "status"} <= set(table.columns)
    assert sorted(table["seed"].unique()) == [0, 1, 2] and set(table["status"]) == {"finished"}
    np.testing.assert_allclose(sorted(table["mean_energy"].unique()), [0.5, 1, 2, 4])
    assert at.get("download_button"), "the results table has a CSV download"

    # colour by the other setting: one line per activation
    at.selectbox(key="compare_sweep_colour").set_value("activation").run()
    assert not at.exception, at.exception
    by_n = chart(at, "val_accuracy against num_interfaces")
    means = [t for t in by_n["data"] if t.get("mode") == "lines+markers"]
    assert [t["name"] for t in means] == ["activation = tanh", "activation = relu"]
    for t, bonus in zip(means, (0.0, 0.1)):
        np.testing.assert_allclose(values(t, "y"), [0.5 + 0.05 * np.log2(n) + bonus + 0.01 for n in (1, 2, 4, 8)])
        assert list(t["text"]) == ["n=3"] * 4
    # the activation chart is not grouped by itself
    assert [t["name"] for t in chart(at, "against activation")["data"] if t.get("mode") == "lines+markers"] \
        == ["val_accuracy"]

    # another metric
    at.selectbox(key="compare_sweep_metric").set_value("val_loss").run()
    mean = next(t for t in chart(at, "val_loss against num_interfaces")["data"] if t.get("mode") == "lines+markers"
                and t["name"] == "activation = tanh")
    np.testing.assert_allclose(values(mean, "y"), [1, 0.5, 0.25, 0.125])
    assert parcoords(at)["line"]["colorbar"]["title"]["text"] == "val_loss"


def test_the_sweep_selector_lists_sweeps_newest_first_and_views_unfinished_ones(at):
    s = session(at)
    old, _ = finished_sweep(s, {"num_interfaces": "1, 2"}, seeds=2)
    plan = sweeps.make_plan({"leak": "0, 0.5"}, 1, 5)
    new = sweeps.create(s.store, s.workspace, plan, s.spec, {**s.data_ref, "seed": 0}, s.data_name, 32)
    at.switch_page("pages/compare.py")
    at.run()
    assert not at.exception, at.exception
    box = at.selectbox(key="compare_sweep")
    assert box.options[0].startswith(f"{new['name']} · 2 runs · leak · ")
    assert box.options[1].startswith(f"{old['name']} · 4 runs · num_interfaces · ")
    assert box.value == new["id"]
    assert any("No run of this sweep has finished an epoch yet" in i.value for i in at.info)
    assert len(results_table(at)) == 2 and not [f for f in figures(at) if "against leak" in str(f["layout"])]
    box.set_value(old["id"]).run()
    assert not at.exception, at.exception
    assert chart(at, "val_accuracy against num_interfaces")
    assert not [w for w in at.selectbox if w.key == "compare_sweep_colour"]  # one varied setting: nothing to colour by
    assert len(results_table(at)) == 4


@pytest.mark.parametrize("field, text, says", [
    ("num_interfaces", "1, abc", "whole numbers separated by commas"),
    ("num_interfaces", "0, 2", "Received: num_interfaces=0"),
    ("leak", "0, 2", "Received: leak=2.0"),
    ("activation", "tanh, swish", "activation must be one of"),
    ("learning_rate", "fast", "numbers separated by commas"),
])
def test_a_bad_grid_gets_a_message_and_nothing_runs(at, field, text, says):
    s = session(at)
    at.switch_page("pages/compare.py")
    at.run()
    runs_before = len(s.runs())
    at.text_input(key=f"compare_grid_{field}").set_value(text).run()
    assert any(says in e.value for e in at.error), [e.value for e in at.error]
    at.button(key="compare_start").click().run()
    assert not at.exception, at.exception
    assert any(says in e.value for e in at.error), [e.value for e in at.error]
    assert s.sweeps() == [] and len(s.runs()) == runs_before
    # fixed (emptied: the current setting), the builder says how many runs it will make
    at.text_input(key=f"compare_grid_{field}").set_value("").run()
    assert not at.error
    expected = "**3 runs**" if field == "num_interfaces" else "**12 runs**"  # num_interfaces is prefilled 1, 2, 4, 8
    assert any(m.value.startswith(expected) for m in at.markdown), [m.value for m in at.markdown]


def test_the_builder_counts_runs_and_refuses_a_grid_too_large(at):
    at.switch_page("pages/compare.py")
    at.run()
    counts = [m.value for m in at.markdown if " runs** of " in m.value]
    assert counts == ["**12 runs** of 100 epochs (4 num_interfaces × 3 seeds), on this machine's "
                      f"{len(session(at).service.workers)} training workers"], counts
    assert at.text_input(key="compare_grid_leak").placeholder == f"now {session(at).spec.leak:g}"
    at.text_input(key="compare_grid_activation").set_value("tanh, relu").run()
    assert any("**24 runs**" in m.value and "4 num_interfaces × 2 activation × 3 seeds" in m.value
               for m in at.markdown)
    at.text_input(key="compare_grid_leak").set_value(", ".join(str(k / 100) for k in range(30))).run()
    at.number_input(key="compare_seeds").set_value(100).run()
    assert any("a sweep may have at most 2,000" in e.value for e in at.error)
    at.button(key="compare_start").click().run()
    assert session(at).sweeps() == [] and not at.exception


def test_a_running_sweep_shows_its_progress_and_cancel_stops_it(at):
    s = session(at)
    at.switch_page("pages/compare.py")
    at.run()
    at.text_input(key="compare_grid_num_interfaces").set_value("1, 2").run()
    at.number_input(key="compare_seeds").set_value(1).run()
    at.number_input(key="compare_epochs").set_value(100_000).run()
    at.button(key="compare_start").click().run()
    assert not at.exception, at.exception
    (record,) = s.sweeps()
    assert at.selectbox(key="compare_sweep").value == record["id"] and s.sweep_running()
    wait_for(lambda: s.sweep_progress().epochs_done > 0, what="the sweep's first epoch")
    at.run()
    assert not at.exception, at.exception
    assert "runs done" in at.get("progress")[0].proto.text
    assert at.button(key="compare_start").disabled and not at.button(key="compare_cancel").disabled
    at.button(key="compare_cancel").click().run()
    assert not at.exception, at.exception
    wait_for(lambda: all(r.status in sweeps.DONE for r in s.runs()), what="the sweep's runs to stop")
    at.run()
    progress = s.sweep_progress()
    assert progress.status == "cancelled" and 0 < progress.epochs_done < progress.epochs_total
    assert any("Cancelled" in c.value for c in at.caption) and not at.get("progress")
    assert not at.button(key="compare_start").disabled and at.button(key="compare_cancel").disabled
    assert len(results_table(at)) == 2

"""The Information plane page through AppTest: the KDE interval, the ceilings, the fixed range,
the saturation note, the clustering view and the 12-bit sample."""

import math

import pytest

from infoif.datasets import BITS12_SAMPLE
from tests.app.test_app import close, figures, open_app, session, train

PAGE = "pages/information.py"


@pytest.fixture
def at(service):
    app = open_app()
    yield app
    close(app)


def open_page(at):
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception


def plane(at):
    return next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("Information plane"))


def clustering(at):
    return next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("Clustering"))


def trace(fig, prefix):
    return next(t for t in fig["data"] if t.get("name", "").startswith(prefix))


def test_the_page_explains_its_estimates_before_any_training(at):
    open_page(at)
    text = " ".join(m.value for m in at.markdown)
    assert "I(X;T)" in text and "I(T;Y)" in text and "estimates, not exact values" in text
    assert "binning" in text and "KDE" in text and "lower and an upper bound" in text


def test_binning_plane_shows_the_ceilings_and_the_range_fixed_for_the_run(at):
    run = train(at, epochs=4)
    open_page(at)
    fig = plane(at)
    n = run.history[-1].probes.probe_size
    binning = run.history[-1].probes.info["binning"]
    x_line = trace(fig, "ceiling log2(")
    y_line = trace(fig, "ceiling H(Y)")
    assert x_line["x"][0] == pytest.approx(math.log2(n))
    assert y_line["y"][0] == pytest.approx(binning.h_y)
    subtitle = fig["layout"]["title"]["subtitle"]["text"]
    assert "bins fixed for the run over [-1, 1], the range of tanh" in subtitle
    assert "over [-1, 1]" in fig["layout"]["title"]["text"]
    captions = " ".join(c.value for c in at.caption)
    assert f"all {n} validation samples" in captions and f"log2({n})" in captions


def test_kde_plane_shows_the_interval_between_lower_and_upper_bound(at):
    run = train(at, epochs=4)
    open_page(at)
    at.radio(key="info_estimator").set_value("kde").run()
    assert not at.exception, at.exception
    fig = plane(at)
    assert "lower and upper bounds" in fig["layout"]["title"]["text"]
    kde = run.history[-1].probes.info["kde"]
    if0 = trace(fig, "if 0")
    assert if0["error_x"]["type"] == "data" and if0["error_x"]["symmetric"] is False
    assert "arrayminus" in if0["error_x"] and "error_y" in if0
    subtitle = fig["layout"]["title"]["subtitle"]["text"]
    assert "from lower to upper bound" in subtitle and "not a bracket" in subtitle
    assert trace(fig, f"ceiling log2({kde.samples})")["x"][0] == pytest.approx(math.log2(kde.samples))
    assert trace(fig, "ceiling H(Y)")
    assert (kde.i_xt_lower <= kde.i_xt).all()
    assert any("not a bracket" in c.value for c in at.caption)


def test_a_saturated_binning_estimate_gets_a_note_saying_what_helps(at):
    s = session(at)
    s.set_estimators(bins=200)  # 200 bins per unit, 8 units, 100 samples: every sample alone in its bin
    s.reset()
    train(at, epochs=2)
    open_page(at)
    notes = [w.value for w in at.warning]
    assert any("saturated" in w and "fewer bins" in w and "fewer units" in w and "KDE" in w for w in notes), notes
    # a coarse binning of one-unit interfaces is not saturated: no note
    s.set_estimators(bins=4)
    s.set_spec(s.spec.replace(units=1))
    train(at, epochs=2)
    at.run()
    assert not any("saturated" in w.value for w in at.warning)


def test_clustering_view_follows_the_latest_epoch_or_the_slider(at):
    run = train(at, epochs=6)
    open_page(at)
    latest = run.history[-1]
    fig = clustering(at)
    assert fig["layout"]["title"]["text"] == f"Clustering · epoch {latest.epoch}"
    assert {t["name"] for t in fig["data"]} == set(session(at).dataset.class_names)
    at.toggle(key="info_follow").set_value(False).run()
    first = next(h.epoch for h in run.history if h.has_probes)
    at.select_slider(key="info_epoch").set_value(first).run()
    assert not at.exception, at.exception
    assert clustering(at)["layout"]["title"]["text"] == f"Clustering · epoch {first}"


def test_the_12_bit_sample_is_measured_on_all_4096_patterns(at):
    session(at).use_sample(BITS12_SAMPLE)
    run = train(at, epochs=2)
    assert run.history[-1].probes.probe_size == 4096
    open_page(at)
    fig = plane(at)
    assert trace(fig, "ceiling log2(4,096)")["x"][0] == pytest.approx(12.0)
    assert trace(fig, "ceiling H(Y)")["y"][0] == pytest.approx(1.0)
    assert any("all 4,096 rows of the data (every input pattern)" in c.value for c in at.caption)

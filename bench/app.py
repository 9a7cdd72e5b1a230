"""Benchmark: the dashboard's start-up, its heaviest rerun, and training with a browser watching.

    python bench/app.py            # about 2 minutes; needs Debian's chromium (bash tests/run.sh installs it)
    python bench/app.py --quick

Prints:
  1. server start -> first page drawn in headless Chromium (median of 3 cold starts; target <= 5 s);
  2. a rerun of the Interfaces page with 500 probed epochs of history, on the server (AppTest,
     median of 5; target <= 300 ms);
  3. training throughput with the dashboard open in a browser (live charts refreshing every
     second) on each page that draws them, against the same Trainer with nobody watching and the
     same TensorFlow settings as the app (one intra- and one inter-op thread), in interleaved
     pairs measured in this run (target >= 0.8 on every page). Server, browser and trainer share
     this machine's 2 cores here; a user's browser usually runs elsewhere.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.test_browser import CHROMIUM_FLAGS, free_port  # noqa: E402

SECONDS = 12  # of training per throughput measurement


def start_server():
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    return proc, f"http://127.0.0.1:{port}", started


def first_draw(browser) -> float:
    proc, url, started = start_server()
    try:
        page = browser.new_page()
        while True:
            try:
                page.goto(url, timeout=1000)
                break
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.05)
        page.wait_for_selector("h1:has-text('Data')", timeout=60_000)
        elapsed = time.perf_counter() - started
        page.close()
        return elapsed
    finally:
        proc.terminate()
        proc.wait(10)


def interfaces_rerun_ms(repeats: int) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    from infoif.probes import ProbeConfig

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    s = at.session_state["infoif"]
    run = s.store.new_run(s.spec, s.dataset, seed=0,
                          probe_config=ProbeConfig(min_interval=1e-6, max_interval=1e-6))
    s.run_id = run.id
    run.trainer.start(epochs=500)
    run.trainer.wait()
    probed = sum(h.has_probes for h in run.history)
    at.switch_page("pages/interfaces.py")
    at.run()
    per_tab = {}
    for tab in ("Weights", "Outputs", "Energy", "Input plane"):
        at.session_state["if_view"] = tab
        at.run()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
        assert not at.exception, at.exception
        assert len(at.get("plotly_chart")) >= 2, tab
        per_tab[tab] = 1000 * statistics.median(times)
    s.close()
    print(f"   ({len(run.history)} epochs, {probed} with probes, N={s.spec.num_interfaces})")
    return per_tab


def bare_epochs_per_second() -> float:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)  # as app.py sets it
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from infoif import datasets
    from infoif.spec import ModelSpec
    from infoif.training import Trainer

    ds = datasets.prepare_sample(datasets.DEFAULT_SAMPLE)
    trainer = Trainer(ModelSpec(), ds, seed=0)
    trainer.step()
    trainer.wait_for_epoch(1)
    time.sleep(0.2)
    start_epoch = trainer.epoch
    trainer.start()
    started = time.perf_counter()
    time.sleep(SECONDS)
    done = trainer.epoch - start_epoch
    elapsed = time.perf_counter() - started
    trainer.stop()
    return done / elapsed


VIEWS = [("Train", None), ("Interfaces", None), ("Interfaces", "Input plane"), ("Information plane", None)]


def watched_epochs_per_second(browser, page_name: str = "Interfaces", tab: str | None = None) -> float:
    proc, url, _ = start_server()
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        while True:
            try:
                page.goto(url, timeout=1000)
                break
            except Exception:  # noqa: BLE001
                time.sleep(0.05)
        page.wait_for_selector("h1:has-text('Data')", timeout=60_000)
        page.locator("[data-testid='stSidebarNav'] a", has_text="Train").first.click()
        page.wait_for_selector("h1:has-text('Train')")
        page.locator(".st-key-train_epochs input").fill("0")
        page.keyboard.press("Enter")
        page.wait_for_timeout(500)
        page.locator(".st-key-sidebar_play button").first.click()
        page.wait_for_function(
            "() => /epoch\\s+\\d+/.test(document.querySelector('[data-testid=\"stSidebar\"]').innerText)",
            timeout=60_000)
        if page_name != "Train":
            page.locator("[data-testid='stSidebarNav'] a", has_text=page_name).first.click()
            page.wait_for_selector(f"h1:has-text('{page_name}')")
        if tab is not None:
            page.wait_for_timeout(1000)
            page.get_by_role("tab", name=tab).click()
        page.wait_for_selector(".js-plotly-plot", timeout=30_000)

        def epoch():
            text = page.locator("[data-testid='stSidebar']").inner_text()
            return int(re.search(r"epoch\s+(\d+)", text).group(1))

        page.wait_for_timeout(2000)
        e0, t0 = epoch(), time.perf_counter()
        page.wait_for_timeout(SECONDS * 1000)
        e1, t1 = epoch(), time.perf_counter()
        page.close()
        return (e1 - e0) / (t1 - t0)
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from tests.e2e.test_browser import chromium_path

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        starts = [first_draw(browser) for _ in range(1 if args.quick else 3)]
        print(f"1. server start -> first page drawn: median {statistics.median(starts):.2f} s "
              f"(runs: {', '.join(f'{s:.2f}' for s in starts)}; target <= 5 s)")
        print("2. Interfaces page rerun with 500 epochs of history:")
        reruns = interfaces_rerun_ms(3 if args.quick else 5)
        print("   median on the server, per tab (target <= 300 ms): "
              + ", ".join(f"{tab} {ms:.0f} ms" for tab, ms in reruns.items()))
        # Runs vary by +-20% here, so bare and watched are measured in interleaved rounds.
        rounds = 1 if args.quick else 3
        bare, watched = [], {view: [] for view in VIEWS}
        for _ in range(rounds):
            bare.append(bare_epochs_per_second())
            for view in VIEWS:
                watched[view].append(watched_epochs_per_second(browser, *view))
        b = statistics.median(bare)
        print(f"3. training, default dataset and model, with the page open in a browser: epochs/s and "
              f"ratio to {b:.0f} epochs/s bare (medians of {rounds} interleaved rounds; bare runs: "
              + ", ".join(f"{x:.0f}" for x in bare) + "; target >= 0.8 on every page)")
        for (name, tab), runs in watched.items():
            w = statistics.median(runs)
            label = name + (f" ({tab} tab)" if tab else "")
            print(f"   {label:32s} {w:5.0f} epochs/s  ratio {w / b:.2f}   (runs: "
                  + ", ".join(f"{x:.0f}" for x in runs) + ")")
        browser.close()


if __name__ == "__main__":
    main()

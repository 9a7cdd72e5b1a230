"""The command line: `python -m infoif runs | train`, in real subprocesses."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infoif.app.session import Session
from infoif.runs.store import Store

ROOT = Path(__file__).resolve().parents[1]


def infoif(*args, home=None, timeout=300):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    extra = ["--home", str(home)] if home is not None else []
    return subprocess.run([sys.executable, "-m", "infoif", *args, *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_train_a_file_then_list_it(tmp_path):
    home = tmp_path / "home"
    data = tmp_path / "points.csv"
    data.write_text("u,v,side\n" + "".join(f"{i % 17 / 17:.3f},{(i * 7) % 13 / 13:.3f},{'L' if i % 2 else 'R'}\n"
                                           for i in range(120)))
    out = infoif("train", "--data", str(data), "--target", "side", "--epochs", "7", "--num-interfaces", "3",
                 "--units", "2", "--activation", "relu", home=home)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "run-1 finished" in out.stdout and "?ws=" in out.stdout

    listed = infoif("runs", "--format", "json", home=home)
    assert listed.returncode == 0, listed.stderr
    (run,) = json.loads(listed.stdout)
    assert {"id", "workspace", "dataset", "spec", "status", "epochs", "metrics", "worker"} <= set(run)
    assert (run["status"], run["epochs"], run["dataset"]) == ("finished", 7, "points.csv")
    assert run["spec"]["num_interfaces"] == 3 and run["spec"]["activation"] == "relu"
    assert "val_accuracy" in run["metrics"] and run["worker"].startswith("cli")

    table = infoif("runs", home=home)
    assert "run-1" in table.stdout and "finished" in table.stdout

    # the dashboard's workspace for that home shows it, with its uploaded data
    store = Store(home)
    s = Session.open(store, None, {"ws": run["workspace"]})
    assert [r.id for r in s.runs()] == [run["id"]]
    assert len(s.run(run["id"]).history) == 7
    # a second run goes to the same command-line workspace
    again = infoif("train", "--data", "xor", "--epochs", "2", "--quiet", home=home)
    assert again.returncode == 0, again.stderr[-2000:]
    assert [r.name for r in s.runs()] == ["run-1", "run-2"]


def test_train_into_a_chosen_workspace(tmp_path):
    store = Store(tmp_path / "home")
    ws = store.create_workspace()
    out = infoif("train", "--data", "Gaussian", "--epochs", "2", "--workspace", ws, "--quiet", home=store.home)
    assert out.returncode == 0, out.stderr[-2000:]
    assert [r.workspace for r in store.runs()] == [ws]


def test_a_workspace_id_that_starts_with_a_dash_is_still_an_argument(tmp_path, monkeypatch):
    """Ids made before new ids stopped starting with "-" (1 in 64 did) read as options to argparse."""
    import infoif.runs.store.core as core

    monkeypatch.setattr(core, "new_id", lambda: "-dash" + "x" * 27)
    store = Store(tmp_path / "home")
    ws = store.create_workspace()
    assert ws.startswith("-")
    out = infoif("train", "--data", "Gaussian", "--epochs", "2", "--workspace", ws, "--quiet", home=store.home)
    assert out.returncode == 0, out.stderr[-2000:]
    listed = infoif("runs", "--workspace", ws, home=store.home)
    assert listed.returncode == 0 and "Gaussian" in listed.stdout, listed.stderr[-2000:]


def test_new_ids_never_start_with_a_dash(monkeypatch):
    from infoif.runs.store import files

    draws = iter(["-first", "-second", "third"])
    monkeypatch.setattr(files.secrets, "token_urlsafe", lambda n: next(draws))
    assert files.new_id() == "third"


@pytest.mark.parametrize("args, message", [
    (["train"], "the following arguments are required: --data"),
    (["train", "--data", "circle", "--num-interfaces", "0"], "--num-interfaces: must be from 1 to 256"),
    (["train", "--data", "circle", "--lr", "0"], "--lr: must be in (0, 10]"),
    (["train", "--data", "circle", "--epochs", "ten"], "--epochs: must be a whole number"),
    (["train", "--data", "circle", "--activation", "swish"], "--activation: invalid choice"),
    (["train", "--data", "missing.csv"], "--data: there is no file 'missing.csv'"),
    (["train", "--data", "moons"], "is neither a file nor a sample"),
    (["train", "--data", "circle", "--target", "colour"], "no column 'colour'"),
    (["train", "--data", "circle", "--workspace", "nope"], "--workspace: no workspace 'nope'"),
    (["runs", "--format", "xml"], "--format: invalid choice"),
    (["fly"], "invalid choice: 'fly'"),
])
def test_bad_arguments_exit_2_with_a_message(tmp_path, args, message):
    out = infoif(*args, home=tmp_path / "home") if args[0] in ("train", "runs") else infoif(*args)
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert message in out.stderr and "Traceback" not in out.stderr


def test_a_bad_data_file_exits_2_without_a_traceback(tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_bytes(b"PK\x03\x04 this is a zip")
    out = infoif("train", "--data", str(bad), home=tmp_path / "home")
    assert out.returncode == 2 and "could not read" in out.stderr and "Traceback" not in out.stderr


def test_an_unwritable_home_exits_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    out = infoif("runs", home=blocker / "home")
    assert out.returncode == 2 and "Cannot use" in out.stderr

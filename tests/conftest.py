"""Shared test set-up: quiet TensorFlow, deterministic seeds, float32 policy after each test."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

import time

import pytest


def wait_for(condition, timeout=120.0, what="the condition"):
    """Waits until `condition()` is true: a deadline for something that must happen, never a
    measurement (tests assert behaviour, not speed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def float32_policy_after():
    """Restores the global dtype policy a test changed (e.g. to mixed_float16)."""
    import keras

    yield
    keras.config.set_dtype_policy("float32")


CIRCLE = {"kind": "sample", "name": "Circle", "target": "label", "task": "auto", "seed": 0}


@pytest.fixture(scope="session")
def service(tmp_path_factory):
    """The training service (one worker per core) for the tests that need one; the app
    under AppTest uses the same one (same home)."""
    from infoif.runs.service import shared

    home = tmp_path_factory.mktemp("service-home")
    os.environ["INFOIF_HOME"] = str(home)  # what the app's service() opens
    svc = shared(home)
    assert svc.wait_ready(300), "the training workers did not start"
    yield svc
    svc.shutdown()


@pytest.fixture
def new_run(service):
    """Makes runs in a fresh workspace of the service's store: new_run(num_interfaces=4, ...)."""
    from infoif.nn.spec import ModelSpec

    store = service.store
    workspace = store.create_workspace()
    made = []

    def make(ref=None, seed=0, batch_size=32, **spec):
        ref = dict(ref or CIRCLE)
        info = store.create_run(workspace, ModelSpec(**spec), ref, ref.get("name", "data"), seed=seed,
                                batch_size=batch_size)
        made.append(info.id)
        return info.id

    yield make
    for run_id in made:
        service.forget(run_id)

"""Shared test set-up: quiet TensorFlow, deterministic seeds, float32 policy after each test."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

import pytest


@pytest.fixture
def float32_policy_after():
    """Restores the global dtype policy a test changed (e.g. to mixed_float16)."""
    import keras

    yield
    keras.config.set_dtype_policy("float32")

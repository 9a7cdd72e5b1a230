"""The set-up mirrored in URL query parameters."""

import subprocess
import sys

import pytest

from infoif.nn.spec import ModelSpec
from infoif.app.urlstate import Settings, from_query, to_query


def test_round_trip_of_every_field():
    settings = Settings(data="Spiral", target="label", task="binary",
                        spec=ModelSpec(num_interfaces=12, units=None, activation="relu", leak=0.25,
                                       penalty=0.01, merge="mean", hidden=16, learning_rate=0.003),
                        batch_size=64, epochs=0, seed=7)
    query = to_query(settings)
    assert query["n"] == "12" and query["units"] == "none" and query["act"] == "relu" and query["epochs"] == "0"
    assert all(isinstance(v, str) for v in query.values())
    back, problems = from_query(query)
    assert problems == [] and back == settings


def test_defaults_survive_an_empty_link():
    settings, problems = from_query({})
    assert settings == Settings() and problems == []


@pytest.mark.parametrize("params, expected_problem", [
    ({"n": "0"}, "n='0': it must be from 1 to 64"),
    ({"n": "many"}, "n='many': it is not a number"),
    ({"leak": "2"}, "leak='2': it must be from 0.0 to 1.0"),
    ({"act": "swish!"}, "act='swish!': it must be one of"),
    ({"colour": "red"}, "'colour': it is not one this app knows"),
    ({"bs": "-4"}, "bs='-4'"),
])
def test_bad_parameters_are_skipped_and_explained(params, expected_problem):
    settings, problems = from_query(params)
    assert len(problems) == 1 and expected_problem in problems[0]
    assert isinstance(settings, Settings)


def test_valid_parameters_are_kept_beside_bad_ones():
    settings, problems = from_query({"n": "9", "lr": "abc", "merge": "mean"})
    assert settings.spec.num_interfaces == 9 and settings.spec.merge == "mean"
    assert settings.spec.learning_rate == ModelSpec().learning_rate
    assert len(problems) == 1


def test_list_values_take_the_last():
    settings, _ = from_query({"n": ["3", "4"]})
    assert settings.spec.num_interfaces == 4


def test_reading_settings_does_not_import_tensorflow():
    code = "import sys, infoif.app.urlstate, infoif.nn.spec; print('keras' in sys.modules or 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr

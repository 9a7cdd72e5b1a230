"""Every sample dataset trains an interface model to better than chance in a few epochs."""

from __future__ import annotations

import numpy as np
import pytest

from infoif.datasets import SAMPLES, prepare_sample

pytestmark = pytest.mark.slow

# The default 4-interface tanh model gets the spiral only to ~55-60% in 30
# epochs (as in the Playground, the spiral needs more capacity), so it gets
# wider ReLU interfaces and a hidden layer; ~97% then.
SPECS = {"Spiral": dict(num_interfaces=4, units=16, activation="relu", hidden=32, learning_rate=0.02)}
EPOCHS = {"Spiral": 30}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_sample_trains_better_than_chance(name):
    import keras

    from infoif.nn.models import ModelSpec, build_model

    keras.utils.set_random_seed(0)
    ds = prepare_sample(name)
    spec = ModelSpec(**SPECS.get(name, {"num_interfaces": 4}))
    model = build_model(spec, ds.input_dim, ds.task, num_classes=ds.num_classes, seed=0)
    model.fit(ds.x_train, ds.y_train, epochs=EPOCHS.get(name, 10), batch_size=32, verbose=0)
    result = model.evaluate(ds.x_val, ds.y_val, verbose=0, return_dict=True)
    if ds.task == "regression":
        # chance = predicting the training mean, which is 0 after standardization
        chance_mse = float(np.mean(ds.y_val.astype(np.float64) ** 2))
        assert result["loss"] < 0.75 * chance_mse, (result, chance_mse)
    else:
        chance = np.bincount(ds.y_val).max() / len(ds.y_val)  # always the commonest class
        assert result["accuracy"] > chance + 0.2, (result, chance)

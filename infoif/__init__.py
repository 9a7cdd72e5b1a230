"""InfoIF: parallel information-interface layers, their energy, and tools to watch them learn.

    import infoif, keras
    model = keras.Sequential([keras.Input((8,)), infoif.InformationInterfaces(4),
                              infoif.EnergyReservoir(leak=0.1)])

`import infoif` is cheap: it does not import Keras (about 3 s, most of it
TensorFlow) so that the parts of the dashboard that only touch data start
fast. The layers are still registered with Keras' serialization as soon as
Keras is imported, whichever of the two is imported first, so a `.keras` file
saved with them loads with plain `keras.models.load_model` after
`import infoif`, with no `custom_objects`. That includes the models the app
exports, which read raw rows:

    model = keras.models.load_model("infoif-run-1.keras")
    infoif.predict(model, pandas.read_csv("new_rows.csv"))   # prediction, probability_<class>
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"

# Public names that live in modules importing Keras, resolved on first use.
_LAZY = {
    "InformationInterfaces": "infoif.nn.layers",
    "EnergyReservoir": "infoif.nn.layers",
    "ModelSpec": "infoif.nn.spec",
    "build_model": "infoif.nn.models",
    "InterfaceProbe": "infoif.nn.models",
    "predict": "infoif.export",
}

# Modules whose Keras objects must be registered before a saved model is loaded.
_KERAS_MODULES = ("infoif.nn.layers", "infoif.nn.preprocessing")

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'infoif' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


class _RegisterWhenKerasLoads(importlib.abc.MetaPathFinder):
    """Imports `infoif.nn.layers` (which registers the layers) right after `keras` is imported."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)  # one-shot: find the real spec without us
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            _register()

        spec.loader.exec_module = exec_then_register
        return spec


def _register():
    for name in _KERAS_MODULES:
        importlib.import_module(name)


if "keras" in sys.modules:
    _register()
elif not any(isinstance(f, _RegisterWhenKerasLoads) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterWhenKerasLoads())

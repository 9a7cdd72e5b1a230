"""Names shared across InfoIF: task names and the limits of the model and training settings.

One home for each: `spec.py`, `urlstate.py`, `models.py`, the data package and
the app read them from here, so that a task name or a limit is written once.
Nothing here imports anything heavy.
"""

from __future__ import annotations

__all__ = [
    "TASKS",
    "CLASSIFICATION_TASKS",
    "AUTO",
    "TASK_CHOICES",
    "MAX_INTERFACES",
    "SLIDER_MAX_INTERFACES",
    "MAX_BATCH_SIZE",
    "MAX_LEARNING_RATE",
    "MAX_SEED",
    "PREDICTION",
    "SWEEP_SETTINGS",
    "MAX_SWEEP_RUNS",
    "MAX_SWEEP_SEEDS",
    "DASK_ENV",
]

# --- Tasks -----------------------------------------------------------------------------

TASKS = ("binary", "multiclass", "regression")
CLASSIFICATION_TASKS = ("binary", "multiclass")
AUTO = "auto"  # "infer the task from the target", where a person chooses
TASK_CHOICES = (AUTO, *TASKS)

# --- Model and training settings --------------------------------------------------------

MAX_INTERFACES = 256  # ModelSpec's limit: far above the dashboard's slider; guards typos like 6400
SLIDER_MAX_INTERFACES = 64  # the dashboard's num_interfaces slider, and what a link may ask for
MAX_BATCH_SIZE = 65_536
MAX_LEARNING_RATE = 10.0  # learning rates are in (0, MAX_LEARNING_RATE]
MAX_SEED = 2**31 - 1

# --- Predictions ---------------------------------------------------------------------------

PREDICTION = "prediction"  # the column of `infoif.predict`'s answer (label as in the file, or the value)

# --- Sweeps ----------------------------------------------------------------------------------

# The settings a sweep may vary (ModelSpec fields, and the batch size), in the order they are shown.
SWEEP_SETTINGS = ("num_interfaces", "units", "activation", "leak", "penalty", "merge", "learning_rate",
                  "batch_size")
# Settings a compiled model does not depend on (a variable, an argument, the initial values): runs
# differing only in these can train in turn on one model (infoif.runs.store.model_signature).
NOT_IN_GRAPH = ("learning_rate", "batch_size", "seed")
MAX_SWEEP_RUNS = 2_000  # a grid (times seeds) larger than this is refused: it is most likely a typo
MAX_SWEEP_SEEDS = 100
DASK_ENV = "INFOIF_DASK"  # the Dask scheduler's address (tcp://host:8786); unset: sweeps run on this machine

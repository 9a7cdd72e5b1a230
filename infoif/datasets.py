"""Sample datasets: TensorFlow Playground's four 2-D sets, the 12-bit set, and the registry of sample files.

    df = circle(n=500, noise=0.1, seed=0)      # columns x1, x2, label (0/1)
    df = bits12()                              # all 4,096 patterns of 12 bits, label (0/1)
    df = load_sample(DEFAULT_SAMPLE)           # reads sample_data/circle.csv
    loaded = read_sample("Iris")               # the frame and how it was read (`Loaded`)
    ds = prepare_sample("Palmer penguins")     # load_sample + prepare with its target

The generators follow tensorflow/playground's `src/dataset.ts` (Apache-2.0):
the same shapes, radii, padding and noise model, with numpy's seeded
generator instead of `Math.random`, labels 1/0 instead of 1/-1, and the rows
shuffled. `noise` is the Playground's slider divided by 100 (0 to 0.5 there).
The committed CSV files in `sample_data/` come from `sample_data/export.py`,
so the app starts without generating anything. Nothing here imports Keras.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from infoif.data import Dataset, Loaded, prepare, read_table
from infoif.validate import int_in, is_int, unit_interval

__all__ = [
    "circle",
    "xor",
    "gaussian",
    "spiral",
    "GENERATORS",
    "bits12",
    "BITS12_SAMPLE",
    "probes_every_row",
    "Sample",
    "SAMPLES",
    "DEFAULT_SAMPLE",
    "SAMPLE_DIR",
    "sample_path",
    "read_sample",
    "load_sample",
    "prepare_sample",
]

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
MAX_POINTS = 1_000_000


def _check(n, noise, seed):
    int_in("n", n, 2, MAX_POINTS)
    unit_interval("noise", noise)
    if seed is not None and not (is_int(seed) and seed >= 0):
        raise ValueError(f"`seed` must be a non-negative integer or None. Received: seed={seed!r}")


def _halves(n: int) -> tuple[int, int]:
    """Points of the positive and of the negative class (they add up to n)."""
    return n - n // 2, n // 2


def _frame(x, y, label, rng) -> pd.DataFrame:
    order = rng.permutation(len(x))
    return pd.DataFrame(
        {
            "x1": np.asarray(x, dtype=np.float64)[order],
            "x2": np.asarray(y, dtype=np.float64)[order],
            "label": np.asarray(label, dtype=np.int64)[order],
        }
    )


def circle(n: int = 500, noise: float = 0.1, seed: int | None = 0) -> pd.DataFrame:
    """A disc of class 1 inside a ring of class 0 (Playground's "Circle").

    Positives are drawn at radius U(0, 2.5), negatives at U(3.5, 5); the label
    is whether the point plus noise U(-5, 5) * noise lies within radius 2.5,
    so noise flips labels near the gap, as in the Playground.
    """
    _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    radius = 5.0
    xs, ys, labels = [], [], []
    for count, (r_lo, r_hi) in zip(_halves(n), [(0.0, radius * 0.5), (radius * 0.7, radius)]):
        r = rng.uniform(r_lo, r_hi, count)
        angle = rng.uniform(0.0, 2 * math.pi, count)
        x, y = r * np.sin(angle), r * np.cos(angle)
        noise_x = rng.uniform(-radius, radius, count) * noise
        noise_y = rng.uniform(-radius, radius, count) * noise
        inside = np.hypot(x + noise_x, y + noise_y) < radius * 0.5
        xs.append(x)
        ys.append(y)
        labels.append(inside.astype(np.int64))
    return _frame(np.concatenate(xs), np.concatenate(ys), np.concatenate(labels), rng)


def xor(n: int = 500, noise: float = 0.1, seed: int | None = 0) -> pd.DataFrame:
    """Four quadrants, class 1 where x1 * x2 >= 0 (Playground's "Exclusive or").

    Points are U(-5, 5) per axis pushed 0.3 away from the axes; the label uses
    the point plus noise U(-5, 5) * noise.
    """
    _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    padding = 0.3
    x = rng.uniform(-5, 5, n)
    x = x + np.where(x > 0, padding, -padding)
    y = rng.uniform(-5, 5, n)
    y = y + np.where(y > 0, padding, -padding)
    noise_x = rng.uniform(-5, 5, n) * noise
    noise_y = rng.uniform(-5, 5, n) * noise
    label = ((x + noise_x) * (y + noise_y) >= 0).astype(np.int64)
    return _frame(x, y, label, rng)


def gaussian(n: int = 500, noise: float = 0.1, seed: int | None = 0) -> pd.DataFrame:
    """Two Gaussian blobs, class 1 around (2, 2), class 0 around (-2, -2).

    As in the Playground, noise sets the variance: 0.5 + 7 * noise (so 0.5 at
    no noise and 4 at the Playground's maximum of 0.5).
    """
    _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    variance = 0.5 + (4.0 - 0.5) * noise / 0.5
    xs, ys, labels = [], [], []
    for count, (c, label) in zip(_halves(n), [(2.0, 1), (-2.0, 0)]):
        xs.append(c + math.sqrt(variance) * rng.standard_normal(count))
        ys.append(c + math.sqrt(variance) * rng.standard_normal(count))
        labels.append(np.full(count, label, dtype=np.int64))
    return _frame(np.concatenate(xs), np.concatenate(ys), np.concatenate(labels), rng)


def spiral(n: int = 500, noise: float = 0.1, seed: int | None = 0) -> pd.DataFrame:
    """Two interleaved spirals of 1.75 turns out to radius 5 (Playground's "Spiral").

    Each point gets noise U(-1, 1) * noise on both axes.
    """
    _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    xs, ys, labels = [], [], []
    for count, (delta, label) in zip(_halves(n), [(0.0, 1), (math.pi, 0)]):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * math.pi + delta
        xs.append(r * np.sin(t) + rng.uniform(-1, 1, count) * noise)
        ys.append(r * np.cos(t) + rng.uniform(-1, 1, count) * noise)
        labels.append(np.full(count, label, dtype=np.int64))
    return _frame(np.concatenate(xs), np.concatenate(ys), np.concatenate(labels), rng)


BITS = 12
# ring correlations C_k = sum_i s_i s_(i+k mod 12) weighted into the label's score (k = 1, 2, 3, 6)
_RING_WEIGHTS = {1: 1, 2: 1, 3: 3, 6: -1}


def bits12() -> pd.DataFrame:
    """Every pattern of 12 binary inputs once (4,096 rows), with a balanced label from a symmetric rule.

    A discrete-input set on which the information plane is well defined
    (H(X) = 12 bits), in the spirit of Shwartz-Ziv & Tishby's (2017) 12-bit
    data, with a rule of our own: put the bits b0..b11 on a ring as spins
    s_i = 2 b_i - 1 and let C_k = sum_i s_i s_(i+k mod 12) measure how much
    bits k apart agree. The label is 1 when C_1 + C_2 + 3 C_3 - C_6 > 0.

    The rule depends only on the ring's correlations, so it is unchanged by
    rotating or mirroring the ring and by flipping every bit; it is not
    linearly separable. Exactly 2,048 patterns (half) have label 1. Row k is
    the binary number k (b0 its most significant bit). Columns b0..b11 (0/1)
    and label (0/1).
    """
    k = np.arange(1 << BITS)
    bits = (k[:, None] >> np.arange(BITS - 1, -1, -1)) & 1
    spins = 2 * bits - 1
    score = sum(w * (spins * np.roll(spins, -d, axis=1)).sum(axis=1) for d, w in _RING_WEIGHTS.items())
    df = pd.DataFrame({f"b{i}": bits[:, i].astype(np.int64) for i in range(BITS)})
    df["label"] = (score > 0).astype(np.int64)
    return df


GENERATORS = {"circle": circle, "xor": xor, "gaussian": gaussian, "spiral": spiral}

_PLAYGROUND_SOURCE = (
    "Generated by infoif.datasets.{fn}(n=500, noise=0.1, seed=0), which follows "
    "tensorflow/playground src/dataset.ts (Apache-2.0)."
)


@dataclass(frozen=True)
class Sample:
    """A sample dataset shipped in `sample_data/`."""

    name: str  # display name, the key in SAMPLES
    file: str  # file name in sample_data/
    target: str  # the column to predict
    task: str  # one of infoif.constants.TASKS
    description: str  # one or two sentences for the app
    source: str  # where the data come from
    licence: str
    # True: the information plane probes every row (train and validation), not the
    # validation set: the sample is a complete set of input patterns (the 12-bit one).
    probe_all_rows: bool = False

    @property
    def path(self) -> Path:
        return SAMPLE_DIR / self.file


def _playground(name: str, fn: str, description: str) -> Sample:
    return Sample(
        name=name,
        file=f"{fn}.csv",
        target="label",
        task="binary",
        description=description,
        source=_PLAYGROUND_SOURCE.format(fn=fn),
        licence="Generated by this project; no third-party data.",
    )


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in [
        _playground(
            "Circle",
            "circle",
            "TensorFlow Playground's circle: 500 points, class 1 in a disc, class 0 in a ring "
            "around it. Not separable by a straight line.",
        ),
        _playground(
            "XOR",
            "xor",
            "TensorFlow Playground's exclusive-or: 500 points, class 1 in two opposite "
            "quadrants. Needs the product of the two inputs.",
        ),
        _playground(
            "Gaussian",
            "gaussian",
            "TensorFlow Playground's two Gaussian blobs: 500 points, separable by a straight "
            "line. The easy one.",
        ),
        _playground(
            "Spiral",
            "spiral",
            "TensorFlow Playground's two interleaved spirals: 500 points. The hard one.",
        ),
        Sample(
            name="Iris",
            file="iris.csv",
            target="species",
            task="multiclass",
            description="Fisher's iris flowers: 150 flowers of 3 species, 4 measurements (cm).",
            source=(
                "R. A. Fisher (1936), via the UCI Machine Learning Repository; exported from the "
                "copy in scikit-learn (sklearn/datasets/data/iris.csv)."
            ),
            licence="CC BY 4.0 (UCI Machine Learning Repository); scikit-learn is BSD-3-Clause.",
        ),
        Sample(
            name="Palmer penguins",
            file="penguins.csv",
            target="species",
            task="multiclass",
            description=(
                "344 penguins of 3 species from three islands near Palmer Station, Antarctica: "
                "bill, flipper and body measurements, with text columns (island, sex) and "
                "missing values."
            ),
            source=(
                "Horst, Hill & Gorman (2020), palmerpenguins, doi:10.5281/zenodo.3960218; data "
                "by K. Gorman and Palmer Station LTER. Exported from the Python package "
                "palmerpenguins 0.1.6."
            ),
            licence="CC0 1.0 (the data); the Python package is MIT.",
        ),
        Sample(
            name="Diabetes",
            file="diabetes.csv",
            target="progression",
            task="regression",
            description=(
                "442 diabetes patients: age, sex, body-mass index, blood pressure and six blood "
                "serum measurements; the target is a measure of disease progression one year "
                "later (regression)."
            ),
            source=(
                "Efron, Hastie, Johnstone & Tibshirani (2004), 'Least Angle Regression', Annals "
                "of Statistics 32(2); exported from the unscaled copy in scikit-learn "
                "(load_diabetes(scaled=False))."
            ),
            licence="Distributed with scikit-learn under BSD-3-Clause.",
        ),
        Sample(
            name="12 bits",
            file="bits12.csv",
            target="label",
            task="binary",
            description=(
                "Every pattern of 12 binary inputs once (4,096 rows), labelled by a rule that is "
                "symmetric on a ring of the 12 bits; half the patterns are class 1. The information "
                "plane measures all 4,096 patterns, so H(X) = 12 bits (after Shwartz-Ziv & Tishby 2017)."
            ),
            source="Generated by infoif.datasets.bits12() (a rule of this project's own).",
            licence="Generated by this project; no third-party data.",
            probe_all_rows=True,
        ),
    ]
}

BITS12_SAMPLE = "12 bits"

DEFAULT_SAMPLE = "Circle"  # the Playground opens with the circle too


def _sample(name: str) -> Sample:
    try:
        return SAMPLES[name]
    except (KeyError, TypeError):
        raise KeyError(
            f"There is no sample dataset {name!r}; the samples are {sorted(SAMPLES)}."
        ) from None


def probes_every_row(dataset) -> bool:
    """Whether the probe batch of `dataset` is every row, train and validation (see `Sample.probe_all_rows`).

    True for a dataset prepared from such a sample: its name is the sample's
    and it has the sample's inputs (the 12-bit sample: 4,096 rows of 12).
    """
    sample = SAMPLES.get(getattr(dataset, "name", None))
    if sample is None or not sample.probe_all_rows:
        return False
    rows = len(dataset.x_train) + len(dataset.x_val)
    return sample.name != BITS12_SAMPLE or (rows == 1 << BITS and np.shape(dataset.x_val)[1:] == (BITS,))


def sample_path(name: str) -> Path:
    """The CSV file of a sample (in `sample_data/`, next to the `infoif` package)."""
    return _sample(name).path


def read_sample(name: str = DEFAULT_SAMPLE) -> Loaded:
    """A sample dataset read from its committed CSV with `read_table`; the report is named
    after the sample."""
    sample = _sample(name)
    loaded = read_table(sample.path)
    return Loaded(loaded.frame, dataclasses.replace(loaded.report, name=sample.name))


def load_sample(name: str = DEFAULT_SAMPLE) -> pd.DataFrame:
    """A sample dataset as a DataFrame (`read_sample(name).frame`)."""
    return read_sample(name).frame


def prepare_sample(name: str = DEFAULT_SAMPLE, **kwargs) -> Dataset:
    """`read_sample` then `prepare` with the sample's target (keyword arguments go to `prepare`)."""
    sample = _sample(name)
    return prepare(read_sample(name), sample.target, **kwargs)

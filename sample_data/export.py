"""Regenerates every CSV in sample_data/ (the app and the tests only read the CSVs).

    python sample_data/export.py

Needs, on top of the app's requirements, scikit-learn (Iris, Diabetes) and
palmerpenguins (Palmer penguins): both ship their data inside the PyPI
package, so nothing is downloaded. The Playground sets and the 12-bit set
come from `infoif.datasets`. Output is deterministic: running this twice gives the same
files.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from infoif import datasets  # noqa: E402


def _write(df, name: str, float_format: str | None = None) -> None:
    path = HERE / name
    df.to_csv(path, index=False, lineterminator="\n", float_format=float_format)
    print(f"{name}: {len(df)} rows, {df.shape[1]} columns")


def export_playground() -> None:
    for fn, generate in datasets.GENERATORS.items():
        _write(generate(n=500, noise=0.1, seed=0), f"{fn}.csv", float_format="%.5f")


def export_bits12() -> None:
    _write(datasets.bits12(), "bits12.csv")


def export_iris() -> None:
    from sklearn.datasets import load_iris

    bunch = load_iris(as_frame=True)
    df = bunch.frame.rename(
        columns={
            "sepal length (cm)": "sepal_length_cm",
            "sepal width (cm)": "sepal_width_cm",
            "petal length (cm)": "petal_length_cm",
            "petal width (cm)": "petal_width_cm",
        }
    )
    df["species"] = [str(bunch.target_names[t]) for t in df.pop("target")]
    _write(df, "iris.csv")


def export_penguins() -> None:
    from palmerpenguins import load_penguins

    _write(load_penguins(), "penguins.csv")


def export_diabetes() -> None:
    from sklearn.datasets import load_diabetes

    df = load_diabetes(as_frame=True, scaled=False).frame
    df = df.rename(
        columns={
            "s1": "tc",  # total serum cholesterol
            "s2": "ldl",  # low-density lipoproteins
            "s3": "hdl",  # high-density lipoproteins
            "s4": "tch",  # total cholesterol / HDL
            "s5": "ltg",  # log of serum triglycerides
            "s6": "glu",  # blood sugar
            "target": "progression",
        }
    )
    df["sex"] = df["sex"].astype(int)
    df["age"] = df["age"].astype(int)
    df["progression"] = df["progression"].astype(int)
    _write(df, "diabetes.csv")


if __name__ == "__main__":
    export_playground()
    export_bits12()
    export_iris()
    export_penguins()
    export_diabetes()

"""Inputs shared by the tests of infoif.figures: random data of known shape, one call of every
figure builder (`builders`), and small readers of a figure's layout.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from infoif.figures.compare import compare_curves_figure, sweep_figure
from infoif.figures.data import scatter_2d_figure
from infoif.figures.information import clustering_figure, info_plane_figure
from infoif.figures.input_plane import decision_surface_figure, interface_response_figure
from infoif.figures.interfaces import (
    distribution_bands_figure, energy_curves_figure, final_energy_figure, kernel_heatmaps_figure,
    kernel_norm_figure, output_histograms_figure, similarity_figure,
)
from infoif.figures.model import architecture_figure
from infoif.figures.train import loss_curves_figure


def rng(seed=0):
    return np.random.default_rng(seed)


def bands_for(E, N, seed=0):
    """(E, N, 9) increasing percentiles, like infoif.train.estimators.percentile_bands_per_row gives."""
    return np.sort(rng(seed).normal(size=(E, N, 9)), axis=2)


def grid(G=12):
    return np.linspace(-2.0, 2.0, G), np.linspace(-1.0, 1.0, G + 1)


def builders(N=6, E=30):
    """One call of every builder, on inputs of N interfaces and E epochs."""
    r = rng(1)
    ep = np.arange(1, E + 1)
    xx, yy = grid()
    pts = r.normal(size=(50, 2))
    df = pd.DataFrame({"a": pts[:, 0], "b": pts[:, 1], "cls": np.where(pts[:, 0] > 0, "pos", "neg"),
                       "v": pts[:, 1] * 3})
    edges = np.linspace(-1, 1, 11)
    return {
        "loss_curves": lambda: loss_curves_figure(ep, {"train": r.random(E), "validation": r.random(E)}, 0.6),
        "kernel_heatmaps": lambda: kernel_heatmaps_figure(r.normal(size=(N, 3, 4)), ["a", "b", "c"]),
        "kernel_norm": lambda: kernel_norm_figure(ep, r.random((E, N))),
        "bands_one": lambda: distribution_bands_figure(ep, bands_for(E, N), interface=1, title="Weights"),
        "bands_grid": lambda: distribution_bands_figure(ep, bands_for(E, N)),
        "histogram_lines": lambda: output_histograms_figure(edges, r.integers(0, 9, (N, 10)), 3),
        "histogram_heatmap": lambda: output_histograms_figure(edges, r.integers(0, 9, (20, 10)), 3),
        "energy_curves": lambda: energy_curves_figure(np.cumsum(r.random((max(40, E), N)), 0), 0.1, 3),
        "final_energy": lambda: final_energy_figure(ep, r.random((E, N))),
        "similarity": lambda: similarity_figure(np.clip(r.normal(size=(N, N)), -1, 1)),
        "info_plane": lambda: info_plane_figure(r.random((E, N)), r.random((E, N)), ep, "binning, 30 bins"),
        "info_plane_interval": lambda: info_plane_figure(
            1 + r.random((E, N)), r.random((E, N)), ep, "KDE lower and upper bounds", i_xt_lower=r.random((E, N)),
            i_ty_lower=r.random((E, N)), samples=512, h_y=1.0),
        "info_plane_ceilings": lambda: info_plane_figure(r.random((E, N)), r.random((E, N)), ep, "binning",
                                                         samples=4096, h_y=1.0, range_note="[-1, 1]"),
        "clustering_classes": lambda: clustering_figure(r.normal(size=(N, 80, 2)), r.integers(0, 3, 80), E,
                                                        variance=r.random((N, 2)) / 2, class_names=["a", "b", "c"]),
        "clustering_numeric": lambda: clustering_figure(r.normal(size=(N, 80, 2)), r.normal(size=80), E),
        "surface_binary": lambda: decision_surface_figure(xx, yy, r.random((13, 12)), pts,
                                                          (pts[:, 0] > 0).astype(int), ["0", "1"], "binary"),
        "surface_multiclass": lambda: decision_surface_figure(xx, yy, r.integers(0, 3, (13, 12)), pts,
                                                              r.integers(0, 3, 50), ["a", "b", "c"], "multiclass"),
        "surface_regression": lambda: decision_surface_figure(xx, yy, r.normal(size=(13, 12)), pts,
                                                              r.normal(size=50), None, "regression"),
        "interface_response": lambda: interface_response_figure(xx, yy, r.normal(size=(N, 13, 12))),
        "architecture": lambda: architecture_figure(2, N, 4, "concat", 8, 1,
                                                    {"interfaces": N * 12, "hidden": 200, "head": 9}),
        "scatter_categorical": lambda: scatter_2d_figure(df, "a", "b", "cls"),
        "scatter_numeric": lambda: scatter_2d_figure(df, "a", "b", "v"),
        "compare_curves": lambda: compare_curves_figure(
            [{"label": f"run {i}", "epochs": ep, "values": r.random(E)} for i in range(3)], "val_loss", 0.5),
        "sweep": lambda: sweep_figure([4, 1, 2], [0.8, 0.6, 0.7], [2.0, 0.5, 1.0], "val_accuracy"),
    }


BUILDERS = sorted(builders())


def layout_json(fig):
    return fig.layout.to_plotly_json()


def axis_title(axis) -> str:
    return axis.title.text or ""


def alpha(rgba: str) -> float:
    return float(re.fullmatch(r"rgba\(\d+,\d+,\d+,([\d.]+)\)", rgba).group(1))

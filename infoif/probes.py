"""What the dashboard measures about the interfaces at an epoch, as immutable records.

`ProbeConfig` holds the knobs, `Probes` one measurement, `measure` makes one
from an `InterfaceProbe` and a fixed probe batch. Everything here is numpy;
arrays in a `Probes` are read-only so a record can be shared across threads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np

from infoif import estimators as est

__all__ = ["ProbeConfig", "InfoEstimate", "Probes", "measure", "histogram_edges"]


@dataclass(frozen=True)
class ProbeConfig:
    """Knobs of the probes and of the history they fill.

    Args:
        probe_size: samples in the fixed probe batch (drawn once per run from
            the validation data, same samples in the same order every epoch).
        info_bins: bins of the binning estimator (Shwartz-Ziv & Tishby: 30).
        kde_noise_var: noise variance sigma^2 of the KDE upper bound.
        kde_size: samples of the probe batch used by the KDE estimator, whose
            cost is quadratic in them.
        hist_bins: bins of the output histograms (edges fixed for the run).
        cost_fraction: probes may take at most this fraction of training time.
        min_interval, max_interval: seconds of training between probes; the
            interval is 10x the measured probe cost clamped to this range, so
            charts get fresh data at least once per second of training.
        keep_kernels: newest probe records that keep the full kernels.
        max_probe_records: probe records kept; beyond it the older half is
            thinned to every other record (newest stay dense).
        max_records: metric records kept, thinned the same way.
    """

    probe_size: int = 512
    info_bins: int = 30
    kde_noise_var: float = 0.1
    kde_size: int = 256
    hist_bins: int = 40
    cost_fraction: float = 0.1
    min_interval: float = 0.25
    max_interval: float = 1.0
    keep_kernels: int = 20
    max_probe_records: int = 400
    max_records: int = 20_000

    def __post_init__(self):
        for name in ("probe_size", "info_bins", "kde_size", "hist_bins", "keep_kernels",
                     "max_probe_records", "max_records"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
        if not self.kde_noise_var > 0:
            raise ValueError(f"`kde_noise_var` must be > 0. Received: kde_noise_var={self.kde_noise_var!r}")
        if not 0 < self.cost_fraction <= 1:
            raise ValueError(f"`cost_fraction` must be in (0, 1]. Received: cost_fraction={self.cost_fraction!r}")
        if not 0 < self.min_interval <= self.max_interval:
            raise ValueError(
                "Need 0 < min_interval <= max_interval. "
                f"Received: min_interval={self.min_interval!r}, max_interval={self.max_interval!r}"
            )

    def interval(self, probe_cost: float) -> float:
        """Seconds of training between two probes, given what one probe costs."""
        return min(self.max_interval, max(self.min_interval, probe_cost / self.cost_fraction))


@dataclass(frozen=True)
class InfoEstimate:
    """Information-plane estimates per interface, labelled with their estimator."""

    estimator: str  # "binning" or "kde"
    label: str
    params: Mapping
    i_xt: np.ndarray  # (N,) bits
    i_ty: np.ndarray  # (N,) bits


@dataclass(frozen=True)
class Probes:
    """One measurement of every interface (N of them) at one epoch. Arrays are read-only."""

    kernel_norm: np.ndarray  # (N,) L2 norm of each interface's kernel
    kernel_bands: np.ndarray  # (N, 9) percentiles of each kernel (BAND_PERCENTILES)
    bias: np.ndarray  # (N, units)
    kernels: np.ndarray | None  # (N, d_in, units), only in the newest records
    output_hist: np.ndarray  # (N, hist_bins) counts on the probe batch, run-fixed edges
    output_bands: np.ndarray  # (N, 9) percentiles of each interface's outputs
    energy_curve: np.ndarray  # (probe_size, N) EnergyReservoir E[b]
    energy_final: np.ndarray  # (N,) E[last]
    entropy: np.ndarray  # (N,) bits, binned outputs
    info: Mapping[str, InfoEstimate] = field(default_factory=dict)  # "binning", "kde"
    similarity: np.ndarray | None = None  # (N, N) cosine similarity of kernels
    seconds: float = 0.0  # what this measurement cost

    def without_kernels(self) -> "Probes":
        return dataclasses.replace(self, kernels=None)


def _frozen(array) -> np.ndarray:
    array = np.array(array, dtype=np.float32 if np.asarray(array).dtype.kind == "f" else None)
    array.setflags(write=False)
    return array


def histogram_edges(activation: str, first_outputs: np.ndarray, bins: int) -> np.ndarray:
    """Output-histogram edges for a whole run.

    Bounded activations get their exact range (tanh: [-1, 1], sigmoid: [0, 1]);
    others a range from the first probe's outputs with a margin, values
    outside are counted in the end bins.
    """
    if activation == "tanh":
        return np.linspace(-1.0, 1.0, bins + 1)
    if activation == "sigmoid":
        return np.linspace(0.0, 1.0, bins + 1)
    return est.fixed_edges(first_outputs, bins=bins, margin=0.5)


def measure(
    probe,
    x_probe: np.ndarray,
    y_probe: np.ndarray,
    edges: np.ndarray,
    config: ProbeConfig,
    keep_kernels: bool = True,
) -> Probes:
    """Measures every interface of `probe.model` on the fixed probe batch."""
    import time

    start = time.perf_counter()
    outputs, energy = probe(x_probe)  # (B, N, units), (B, N)
    kernels = probe.kernels()  # (N, d_in, units)
    n = kernels.shape[0]
    flat_kernels = kernels.reshape(n, -1)
    flat_outputs = np.ascontiguousarray(np.transpose(outputs, (1, 0, 2)))  # (N, B, units)

    binning_xt = np.empty(n)
    binning_ty = np.empty(n)
    entropy = np.empty(n)
    kde_xt = np.empty(n)
    kde_ty = np.empty(n)
    kde_n = min(config.kde_size, outputs.shape[0])
    for i in range(n):
        t = flat_outputs[i]
        binning_xt[i], binning_ty[i] = est.binning_mi(t, y_probe, bins=config.info_bins)
        entropy[i] = binning_xt[i]  # every probe sample is a distinct x: I(X;T) = H(T)
        kde_xt[i], kde_ty[i] = est.kde_mi(t[:kde_n], y_probe[:kde_n], noise_var=config.kde_noise_var)

    info = MappingProxyType({
        "binning": InfoEstimate(
            "binning",
            est.estimator_label("binning", bins=config.info_bins),
            MappingProxyType({"bins": config.info_bins}),
            _frozen(binning_xt),
            _frozen(binning_ty),
        ),
        "kde": InfoEstimate(
            "kde",
            est.estimator_label("kde", noise_var=config.kde_noise_var),
            MappingProxyType({"noise_var": config.kde_noise_var, "samples": kde_n}),
            _frozen(kde_xt),
            _frozen(kde_ty),
        ),
    })
    return Probes(
        kernel_norm=_frozen(np.linalg.norm(flat_kernels, axis=1)),
        kernel_bands=_frozen(est.percentile_bands_per_row(flat_kernels)),
        bias=_frozen(probe.biases()),
        kernels=_frozen(kernels) if keep_kernels else None,
        output_hist=_frozen(est.histogram_fixed(flat_outputs.reshape(n, -1), edges)),
        output_bands=_frozen(est.percentile_bands_per_row(flat_outputs.reshape(n, -1))),
        energy_curve=_frozen(energy),
        energy_final=_frozen(energy[-1]),
        entropy=_frozen(entropy),
        info=info,
        similarity=_frozen(est.kernel_cosine_similarity(kernels)),
        seconds=time.perf_counter() - start,
    )

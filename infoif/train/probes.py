"""What the dashboard measures about the interfaces at an epoch, as immutable records.

A run measures its interfaces on one fixed probe batch, with bins fixed for
the whole run, so that measurements of different epochs can be compared:

    setup = probe_setup(dataset, spec.activation, probe.outputs, config, rng)  # once per run
    probes = measure(probe, setup, config)                                     # every probe

`ProbeConfig` holds the knobs, `ProbeSetup` what is fixed for a run (the probe
batch, the output-histogram edges, the binning range and where it came
from), `Probes` one measurement and `InfoEstimate` its information-plane
estimates. Everything here is numpy: records hold read-only arrays, floats,
ints and strings only (no model), so they can be shared across threads.
`to_flat()` turns a `Probes` or a `ProbeSetup` into one flat dict of numpy
arrays for `np.savez` (no pickle needed to read it back) and `from_flat()`
rebuilds it; both records pickle too (for worker processes), through that form.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np

from infoif.train import estimators as est

__all__ = [
    "ProbeConfig",
    "ProbeSetup",
    "InfoEstimate",
    "Probes",
    "probe_setup",
    "measure",
    "histogram_edges",
    "value_range",
    "SATURATION_BITS",
    "saturated",
    "saturation_note",
]

#: Binning I(X;T) within this many bits of log2(n) means almost every probe sample sits in a
#: bin of its own (e.g. 90% alone and 10% in pairs gives log2(n) - 0.1): the estimate is saturated.
SATURATION_BITS = 0.1

#: Activations with an exact range: their outputs are binned over it, whatever the first probe says.
BOUNDED_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
#: Activations bounded below only: the range from the first probe never reaches below this.
FLOORS = {"relu": 0.0, "softplus": 0.0, "elu": -1.0, "gelu": -0.17}
RANGE_MARGIN = 0.5  # unbounded activations: the first probe's range, widened by this share on each side


@dataclass(frozen=True)
class ProbeConfig:
    """Knobs of the probes and of the history they fill.

    Args:
        probe_size: at most this many samples in the fixed probe batch: the
            whole validation set up to this size (a random subset beyond it),
            or every row of a sample that asks for it (the 12-bit sample: all
            4,096 input patterns). Same samples in the same order every epoch.
        info_bins: bins per unit of the binning estimator (Shwartz-Ziv & Tishby: 30),
            over a range fixed for the run (`value_range`).
        kde_noise_var: noise variance sigma^2 of the KDE bounds.
        kde_size: the KDE estimates use at most this many samples of the probe
            batch (a random subset fixed for the run): their cost grows with
            the square of it.
        kde_pairs: ... and at most this many sample pairs over all interfaces
            (N * samples^2), so many interfaces get fewer samples each: the
            default gives 512 samples up to N = 16 and 256 at N = 64.
        hist_bins: bins of the output histograms (edges fixed for the run).
        curve_size: the EnergyReservoir curve E[b] is kept for the first this
            many samples of the probe batch (it settles within ~1/leak samples).
        view_size: samples of the probe batch (a random subset fixed for the
            run) kept, projected to 2-D, for the clustering view.
        cost_fraction: probes may take at most this fraction of training time.
        min_interval, max_interval: seconds of training between probes; the
            interval is the measured probe cost / cost_fraction clamped to this
            range, so charts get fresh data about once per second; a probe
            costing more than cost_fraction * max_interval stretches the
            interval instead of exceeding its share.
        keep_kernels: newest probe records that keep the full kernels.
        max_probe_records: probe records kept; beyond it the older half is
            thinned to every other record (newest stay dense).
        max_records: metric records kept, thinned the same way.
    """

    probe_size: int = 4096
    info_bins: int = 30
    kde_noise_var: float = 0.1
    kde_size: int = 512
    kde_pairs: int = 64 * 256 ** 2
    hist_bins: int = 40
    curve_size: int = 512
    view_size: int = 256
    cost_fraction: float = 0.1
    min_interval: float = 0.25
    max_interval: float = 1.0
    keep_kernels: int = 20
    max_probe_records: int = 400
    max_records: int = 20_000

    def __post_init__(self):
        for name in ("probe_size", "info_bins", "kde_size", "kde_pairs", "hist_bins", "curve_size", "view_size",
                     "keep_kernels", "max_probe_records", "max_records"):
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

    def kde_samples(self, batch: int, interfaces: int) -> int:
        """Samples of a probe batch of `batch` that the KDE uses with `interfaces` interfaces (>= 2)."""
        by_cost = math.isqrt(max(self.kde_pairs // max(interfaces, 1), 0))
        return max(min(2, batch), min(batch, self.kde_size, by_cost))

    def interval(self, probe_cost: float) -> float:
        """Seconds of training between two probes, given what one probe costs.

        probe_cost / cost_fraction clamped to [min_interval, max_interval], but never
        below probe_cost / cost_fraction: probes keep to their share of the time.
        """
        share = probe_cost / self.cost_fraction
        return max(share, min(self.max_interval, max(self.min_interval, share)))


# ---------------------------------------------------------------- what is fixed for a run


def _frozen(array, dtype=None) -> np.ndarray:
    source = np.asarray(array)
    if dtype is None and source.dtype.kind == "f":
        dtype = np.float32
    array = np.array(source, dtype=dtype)
    array.setflags(write=False)
    return array


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _scalar(value):
    """A 0-d array (as np.load gives back) as a Python float, int, bool or str."""
    item = np.asarray(value).item()
    return item if isinstance(item, (bool, int, float, str)) else str(item)


def _flat_fields(record, skip=()) -> dict[str, np.ndarray]:
    """The dataclass fields of `record` as numpy arrays (None fields left out)."""
    flat = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if f.name in skip or value is None:
            continue
        flat[f.name] = np.asarray(value)
    return flat


def value_range(activation: str, first_outputs) -> tuple[float, float, str]:
    """(lo, hi, note): the range the outputs of a run are binned over, and where it comes from.

    Bounded activations get their exact range (tanh: [-1, 1], sigmoid: [0, 1]).
    Others get the first probe's range widened by half of it on each side, cut
    at the activation's floor where it has one (relu, softplus: 0; elu: -1;
    gelu: -0.17). Later values outside the range are counted in the end bins.
    The note says this in words, for the chart.
    """
    if activation in BOUNDED_RANGES:
        lo, hi = BOUNDED_RANGES[activation]
        return lo, hi, f"[{lo:g}, {hi:g}], the range of {activation}"
    edges = est.fixed_edges(first_outputs, bins=1, margin=RANGE_MARGIN)
    lo, hi = float(edges[0]), float(edges[-1])
    floor = FLOORS.get(activation)
    note = f"[{lo:.3g}, {hi:.3g}]"
    if floor is not None and lo < floor:
        lo = floor
        note = f"[{lo:g}, {hi:.3g}] ({activation} outputs are >= {floor:g})"
    return lo, hi, (f"{note}, the first probe's range widened by half on each side; "
                    "later values beyond it count in the end bins")


def histogram_edges(activation: str, first_outputs: np.ndarray, bins: int) -> np.ndarray:
    """Output-histogram edges for a whole run: `bins` equal bins over `value_range`."""
    lo, hi, _ = value_range(activation, first_outputs)
    return np.linspace(lo, hi, bins + 1)


@dataclass(frozen=True)
class ProbeSetup:
    """What stays fixed for a whole run, so that its measurements compare across epochs.

    x, y: the probe batch (B, d) float32 and its B labels (class indices, or
    standardized targets for regression). source: "all rows" (train and
    validation rows of a sample that asks for it, in file order) or
    "validation". description: the batch in words. hist_edges: output-histogram
    edges. value_range, range_note: what the binning estimator bins over, and
    why. kde_index, view_index: sorted positions in the batch of the KDE
    estimates' samples and of the clustering view's samples. h_y, h_y_kde:
    H(Y) in bits of the batch's labels and of the KDE samples' labels (float
    targets binned into 30 bins, as the estimators do).
    """

    x: np.ndarray
    y: np.ndarray
    source: str
    description: str
    hist_edges: np.ndarray
    value_range: tuple[float, float]
    range_note: str
    kde_index: np.ndarray
    view_index: np.ndarray
    h_y: float
    h_y_kde: float

    @property
    def size(self) -> int:
        return int(self.x.shape[0])

    def to_flat(self) -> dict[str, np.ndarray]:
        """Every field as a numpy array, for `np.savez` (`from_flat` reads it back)."""
        return _flat_fields(self)

    @classmethod
    def from_flat(cls, flat) -> "ProbeSetup":
        """The record `to_flat` gave (e.g. from `np.load`), read-only again."""
        lo, hi = (float(v) for v in np.asarray(flat["value_range"]))
        return cls(
            x=_frozen(flat["x"], np.float32), y=_frozen(flat["y"]), source=_scalar(flat["source"]),
            description=_scalar(flat["description"]), hist_edges=_frozen(flat["hist_edges"], np.float64),
            value_range=(lo, hi), range_note=_scalar(flat["range_note"]),
            kde_index=_frozen(flat["kde_index"], np.int64), view_index=_frozen(flat["view_index"], np.int64),
            h_y=float(_scalar(flat["h_y"])), h_y_kde=float(_scalar(flat["h_y_kde"])),
        )

    def __reduce__(self):
        return ProbeSetup.from_flat, (self.to_flat(),)


def _every_row_wanted(dataset) -> bool:
    from infoif import datasets  # lazily: it brings pandas and the data layer

    return datasets.probes_every_row(dataset)


def _probe_rows(dataset, config: ProbeConfig, rng: np.random.Generator):
    """(x, y, source, description) of the probe batch."""
    x_val, y_val = np.asarray(dataset.x_val), np.asarray(dataset.y_val)
    if _every_row_wanted(dataset):
        x = np.concatenate([np.asarray(dataset.x_train), x_val])
        y = np.concatenate([np.asarray(dataset.y_train), y_val])
        rows = getattr(dataset, "train_rows", None), getattr(dataset, "val_rows", None)
        if rows[0] is not None and rows[1] is not None:
            order = np.argsort(np.concatenate(rows), kind="stable")  # the file's order
            x, y = x[order], y[order]
        total = len(x)
        if total <= config.probe_size:
            return x, y, "all rows", f"all {_count(total, 'row')} of the data (every input pattern)"
        pick = np.sort(rng.permutation(total)[: config.probe_size])
        return x[pick], y[pick], "all rows", f"{config.probe_size:,} of all {_count(total, 'row')}"
    n_val = len(x_val)
    if n_val <= config.probe_size:
        return x_val, y_val, "validation", f"all {_count(n_val, 'validation sample')}"
    pick = np.sort(rng.permutation(n_val)[: config.probe_size])
    return x_val[pick], y_val[pick], "validation", f"{config.probe_size:,} of {n_val:,} validation samples"


def probe_setup(
    dataset,
    activation: str,
    outputs: Callable[[np.ndarray], np.ndarray],
    config: ProbeConfig,
    rng: np.random.Generator,
) -> ProbeSetup:
    """The probe batch of a run and everything else its measurements keep fixed.

    Args:
        dataset: an `infoif.data.Dataset` (any object with x_train, y_train,
            x_val, y_val and name will do; train_rows/val_rows give file order).
        activation: the interfaces' activation (`ModelSpec.activation`).
        outputs: the model's interface outputs for a batch, (B, d) -> (B, N, units),
            e.g. `InterfaceProbe(model).outputs`; called once, on the new model,
            for the ranges of unbounded activations.
        config: a `ProbeConfig`.
        rng: draws the subsets (probe batch beyond `probe_size`, KDE and view samples).
    """
    x, y, source, description = _probe_rows(dataset, config, rng)
    if len(x) < 1:
        raise ValueError(f"The probe batch needs at least one validation sample. Received: {len(x)} samples")
    x = _frozen(x, np.float32)
    y = _frozen(y, y.dtype if y.dtype.kind != "f" else np.float32)
    b = len(x)
    first = np.asarray(outputs(x))
    lo, hi, note = value_range(activation, first)
    kde_index = np.sort(rng.permutation(b)[: config.kde_samples(b, first.shape[1] if first.ndim == 3 else 1)])
    view_index = np.sort(rng.permutation(b)[: min(config.view_size, b)])
    return ProbeSetup(
        x=x,
        y=y,
        source=source,
        description=description,
        hist_edges=_frozen(np.linspace(lo, hi, config.hist_bins + 1), np.float64),
        value_range=(lo, hi),
        range_note=note,
        kde_index=_frozen(kde_index, np.int64),
        view_index=_frozen(view_index, np.int64),
        h_y=float(est.label_entropy(y)),
        h_y_kde=float(est.label_entropy(y[kde_index])),
    )


# ---------------------------------------------------------------- one measurement


@dataclass(frozen=True)
class InfoEstimate:
    """Information-plane estimates per interface, labelled with their estimator.

    i_xt, i_ty: (N,) bits; for "kde" the upper bound of Kolchinsky & Tracey.
    i_xt_lower, i_ty_lower: (N,) bits, the KDE lower (Bhattacharyya) bound;
        None for binning. i_xt_lower <= i_xt always; the two I(T;Y) values are
        two estimates, not a bracket.
    samples: how many samples the estimate used; log2(samples) bounds I(X;T).
    h_y: H(Y) of those samples' labels, in bits; it bounds I(T;Y).
    outside: (N,) share of each interface's output values beyond the binning
        range, counted in the end bins (binning only; None for KDE).
    params: the settings, scalars and strings only (binning: bins, range_lo,
        range_hi, range_note, batch = the probe batch in words; KDE: noise_var, samples).
    """

    estimator: str  # "binning" or "kde"
    label: str
    params: Mapping
    i_xt: np.ndarray
    i_ty: np.ndarray
    i_xt_lower: np.ndarray | None = None
    i_ty_lower: np.ndarray | None = None
    samples: int = 0
    h_y: float = math.nan
    outside: np.ndarray | None = None

    @property
    def ceiling_xt(self) -> float:
        """log2(samples): no estimate of I(X;T) here exceeds it."""
        return math.log2(self.samples) if self.samples > 0 else math.nan

    def to_flat(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Every field as a numpy array under `prefix` + name; params as `prefix` + "params." + name."""
        flat = {prefix + k: v for k, v in _flat_fields(self, skip=("params",)).items()}
        flat.update({f"{prefix}params.{k}": np.asarray(v) for k, v in self.params.items()})
        return flat

    @classmethod
    def from_flat(cls, flat, prefix: str = "") -> "InfoEstimate":
        def array(name):
            key = prefix + name
            return _frozen(flat[key]) if key in flat else None

        params = {key[len(prefix) + 7:]: _scalar(flat[key]) for key in flat if key.startswith(prefix + "params.")}
        return cls(
            estimator=_scalar(flat[prefix + "estimator"]), label=_scalar(flat[prefix + "label"]),
            params=MappingProxyType(params), i_xt=array("i_xt"), i_ty=array("i_ty"),
            i_xt_lower=array("i_xt_lower"), i_ty_lower=array("i_ty_lower"),
            samples=int(_scalar(flat[prefix + "samples"])), h_y=float(_scalar(flat[prefix + "h_y"])),
            outside=array("outside"),
        )

    def __reduce__(self):
        return InfoEstimate.from_flat, (self.to_flat(),)


@dataclass(frozen=True)
class Probes:
    """One measurement of every interface (N of them) at one epoch. Arrays are read-only."""

    kernel_norm: np.ndarray  # (N,) L2 norm of each interface's kernel
    kernel_bands: np.ndarray  # (N, 9) percentiles of each kernel (BAND_PERCENTILES)
    bias: np.ndarray  # (N, units)
    kernels: np.ndarray | None  # (N, d_in, units), only in the newest records
    output_hist: np.ndarray  # (N, hist_bins) counts on the probe batch, run-fixed edges
    output_bands: np.ndarray  # (N, 9) percentiles of each interface's outputs
    energy_curve: np.ndarray  # (min(probe size, curve_size), N) EnergyReservoir E[b]
    energy_final: np.ndarray  # (N,) E at the end of energy_curve
    entropy: np.ndarray  # (N,) bits, binned outputs (bins fixed for the run)
    info: Mapping[str, InfoEstimate] = field(default_factory=dict)  # "binning", "kde"
    similarity: np.ndarray | None = None  # (N, N) cosine similarity of kernels
    seconds: float = 0.0  # what this measurement cost
    probe_size: int = 0  # samples in the probe batch
    view: np.ndarray | None = None  # (N, V, 2) outputs of V probe samples on each interface's 2 PCA axes
    view_variance: np.ndarray | None = None  # (N, 2) share of the output variance on those axes
    view_labels: np.ndarray | None = None  # (V,) labels of those samples

    def without_kernels(self) -> "Probes":
        return dataclasses.replace(self, kernels=None)

    def to_flat(self) -> dict[str, np.ndarray]:
        """One flat dict of numpy arrays for `np.savez`: the fields by name (None ones left
        out), each estimate under "info.<estimator>." (`from_flat` reads it back)."""
        flat = _flat_fields(self, skip=("info",))
        for key, estimate in self.info.items():
            flat.update(estimate.to_flat(f"info.{key}."))
        return flat

    @classmethod
    def from_flat(cls, flat) -> "Probes":
        """The record `to_flat` gave (e.g. from `np.load`), read-only again."""
        keys = sorted({k.split(".")[1] for k in flat if k.startswith("info.")})
        values = {}
        for f in dataclasses.fields(cls):
            if f.name == "info" or f.name not in flat:
                continue
            value = np.asarray(flat[f.name])
            values[f.name] = _scalar(value) if f.name in ("seconds", "probe_size") else _frozen(value)
        values.setdefault("kernels", None)
        info = MappingProxyType({k: InfoEstimate.from_flat(flat, f"info.{k}.") for k in keys})
        return cls(info=info, **values)

    def __reduce__(self):
        return Probes.from_flat, (self.to_flat(),)


def measure(probe, setup: ProbeSetup, config: ProbeConfig, keep_kernels: bool = True) -> Probes:
    """Measures every interface of `probe.model` on the run's fixed probe batch.

    `probe` is an `InterfaceProbe` (or anything with the same `__call__`,
    `kernels` and `biases`); `setup` comes from `probe_setup` for this run.
    """
    start = time.perf_counter()
    outputs, energy = probe(setup.x)  # (B, N, units), (B, N)
    kernels = probe.kernels()  # (N, d_in, units)
    n = kernels.shape[0]
    flat_kernels = kernels.reshape(n, -1)
    per_if = np.ascontiguousarray(np.transpose(outputs, (1, 0, 2)))  # (N, B, units)
    values = per_if.reshape(n, -1)
    lo, hi = setup.value_range
    y = setup.y

    binning_xt = np.empty(n)
    binning_ty = np.empty(n)
    kde = np.empty((4, n))
    t_kde = per_if[:, setup.kde_index]
    y_kde = y[setup.kde_index]
    for i in range(n):
        binning_xt[i], binning_ty[i] = est.binning_mi(per_if[i], y, bins=config.info_bins, value_range=(lo, hi))
        (kde[0, i], kde[1, i]), (kde[2, i], kde[3, i]) = est.kde_mi_bounds(
            t_kde[i], y_kde, noise_var=config.kde_noise_var)
    outside = np.count_nonzero((values < lo) | (values > hi), axis=1) / values.shape[1]

    info = MappingProxyType({
        "binning": InfoEstimate(
            "binning",
            est.estimator_label("binning", bins=config.info_bins, value_range=(lo, hi)),
            MappingProxyType({"bins": config.info_bins, "range_lo": lo, "range_hi": hi,
                              "range_note": setup.range_note, "batch": setup.description}),
            _frozen(binning_xt),
            _frozen(binning_ty),
            samples=setup.size,
            h_y=setup.h_y,
            outside=_frozen(outside),
        ),
        "kde": InfoEstimate(
            "kde",
            est.estimator_label("kde", noise_var=config.kde_noise_var, lower=True),
            MappingProxyType({"noise_var": config.kde_noise_var, "samples": int(len(setup.kde_index))}),
            _frozen(kde[0]),
            _frozen(kde[1]),
            i_xt_lower=_frozen(kde[2]),
            i_ty_lower=_frozen(kde[3]),
            samples=int(len(setup.kde_index)),
            h_y=setup.h_y_kde,
        ),
    })
    view, view_variance = est.pca_2d(per_if, setup.view_index, y)
    curve = energy[: config.curve_size]
    return Probes(
        kernel_norm=_frozen(np.linalg.norm(flat_kernels, axis=1)),
        kernel_bands=_frozen(est.percentile_bands_per_row(flat_kernels)),
        bias=_frozen(probe.biases()),
        kernels=_frozen(kernels) if keep_kernels else None,
        output_hist=_frozen(est.histogram_fixed(values, setup.hist_edges)),
        output_bands=_frozen(est.percentile_bands_per_row(values)),
        energy_curve=_frozen(curve),
        energy_final=_frozen(curve[-1]),
        entropy=_frozen(binning_xt),  # every probe sample is a distinct x: I(X;T) = H(T)
        info=info,
        similarity=_frozen(est.kernel_cosine_similarity(kernels)),
        seconds=time.perf_counter() - start,
        probe_size=setup.size,
        view=_frozen(view),
        view_variance=_frozen(view_variance),
        view_labels=_frozen(y[setup.view_index]),
    )


# ---------------------------------------------------------------- reading the estimates


def saturated(estimate: InfoEstimate) -> np.ndarray:
    """(N,) bool: interfaces whose binning I(X;T) is within SATURATION_BITS of log2(samples).

    Then almost every probe sample lands in a bin of its own, I(X;T) reads as
    log2(n) and I(T;Y) as H(Y) whatever the interface does. Always False for KDE.
    """
    if estimate.estimator != "binning" or estimate.samples < 2:
        return np.zeros(np.shape(estimate.i_xt), dtype=bool)
    return np.asarray(estimate.i_xt) >= estimate.ceiling_xt - SATURATION_BITS


def saturation_note(estimate: InfoEstimate) -> str | None:
    """A note for the user when the binning estimate is saturated, saying what helps; else None."""
    hit = saturated(estimate)
    count = int(hit.sum())
    if count == 0:
        return None
    n = hit.size
    who = "Every interface puts" if count == n else f"{count} of {n} interfaces put{'s' if count == 1 else ''}"
    return (
        f"{who} almost every one of the {estimate.samples:,} probe "
        f"samples in a bin of its own, so binning reads I(X;T) ≈ log2({estimate.samples:,}) = "
        f"{estimate.ceiling_xt:.2f} bits and I(T;Y) ≈ H(Y) whatever the interface learns: the estimate is "
        "saturated. What helps: fewer bins (Estimator settings), fewer units per interface (Model page), "
        "or the KDE estimate."
    )

"""Information-plane and weight-summary estimators for the probes (pure numpy).

Every function here runs on each probe cadence, for every interface, on a
fixed probe batch (typically 256-1024 samples), so all of them are vectorised:
no Python loop over samples (the KDE loops over blocks of >= 16 rows).
`bench/estimators.py` prints what they cost.

Units: entropies and mutual informations are in **bits**.

Estimators of I(X;T) and I(T;Y) for a layer's activations T:

* `binning_mi` - Shwartz-Ziv & Tishby (2017), "Opening the black box of deep
  neural networks via information": every unit is discretised into equal-width
  bins, each distinct binned activation vector is one symbol, and plug-in
  (maximum-likelihood) entropies of the empirical distribution are used.
* `kde_mi` - Saxe et al. (2018), "On the information bottleneck theory of deep
  learning", using Kolchinsky & Tracey's (2017) pairwise-KL upper bound on the
  entropy of T = h + N(0, noise_var I); follows `entropy_estimator_kl` and
  `kde_condentropy` of the authors' code (github.com/artemyk/ibsgd, kde.py).
  `kde_mi_bounds` adds the pairwise-Bhattacharyya lower bound
  (`entropy_estimator_bd` there) from the same distances, as Saxe et al. plot
  both.

Labels `y` are discrete class labels (any integer, bool or string dtype). A
float `y` is taken to be a regression target and is first discretised into
`y_bins` equal-width bins over its range (`y_bins=None` instead treats each
distinct float value as its own label).

All functions raise `ValueError`, naming the value received, on bad input,
including NaN or infinite values (a diverged run should be reported, not
silently summarised).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "BAND_PERCENTILES",
    "percentile_bands",
    "percentile_bands_per_row",
    "binned_entropy",
    "binning_mi",
    "kde_entropy",
    "kde_mi",
    "kde_mi_bounds",
    "label_entropy",
    "kernel_cosine_similarity",
    "pca_2d",
    "histogram_fixed",
    "fixed_edges",
    "estimator_label",
]

#: TensorBoard's distribution-chart bands (percentiles, outermost to median to outermost).
BAND_PERCENTILES = (0, 7, 16, 31, 50, 69, 84, 93, 100)

_LOG2E = 1.0 / math.log(2.0)  # bits per nat
_KDE_BLOCK_ELEMENTS = 1 << 22  # max rows x n elements per block of the pairwise matrix (32 MiB)
# Max multiply-adds per matrix product in the KDE: OpenBLAS runs a GEMM on one thread up to
# 65536 * GEMM_MULTITHREAD_THRESHOLD (default 4) of them; see _kde_log_sums for why it matters.
_KDE_GEMM_WORK = 65536 * 4
_KDE_MIN_ROWS = 16  # but never fewer rows: each product repacks the whole right factor


# ----------------------------------------------------------------------------
# validation helpers


def _describe(value) -> str:
    """Short description of a received value for error messages (no huge array dumps)."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {_describe(value)}")
    return int(value)


def _check_positive_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive finite number, got {_describe(value)}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def _real_array(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real numeric array, got {_describe(arr)}")
    return arr


def _check_finite(name: str, arr: np.ndarray) -> None:
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite, got {_describe(arr)} with {bad} NaN/inf value(s)")


def _samples(name: str, t) -> np.ndarray:
    """Activations as a float64 (n, units) array; a 1-D array is one unit."""
    arr = _real_array(name, t)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(
            f"{name} must have shape (n_samples, units) with n_samples >= 1 and units >= 1, "
            f"got {_describe(arr)}"
        )
    arr = arr.astype(np.float64, copy=False)
    _check_finite(name, arr)
    return arr


def _value_range(value_range, data: np.ndarray) -> tuple[float, float]:
    """(lo, hi) to bin over; the data's own range when value_range is None (may be lo == hi)."""
    if value_range is None:
        return float(data.min()), float(data.max())
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"value_range must be None or a pair (lo, hi) of finite numbers with lo < hi, "
            f"got {_describe(value_range)}"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(
            f"value_range must be None or a pair (lo, hi) of finite numbers with lo < hi, "
            f"got {_describe(value_range)}"
        )
    return lo, hi


def _bin_codes(data: np.ndarray, bins: int, lo: float, hi: float) -> np.ndarray:
    """Equal-width bin index in [0, bins) of every element; values outside [lo, hi] go to the end bins.

    A degenerate range (lo == hi, constant data) puts everything in bin 0.
    """
    if hi <= lo:
        return np.zeros(data.shape, dtype=np.int64)
    codes = np.floor((data - lo) * (bins / (hi - lo)))
    np.clip(codes, 0, bins - 1, out=codes)
    return codes.astype(np.int64)


def _labels(y, n: int, y_bins) -> np.ndarray:
    """Dense label codes 0..C-1 for y (discretising a float y into y_bins equal-width bins)."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"y must be 1-D labels (use y.argmax(axis=1) for one-hot targets), got {_describe(arr)}"
        )
    if arr.shape[0] != n:
        raise ValueError(f"y must have one label per sample ({n}), got {_describe(arr)}")
    if arr.dtype.kind == "f":
        _check_finite("y", arr)
        if y_bins is not None:
            y_bins = _check_int("y_bins", y_bins, 1)
            arr = _bin_codes(arr, y_bins, float(arr.min()), float(arr.max()))
    elif arr.dtype.kind not in "biuUS":
        raise ValueError(f"y must be integer, bool, string or float labels, got {_describe(arr)}")
    return np.unique(arr, return_inverse=True)[1].reshape(-1).astype(np.int64, copy=False)


def _x_ids(x_ids, n: int) -> np.ndarray:
    arr = np.asarray(x_ids)
    if arr.ndim != 1 or arr.shape[0] != n or arr.dtype.kind not in "iu":
        raise ValueError(
            f"x_ids must be a 1-D integer array with one id per sample ({n}), got {_describe(arr)}"
        )
    return np.unique(arr, return_inverse=True)[1].reshape(-1).astype(np.int64, copy=False)


# ----------------------------------------------------------------------------
# discrete (plug-in) entropies


def _row_ids(codes: np.ndarray, base: int) -> np.ndarray:
    """Dense id 0..K-1 of each distinct row of `codes` (non-negative ints < base). Exact.

    When base**units fits in an int64 the rows are mixed-radix numbers (one
    integer dot product); otherwise each row is viewed as one opaque byte
    string of a compact unsigned dtype. Both feed one 1-D np.unique, which was
    measured 5-10x faster than np.unique(axis=0) (see bench/estimators.py).
    """
    n, units = codes.shape
    if units * math.log2(base) < 62:
        powers = base ** np.arange(units - 1, -1, -1, dtype=np.int64)
        keys = codes @ powers
    else:
        dtype = np.uint8 if base <= 1 << 8 else np.uint16 if base <= 1 << 16 else np.uint32
        compact = np.ascontiguousarray(codes, dtype=dtype)
        keys = compact.view(np.dtype((np.void, compact.dtype.itemsize * units))).reshape(n)
    return np.unique(keys, return_inverse=True)[1].reshape(-1).astype(np.int64, copy=False)


def _entropy_bits(ids: np.ndarray) -> float:
    """Plug-in entropy (bits) of the empirical distribution of the integer symbols `ids`."""
    counts = np.unique(ids, return_counts=True)[1].astype(np.float64)
    n = counts.sum()
    # -sum p log2 p, with p = c / n  ==  log2 n - sum(c log2 c) / n
    h = math.log2(n) - float(np.dot(counts, np.log2(counts))) / n
    return max(h, 0.0)


def _joint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Symbol of the pair (a, b) of dense ids (both < n, so the product cannot overflow)."""
    return a * (int(b.max()) + 1) + b


def _binned_ids(t: np.ndarray, bins: int, value_range) -> np.ndarray:
    lo, hi = _value_range(value_range, t)
    return _row_ids(_bin_codes(t, bins, lo, hi), bins)


def binned_entropy(t, bins: int = 30, value_range=None) -> float:
    """Plug-in entropy H(T) in bits of the binned activations.

    t: (n, units) activations (1-D = one unit). Each unit is discretised into
    `bins` equal-width bins over `value_range` (lo, hi) - default the range t
    actually takes; values outside an explicit range go to the end bins -
    and every distinct binned row is one symbol. Constant t has entropy 0.
    """
    t = _samples("t", t)
    bins = _check_int("bins", bins, 1)
    return _entropy_bits(_binned_ids(t, bins, value_range))


def binning_mi(t, y, bins: int = 30, value_range=None, x_ids=None, y_bins=30) -> tuple[float, float]:
    """(I(X;T), I(T;Y)) in bits by binning (Shwartz-Ziv & Tishby 2017), plug-in estimates.

    T is binned as in `binned_entropy`. X: every sample is a distinct input
    unless `x_ids` (one integer id per sample, equal ids = the same input)
    is given, in which case I(X;T) = H(T) - H(T|X) = H(T) + H(X) - H(X,T)
    (which is H(T) when T is a deterministic function of X, as for a layer).
    I(T;Y) = H(T) + H(Y) - H(T,Y) with y discrete labels; a float y is first
    discretised into `y_bins` equal-width bins (y_bins=None: every distinct
    value is a label). Rounding is clipped so 0 <= I <= min of the entropies.
    For curves comparable across training steps pass a fixed value_range
    (e.g. (-1, 1) for tanh units, as in the paper); the default follows each
    call's data.

    Plug-in bias: for T independent of Y the estimate of I(T;Y) is about
    (|T|-1)(|Y|-1) / (2 n ln 2) bits, |T| = distinct binned rows; it is large when
    most samples fall in their own bin (then I(T;Y) -> H(Y)).
    """
    t = _samples("t", t)
    bins = _check_int("bins", bins, 1)
    n = t.shape[0]
    labels = _labels(y, n, y_bins)
    t_ids = _binned_ids(t, bins, value_range)
    h_t = _entropy_bits(t_ids)

    if x_ids is None:
        i_xt = h_t  # H(T|X) = 0: every sample is its own input and T is a function of it
    else:
        x = _x_ids(x_ids, n)
        h_x = _entropy_bits(x)
        i_xt = min(max(h_t + h_x - _entropy_bits(_joint(x, t_ids)), 0.0), h_t, h_x)

    h_y = _entropy_bits(labels)
    i_ty = min(max(h_t + h_y - _entropy_bits(_joint(t_ids, labels)), 0.0), h_t, h_y)
    return float(i_xt), float(i_ty)


# ----------------------------------------------------------------------------
# KDE (pairwise-KL upper bound) estimators


def _kde_log_sums(t: np.ndarray, noise_var: float, labels: np.ndarray | None, lower: bool = False):
    """(log S, log S_y, labels) per sample, samples in label-sorted order (callers only average).

    log S_i = log sum_j exp(-||t_i - t_j||^2 / (2 noise_var)), and log S_i,y the
    same sum restricted to the j with the label of i (all j when labels is None).
    With `lower=True`, log S and log S_y are (2, n) arrays: row 0 as above, row 1
    the same sums with the exponent divided by 4, i.e. exp(-||t_i - t_j||^2 /
    (8 noise_var)), the Bhattacharyya lower bound's kernel (see `kde_mi_bounds`),
    computed from the same distance block for the cost of a second exp.

    The self term j = i is exp(0) = 1, so every sum is >= 1: a numerically
    safe logsumexp without subtracting a row max (the row max of the exponent
    is exactly 0). Squared distances use ||a||^2 + ||b||^2 - 2 a.b, folded into
    one matrix product per block of rows:
        [c*(-2 t), c*|t|^2, c] @ [t, 1, |t|^2]^T = c * |t_i - t_j|^2,  c = -1/(2 noise_var).

    Blocks of m rows keep m * n * (d + 2) <= _KDE_GEMM_WORK multiply-adds, below
    OpenBLAS's threshold, so each product runs on the calling thread (with a
    floor of _KDE_MIN_ROWS rows, as each product repacks the right factor; the
    floor only binds for wide layers, d > 30 at n = 1024). Measured with
    bench/estimators.py --contention: one n x n product lets OpenBLAS spread
    over all cores, and while Keras training keeps a core busy its threads
    stall for whole scheduler ticks (n=1024, 16 units: 10 ms median against 3 ms
    for the blocks). Samples are sorted by label so that the per-label sums are
    contiguous slices (np.add.reduceat), with no second product.
    """
    n, d = t.shape
    if labels is None:
        labels = np.zeros(n, dtype=np.int64)
    order = np.argsort(labels, kind="stable")
    t = t[order]
    sorted_labels = labels[order]
    class_starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    # sorted_labels are dense 0..C-1, so column y of the reduceat result is label y

    t = t - t.mean(axis=0)  # distances are shift-invariant; centring reduces cancellation
    sq = np.einsum("ij,ij->i", t, t)
    scale = -0.5 / noise_var
    left = np.concatenate([(-2.0 * scale) * t, (scale * sq)[:, None], np.full((n, 1), scale)], axis=1)
    # A contiguous right factor: `t @ t.T` would take numpy's symmetric (syrk) path, ~10x slower.
    right = np.ascontiguousarray(np.concatenate([t, np.ones((n, 1)), sq[:, None]], axis=1).T)

    rows = max(1, min(n, max(_KDE_MIN_ROWS, _KDE_GEMM_WORK // (n * (d + 2))), _KDE_BLOCK_ELEMENTS // n))
    kernels = 2 if lower else 1
    buffer = np.empty((rows, n))
    spare = np.empty((rows, n)) if lower else None
    log_s = np.empty((kernels, n))
    log_s_y = np.empty((kernels, n))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        local = np.arange(stop - start)
        k = buffer[: stop - start]
        np.matmul(left[start:stop], right, out=k)
        np.minimum(k, 0.0, out=k)  # cancellation can leave tiny positive exponents
        k[local, local + start] = 0.0  # exact self distance: the self term is exp(0) = 1
        if lower:
            # exp(k / 4) >= exp(k) element by element (k <= 0), so the lower bound's sums
            # are never below the upper bound's: I_lower <= I_upper holds in floating point too
            np.multiply(k, 0.25, out=spare[: stop - start])
        for which in range(kernels):
            e = k if which == 0 else spare[: stop - start]
            np.exp(e, out=e)
            per_label = np.add.reduceat(e, class_starts, axis=1)
            log_s[which, start:stop] = np.log(per_label.sum(axis=1))
            log_s_y[which, start:stop] = np.log(per_label[local, sorted_labels[start:stop]])
    if not lower:
        return log_s[0], log_s_y[0], sorted_labels
    return log_s, log_s_y, sorted_labels


def kde_entropy(t, noise_var: float = 0.1) -> float:
    """Kolchinsky-Tracey KL upper bound (bits) on the entropy of T = h + N(0, noise_var I).

    H_upper = -(1/n) sum_i log((1/n) sum_j exp(-||h_i - h_j||^2 / (2 noise_var)))
              + (d/2) log(2 pi e noise_var)      [nats; returned in bits]

    (`entropy_estimator_kl` in artemyk/ibsgd kde.py). For h ~ N(0, s^2 I_d) and
    large n this tends to the Gaussian entropy (d/2) log(2 pi e (s^2 + noise_var))
    plus (d/2) s^2 / (s^2 + noise_var) nats: the bound is tight only when the
    noise dominates the spread or the points form well-separated clusters.
    """
    t = _samples("t", t)
    noise_var = _check_positive_float("noise_var", noise_var)
    n, d = t.shape
    log_s, _, _ = _kde_log_sums(t, noise_var, None)
    nats = math.log(n) - float(log_s.mean()) + 0.5 * d * math.log(2 * math.pi * math.e * noise_var)
    return nats * _LOG2E


def _kde_information(log_s: np.ndarray, log_s_y: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(I(X;T), I(T;Y)) in bits from the kernel sums of `_kde_log_sums` (one kernel)."""
    n = log_s.shape[0]
    i_xt = math.log(n) - float(log_s.mean())
    # H(T) - H(T|Y): the (d/2) log(2 pi e var) terms cancel, and sum_y p(y) * mean over
    # class y of (...) is the overall mean, so per sample: log(S_i,y / n_y) - log(S_i / n).
    class_sizes = np.bincount(labels).astype(np.float64)
    i_ty = float(np.mean(log_s_y - np.log(class_sizes[labels]) - log_s)) + math.log(n)
    return i_xt * _LOG2E, i_ty * _LOG2E


def kde_mi(t, y, noise_var: float = 0.1, y_bins=30) -> tuple[float, float]:
    """(I(X;T), I(T;Y)) in bits, KDE upper bound (Saxe et al. 2018; Kolchinsky & Tracey 2017).

    T = h + N(0, noise_var I) with h = t. I(X;T) = H_upper(T) - H(T|X) where
    H(T|X) = (d/2) log(2 pi e noise_var) is the noise entropy (`kde_condentropy`),
    leaving log n - mean_i log S_i, S_i = sum_j exp(-||h_i-h_j||^2/(2 noise_var)),
    so 0 <= I(X;T) <= log2 n. I(T;Y) = H_upper(T) - sum_y p(y) H_upper(T | Y=y),
    p(y) the label frequencies (y handled as in `binning_mi`). As in the
    reference code, I(T;Y) is a difference of two upper bounds and is not
    clipped: it can come out slightly negative when T carries no label
    information.
    """
    t = _samples("t", t)
    noise_var = _check_positive_float("noise_var", noise_var)
    labels = _labels(y, t.shape[0], y_bins)
    return _kde_information(*_kde_log_sums(t, noise_var, labels))


def kde_mi_bounds(t, y, noise_var: float = 0.1, y_bins=30) -> tuple[tuple[float, float], tuple[float, float]]:
    """((I(X;T), I(T;Y)) upper, (I(X;T), I(T;Y)) lower) in bits: both KDE estimates of Saxe et al.

    The upper pair is `kde_mi`. The lower pair replaces the KL upper bound on
    the mixture entropy by Kolchinsky & Tracey's pairwise-Bhattacharyya lower
    bound (`entropy_estimator_bd` in artemyk/ibsgd kde.py). For Gaussians with
    covariance noise_var I the Bhattacharyya distance is ||h_i - h_j||^2 /
    (8 noise_var), so
        H_lower(T) = (d/2) log(2 pi e noise_var) - (1/n) sum_i log((1/n) sum_j exp(-||h_i-h_j||^2 / (8 noise_var)))
    and I(X;T)_lower = H_lower(T) - H(T|X) = log n - mean_i log S'_i with S'
    the kernel sums at 4 noise_var. Since every term of S' is at least the
    matching term of S, lower <= upper for I(X;T), always (also in floating
    point), and both lie in [0, log2 n]. For I(T;Y) both values are
    differences of two bounds (H(T) minus the mean of H(T | Y=y)): two
    estimates, not a bracket; either may be the larger.

    Both come from one pass over the pairwise distances (one matrix product per
    block, two exps), up to twice the cost of `kde_mi` (bench/estimators.py).
    """
    t = _samples("t", t)
    noise_var = _check_positive_float("noise_var", noise_var)
    labels = _labels(y, t.shape[0], y_bins)
    log_s, log_s_y, labels = _kde_log_sums(t, noise_var, labels, lower=True)
    upper = _kde_information(log_s[0], log_s_y[0], labels)
    lower = _kde_information(log_s[1], log_s_y[1], labels)
    return upper, lower


def label_entropy(y, y_bins=30) -> float:
    """Plug-in entropy H(Y) in bits of the labels, handled as in `binning_mi` (a float y is binned).

    The ceiling of every I(T;Y) estimate here: no layer tells more about Y than H(Y).
    """
    arr = np.asarray(y)
    n = arr.shape[0] if arr.ndim >= 1 else 0
    if n < 1:
        raise ValueError(f"y must hold at least one label, got {_describe(arr)}")
    return _entropy_bits(_labels(arr, n, y_bins))


# ----------------------------------------------------------------------------
# weight summaries


def percentile_bands(values) -> np.ndarray:
    """The BAND_PERCENTILES percentiles (shape (9,)) of all of `values`, flattened."""
    arr = _real_array("values", values)
    if arr.size == 0:
        raise ValueError(f"values must not be empty, got {_describe(arr)}")
    _check_finite("values", arr)
    return np.percentile(arr.reshape(-1), BAND_PERCENTILES)


def percentile_bands_per_row(values_2d) -> np.ndarray:
    """BAND_PERCENTILES of every row of a (rows, k) array, shape (rows, 9), float64.

    Equal to np.percentile(values_2d, BAND_PERCENTILES, axis=1).T (linear
    interpolation), computed from one sort of the rows: numpy's vectorised
    sort is ~10x faster than np.percentile's selection for the probes' 64 rows
    of 32,768 values (5 against 50 ms).
    """
    arr = _real_array("values_2d", values_2d)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"values_2d must have shape (rows, k) with k >= 1, got {_describe(arr)}")
    _check_finite("values_2d", arr)
    ordered = np.sort(arr, axis=1)
    k = arr.shape[1]
    position = np.asarray(BAND_PERCENTILES, dtype=np.float64) / 100.0 * (k - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, k - 1)
    frac = position - below
    lo = ordered[:, below].astype(np.float64)
    hi = ordered[:, above].astype(np.float64)
    return lo + (hi - lo) * frac  # np.percentile's linear rule, exact at frac 0


def kernel_cosine_similarity(kernels) -> np.ndarray:
    """(N, N) cosine similarity between the N interfaces' flattened kernels.

    kernels: (N, d_in, units) (or already flat (N, m)). An all-zero kernel has
    similarity 0 with every other kernel and 1 with itself. The result is
    exactly symmetric, in [-1, 1], with a unit diagonal.
    """
    arr = _real_array("kernels", kernels)
    if arr.ndim not in (2, 3) or arr.shape[0] < 1 or arr.size == 0:
        raise ValueError(
            f"kernels must have shape (N, d_in, units) (or (N, m)) and be non-empty, got {_describe(arr)}"
        )
    _check_finite("kernels", arr)
    flat = arr.reshape(arr.shape[0], -1).astype(np.float64, copy=False)
    norms = np.linalg.norm(flat, axis=1)
    unit = flat / np.where(norms > 0, norms, 1.0)[:, None]  # zero rows stay zero -> similarity 0
    sim = unit @ unit.T
    sim = 0.5 * (sim + sim.T)
    np.clip(sim, -1.0, 1.0, out=sim)
    np.fill_diagonal(sim, 1.0)
    return sim


def pca_2d(outputs, index=None, labels=None) -> tuple[np.ndarray, np.ndarray]:
    """Each interface's outputs on its own first two principal axes: ((N, m, 2), (N, 2)).

    outputs: (N, B, units), the N interfaces' outputs on B samples. The axes of
    interface i are the top two eigenvectors of the covariance of outputs[i]
    over all B samples; the samples at `index` (default all) are centred and
    projected on them. The second result is the share of each interface's
    output variance along each axis (0 for a second axis of a one-unit
    interface, and for constant outputs).

    An eigenvector's sign is arbitrary, so it is fixed for views that compare
    epochs: each axis is oriented so that the projection grows with `labels`
    (codes for discrete labels; values for a float target); when that is
    undecided (no labels, or no correlation), so that its largest loading is
    positive.
    """
    arr = _real_array("outputs", outputs)
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise ValueError(f"outputs must have shape (N, B, units), all >= 1, got {_describe(arr)}")
    # float32 outputs stay float32 until the small covariance matrices (half the memory traffic)
    arr = arr.astype(np.float32 if arr.dtype == np.float32 else np.float64, copy=False)
    _check_finite("outputs", arr)
    n, b, units = arr.shape
    if index is None:
        index = np.arange(b)
    index = np.asarray(index)
    if index.ndim != 1 or index.dtype.kind not in "iu" or (index.size and (index.min() < 0 or index.max() >= b)):
        raise ValueError(f"index must be 1-D integer positions in [0, {b}), got {_describe(index)}")
    mean = arr.mean(axis=1, keepdims=True)
    centred = arr - mean
    cov = np.matmul(centred.transpose(0, 2, 1), centred).astype(np.float64) / b  # batched GEMM (einsum: no BLAS)
    eigvals, eigvecs = np.linalg.eigh(cov)  # ascending
    k = min(2, units)
    axes = eigvecs[:, :, ::-1][:, :, :k]  # (N, units, k), largest first
    top = np.clip(eigvals[:, ::-1][:, :k], 0.0, None)
    total = np.clip(eigvals, 0.0, None).sum(axis=1, keepdims=True)
    # constant outputs leave only rounding noise (relative to their size) as variance: no axes
    level = 1.0 + np.square(mean.astype(np.float64)).sum(axis=2)  # (N, 1)
    share = np.divide(top, total, out=np.zeros_like(top), where=total > 1e-12 * level)
    score = np.zeros((n, k))
    bound = np.zeros((n, k))  # |score| <= ||codes|| * ||projection on the axis||
    if labels is not None:
        lab = np.asarray(labels)
        if lab.ndim == 2 and lab.shape[1] == 1:
            lab = lab[:, 0]
        if lab.shape != (b,):
            raise ValueError(f"labels must have one value per sample ({b}), got {_describe(lab)}")
        codes = lab.astype(np.float64) if lab.dtype.kind in "biuf" else np.unique(lab, return_inverse=True)[1]
        codes = (codes.reshape(-1) - codes.mean()).astype(centred.dtype)
        # sum_b codes_b * projection_b, over all samples, without projecting them all
        score = np.matmul(np.matmul(codes, centred)[:, None, :], axes)[:, 0, :]  # (N, k)
        bound = float(np.linalg.norm(codes)) * np.sqrt(top * b)
    loading = np.take_along_axis(axes, np.abs(axes).argmax(axis=1)[:, None, :], axis=1)[:, 0, :]  # (N, k)
    undecided = np.abs(score) <= 1e-9 * bound  # (also every axis when there are no labels)
    sign = np.where(undecided, np.sign(loading), np.sign(score))
    sign[sign == 0] = 1.0
    projected = np.matmul(centred[:, index, :].astype(np.float64), axes)  # (N, m, k)
    view = np.zeros((n, index.size, 2))
    view[:, :, :k] = projected * sign[:, None, :]
    variance = np.zeros((n, 2))
    variance[:, :k] = share
    return view, variance


def histogram_fixed(values_2d, edges) -> np.ndarray:
    """Per-row histogram counts (rows, len(edges) - 1) over shared bin edges, int64.

    Bins are [e_k, e_k+1) with the last one closed, as np.histogram; values
    below edges[0] or above edges[-1] are counted in the first / last bin, so
    every row's counts sum to its length. Computed by sorting each row and
    locating the inner edges in it (one vectorised sort, then a binary search
    per row and edge), ~15x faster than locating every value among the edges.
    """
    arr = _real_array("values_2d", values_2d)
    if arr.ndim != 2:
        raise ValueError(f"values_2d must have shape (rows, k), got {_describe(arr)}")
    _check_finite("values_2d", arr)
    e = _real_array("edges", edges).astype(np.float64, copy=False)
    if e.ndim != 1 or e.size < 2 or not np.isfinite(e).all() or not (np.diff(e) > 0).all():
        raise ValueError(
            f"edges must be a 1-D strictly increasing finite array of >= 2 values, got {_describe(e)}"
        )
    rows, k = arr.shape
    ordered = np.sort(arr, axis=1).astype(np.float64, copy=False)
    inner = e[1:-1]
    # below[r, j] = how many values of row r lie below inner edge j; bin j holds those in
    # [e_j, e_j+1): below[j] - below[j-1], the first bin all below e_1, the last all from e_-2 on
    below = np.empty((rows, inner.size + 2), dtype=np.int64)
    below[:, 0] = 0
    below[:, -1] = k
    for r in range(rows):
        below[r, 1:-1] = np.searchsorted(ordered[r], inner, side="left")
    return np.diff(below, axis=1)


def fixed_edges(sample, bins: int = 40, margin: float = 0.5) -> np.ndarray:
    """bins + 1 equal-width edges for a whole run, chosen from an initial sample.

    Range: [min, max] of the sample widened on both sides by margin * (max - min)
    (room for the weights to spread while training). A constant sample c (e.g.
    zero-initialised biases) gets the span max(|c|, 1) centred on c before the
    widening, so zeros give [-1, 1] with the default margin.
    """
    arr = _real_array("sample", sample)
    if arr.size == 0:
        raise ValueError(f"sample must not be empty, got {_describe(arr)}")
    _check_finite("sample", arr)
    bins = _check_int("bins", bins, 1)
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not (
        math.isfinite(margin) and margin >= 0
    ):
        raise ValueError(f"margin must be a finite number >= 0, got {_describe(margin)}")
    lo, hi = float(arr.min()), float(arr.max())
    magnitude = max(abs(lo), abs(hi), 1.0)
    span = hi - lo
    if span <= 1e-12 * magnitude:  # constant (up to rounding): a sane default width
        centre = 0.5 * (lo + hi)
        span = max(abs(centre), 1.0)
        lo, hi = centre - 0.5 * span, centre + 0.5 * span
    return np.linspace(lo - margin * span, hi + margin * span, bins + 1)


# ----------------------------------------------------------------------------
# labels for the dashboard

_CITATIONS = {"binning": "Shwartz-Ziv & Tishby 2017", "kde": "Saxe et al. 2018"}


def estimator_label(kind: str, **params) -> str:
    """Human-readable name of an estimator and its settings, with its citation.

    estimator_label("binning", bins=30)      -> "binning, 30 bins (Shwartz-Ziv & Tishby 2017)"
    estimator_label("binning", bins=30, value_range=(-1, 1))
                                             -> "binning, 30 bins over [-1, 1] (Shwartz-Ziv & Tishby 2017)"
    estimator_label("kde", noise_var=0.1)    -> "KDE upper bound, σ²=0.1 (Saxe et al. 2018)"
    estimator_label("kde", noise_var=0.1, lower=True)
                                             -> "KDE lower and upper bounds, σ²=0.1 (Saxe et al. 2018)"

    Parameters not given take the estimators' defaults (bins=30, noise_var=0.1).
    """
    if kind == "binning":
        unknown = set(params) - {"bins", "value_range"}
        if unknown:
            raise ValueError(f"estimator_label('binning') takes bins, value_range; got {sorted(unknown)}")
        bins = _check_int("bins", params.get("bins", 30), 1)
        text = f"binning, {bins} bin{'s' if bins != 1 else ''}"
        if params.get("value_range") is not None:
            lo, hi = _value_range(params["value_range"], np.zeros(1))
            text += f" over [{lo:g}, {hi:g}]"
    elif kind == "kde":
        unknown = set(params) - {"noise_var", "lower"}
        if unknown:
            raise ValueError(f"estimator_label('kde') takes noise_var, lower; got {sorted(unknown)}")
        noise_var = _check_positive_float("noise_var", params.get("noise_var", 0.1))
        bounds = "lower and upper bounds" if params.get("lower") else "upper bound"
        text = f"KDE {bounds}, σ²={noise_var:g}"
    else:
        raise ValueError(f"kind must be 'binning' or 'kde', got {_describe(kind)}")
    return f"{text} ({_CITATIONS[kind]})"

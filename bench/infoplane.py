"""Benchmark: does our interface model compress? The information plane on the 12-bit sample.

    python bench/infoplane.py                  # tanh and relu, 5 seeds each, 1,000 epochs (~15 min)
    python bench/infoplane.py --quick          # 2 seeds, 200 epochs
    python bench/infoplane.py --epochs 3000 --seeds 0 1 2

Saxe et al. (2018) found that the "compression phase" Shwartz-Ziv & Tishby
(2017) reported, I(X;T) rising and then falling, appears with tanh networks
and not with relu ones. This script asks the same of ours: the 12-bit sample
(all 4,096 patterns; H(X) = 12 bits), 4 interfaces of 5 units, tanh against
relu, trained as the dashboard trains (Adam, learning rate 0.01, batch 32, on
the 80% training split), each seed from the same initial weights for both.

Every interface is measured on all 4,096 patterns with the dashboard's own
probes (`infoif.train.probes.measure`, default `ProbeConfig`: binning with 30 bins
over a range fixed for the run, KDE lower and upper bounds with noise
variance 0.1 on a fixed random 512 of the patterns), at about 60 epochs
spread over the run (log-spaced early, evenly later). For each interface it
reports I(X;T) at its peak and at the end, and the drop between them.

For relu the dashboard's range is the first probe's range plus a margin, and
values beyond it are counted in the end bin, which by itself would look like
compression once the outputs outgrow it. So relu is also binned over the
range its outputs take over the whole run ([0, largest output], 30 bins),
fixed after the fact, and the share of outputs beyond the dashboard's range
is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from infoif.train import estimators as est  # noqa: E402
from infoif.datasets import BITS12_SAMPLE, prepare_sample  # noqa: E402
from infoif.train.probes import ProbeConfig, measure, probe_setup  # noqa: E402

ACTIVATIONS = ("tanh", "relu")
INTERFACES, UNITS = 4, 5
BATCH_SIZE = 32
COMPRESSION_BITS = 0.5  # a drop from peak to end larger than this counts as compression


def schedule(epochs: int, points: int = 60) -> list[int]:
    """Epochs to measure at: 0, log-spaced early (fast changes), evenly later, and the last."""
    early = np.geomspace(1, epochs, points // 2).round()
    even = np.linspace(0, epochs, points // 2 + 1).round()
    return sorted({int(e) for e in np.r_[0, early, even, epochs]})


def train_and_measure(activation: str, seed: int, epochs: int, dataset, config: ProbeConfig) -> dict:
    """One run: per measured epoch the dashboard's estimates, and the outputs for run-wide bins."""
    import keras

    from infoif.nn.models import InterfaceProbe, ModelSpec, build_model

    keras.utils.set_random_seed(seed)
    spec = ModelSpec(num_interfaces=INTERFACES, units=UNITS, activation=activation)
    steps = int(np.ceil(len(dataset.x_train) / BATCH_SIZE))
    model = build_model(spec, dataset.input_dim, dataset.task, dataset.num_classes, seed=seed,
                        steps_per_execution=steps)
    probe = InterfaceProbe(model)
    setup = probe_setup(dataset, activation, probe.outputs, config, np.random.default_rng(seed))
    assert setup.size == 4096, setup.description
    when = schedule(epochs)
    record = {"epochs": [], "probes": [], "outputs": [], "setup": setup}

    def snap(epoch):
        record["epochs"].append(epoch)
        record["probes"].append(measure(probe, setup, config, keep_kernels=False))
        record["outputs"].append(probe.outputs(setup.x))

    class Measure(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 in when:
                snap(epoch + 1)

    snap(0)
    started = time.perf_counter()
    model.fit(dataset.x_train, dataset.y_train, epochs=epochs, batch_size=BATCH_SIZE, verbose=0,
              callbacks=[Measure()])
    record["seconds"] = time.perf_counter() - started
    record["val_accuracy"] = float(model.evaluate(dataset.x_val, dataset.y_val, verbose=0, return_dict=True)
                                   ["accuracy"])
    return record


def summarise(record: dict, config: ProbeConfig) -> list[dict]:
    """Per interface: I(X;T) at the peak and at the end, for each estimate."""
    epochs = np.array(record["epochs"])
    series = {
        "binning": np.stack([p.info["binning"].i_xt for p in record["probes"]]),
        "kde_upper": np.stack([p.info["kde"].i_xt for p in record["probes"]]),
        "kde_lower": np.stack([p.info["kde"].i_xt_lower for p in record["probes"]]),
    }
    outputs = np.stack(record["outputs"])  # (E, B, N, units)
    top = float(outputs.max())
    lo, hi = record["setup"].value_range
    if (lo, hi) != (-1.0, 1.0):  # run-wide bins, for activations whose range came from the first probe
        y = record["setup"].y
        series["binning_run_range"] = np.array([
            [est.binning_mi(out[:, i], y, bins=config.info_bins, value_range=(lo, max(top, hi)))[0]
             for i in range(out.shape[1])] for out in outputs])
    outside_end = record["probes"][-1].info["binning"].outside
    rows = []
    for i in range(outputs.shape[2]):
        row = {"interface": i, "outside_end": float(outside_end[i])}
        for name, values in series.items():
            v = values[:, i]
            k = int(np.argmax(v))
            row[name] = dict(start=float(v[0]), peak=float(v[k]), peak_epoch=int(epochs[k]), end=float(v[-1]))
        rows.append(row)
    return rows


def fmt_series(entry: dict) -> str:
    return f"{entry['peak']:5.2f}@{entry['peak_epoch']:<4d} {entry['end']:5.2f} {entry['peak'] - entry['end']:5.2f}"


def mean_sd(values) -> str:
    values = list(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):5.2f} ± {sd:4.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 200 epochs")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.seeds = 200, [0, 1]
    config = ProbeConfig()
    dataset = prepare_sample(BITS12_SAMPLE)
    print(f"12-bit sample: {len(dataset.x_train)} training rows, probe batch = all 4,096 patterns; "
          f"{INTERFACES} interfaces x {UNITS} units; Adam lr 0.01, batch {BATCH_SIZE}, {args.epochs} epochs; "
          f"seeds {args.seeds}")
    print(f"binning: {config.info_bins} bins per unit over the run's fixed range; KDE: noise variance "
          f"{config.kde_noise_var}, on a fixed random {config.kde_samples(4096, INTERFACES)} of the patterns "
          f"(I(X;T) <= {np.log2(config.kde_samples(4096, INTERFACES)):.0f} bits)")
    print("Per interface: I(X;T) peak@epoch, end, drop = peak - end (bits)\n")
    results = {}
    for activation in ACTIVATIONS:
        header = f"{'act':5} {'seed':>4} {'if':>2} | {'binning':^22} | {'KDE upper':^22} | {'KDE lower':^22}"
        if activation != "tanh":
            header += f" | {'binning, run-wide bins':^22} | outside"
        print(header + " | val acc")
        print("-" * len(header))
        rows = []
        for seed in args.seeds:
            record = train_and_measure(activation, seed, args.epochs, dataset, config)
            for row in summarise(record, config):
                row.update(seed=seed, val_accuracy=record["val_accuracy"])
                rows.append(row)
                line = (f"{activation:5} {seed:4d} {row['interface']:2d} | {fmt_series(row['binning'])} | "
                        f"{fmt_series(row['kde_upper'])} | {fmt_series(row['kde_lower'])}")
                if "binning_run_range" in row:
                    line += f" | {fmt_series(row['binning_run_range'])} | {row['outside_end']:6.1%}"
                print(line + f" | {record['val_accuracy']:.3f}", flush=True)
        results[activation] = rows
        print()

    print(f"Summary over seeds x interfaces (mean ± sd); 'compress' = drop > {COMPRESSION_BITS} bit\n")
    print(f"{'':26} | {'I(X;T) start':>13} | {'peak':>13} | {'end':>13} | {'drop':>13} | compress")
    for activation, rows in results.items():
        keys = ["binning", "kde_upper", "kde_lower"] + (["binning_run_range"] if "binning_run_range" in rows[0]
                                                        else [])
        for key in keys:
            drops = [r[key]["peak"] - r[key]["end"] for r in rows]
            print(f"{activation + ' ' + key:26} | {mean_sd(r[key]['start'] for r in rows):>13} | "
                  f"{mean_sd(r[key]['peak'] for r in rows):>13} | {mean_sd(r[key]['end'] for r in rows):>13} | "
                  f"{mean_sd(drops):>13} | {sum(d > COMPRESSION_BITS for d in drops):2d} of {len(drops)}")
        accuracy = {r["seed"]: r["val_accuracy"] for r in rows}
        print(f"{activation + ' validation accuracy':26} | {mean_sd(accuracy.values())}")
        if activation != "tanh":
            print(f"{activation + ' outputs beyond range':26} | {mean_sd(100 * r['outside_end'] for r in rows)} % "
                  "at the end (the dashboard's range: the first probe's, widened by half)")


if __name__ == "__main__":
    main()

"""The command line: the same store and engine as the dashboard, from a terminal.

    python -m infoif runs  [--home DIR] [--workspace ID] [--status S] [--format table|json]
    python -m infoif train --data FILE --target COL [model options] [--epochs N] [--home DIR] [--workspace ID]
    python -m infoif sweep --data FILE --target COL --grid num_interfaces=1,2,4,8 --grid leak=0,0.1
                           --seeds 3 --epochs 100 [--cluster ADDRESS] [model options] [--home DIR]

`train` trains one run in this process (a `Trainer` writing to the store, as
a dashboard worker does), printing its progress; the run then shows up in the
dashboard's workspace for that home: the command prints the link. Without
`--workspace` the home's command-line workspace is used (made on first use).
`sweep` runs a grid of settings times seeds through the same training service
as the dashboard (worker processes on every core), or on a Dask cluster with
`--cluster` (or INFOIF_DASK); it shows a progress bar and exits 0 when every
run finished, 1 with a summary when some did not. Bad arguments, a bad grid
included, get a message and exit status 2, as argparse does.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from infoif.constants import (AUTO, DASK_ENV, MAX_BATCH_SIZE, MAX_INTERFACES, MAX_LEARNING_RATE, MAX_SEED,
                              MAX_SWEEP_SEEDS, SWEEP_SETTINGS, TASK_CHOICES)
from infoif.nn.spec import ACTIVATIONS, MERGES, ModelSpec

__all__ = ["main", "build_parser"]

CLI_WORKSPACE_FILE = "cli-workspace"
DASHBOARD_URL = "http://localhost:8501"
PRINT_SECONDS = 2.0  # without a terminal, a sweep's progress line is printed this often (when it changed)


def _int_range(lo: int, hi: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number (received {text!r})") from None
        if value < lo or (hi is not None and value > hi):
            bound = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
            raise argparse.ArgumentTypeError(f"must be {bound} (received {value})")
        return value
    return parse


def _float_range(lo: float, hi: float, lo_open: bool = False):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number (received {text!r})") from None
        if not (lo < value if lo_open else lo <= value) or not value <= hi:
            raise argparse.ArgumentTypeError(f"must be in {'(' if lo_open else '['}{lo:g}, {hi:g}] "
                                             f"(received {text})")
        return value
    return parse


def _optional(parse):
    def wrapped(text: str):
        return None if text.lower() in ("none", "0") else parse(text)
    return wrapped


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    """The data, model and batch options of `train` and `sweep`."""
    parser.add_argument("--data", required=True, help="a table (CSV, TSV, Parquet, JSON) or a sample's name")
    parser.add_argument("--target", help="the column to predict (default: the sample's, or the last column)")
    parser.add_argument("--task", choices=TASK_CHOICES, default=AUTO)
    parser.add_argument("--workspace", help="the workspace to put the runs in (default: the command line's own)")
    defaults = ModelSpec()
    model = parser.add_argument_group("model")
    model.add_argument("--num-interfaces", type=_int_range(1, MAX_INTERFACES), default=defaults.num_interfaces)
    model.add_argument("--units", type=_optional(_int_range(1, 4096)), default=defaults.units,
                       help="units per interface; 'none' for the input width")
    model.add_argument("--activation", choices=ACTIVATIONS, default=defaults.activation)
    model.add_argument("--leak", type=_float_range(0, 1), default=defaults.leak)
    model.add_argument("--penalty", type=_float_range(0, 1e6), default=defaults.penalty)
    model.add_argument("--merge", choices=MERGES, default=defaults.merge)
    model.add_argument("--hidden", type=_optional(_int_range(1, 4096)), default=defaults.hidden)
    model.add_argument("--lr", type=_float_range(0, MAX_LEARNING_RATE, lo_open=True), default=defaults.learning_rate)
    parser.add_argument("--batch-size", type=_int_range(1, MAX_BATCH_SIZE), default=32)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infoif", description="InfoIF Lab from the command line: "
                                     "train interface models into the workspace store, and list runs.")
    home = argparse.ArgumentParser(add_help=False)
    home.add_argument("--home", help="the store's directory (default: INFOIF_HOME or ~/.infoif)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{runs,train,sweep}")

    runs = commands.add_parser("runs", parents=[home], help="list the runs in the store",
                               description="List the runs in the store, oldest first.")
    runs.add_argument("--workspace", help="only this workspace's runs")
    runs.add_argument("--status", help="only runs with this status")
    runs.add_argument("--format", choices=("table", "json"), default="table")

    train = commands.add_parser("train", parents=[home], help="train one run into the store",
                                description="Train one run into the store, in this process.")
    _run_arguments(train)
    train.add_argument("--epochs", type=_int_range(1), default=100)
    train.add_argument("--seed", type=_int_range(0, MAX_SEED), default=0)
    train.add_argument("--quiet", action="store_true", help="print only the result")

    sweep = commands.add_parser(
        "sweep", parents=[home], help="train a grid of settings times seeds into the store",
        description="Train every combination of the --grid values, once per seed, into the store: on this "
                    "machine's cores through the training service, or on a Dask cluster with --cluster. "
                    "Settings the grid does not vary come from the model options.")
    _run_arguments(sweep)
    sweep.add_argument("--grid", action="append", default=[], metavar="SETTING=V1,V2,...",
                       help=f"values of one setting (repeatable); settings: {', '.join(SWEEP_SETTINGS)}")
    sweep.add_argument("--seeds", type=_int_range(1, MAX_SWEEP_SEEDS), default=1,
                       help="runs per combination, with seeds --seed, --seed+1, ...")
    sweep.add_argument("--seed", type=_int_range(0, MAX_SEED), default=0, help="the first seed")
    sweep.add_argument("--epochs", type=_int_range(1), default=100, help="epochs of each run")
    sweep.add_argument("--cluster", metavar="ADDRESS",
                       help=f"a Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: {DASK_ENV}, else this machine)")
    sweep.add_argument("--workers", type=_int_range(1, 256),
                       help="local worker processes (default: INFOIF_WORKERS, else one per core)")
    sweep.add_argument("--quiet", action="store_true", help="print only the result")
    return parser


def _store(args, parser):
    from infoif.runs.store import Store, StoreError

    try:
        return Store(args.home)
    except StoreError as exc:
        parser.error(str(exc))


def _runs(args, parser) -> int:
    store = _store(args, parser)
    infos = store.runs(args.workspace, status=args.status)
    if args.format == "json":
        print(json.dumps([info.to_json() for info in infos], indent=2, default=str))
        return 0
    if not infos:
        print(f"No runs in {store.home}" + (f" for workspace {args.workspace}" if args.workspace else "") + ".")
        return 0
    rows = [("run", "id", "workspace", "dataset", "N", "status", "epochs", "metric", "worker")]
    from infoif.train.history import headline_metric

    for i in infos:
        metric = headline_metric(i.metrics) if i.metrics else ""
        value = f"{metric} {i.metrics[metric]:.4f}" if metric in i.metrics else ""
        rows.append((i.name, i.id, i.workspace[:8] + "…", i.dataset_name, str(i.spec.num_interfaces), i.status,
                     str(i.epochs), value, i.worker or ""))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0


def _cli_workspace(store) -> str:
    path = Path(store.home) / CLI_WORKSPACE_FILE
    try:
        ws = path.read_text().strip()
        if store.workspace_exists(ws):
            return ws
    except OSError:
        pass
    ws = store.create_workspace()
    path.write_text(ws)
    return ws


def _dataset_ref(store, args, parser) -> tuple[dict, str]:
    from infoif import data as data_lib
    from infoif import datasets

    path = Path(args.data)
    if path.is_file():
        try:
            raw = path.read_bytes()
            frame = data_lib.load_table(raw, filename=path.name)
        except (OSError, data_lib.DataError) as exc:
            parser.error(f"argument --data: could not read {args.data}: {exc}")
        target = args.target if args.target is not None else str(frame.columns[-1])
        if target not in map(str, frame.columns):
            parser.error(f"argument --target: {target!r} is not a column of {path.name}; the columns are "
                         f"{', '.join(map(str, frame.columns))}")
        return {"kind": "upload", "sha256": None, "filename": path.name, "target": target, "task": args.task,
                "seed": args.seed, "_raw": raw}, path.name
    by_name = {name.lower(): name for name in datasets.SAMPLES}
    name = by_name.get(args.data.lower())
    if name is None:
        if path.suffix or os.sep in args.data:
            parser.error(f"argument --data: there is no file {args.data!r}")
        parser.error(f"argument --data: {args.data!r} is neither a file nor a sample; the samples are "
                     f"{', '.join(datasets.SAMPLES)}")
    sample = datasets.SAMPLES[name]
    target = args.target if args.target is not None else sample.target
    return {"kind": "sample", "name": name, "target": target, "task": args.task, "seed": args.seed}, name


def _setup(args, parser):
    """What `train` and `sweep` share: the store, the base spec, the data (an upload kept in the
    store), the workspace. Bad values end the command with a message and status 2."""
    from infoif.data import DataError
    from infoif.runs.store import StoreError

    store = _store(args, parser)
    if args.workspace is not None and not store.workspace_exists(args.workspace):
        parser.error(f"argument --workspace: no workspace {args.workspace!r} in {store.home}")
    try:
        spec = ModelSpec(num_interfaces=args.num_interfaces, units=args.units, activation=args.activation,
                         leak=args.leak, penalty=args.penalty, merge=args.merge, hidden=args.hidden,
                         learning_rate=args.lr)
    except ValueError as exc:
        parser.error(str(exc))
    ref, name = _dataset_ref(store, args, parser)
    workspace = args.workspace or _cli_workspace(store)
    raw = ref.pop("_raw", None)
    if raw is not None:
        ref["sha256"] = store.put_upload(workspace, raw, ref["filename"])
    try:
        opened = store.dataset(ref)
    except (DataError, StoreError, KeyError, ValueError) as exc:
        parser.error(f"argument --data: {exc}")
    return store, spec, ref, name, workspace, opened


def _train(args, parser) -> int:
    store, spec, ref, name, workspace, opened = _setup(args, parser)
    frame, dataset = opened.frame, opened.dataset
    from infoif.train.training import Trainer

    info = store.create_run(workspace, spec, ref, name, seed=args.seed,
                            batch_size=min(args.batch_size, len(dataset.x_train)))
    sink = store.writer(info.id, worker=f"cli (pid {os.getpid()})")
    trainer = Trainer(spec, dataset, seed=args.seed, batch_size=min(args.batch_size, len(dataset.x_train)),
                      name=info.name, frame=frame, sink=sink)
    interrupted = {"flag": False}

    def on_signal(*_):
        interrupted["flag"] = True

    previous = signal.signal(signal.SIGINT, on_signal)
    started = time.perf_counter()
    show = not args.quiet
    tty = sys.stdout.isatty()
    try:
        trainer.start(epochs=args.epochs)
        if show:
            print(f"{info.name} ({info.id}): {name}, {spec.num_interfaces} interfaces, {args.epochs} epochs")
        last_print = 0.0
        while not trainer.wait(0.2):
            if interrupted["flag"]:
                trainer.stop()
                break
            now = time.perf_counter()
            if show and (tty or now - last_print >= 5.0):
                last_print = now
                line = _progress(trainer, args.epochs, now - started)
                print(("\r" + line) if tty else line, end="" if tty else "\n", flush=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    if show and tty:
        print()
    result = store.run_info(info.id)
    latest = trainer.latest
    summary = _progress(trainer, args.epochs, time.perf_counter() - started)
    print(f"{info.name} {result.status}: {summary}" if latest is not None else f"{info.name} {result.status}")
    if result.error:
        print(result.error, file=sys.stderr)
    if show:
        print(f"Run id {info.id} in {store.home}. To see it, start the dashboard with this home "
              f"(INFOIF_HOME={store.home} streamlit run app.py) and open {DASHBOARD_URL}/?ws={workspace}")
    return 0 if result.status == "finished" else 130 if interrupted["flag"] else 1


def _sweep(args, parser) -> int:
    from infoif.runs import sweep as sweeps

    try:  # the grid first: a bad one is refused before anything is read or made
        plan = sweeps.parse_plan(args.grid, seeds=args.seeds, epochs=args.epochs, base_seed=args.seed)
    except sweeps.SweepError as exc:
        parser.error(f"argument --grid: {exc}")
    try:
        cluster = sweeps.cluster_address(args.cluster)
    except sweeps.SweepError as exc:
        parser.error(f"argument --cluster: {exc}")
    store, spec, ref, name, workspace, opened = _setup(args, parser)
    if cluster:
        from infoif.runs.cluster import ClusterError, check_cluster

        try:  # before anything is made: a cluster that cannot train gets its message and nothing else
            check_cluster(cluster)
        except ClusterError as exc:
            print(exc, file=sys.stderr)
            return 1
    try:
        record = sweeps.create(store, workspace, plan, spec, ref, name, args.batch_size,
                               cluster=cluster, max_batch=len(opened.dataset.x_train))
    except sweeps.SweepError as exc:
        parser.error(f"argument --grid: {exc}")
    show = not args.quiet
    where = f"the Dask cluster at {cluster}" if cluster else "this machine"
    if show:
        varied = ", ".join(f"{k}={','.join(map(str, v))}" for k, v in plan.grid.items())
        print(f"{record['name']} ({record['id']}): {plan.size} runs on {name} ({varied}; {len(plan.seeds)} "
              f"seed(s), {plan.epochs} epochs each) on {where}", flush=True)
    service = None
    if not cluster:
        from infoif.runs.service import Service

        # TensorFlow's start-up messages of every worker would bury the progress bar: they go to a log.
        (store.home / "logs").mkdir(exist_ok=True)
        log_file = open(store.home / "logs" / f"{record['name']}-{record['id']}.log", "ab")
        service = Service(store.home, workers=args.workers, worker_log=log_file).start()
    interrupted = {"flag": False}
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.update(flag=True))
    tty = sys.stdout.isatty()
    started = time.perf_counter()
    try:
        sweeps.launch(store, service, record["id"])
        last_print, printed = 0.0, None
        while True:
            state = sweeps.progress(store, record["id"])
            coordinator = sweeps.coordinator(record["id"])
            if coordinator is not None and coordinator.error:
                store.update_sweep(record["id"], status="failed", error=coordinator.error)
                print(f"\n{coordinator.error}" if tty and show else coordinator.error, file=sys.stderr)
                return 1
            if state.status != "running":
                break
            if interrupted["flag"]:
                sweeps.cancel(store, service, record["id"])
                if coordinator is not None:
                    coordinator.join(20)  # runs in flight on the cluster send their files back first
                break
            now = time.perf_counter()
            seen = (state.done, state.epochs_done)
            if show and (tty or (now - last_print >= PRINT_SECONDS and seen != printed)):
                last_print, printed = now, seen
                line = _sweep_bar(state, now - started)
                print(("\r" + line) if tty else line, end="" if tty else "\n", flush=True)
            time.sleep(0.25)
    finally:
        signal.signal(signal.SIGINT, previous)
        if service is not None:
            service.shutdown()
            log_file.close()
    state = sweeps.progress(store, record["id"])
    if show and tty:
        print("\r" + _sweep_bar(state, time.perf_counter() - started))
    frame = sweeps.results(store, record["id"])
    not_done = frame[frame["status"] != "finished"] if len(frame) else frame
    print(f"{record['name']} {state.status}: {state.finished} of {state.total} runs finished in "
          f"{time.perf_counter() - started:.1f} s")
    for _, row in not_done.iterrows():
        error = store.run_info(row["id"]).error
        print(f"  {row['run']} ({row['id']}) {row['status']} after {row['epochs']} epochs"
              + (f": {error}" if error else ""), file=sys.stderr)
    if show:
        print(f"Sweep id {record['id']} in {store.home}. To see it, start the dashboard with this home "
              f"(INFOIF_HOME={store.home} streamlit run app.py), open {DASHBOARD_URL}/?ws={workspace} and go to "
              "Compare runs.")
    if interrupted["flag"]:
        return 130
    return 0 if state.finished == state.total else 1


def _sweep_bar(state, seconds: float) -> str:
    bar = int(20 * state.fraction)
    return f"[{'#' * bar}{'.' * (20 - bar)}] {state.describe()} · {state.epochs_done}/{state.epochs_total} epochs · {seconds:.0f} s"


def _progress(trainer, epochs: int, seconds: float) -> str:
    from infoif.train.history import headline_metric

    latest = trainer.latest
    if latest is None:
        return f"preparing ({seconds:.1f} s)"
    metric = headline_metric(latest.metrics)
    bar = int(20 * latest.epoch / epochs)
    return (f"[{'#' * bar}{'.' * (20 - bar)}] epoch {latest.epoch}/{epochs} · loss {latest.metrics['loss']:.4f} · "
            f"{metric} {latest.metrics[metric]:.4f} · {seconds:.1f} s")


def _glue_values(parser, argv: list[str]) -> list[str]:
    """`--workspace -x...` as `--workspace=-x...`: a workspace id made before ids stopped starting
    with "-" would otherwise read as an option ("expected one argument")."""
    options = {o for sub in parser._subparsers._group_actions[0].choices.values()  # noqa: SLF001
               for o in sub._option_string_actions}  # noqa: SLF001
    out, i = [], 0
    while i < len(argv):
        if argv[i] == "--workspace" and i + 1 < len(argv) and argv[i + 1].startswith("-") \
                and argv[i + 1] not in options:
            out.append(f"--workspace={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args = parser.parse_args(_glue_values(parser, sys.argv[1:] if argv is None else list(argv)))
    command = {"runs": _runs, "train": _train, "sweep": _sweep}[args.command]
    sub = parser._subparsers._group_actions[0].choices[args.command]  # noqa: SLF001 - its own messages
    try:
        return command(args, sub)
    except BrokenPipeError:  # `python -m infoif runs | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0

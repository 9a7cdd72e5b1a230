"""How snapshots, probe records, input-plane views and checkpoints are written as files."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from infoif.history import Snapshot
from infoif.probes import InfoEstimate, Probes
from infoif.store.files import FORMAT, StoreError, dumps, frozen, save_npz

__all__ = ["probes_to_arrays", "probes_from_arrays", "heavy_to_arrays", "plane_from_arrays", "probe_name",
           "save_checkpoint", "load_checkpoint", "metric_line"]

# ---------------------------------------------------------------- array records on disk


def probes_to_arrays(p: Probes) -> dict[str, np.ndarray]:
    out, meta = {}, {"info": {}}
    for f in dataclasses.fields(p):
        value = getattr(p, f.name)
        if f.name == "kernels":
            continue  # heavy: written with the plane view
        if f.name == "info":
            for name, est in value.items():
                entry = {}
                for g in dataclasses.fields(est):
                    v = getattr(est, g.name)
                    if isinstance(v, np.ndarray):
                        out[f"info.{name}.{g.name}"] = v
                    elif v is not None:
                        entry[g.name] = dict(v) if isinstance(v, MappingProxyType) else v
                meta["info"][name] = entry
        elif isinstance(value, np.ndarray):
            out[f"p.{f.name}"] = value
        elif value is not None:
            meta[f.name] = value
    out["meta"] = np.array(dumps(meta))
    return out




def probes_from_arrays(arrays, kernels=None) -> Probes:
    meta = json.loads(str(arrays["meta"]))
    known = {f.name for f in dataclasses.fields(Probes)}
    est_fields = {f.name for f in dataclasses.fields(InfoEstimate)}
    values: dict[str, Any] = {}
    info: dict[str, dict] = {name: dict(entry) for name, entry in meta.get("info", {}).items()}
    for key in arrays.files:
        if key.startswith("p.") and key[2:] in known:
            values[key[2:]] = frozen(arrays[key])
        elif key.startswith("info."):
            _, name, g = key.split(".", 2)
            info.setdefault(name, {})[g] = frozen(arrays[key])
    for k, v in meta.items():
        if k in known and k != "info":
            values[k] = v
    estimates = {}
    for name, entry in info.items():
        entry = {k: v for k, v in entry.items() if k in est_fields}
        if "params" in entry:
            entry["params"] = MappingProxyType(dict(entry["params"]))
        estimates[name] = InfoEstimate(**{**{g: None for g in est_fields}, **entry})
    values["info"] = MappingProxyType(estimates)
    values["kernels"] = frozen(kernels) if kernels is not None else None
    for f in dataclasses.fields(Probes):
        values.setdefault(f.name, None)
    return Probes(**{k: v for k, v in values.items() if k in known})


def heavy_to_arrays(snapshot: Snapshot) -> dict[str, np.ndarray] | None:
    out = {}
    if snapshot.probes is not None and snapshot.probes.kernels is not None:
        out["kernels"] = snapshot.probes.kernels
    plane = snapshot.plane
    if plane is not None:
        out.update({"plane.xx": plane.xx, "plane.yy": plane.yy, "plane.z": plane.z,
                    "plane.responses": plane.responses,
                    "plane.names": np.array(dumps([plane.x_name, plane.y_name]))})
    return out or None


def plane_from_arrays(arrays):
    if "plane.z" not in arrays.files:
        return None
    from infoif.plane import PlaneView

    x_name, y_name = json.loads(str(arrays["plane.names"]))
    return PlaneView(frozen(arrays["plane.xx"]), frozen(arrays["plane.yy"]), frozen(arrays["plane.z"]),
                     frozen(arrays["plane.responses"]), x_name, y_name)




def probe_name(epoch: int) -> str:
    return f"{epoch:09d}"


# ---------------------------------------------------------------- checkpoints


def save_checkpoint(path: Path, ck) -> None:
    arrays = {f"state_{i:04d}": a for i, a in enumerate(ck.state)}
    meta = {"epoch": ck.epoch, "time": ck.time, "rng_state": ck.rng_state, "learning_rate": ck.learning_rate,
            "batch_size": ck.batch_size, "gaps": list(ck.gaps), "format": FORMAT}
    arrays["meta"] = np.array(dumps(meta))
    save_npz(path, arrays)


def load_checkpoint(path: Path):
    from infoif.runner import Checkpoint

    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            state = [z[k] for k in sorted(k for k in z.files if k.startswith("state_"))]
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - any damage: say so for this run
        raise StoreError(f"The run's checkpoint is damaged ({path.name}: {type(exc).__name__}: {exc}).") from None
    return Checkpoint(epoch=int(meta["epoch"]), time=float(meta["time"]), state=state, rng_state=meta["rng_state"],
                      learning_rate=float(meta["learning_rate"]), batch_size=int(meta["batch_size"]),
                      gaps=list(meta.get("gaps", [])))


def metric_line(s: Snapshot) -> str:
    metrics = {k: (float(v) if isinstance(v, (float, np.floating)) and math.isfinite(v) else v)
               for k, v in s.metrics.items()}
    return dumps({"e": s.epoch, "t": round(s.time, 6), "m": metrics}) + "\n"

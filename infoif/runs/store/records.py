"""How snapshots, probe records, input-plane views and checkpoints are written as files."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np

from infoif.train.history import TIME_DECIMALS, Snapshot
from infoif.train.probes import Probes
from infoif.runs.store.files import FORMAT, StoreError, dumps, frozen, save_npz

__all__ = ["probes_to_arrays", "probes_from_arrays", "heavy_to_arrays", "plane_from_arrays", "probe_name",
           "save_checkpoint", "load_checkpoint", "metric_line"]

# ---------------------------------------------------------------- array records on disk


def probes_to_arrays(p: Probes) -> dict[str, np.ndarray]:
    """A probe record's arrays, without its full kernels (those go with the heavy parts)."""
    return p.without_kernels().to_flat()


def probes_from_arrays(arrays, kernels=None) -> Probes:
    probes = Probes.from_flat({key: arrays[key] for key in arrays.files})
    return dataclasses.replace(probes, kernels=frozen(kernels)) if kernels is not None else probes


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
    from infoif.train.plane import PlaneView

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
    from infoif.train.runner import Checkpoint

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
    return dumps({"e": s.epoch, "t": round(s.time, TIME_DECIMALS), "m": metrics}) + "\n"

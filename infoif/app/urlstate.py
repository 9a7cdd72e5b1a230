"""The set-up as URL query parameters, so a copied link reproduces it (like Playground's URL hash).

`to_query(settings)` gives short, readable parameters; `from_query(params)`
reads them back, keeping what is valid and explaining what is not: a
hand-edited or stale link never breaks the app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from infoif.constants import (
    AUTO,
    MAX_BATCH_SIZE,
    MAX_LEARNING_RATE,
    MAX_SEED,
    SLIDER_MAX_INTERFACES,
    TASK_CHOICES,
)
from infoif.nn.spec import ACTIVATIONS, MERGES, ModelSpec

__all__ = ["Settings", "to_query", "from_query", "FIELDS", "TASK_CHOICES"]


@dataclass(frozen=True)
class Settings:
    """Everything a link carries: data choice, model spec and training settings."""

    data: str | None = None  # a sample dataset's name (uploads cannot travel in a link)
    target: str | None = None
    task: str = AUTO
    spec: ModelSpec = field(default_factory=ModelSpec)
    batch_size: int = 32
    epochs: int = 300  # the epoch budget of the Train page (0 = until stopped)
    seed: int = 0


def _number(convert, lo, hi):
    """A parser for a number (int or float, by `convert`) in [lo, hi]."""
    def parse(text):
        value = convert(text)
        if not lo <= value <= hi:
            raise ValueError(f"must be from {lo} to {hi}")
        return value
    return parse


def _int(lo, hi):
    return _number(int, lo, hi)


def _float(lo, hi):
    return _number(float, lo, hi)


def _choice(options):
    def parse(text):
        if text not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return text
    return parse


def _optional_int(lo, hi):
    inner = _int(lo, hi)

    def parse(text):
        return None if text in ("", "none", "None") else inner(text)
    return parse


def _fmt(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# query key -> (where it goes, parser)
FIELDS = {
    "data": ("data", str),
    "target": ("target", str),
    "task": ("task", _choice(TASK_CHOICES)),
    "n": ("spec.num_interfaces", _int(1, SLIDER_MAX_INTERFACES)),
    "units": ("spec.units", _optional_int(1, 256)),
    "act": ("spec.activation", _choice(ACTIVATIONS)),
    "leak": ("spec.leak", _float(0.0, 1.0)),
    "penalty": ("spec.penalty", _float(0.0, 100.0)),
    "merge": ("spec.merge", _choice(MERGES)),
    "hidden": ("spec.hidden", _optional_int(1, 512)),
    "lr": ("spec.learning_rate", _float(1e-6, MAX_LEARNING_RATE)),
    "bs": ("batch_size", _int(1, MAX_BATCH_SIZE)),
    "epochs": ("epochs", _int(0, 1_000_000)),
    "seed": ("seed", _int(0, MAX_SEED)),
}


def to_query(settings: Settings) -> dict[str, str]:
    """Settings -> query parameters (strings), in a stable order."""
    out = {}
    for key, (path, _) in FIELDS.items():
        obj = settings
        for part in path.split("."):
            obj = getattr(obj, part)
        if obj is not None or key in ("units", "hidden"):
            out[key] = _fmt(obj)
    return out


def from_query(params: Mapping[str, str | list[str]], base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Query parameters -> (settings, problems). Invalid or unknown entries are skipped and explained."""
    base = base or Settings()
    top = {"data": base.data, "target": base.target, "task": base.task,
           "batch_size": base.batch_size, "epochs": base.epochs, "seed": base.seed}
    spec = base.spec.to_dict()
    problems = []
    for key, raw in params.items():
        if isinstance(raw, (list, tuple)):
            raw = raw[-1] if raw else ""
        if key not in FIELDS:
            problems.append(f"Ignored the link parameter '{key}': it is not one this app knows.")
            continue
        path, parse = FIELDS[key]
        try:
            value = parse(str(raw))
        except (ValueError, TypeError) as exc:
            reason = str(exc) if "must" in str(exc) else "is not a number"
            problems.append(f"Ignored the link parameter {key}={raw!r}: it {reason}.")
            continue
        if path.startswith("spec."):
            spec[path[5:]] = value
        else:
            top[path] = value
    try:
        model_spec = ModelSpec(**spec)
    except ValueError as exc:
        problems.append(f"Ignored the model settings of the link: {exc}")
        model_spec = base.spec
    return Settings(spec=model_spec, **top), problems

"""What preparation decides before it fits anything: its options as plain values, and the split of
the rows into training and validation (`prepare` makes both; the feature and target fitting read them)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Options:
    """`prepare`'s options as plain values (what a worker needs to prepare the same arrays)."""

    target: str | None
    task: str | None
    val_fraction: float
    seed: int
    features: list[str] | None
    kinds: dict[str, str]
    missing: str
    missing_target: str
    max_categories: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class Split:
    train: np.ndarray  # positions in the kept rows
    val: np.ndarray
    note: str


def split(codes, n: int, classification: bool, val_fraction: float, seed: int) -> Split:
    """A random split with `seed`, stratified by class: each class keeps its share."""
    rng = np.random.default_rng(seed)
    if classification:
        train, val = [], []
        for k in range(int(codes.max()) + 1):
            idx = np.flatnonzero(codes == k)
            rng.shuffle(idx)
            c = len(idx)
            nv = min(int(round(val_fraction * c)), c - 1) if c >= 2 else 0
            val.append(idx[:nv])
            train.append(idx[nv:])
        train, val = np.concatenate(train), np.concatenate(val)
        if len(val) == 0:  # tiny classes: move one row of the largest class
            counts = np.bincount(codes[train])
            k = int(np.argmax(counts))
            pick = np.flatnonzero(codes[train] == k)[0]
            val = train[pick : pick + 1]
            train = np.delete(train, pick)
    else:
        perm = rng.permutation(n)
        nv = min(max(1, int(round(val_fraction * n))), n - 1)
        val, train = perm[:nv], perm[nv:]
    train, val = rng.permutation(train), rng.permutation(val)
    note = (
        f"Split the {n:,} rows at random (seed {seed}) into {len(train):,} for training and "
        f"{len(val):,} for validation ({val_fraction:.0%})"
        + (", keeping the share of each class." if classification else ".")
    )
    return Split(train, val, note)

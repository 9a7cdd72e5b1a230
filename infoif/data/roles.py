"""The feature columns as a table a person edits: use or ignore, numeric or categorical.

    table = roles_table(frame, dataset, roles)      # one row per column but the target
    roles = roles_from_table(edited)                 # {"features": [...] or None, "kinds": {...}}
    prepare(frame, target, **roles)

The table also says what each column is (type, missing, distinct values) and
what preparation made of it (`Dataset.decisions`). Roles are plain JSON.
"""

from __future__ import annotations

import pandas as pd

from infoif.constants import AUTO
from infoif.data.columns import KINDS

__all__ = ["ROLE_KINDS", "ROLE_COLUMNS", "roles_table", "roles_from_table"]

ROLE_KINDS = (AUTO, *KINDS)  # what the "as" column offers
ROLE_COLUMNS = ("column", "use", "as", "prepared as", "type", "missing", "distinct")


def roles_table(frame: pd.DataFrame, dataset, roles: dict) -> pd.DataFrame:
    """One row per column of `frame` except the target: the person's choices and the facts."""
    features = roles.get("features")
    kinds = roles.get("kinds") or {}
    decisions = getattr(dataset, "decisions", {}) or {}
    names = [str(c) for c in frame.columns if str(c) != dataset.target]
    columns = [frame[c] for c in names]
    return pd.DataFrame({
        "column": names,
        "use": [features is None or c in features for c in names],
        "as": [kinds.get(c, AUTO) for c in names],
        "prepared as": [decisions.get(c, "") for c in names],
        "type": [str(s.dtype) for s in columns],
        "missing": [int(s.isna().sum()) for s in columns],
        "distinct": [int(s.nunique()) for s in columns],
    }, columns=list(ROLE_COLUMNS))


def roles_from_table(table: pd.DataFrame) -> dict:
    """The roles an edited table says: `features` (None when every column is used) and the
    chosen `kinds` (columns left on "auto" are not listed)."""
    use = [bool(u) for u in table["use"]]
    names = [str(c) for c in table["column"]]
    features = None if all(use) else [c for c, u in zip(names, use) if u]
    kinds = {c: k for c, k in zip(names, table["as"]) if k in KINDS}
    return {"features": features, "kinds": kinds}

"""User tables in, training arrays out: `read_table`, `load_table`, `prepare`, `Dataset`, `DataError`.

    loaded = read_table(uploaded_file)          # CSV/TSV/whitespace/Parquet/JSON, any common encoding
    ds = prepare(loaded, target="species")      # features, task, split, standardization
    ds.x_train, ds.y_train, ds.x_val, ds.y_val, ds.report
    ds.pipeline.transform(new_rows)             # the fitted preparation (numpy, and Keras layers)

Every problem a user can cause raises `DataError`, a `ValueError` whose
message says what is wrong and what to do. Nothing here imports Keras,
TensorFlow or Streamlit. The package, module by module (as pandas'
`io/parsers/`):

    errors.py      DataError and the helpers that write its messages
    limits.py      every data limit, the accepted file types, describe_limits()
    source.py      bytes from a path/bytes/upload; magic numbers; encodings
    readers/       one reader per format (sniff, csv, whitespace, json, parquet)
    tidy.py        clean column names, empty columns and rows, Arrow to pandas
    load.py        read_table / load_table: pick the reader, check the limits
    columns.py     what a column holds; the one conversion to numbers and to text
    pipeline.py    FeatureColumn, Pipeline, TargetEncoding: fitted preparation, numpy and Keras
    dataset.py     Dataset
    target.py      the target's stages: which column, its values, task and classes, encoding
    features.py    the features' stages: which columns and why, then fitting them
    prepare.py     prepare(): orchestrates the stages, each returning a small dataclass
    roles.py       the feature columns as a table a person edits (use, numeric/categorical)
"""

from infoif.constants import TASKS
from infoif.data.columns import KINDS
from infoif.data.dataset import Dataset
from infoif.data.errors import DataError
from infoif.data.limits import (
    MAX_CATEGORIES,
    MAX_CLASSES,
    MAX_COLUMNS,
    MAX_FEATURES,
    MAX_LINE_BYTES,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_MB,
    MIN_ROWS,
    UPLOAD_TYPES,
    describe_limits,
)
from infoif.data.load import LOAD_OPTIONS, Loaded, LoadReport, load_table, read_table
from infoif.data.pipeline import FeatureColumn, Pipeline, TargetEncoding
from infoif.data.prepare import prepare
from infoif.data.roles import ROLE_KINDS, roles_from_table, roles_table
from infoif.data.source import ENCODINGS

__all__ = [
    "DataError",
    "Dataset",
    "FeatureColumn",
    "Pipeline",
    "TargetEncoding",
    "Loaded",
    "LoadReport",
    "read_table",
    "load_table",
    "prepare",
    "roles_table",
    "roles_from_table",
    "ROLE_KINDS",
    "describe_limits",
    "ENCODINGS",
    "KINDS",
    "LOAD_OPTIONS",
    "UPLOAD_TYPES",
    "MAX_UPLOAD_MB",
    "MAX_UPLOAD_BYTES",
    "MAX_ROWS",
    "MAX_COLUMNS",
    "MAX_FEATURES",
    "MIN_ROWS",
    "MAX_CLASSES",
    "MAX_CATEGORIES",
    "MAX_LINE_BYTES",
    "TASKS",
]

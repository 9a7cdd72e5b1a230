"""The workspace store: one directory that keeps every workspace, upload and run on disk.

    home/                         INFOIF_HOME, default ~/.infoif
      index.sqlite                the index (stdlib sqlite3, WAL): workspaces, runs, uploads
      workspaces/<id>.json        a workspace's state: data choice, settings, current run
      uploads/<sha256>            each uploaded file once, by content
      runs/<run id>/
        run.json                  settings: spec, dataset reference, seed, batch size, probe config
        status.json               status, error, epochs, gaps, where it runs
        metrics.jsonl             one line per epoch (appended; rewritten when thinned)
        probes/<epoch>.npz        a probe record (arrays)
        probes/<epoch>.heavy.npz  its full kernels and input-plane view (newest records only)
        checkpoint.npz            weights + optimizer state at the last written epoch
        model.keras               the model at the last pause, stop or end

Modules: `core` (the index, workspaces, uploads, datasets, runs), `files`
(atomic writes, owners), `records` (how probes and checkpoints are files),
`reader` and `writer`.

The files are the truth; the index is a catalogue for listing and can be
rebuilt from them (`Store.rebuild_index`). Many processes may use one home at
once: the server (reading), its worker processes and command-line runs
(writing), each run written by one process at a time.

Writing happens behind training: a run's `RunWriter` hands immutable
snapshots and checkpoints to one background thread per process, which
appends, writes files atomically (temporary file, then rename) and updates
the index. A reader (`RunReader`) builds the same snapshots back,
incrementally. A crash loses what the writer had not written yet: about a
second of training.
"""

from infoif.runs.store.core import STALE_SECONDS, Opened, RunInfo, Store, fresh_run_key, model_signature
from infoif.runs.store.files import WORKSPACE_ID_BYTES, StoreError, default_home, new_id, owner_label
from infoif.runs.store.reader import RunReader
from infoif.runs.store.records import load_checkpoint, save_checkpoint
from infoif.runs.store.writer import RunWriter

__all__ = ["Store", "RunInfo", "Opened", "RunReader", "RunWriter", "StoreError", "default_home", "new_id", "owner_label",
           "load_checkpoint", "save_checkpoint", "WORKSPACE_ID_BYTES", "STALE_SECONDS", "fresh_run_key",
           "model_signature"]

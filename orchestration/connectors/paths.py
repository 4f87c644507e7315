"""Where a connector keeps its files: `$SALESPIPE_DATA_DIR/connectors/<name>/`, holding the dlt
dataset (`synced.duckdb`, with dlt's cursors), dlt's working folder (`dlt/`) and the snapshot
files the raw loader lands (`snapshot/`). Deleting the folder means a full re-sync.

The dataset is its own DuckDB file, not the warehouse: the warehouse takes one writer and dbt
opens and closes it many times during a run, and a sync that fails halfway must leave the
warehouse untouched (only a finished sync becomes snapshot files).
"""

from __future__ import annotations

from pathlib import Path

from orchestration.sources.base import SourceObject


def connectors_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "connectors"


def dataset_path(data_dir: Path, name: str) -> Path:
    # Not `<name>.duckdb`: a catalog named like the dataset confuses DuckDB's binder.
    return connectors_dir(data_dir) / name / "synced.duckdb"


def snapshot_dir(data_dir: Path, name: str) -> Path:
    return connectors_dir(data_dir) / name / "snapshot"


def snapshot_path(data_dir: Path, name: str, obj: SourceObject) -> Path:
    return snapshot_dir(data_dir, name) / f"{obj.name}.parquet"

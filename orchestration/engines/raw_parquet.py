"""The raw layer as Parquet: every table of the DuckDB `raw` schema, one folder per table.

This is how raw data reaches an engine other than DuckDB (Spark reads each folder as an external
table, see dbt_project/macros/raw_external_tables.sql). Generic over information_schema, so a raw
table added later (an API connector's) is exported without a change here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

DATA_FILE = "data.parquet"


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw' "
        "and table_type = 'BASE TABLE' order by table_name").fetchall()]


def _is_uri(location: str) -> bool:
    return "://" in location


def export_raw(con: duckdb.DuckDBPyConnection, raw_dir: str) -> dict[str, int]:
    """Write each raw table to `<raw_dir>/<table>/data.parquet`; returns rows per table.

    Locally each file is written beside the folder and renamed in, so a reader never sees half
    a file. An object-store URI is written in place by DuckDB (its httpfs extension and
    credentials are configuration, not exercised here)."""
    counts = {}
    for table in raw_tables(con):
        counts[table] = con.execute(f'select count(*) from raw."{table}"').fetchone()[0]
        if _is_uri(raw_dir):
            target = f"{raw_dir.rstrip('/')}/{table}/{DATA_FILE}"
            con.execute(f"copy raw.\"{table}\" to '{target}' (format parquet)")
            continue
        folder = Path(raw_dir) / table
        folder.mkdir(parents=True, exist_ok=True)
        # Dot-prefixed: Spark and DuckDB skip hidden files when they list a table's folder.
        tmp = folder / f".{DATA_FILE}.tmp"
        con.execute(f"copy raw.\"{table}\" to '{tmp}' (format parquet)")
        for stale in folder.iterdir():  # earlier layouts (several part files) must not linger
            if stale.name not in (tmp.name, DATA_FILE):
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        os.replace(tmp, folder / DATA_FILE)
    return counts

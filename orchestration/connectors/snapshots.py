"""The synced dataset as files shaped like the CRM's export, and their landing.

Each `Snapshot` of a connector becomes one Parquet file (`paths.snapshot_path`), written only
after a finished sync and replaced atomically, in a stable order so an unchanged file is
skipped by the loader's checksum. `land_snapshot` lands it with the same loader as the export
files (typing, quarantine, idempotence), into the same `raw.<table>` columns the file loaders
of orchestration/sources declare: the dbt models do not care where data came from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from orchestration.connectors.paths import dataset_path, snapshot_dir, snapshot_path
from orchestration.ingest.loader import LoadResult, create_empty, land_files
from orchestration.ingest.readers import ReaderError, path_literal
from orchestration.ingest.spec import literal, quote
from orchestration.sources.base import SourceObject

if TYPE_CHECKING:
    from orchestration.connectors.base import Connector


def _dataset_views(con: duckdb.DuckDBPyConnection, connector: Connector, path: Path) -> None:
    """Schema `ds`: each dataset table as a view, or an empty stand-in when never synced."""
    con.execute("create schema if not exists ds")
    present = set()
    if path.exists():
        con.execute(f"attach {literal(str(path))} as src (read_only)")
        present = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'src' "
            "and table_schema = ?", [connector.name]).fetchall()}
    for table, columns in connector.tables.items():
        if table in present:
            con.execute(f"create view ds.{quote(table)} as select * from "
                        f"src.{quote(connector.name)}.{quote(table)}")
        else:
            cols = ", ".join(f"{quote(c)} {t}" for c, t in columns.items())
            con.execute(f"create table ds.{quote(table)} ({cols})")


def write_snapshots(connector: Connector, data_dir: Path) -> tuple[list[Path], dict[str, int]]:
    """Write each snapshot as Parquet (atomically: temp file, then rename)."""
    folder = snapshot_dir(data_dir, connector.name)
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    written, rows = [], {}
    try:
        con.execute("set TimeZone = 'UTC'")
        _dataset_views(con, connector, dataset_path(data_dir, connector.name))
        for table in connector.tables:
            rows[table] = con.execute(f"select count(*) from ds.{quote(table)}").fetchone()[0]
        for snap in connector.snapshots:
            path = snapshot_path(data_dir, connector.name, snap.target)
            tmp = path.with_suffix(".parquet.tmp")
            con.execute(
                f"copy (select *, row_number() over (order by {snap.order_by}) as _line "
                f"from ({snap.sql(con)}) order by _line) to {literal(str(tmp))} (format parquet)")
            os.replace(tmp, path)
            written.append(path)
    finally:
        con.close()
    return written, rows


def parquet_reader(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """Reader (orchestration/ingest) of a snapshot file: every column as text, plus `_line`."""
    try:
        columns = con.execute(
            f"describe select * from read_parquet({path_literal(path)})").fetchall()
    except duckdb.Error as exc:
        raise ReaderError(f"unreadable snapshot ({str(exc).splitlines()[0]})") from None
    select = ", ".join(f"cast({quote(name)} as varchar) as {quote(name)}"
                       for name, *_ in columns if name != "_line")
    return f"select {select}, _line from read_parquet({path_literal(path)})"


def land_snapshot(con: duckdb.DuckDBPyConnection, data_dir: Path, connector_name: str,
                  target: SourceObject) -> LoadResult:
    """Land the latest snapshot of `target` in its raw table like an export file: checksum
    (unchanged: skipped), typing, quarantine and hooks of the existing loader."""
    for table in target.derived:
        create_empty(con, table)
    path = snapshot_path(data_dir, connector_name, target)
    files = [path] if path.exists() else []
    return land_files(con, target.table, files, parquet_reader, list(target.hooks))

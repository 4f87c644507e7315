"""Helpers shared by the API connector tests (test_api_*.py): syncs into a temp folder and
lands the snapshots in a temp warehouse with the same loader `salespipe run` uses."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.connectors.base import Connector
from orchestration.connectors.paths import dataset_path
from orchestration.connectors.snapshots import land_snapshot


def land(connector: Connector, data_dir: Path, warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Land the connector's latest snapshots in `warehouse`; returns an open connection."""
    con = duckdb.connect(str(warehouse))
    con.execute("set TimeZone = 'UTC'")
    for snap in connector.snapshots:
        land_snapshot(con, data_dir, connector.name, snap.target)
    return con


def dataset_rows(data_dir: Path, connector: Connector, table: str, sql: str = "count(*)"):
    """A value from the synced dlt dataset (None when the table was never created)."""
    path = dataset_path(data_dir, connector.name)
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?", [connector.name, table]).fetchone()[0]
        if not exists:
            return None
        return con.execute(f"select {sql} from {connector.name}.{table}").fetchone()[0]
    finally:
        con.close()


def row_counts(con: duckdb.DuckDBPyConnection, tables) -> dict[str, int]:
    """Rows of each `raw.<table>`."""
    return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in tables}


def assert_unique_ids(con: duckdb.DuckDBPyConnection, tables) -> None:
    """No record landed twice: every `raw.<table>` has one row per `id`."""
    for table in tables:
        total, distinct = con.execute(
            f"select count(*), count(distinct id) from raw.{table}").fetchone()
        assert total == distinct, f"raw.{table} has duplicate ids"


def age_last_sync(data_dir: Path, connector: Connector, days: float) -> None:
    """Make the stored syncs look `days` older, as if none had run since."""
    con = duckdb.connect(str(dataset_path(data_dir, connector.name)))
    try:
        con.execute(f"update {connector.name}._dlt_loads set inserted_at = inserted_at - "
                    f"to_microseconds(cast({days} * 86400e6 as bigint))")
    finally:
        con.close()

"""The engine that runs the dbt models and holds the marts (SALESPIPE_ENGINE): DuckDB, the
embedded default, or Apache Spark (dbt-spark): local, or a cluster through Spark Connect. Python code that reads marts (checks, the report
and alerts, the run summary) reads them through `mart_reader`, never by assuming the DuckDB file.

Raw tables always land in the DuckDB warehouse (ingestion); on Spark they are also written as
Parquet (raw_parquet.py) and the marts live in Spark's warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import duckdb
import pandas as pd

from orchestration.settings import EngineSettings


class MartReader(Protocol):
    def query(self, sql: str) -> pd.DataFrame: ...  # small result sets only

    def table_names(self, schema: str) -> list[str]: ...


class DuckDBReader:
    """Marts of the DuckDB warehouse, on the connection the caller already holds."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def query(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def table_names(self, schema: str) -> list[str]:
        return [r[0] for r in self.con.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_catalog = current_database() order by table_name", [schema]).fetchall()]


def mart_reader(con: duckdb.DuckDBPyConnection,
                settings: EngineSettings | None = None) -> MartReader:
    """The reader of the engine in use; `con` is the DuckDB warehouse (used on DuckDB only)."""
    settings = settings or EngineSettings.from_env()
    if settings.engine == "duckdb":
        return DuckDBReader(con)
    if settings.uses_connect:
        from orchestration.engines.connect import ConnectReader

        return ConnectReader(settings)
    from orchestration.engines.spark import SparkReader

    return SparkReader(settings)


@contextmanager
def local_marts(con: duckdb.DuckDBPyConnection, tables: list[str],
                settings: EngineSettings | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection whose `marts.<table>` are the given marts of the engine in use, for
    Python code written in DuckDB SQL over small marts (the report's queries). On DuckDB it is
    the warehouse connection itself; on Spark an in-memory database holding the marts read
    through Spark (only the `tables` named)."""
    settings = settings or EngineSettings.from_env()
    if settings.engine == "duckdb":
        yield con
        return
    reader = mart_reader(con, settings)
    local = duckdb.connect(":memory:")
    try:
        local.execute("set TimeZone = 'UTC'")
        local.execute("create schema marts")
        for table in tables:
            frame = reader.query(f"select * from marts.{table}")  # noqa: F841 (read by DuckDB)
            local.execute(f'create table marts."{table}" as select * from frame')
        yield local
    finally:
        local.close()

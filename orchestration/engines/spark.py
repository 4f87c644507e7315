"""Read marts from local Spark (dbt-spark `method: session`) as pandas, for the Python parts of
a run: Great Expectations checks, the report and alerts, the run summary.

dbt builds in its own process and keeps Spark's catalog in an embedded Derby metastore, which one
JVM at a time may open. So this reader does not open that metastore: its session has an
in-memory catalog and declares each table built by dbt over the table's Parquet folder
(`<spark dir>/warehouse/<schema>.db/<table>/`, where Spark keeps managed tables) and the raw
tables over the raw Parquet layer. Result sets are small (counts, alert lists, one mart's key
columns); the session is started once per process and reused.

A cluster behind a Spark Connect server (SALESPIPE_SPARK_REMOTE) is read by connect.py. On a
cluster reached through thrift/http/odbc (SALESPIPE_SPARK_METHOD) dbt builds remotely; reading
the marts back from Python needs Spark Connect (see the README).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from orchestration.engines.java import check_java
from orchestration.settings import EngineSettings

_SESSIONS: dict[str, object] = {}


class SparkReaderError(RuntimeError):
    """The marts cannot be read from Spark; the message says why."""


def _session(settings: EngineSettings):
    key = str(settings.spark_dir)
    if key not in _SESSIONS:
        check_java()
        from pyspark.sql import SparkSession

        builder = (SparkSession.builder.appName("salespipe-reader")
                   .master(settings.spark_master)
                   .config("spark.sql.catalogImplementation", "in-memory")
                   .config("spark.sql.warehouse.dir", str(settings.spark_dir / "reader"))
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.sql.parquet.inferTimestampNTZ.enabled", "false")
                   .config("spark.sql.shuffle.partitions", settings.spark_shuffle_partitions)
                   .config("spark.driver.extraJavaOptions",
                           f"-Dlog4j2.configurationFile={settings.spark_log4j} "
                           f"{settings.spark_java_options}")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false"))
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        _SESSIONS[key] = session
    return _SESSIONS[key]


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class SparkReader:
    """`query(sql)` on the tables dbt built on local Spark (schema-qualified: marts.fct_deals)."""

    def __init__(self, settings: EngineSettings):
        if settings.spark_method != "session":
            raise SparkReaderError(
                f"reading marts back from a Spark cluster (SALESPIPE_SPARK_METHOD="
                f"{settings.spark_method}) is not supported; checks and the report need local "
                "Spark (SALESPIPE_SPARK_METHOD=session) or the cluster's Spark Connect server "
                "(SALESPIPE_SPARK_REMOTE=sc://host:port)")
        self.settings = settings
        self.spark = _session(settings)
        self.tables = self._declare()

    def _folders(self) -> dict[tuple[str, str], Path]:
        found = {}
        warehouse = self.settings.spark_dir / "warehouse"
        for db in sorted(warehouse.glob("*.db")):
            for table in sorted(p for p in db.iterdir() if p.is_dir()):
                if not table.name.endswith(("__dbt_tmp", "__dbt_rebuild")):
                    found[(db.name[:-3], table.name)] = table
        raw = Path(self.settings.raw_dir)
        if raw.is_dir():
            for table in sorted(p for p in raw.iterdir() if p.is_dir()):
                found[("raw", table.name)] = table
        return found

    def _declare(self) -> dict[tuple[str, str], Path]:
        folders = self._folders()
        for schema in sorted({s for s, _ in folders}):
            self.spark.sql(f"create database if not exists {_quote(schema)}")
        for (schema, table), path in folders.items():
            name = f"{_quote(schema)}.{_quote(table)}"
            # Declared again each time: a rebuilt table may have new files or columns.
            self.spark.sql(f"drop table if exists {name}")
            self.spark.sql(f"create table {name} using parquet location '{path}'")
        return folders

    def table_names(self, schema: str) -> list[str]:
        return sorted(t for s, t in self.tables if s == schema)

    def query(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(sql).toPandas()


def marts_location(settings: EngineSettings) -> dict[str, str]:
    """Where local Spark keeps each mart: a Parquet folder per table (what BI tools or a
    lakehouse catalog read on the Spark path; nothing is copied to a DuckDB file)."""
    if settings.uses_connect:
        from orchestration.engines.connect import marts_location as on_cluster

        return on_cluster(settings)
    folder = settings.spark_dir / "warehouse" / "marts.db"
    return {p.name: str(p) for p in sorted(folder.glob("*")) if p.is_dir()
            and not p.name.endswith(("__dbt_tmp", "__dbt_rebuild"))}

"""What a dbt run needs from the engine in use before it starts (SALESPIPE_ENGINE).

DuckDB: nothing, dbt reads the raw tables ingestion landed in the warehouse. Spark: Java (local
Spark only; a cluster through Spark Connect: that it answers), the raw layer written as Parquet for Spark's external raw tables, and the resolved
folders in the environment dbt's profiles.yml reads.
"""

from __future__ import annotations

from orchestration.engines.connect import check_cluster
from orchestration.engines.java import check_java
from orchestration.engines.raw_parquet import export_raw
from orchestration.settings import EngineSettings


def check_engine(settings: EngineSettings) -> None:
    """What can be checked before a run ingests anything (the CLI, and every Dagster run as
    it starts: resources.DuckDBWarehouse): Java 17+ for local Spark, that a cluster's Spark
    Connect server answers. Raises JavaError or ClusterUnreachable, naming the fix."""
    if settings.uses_connect:
        check_cluster(settings)
    elif settings.engine == "spark" and settings.spark_method == "session":
        check_java()


def prepare_dbt(settings: EngineSettings, connect) -> dict:
    """Get the engine ready; returns extra dbt vars (the raw tables to declare on Spark).
    `connect` opens the DuckDB warehouse (DuckDBWarehouse.connect)."""
    settings.export()
    if settings.engine == "duckdb":
        return {}
    check_engine(settings)  # again: the cluster may have gone since the run started
    if not settings.uses_connect and settings.spark_method == "session":
        settings.spark_dir.mkdir(parents=True, exist_ok=True)
    with connect() as con:
        counts = export_raw(con, settings.raw_dir)
    return {"raw_tables": sorted(counts)}

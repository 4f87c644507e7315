"""Dagster resources every job shares: the DuckDB warehouse and the folder of CRM exports.
(The dbt CLI resource is orchestration/transform/dbt_cli.py; each CRM API's, connectors/.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb


class WarehouseError(RuntimeError):
    """The warehouse file cannot be opened; the message says why and what to do."""


class DuckDBWarehouse(dg.ConfigurableResource):
    """The DuckDB file the pipeline builds (SALESPIPE_WAREHOUSE)."""

    path: str
    threads: str = ""
    memory_limit: str = ""

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        # A run holds the warehouse's run lock for its whole life (the in-process executor sets
        # resources up once per run), so a daemon-launched run and `salespipe run` never
        # interleave. Re-entrant: `salespipe run` already holds it in this process.
        from orchestration.engines.connect import ClusterUnreachable
        from orchestration.engines.java import JavaError
        from orchestration.engines.prepare import check_engine
        from orchestration.operations.runlock import LockPathError, RunLocked, run_lock
        from orchestration.settings import EngineSettings, SettingsError

        # Before anything is ingested: a Spark cluster that does not answer (or local Spark
        # without Java) fails a scheduled or sensor run here, not at its dbt step.
        try:
            check_engine(EngineSettings.from_env())
        except (SettingsError, JavaError, ClusterUnreachable) as exc:
            raise dg.Failure(description=str(exc)) from None
        try:
            with run_lock(Path(self.path)):
                yield self
        except (RunLocked, LockPathError) as exc:
            raise WarehouseError(str(exc)) from None

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = Path(self.path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(path))
        except (OSError, duckdb.Error) as exc:
            raise WarehouseError(
                f"cannot open the warehouse {path}: {exc}. Check SALESPIPE_WAREHOUSE points to a "
                "writable location with free space and that no other process holds the file "
                "open for writing."
            ) from None
        try:
            con.execute("set TimeZone = 'UTC'")
            if self.threads:
                con.execute(f"set threads = {int(self.threads)}")
            if self.memory_limit:
                con.execute("set memory_limit = ?", [self.memory_limit])
            yield con
        finally:
            con.close()


class SourceFiles(dg.ConfigurableResource):
    """The folder holding one sub-folder of export files per CRM (SALESPIPE_SOURCE_DIR)."""

    source_dir: str

    def folder(self, name: str) -> Path:
        return Path(self.source_dir) / name


def shared_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources every package's assets use, configured from the environment (EnvVar)."""
    return {
        "warehouse": DuckDBWarehouse(
            path=dg.EnvVar("SALESPIPE_WAREHOUSE"),
            threads=dg.EnvVar("SALESPIPE_DUCKDB_THREADS"),
            memory_limit=dg.EnvVar("SALESPIPE_DUCKDB_MEMORY_LIMIT"),
        ),
        "source_files": SourceFiles(source_dir=dg.EnvVar("SALESPIPE_SOURCE_DIR")),
    }

"""Dagster resources: the DuckDB warehouse, the folder of CRM exports and the dbt CLI."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from packaging import version


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
        from orchestration.runlock import LockPathError, RunLocked, run_lock

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


class DbtCli(DbtCliResource):
    """dagster-dbt's dbt CLI resource without two start-up costs of every dbt step (~5 s of a
    ~30 s demo run), neither of which salespipe needs:
    - it runs `dbt --version` in a subprocess to learn the version; the installed dbt-core
      package says the same;
    - it loads a dbt adapter and all dbt macros into this process, which only serves
      `fetch_row_counts()` / `fetch_column_metadata()`; salespipe calls neither (its marts'
      row counts come from the run summary), and dagster-dbt runs without an adapter when
      loading one fails."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None

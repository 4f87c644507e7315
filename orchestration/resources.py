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
            with run_lock(Path(self.path)), _held_open(Path(self.path)):
                yield self
        except (RunLocked, LockPathError) as exc:
            raise WarehouseError(str(exc)) from None

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the warehouse, its settings applied. During a run it is a cursor of
        the file the run keeps open (`_HELD`): opening the file costs 15-45 ms (DuckDB reads
        its catalog), a cursor ~1 ms, and a run connects ~100 times."""
        path = Path(self.path)
        held = str(path) in _HELD
        con = self._cursor(path) if held else self._open(path)
        try:
            self._apply_settings(con)
            yield con
        finally:
            if held:  # what a step left behind must not reach the next one's connection
                _detach_all(con)
            con.close()

    @contextmanager
    def released(self) -> Iterator[None]:
        """The file closed in this process while another process (dbt's) writes it: DuckDB
        lets one process at a time open a file for writing. The next connect opens it again."""
        held = _HELD.get(str(Path(self.path)))
        if held is not None:
            held.close()
            _HELD[str(Path(self.path))] = None
        yield

    def _apply_settings(self, con: duckdb.DuckDBPyConnection) -> None:
        # Settings are the database's, not the cursor's: what one step set (a publish's
        # preserve_insertion_order) would reach the next step through the open file, so each
        # connection starts from the defaults and the configured values.
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"set threads = {int(self.threads)}" if self.threads else "reset threads")
        if self.memory_limit:
            con.execute("set memory_limit = ?", [self.memory_limit])
        else:
            con.execute("reset memory_limit")
        for name in RESET_PER_CONNECTION:
            con.execute(f"reset {name}")

    def _cursor(self, path: Path) -> duckdb.DuckDBPyConnection:
        if _HELD[str(path)] is None:
            _HELD[str(path)] = self._open(path)
        return _HELD[str(path)].cursor()

    @staticmethod
    def _open(path: Path) -> duckdb.DuckDBPyConnection:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return duckdb.connect(str(path))
        except (OSError, duckdb.Error) as exc:
            raise WarehouseError(
                f"cannot open the warehouse {path}: {exc}. Check SALESPIPE_WAREHOUSE points to a "
                "writable location with free space and that no other process holds the file "
                "open for writing."
            ) from None


# The settings the steps change for themselves (and reset when they finish normally).
RESET_PER_CONNECTION = ("preserve_insertion_order", "disabled_optimizers")
# Warehouse files a run keeps open in this process, by path: None until the run's first
# connect and while dbt builds (DuckDBWarehouse.released).
_HELD: dict[str, duckdb.DuckDBPyConnection | None] = {}


@contextmanager
def _held_open(path: Path) -> Iterator[None]:
    """Keep the warehouse file open for a run's steps (opened at the first connect)."""
    _HELD[str(path)] = None
    try:
        yield
    finally:
        held = _HELD.pop(str(path), None)
        if held is not None:
            held.close()


def _detach_all(con: duckdb.DuckDBPyConnection) -> None:
    """Detach what a step attached and did not detach (a failure between the two): attached
    databases belong to the open file, not to the cursor. A transaction the step left open
    (closing the cursor would roll it back too) is rolled back first: a failed one refuses
    every query."""
    try:
        con.execute("rollback")
    except duckdb.TransactionException:  # none open: the usual case
        pass
    for (name,) in con.execute("select database_name from duckdb_databases() "
                               "where not internal and database_name <> current_database()"
                               ).fetchall():
        con.execute(f'detach "{name}"')


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

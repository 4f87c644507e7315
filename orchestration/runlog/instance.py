"""The process's Dagster instance: ephemeral (nothing kept), with an event log that keeps one
SQLite connection open.

Dagster's in-memory event log opens a new SQLite connection, and runs two PRAGMAs on it, for
every read or write: storing the demo's ~1,500 events took ~3,800 connections and ~7,600
PRAGMAs, about a fifth of the run. `run_connection` / `index_connection` are the two methods a
SQL event log storage implements (SqlEventLogStorage's abstract interface, what Dagster's
Postgres and MySQL storages implement), so overriding them is the storage's supported
extension point; the instance is put together the way `DagsterInstance.ephemeral()` does it
(Dagster offers no setting for the in-memory storage's connections).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import sqlalchemy as db
from dagster._core.instance import InstanceType
from dagster._core.launcher.sync_in_memory_run_launcher import SyncInMemoryRunLauncher
from dagster._core.run_coordinator import DefaultRunCoordinator
from dagster._core.storage.event_log import InMemoryEventLogStorage
from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
from dagster._core.storage.root import TemporaryLocalArtifactStorage
from dagster._core.storage.runs import InMemoryRunStorage


class HeldConnectionEventLog(InMemoryEventLogStorage):
    """The in-memory event log, reading and writing through one connection opened once (the
    thread that made the storage; another thread gets Dagster's connection per call, since a
    SQLite connection belongs to its thread)."""

    def __init__(self, inst_data=None, preload=None):
        super().__init__(inst_data, preload)
        self._owner = threading.get_ident()
        self._lock = threading.Lock()
        self._conn = self._engine.connect()
        # what Dagster sets per connection; WAL means nothing for a database in memory
        self._conn.execute(db.text("PRAGMA foreign_keys=ON;")).close()
        self._conn.commit()

    @contextmanager
    def run_connection(self, run_id=None) -> Iterator[db.Connection]:
        if threading.get_ident() != self._owner:
            with super().run_connection(run_id) as conn:
                yield conn
            return
        with self._lock, self._conn.begin():  # one transaction per use, as Dagster's
            yield self._conn

    def index_connection(self):
        return self.run_connection()

    def dispose(self):
        self._conn.close()
        super().dispose()


def ephemeral_instance() -> dg.DagsterInstance:
    """What `DagsterInstance.ephemeral()` builds, with the held-connection event log."""
    return dg.DagsterInstance(
        instance_type=InstanceType.EPHEMERAL,
        local_artifact_storage=TemporaryLocalArtifactStorage(),
        run_storage=InMemoryRunStorage(),
        event_storage=HeldConnectionEventLog(),
        compute_log_manager=NoOpComputeLogManager(),
        run_coordinator=DefaultRunCoordinator(),
        run_launcher=SyncInMemoryRunLauncher(),
    )

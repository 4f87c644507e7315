"""The skeleton of the connectors whose raw tables hold API records as they are (Pipedrive,
Salesforce): no file export exists to imitate, so the raw columns are the API's field names as
dlt normalises them (`StageName` -> `stage_name`), typed like every raw table, and the
snapshot is a plain projection of the synced dataset table.

Such a connector declares its `ApiTable`s, its auth, session and resources; `records_source`
and `records_connector` build the rest the same way for each.

A field no synced record ever carried (dlt creates no column for it) reads as null, so a
sparse API answer never breaks the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from orchestration.connectors.base import Connector, Snapshot
from orchestration.connectors.rest import rest_source
from orchestration.connectors.snapshots import parquet_reader
from orchestration.connectors.windows import SyncWindow
from orchestration.ingest.spec import Column, RawTable, quote
from orchestration.settings import ApiSource
from orchestration.sources.base import SourceObject

# raw column type -> the dataset column type of an empty stand-in (never synced)
STAND_IN = {"text": "varchar", "timestamp": "timestamptz", "number": "double",
            "integer": "bigint", "boolean": "boolean"}


@dataclass(frozen=True)
class ApiTable:
    """One API object: its dataset table (dlt) and its raw table `raw.<system>_<name>`."""

    system: str
    name: str
    dataset_table: str
    fields: tuple[tuple[str, str], ...]  # (column, type); "id" first

    @property
    def raw(self) -> RawTable:
        columns = tuple(Column(n, type=t, required=n == "id") for n, t in self.fields)
        return RawTable(self.system, f"{self.system}_{self.name}", columns, id_column="id",
                        file_label="record")

    @property
    def target(self) -> SourceObject:
        return SourceObject(self.name, self.raw, f"{self.name}.parquet", parquet_reader)

    @property
    def stand_in(self) -> dict[str, str]:
        return {n: STAND_IN[t] for n, t in self.fields}

    def snapshot(self) -> Snapshot:
        return Snapshot(self.target, self._sql, "id")

    def _sql(self, con: duckdb.DuckDBPyConnection) -> str:
        present = {r[0] for r in con.execute(
            f"describe ds.{quote(self.dataset_table)}").fetchall()}
        cols = ", ".join(
            f"cast({quote(n) if n in present else 'null'} as varchar) as {quote(n)}"
            for n, _ in self.fields)
        return f"select {cols} from ds.{quote(self.dataset_table)}"


def fields(spec: str) -> tuple[tuple[str, str], ...]:
    """`"id, title, value:number, add_time:timestamp"` -> (("id", "text"), ...)."""
    out = []
    for item in spec.split(","):
        name, _, type_ = item.strip().partition(":")
        out.append((name, type_ or "text"))
    return tuple(out)


def records_source(name: str, api: ApiSource, auth: Any, session: Any, defaults: dict,
                   resources: list[dict]) -> Any:
    """dlt's REST API source with endpoint paths relative to the API's base URL (the trailing
    `/` keeps a base path such as Pipedrive's company domain or a Salesforce instance URL)."""
    return rest_source(name, {
        "client": {"base_url": api.base_url + "/", "auth": auth, "session": session},
        "resource_defaults": defaults,
        "resources": resources,
    })


def records_connector(name: str, label: str,
                      source: Callable[[ApiSource], Any], resources: tuple[str, ...],
                      tables: tuple[ApiTable, ...], window: SyncWindow | None = None,
                      follow_ups: Callable[[ApiSource, Any], Any] | None = None
                      ) -> Connector:
    """A `Connector` whose snapshots are its `tables`, one per raw table, each read from its
    dataset table (an empty stand-in until a record is synced)."""
    return Connector(name=name, label=label, source=source,
                     resources=resources,
                     tables={t.dataset_table: t.stand_in for t in tables},
                     snapshots=tuple(t.snapshot() for t in tables), window=window,
                     follow_ups=follow_ups)

# Shared with the Pipedrive/Salesforce connectors: keep this interface stable.
"""What a CRM API connector declares, and nothing else (the modules beside it do the work).

A connector (hubspot.py, activecampaign.py, ...) declares a `Connector`: how to build its dlt
source (dlt's REST API source: paginators, incremental cursors, merge on primary key) from its
`ApiSource` settings, and `Snapshot`s that turn the synced dataset into files shaped like that
CRM's export, landed by the same loader as the exports (snapshots.py), into the same
`raw.<table>` columns the file loaders of orchestration/sources declare. So the dbt models do
not care where data came from. runner.py syncs a `Connector`; the other modules are its parts:
errors.py, redaction.py, paths.py, rest.py (with dlt_overrides.py), windows.py, snapshots.py,
status.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from orchestration.connectors.windows import SyncWindow
from orchestration.settings import ApiSource
from orchestration.sources.base import SourceObject


@dataclass(frozen=True)
class Snapshot:
    """One file shaped like the CRM's export of `target`, built from the synced dataset.

    `sql(con)` returns a SELECT over the dataset's tables as `ds.<table>` whose columns are the
    export's headers, all text in the export's formats; `order_by` makes the file identical
    when nothing changed, so the loader skips it by checksum."""

    target: SourceObject
    sql: Callable[[duckdb.DuckDBPyConnection], str]
    order_by: str


@dataclass(frozen=True)
class Connector:
    name: str  # dlt pipeline and dataset name; the raw source folder it feeds ("hubspot")
    label: str  # for messages ("HubSpot")
    source: Callable[[ApiSource], Any]  # ApiSource -> dlt source (dlt.sources.rest_api)
    resources: tuple[str, ...]  # dlt resource names, one Dagster asset spec each
    # Dataset tables the snapshots read, with the columns they need: a table dlt never created
    # (no record ever synced) is an empty stand-in, so snapshot SQL always runs.
    tables: dict[str, dict[str, str]]
    snapshots: tuple[Snapshot, ...]
    window: SyncWindow | None = None
    # (resource, cursor path) of incremental lists not read in modified order: their stored
    # cursor is kept no later than the sync's start (`windows.hold_cursors`)
    cursors_from_start: tuple[tuple[str, str], ...] = ()
    # Sources run after the main one, each stored as its own load (`follow_ups(api, pipeline)`
    # yields them, and may read what is stored through `pipeline.sql_client()`): work a sync
    # may not finish in one day (Pipedrive's per-deal update logs against its daily budget)
    # keeps what it did, and the next sync continues from there.
    follow_ups: Callable[[ApiSource, Any], Any] | None = None

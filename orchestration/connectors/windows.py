"""How far an incremental sync may trust its stored state: the API's window (`SyncWindow`,
checked before a sync asks for anything) and the cursors held back to the sync's start
(`hold_cursors`, after it).

dlt keeps its incremental cursors in the dataset file (`_dlt_pipeline_state`, committed with
the data of the same load), so a cursor never runs ahead of the stored rows: a failed sync
stores nothing and leaves them where the last stored load put them. What dlt cannot know is
that some APIs forget (HubSpot's recent engagements, Pipedrive's deleted deals: 30 days;
Salesforce's deleted records: 15 days) and that some lists are not read in modified order;
these two functions cover that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from orchestration.connectors.errors import ConnectorError
from orchestration.connectors.paths import dataset_path
from orchestration.ingest.spec import quote

if TYPE_CHECKING:
    from orchestration.connectors.base import Connector


@dataclass(frozen=True)
class SyncWindow:
    """How far back the API still shows what an incremental sync must see (HubSpot's recent
    engagements, Pipedrive's deleted deals: 30 days; Salesforce's Recycle Bin: 15 days). A sync that comes later than that after
    the last stored one would miss some of it for good, so it stops instead (`check_window`)."""

    days: int
    missed: str  # what such a sync would miss ("engagements changed in between")
    remedy: str  # how to catch up, in words for the data team


# The API's window is counted from the previous sync's requests, which came before its load was
# stored (`_dlt_loads.inserted_at`): a day of margin covers a long sync and clock differences.
WINDOW_MARGIN = dt.timedelta(days=1)


def last_stored_sync(connector: Connector, data_dir: Path) -> dt.datetime | None:
    """When the last sync whose data dlt stored finished (UTC); None before the first."""
    path = dataset_path(data_dir, connector.name)
    if not path.is_file():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None  # held by a writer or unreadable: dlt's own run reports it
    try:
        stored = con.execute(
            f"select max(inserted_at) from {quote(connector.name)}._dlt_loads "
            "where status = 0").fetchone()[0]
    except duckdb.CatalogException:  # no load stored yet
        return None
    finally:
        con.close()
    if stored is None:
        return None
    return stored if stored.tzinfo else stored.replace(tzinfo=dt.UTC)


def check_window(connector: Connector, last: dt.datetime | None, now: dt.datetime) -> None:
    """Stop before syncing when the last stored sync is older than the API's window."""
    window = connector.window
    if window is None or last is None:
        return
    age = now - last
    if age <= dt.timedelta(days=window.days) - WINDOW_MARGIN:
        return
    raise ConnectorError(
        f"{connector.label} API: the last stored sync finished {last:%Y-%m-%d %H:%M} UTC, "
        f"{age.days} days ago, and {connector.label} only shows the last {window.days} days "
        f"of {window.missed}, so this sync would miss some of them for good. It stopped "
        f"before asking for anything; nothing was stored. {window.remedy}")


# The API's clock against this machine's, and the moment before the first list request.
CURSOR_MARGIN = dt.timedelta(minutes=15)


def hold_cursors(pipeline, connector: Connector, until: dt.datetime) -> None:
    """Keep the stored cursors of `connector.cursors_from_start` no later than `until`.

    A list read in id (or unknown) order with "updated since the cursor" loses a record that
    changes after it was read when another, read later, changed later still: the highest
    update time seen, the next cursor, then passes the first change. Everything that changed
    before the sync started was in its lists, so a cursor no later than that start misses
    nothing; the next sync asks again for what changed during this one (merged on id). The
    change goes to dlt's local state, and with the next load into the dataset's."""
    if not connector.cursors_from_start:
        return
    with pipeline.managed_state() as state:
        resources = state.get("sources", {}).get(connector.name, {}).get("resources", {})
        for resource, path in connector.cursors_from_start:
            cursor = resources.get(resource, {}).get("incremental", {}).get(path)
            if cursor and cursor.get("last_value") and (
                    dt.datetime.fromisoformat(cursor["last_value"]) > until):
                cursor["last_value"] = until.replace(microsecond=0).isoformat()
                cursor["unique_hashes"] = []  # they were the rows at the old value

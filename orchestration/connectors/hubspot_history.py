"""HubSpot deals' property history (amount, close date, owner, stage), read with
`propertiesWithHistory` and landed as `raw.hubspot_deal_property_history`.

API facts (developers.hubspot.com/docs/api-reference/latest/crm/objects/objects/batch/get-objects):
`POST /crm/v3/objects/deals/batch/read` takes `propertiesWithHistory` beside `properties`, and
each result then carries `propertiesWithHistory: {property: [{value, timestamp, sourceType,
sourceId, updatedByUserId}, ...]}`: every value the property has held, with when it was set. A
property never set has no list. With `propertiesWithHistory` a batch takes at most 50 inputs
(HubSpot answers more with a 400 "The maximum number of inputs supported in a batch request for
property histories is 50", quoted in github.com/HubSpot/hubspot-api-python/issues/143 and
github.com/activepieces/activepieces/pull/9359; the reference page does not state it). The
order of a list is not documented: rows are ordered by their timestamp, and a list's position
only breaks ties (HubSpot's answers list the newest first, so a later position is earlier:
stg_hubspot__deal_property_history.history_position, ordered descending in int_deal_changes).

The connector asks for the history in the batch read it already makes for the stage dates
(hubspot.py), so changed deals cost one request per 50 instead of one more request each; the
list is stored beside the stage dates (`deal_stage_dates.history`).

The stage (`dealstage`) is read here too: its history holds every move, backward ones and
revisits included, where the stage dates (hs_v2_date_entered_<stage>, int_stage_events) keep
only the latest entry into each stage. Its values are stage ids, landed as they are (the ids
pipelines.json gives the stages: a label can repeat across pipelines, an id cannot).
"""

from __future__ import annotations

from typing import Protocol

import duckdb

from orchestration.connectors.snapshots import parquet_reader
from orchestration.ingest.spec import Column, RawTable, literal
from orchestration.sources.base import SourceObject

HISTORY_BATCH = 50  # inputs of a batch read that asks for property histories (HubSpot's most)
# the deal properties whose history is read: amount, close date, owner, stage
PROPERTIES = ("amount", "closedate", "hubspot_owner_id", "dealstage")

RAW = RawTable("hubspot", "hubspot_deal_property_history", (
    Column("deal_id", required=True), Column("property", required=True), Column("value"),
    Column("changed_at", type="timestamp", required=True), Column("source_type"),
    Column("position", type="integer"),
), file_label="record")
TARGET = SourceObject("deal_property_history", RAW, "deal_property_history.parquet",
                      parquet_reader)


def record(result: dict) -> dict:
    """The part of a batch-read result kept for the history (a property with no list: none)."""
    history = result.get("propertiesWithHistory") or {}
    return {p: history[p] for p in PROPERTIES if history.get(p)}


class Account(Protocol):
    """The account's time zone and owners (hubspot._Sql)."""

    tz: str

    def local(self, expr: str) -> str: ...

    def owner(self, expr: str) -> str: ...


def history_sql(con: duckdb.DuckDBPyConnection, q: Account) -> str:
    """One row per value each tracked property held, in account time like the export: the
    close date as `YYYY-MM-DD HH:MM`, the owner by name (its id when no owner has it), the stage
    by its id. A dataset synced before the history was asked for has no `history` column: no
    rows."""
    columns = {r[0] for r in con.execute("describe ds.deal_stage_dates").fetchall()}
    if "history" not in columns:
        return ("select null as deal_id, null as property, null as value, null as changed_at, "
                "null as source_type, null as position where false")
    shown = {"amount": "v", "closedate": q.local("v"),
             "hubspot_owner_id": f"coalesce({q.owner('v')}, v)", "dealstage": "v"}
    selects = []
    for prop in PROPERTIES:
        path = literal(f"$.{prop}")
        selects.append(f"""
            select deal_id, {literal(prop)} as property, {shown[prop]} as value,
                strftime(timezone({literal(q.tz)}, try_cast(e->>'$.timestamp' as timestamptz)),
                         '%Y-%m-%d %H:%M:%S') as changed_at,
                e->>'$.sourceType' as source_type, cast(position as varchar) as position
            from (select deal_id, e, e->>'$.value' as v, position from (
                select t.id as deal_id,
                    unnest(from_json(t.history->{path}, '["JSON"]')) as e,
                    unnest(range(cast(json_array_length(t.history->{path}) as bigint))) as position
                from ds.deal_stage_dates t
                -- an archived (deleted) deal leaves ds.deals, not the batch reads' table
                where (t.history->{path}) is not null and t.id in (select id from ds.deals)))""")
    return " union all ".join(selects)

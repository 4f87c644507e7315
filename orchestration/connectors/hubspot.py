"""HubSpot CRM v3 API connector: contacts, deals with stage dates, pipelines and stages,
owners, engagements and deal-contact associations, synced by dlt's REST API source.

Endpoints (developers.hubspot.com/docs/api-reference; authentication: a private app's access
token as `Authorization: Bearer`):
- `POST /crm/v3/objects/{contacts,deals}/search`: incremental. Filter `lastmodifieddate`
  (contacts) / `hs_lastmodifieddate` (deals) `GTE` the stored cursor, sorted ascending; pages
  through `after` in the body, from `paging.next.after`. `after` is a position in the
  result (a record changed meanwhile shifts it; a page past 10,000 is a 400), so each page
  starts the search again from the last modified date reached (hubspot_paging.py). HubSpot
  indexes a change for search "a few moments" after it is made (CRM search guide), so a
  record indexed late behind one already read would be passed by the cursor: each sync
  starts its searches SALESPIPE_HUBSPOT_SEARCH_LOOKBACK_MINUTES (default 30) before the
  stored cursor (dlt's incremental `lag`), and the records read again merge on their id.
- `POST /crm/v3/objects/deals/batch/read` (up to 100 ids a request): the
  `hs_v2_date_entered_<stage id>` / `hs_v2_date_exited_<stage id>` properties of every stage
  (the same latest-visit stage dates the UI export carries) of each page of deals the search
  returned, into `deal_stage_dates`. A search body over 3,000 characters is a 400 (CRM search
  guide, "Limitations"), and two properties per stage reach that at about 39 stages; a batch
  read has no such limit, so the search asks only the deal's own properties, at any number
  of pipelines and stages, for one more request per 50 changed deals. The same read asks for
  the history of amount, close date, owner and stage (`propertiesWithHistory`, at most 50 ids a
  request): hubspot_history.py, landed as `raw.hubspot_deal_property_history`.
- `GET /crm/v3/objects/{contacts,deals}?archived=true`: archived (deleted) records, paged by
  `after`; merged with dlt's `hard_delete` hint, so they leave the synced tables.
- `GET /crm/v4/objects/deals/{dealId}/associations/contacts`: the contacts of each deal the
  search returned (so only changed deals are asked); the latest answer per deal wins, which
  drops removed associations.
- `GET /engagements/v1/engagements/recent/modified?since=<ms>`: activities (emails, calls,
  meetings, notes, tasks, ...) with their contact/deal/owner associations; paged by `offset`
  while `hasMore`. HubSpot answers this for the last 30 days or the 10,000 most recent changes
  only: a later sync that may have missed changes stops (hubspot_paging.py; see the README),
  and a sync more than 29 days after the last stored one does not start (`SyncWindow`).
- `GET /crm/v3/pipelines/deals`, `GET /crm/v3/owners`, `GET /crm/v3/properties/{object}`
  (option labels of enumeration properties) and `GET /account-info/v3/details` (the account
  time zone): small, replaced on every sync.

Snapshots rebuild the UI export's files (orchestration/sources/hubspot.py): labels instead of
internal values and ids, owner names, dates as `YYYY-MM-DD HH:MM` in the account's time zone
(the API speaks UTC), `;`-joined association ids. So the raw tables, and everything after them,
do not depend on whether HubSpot data came from a file or the API.
"""

from __future__ import annotations

import json

import duckdb

from orchestration.connectors import hubspot_history as history
from orchestration.connectors.base import Connector, Snapshot
from orchestration.connectors.rest import rest_source, throttled_session
from orchestration.connectors.windows import SyncWindow
from orchestration.ingest.spec import literal, quote
from orchestration.settings import ApiSource, hubspot_search_lookback_seconds
from orchestration.sources import hubspot as files

PAGE_SIZE = 100  # list pages (HubSpot's most)
SEARCH_PAGE_SIZE = 200  # search pages (HubSpot's most): half the rate-limited search requests
EPOCH = "1970-01-01T00:00:00.000Z"
RECENT_DAYS = 30  # recent/modified returns engagements changed in the last 30 days only
# A fresh start replaces the synced activities with the endpoint's last 30 days, so the export
# must bring everything older, not only the gap.
CATCH_UP = ("To catch up, drop HubSpot's activity export (all activities) into the hubspot/ "
            "folder, then delete the connectors/hubspot/ folder in SALESPIPE_DATA_DIR so the API "
            "sync starts afresh.")

CONTACT_PROPERTIES = (
    "firstname", "lastname", "email", "phone", "jobtitle", "company", "industry",
    "numemployees", "country", "hs_analytics_source", "lifecyclestage", "hubspot_owner_id",
    "createdate", "notes_last_updated", "budget_range", "decision_maker", "need_identified",
    "purchase_timeline", "lastmodifieddate",
)
DEAL_PROPERTIES = (
    "dealname", "pipeline", "dealstage", "amount", "deal_currency_code", "closedate",
    "createdate", "hubspot_owner_id", "dealtype", "notes_last_updated", "hs_lastmodifieddate",
)


# ---------------------------------------------------------------------------------------------
# dlt source


def _client(api: ApiSource, session):
    from dlt.sources.helpers.rest_client import RESTClient
    from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

    return RESTClient(base_url=api.base_url, auth=BearerTokenAuth(api.token), session=session)


def _stage_ids(client) -> list[str]:
    """Stage ids of every deal pipeline, to ask for their hs_v2_date_entered/exited dates."""
    response = client.get("/crm/v3/pipelines/deals")
    response.raise_for_status()
    return [s["id"] for p in response.json()["results"] for s in p["stages"]]


def _stage_properties(stages: list[str]) -> list[str]:
    return [f"hs_v2_date_{event}_{s}" for s in stages for event in ("entered", "exited")]


def _stage_dates(client, deals, properties: list[str]):
    """dlt transformer: the stage-date properties and the tracked properties' history of each
    page of `deals`, read by id (a deal's whole history each time: the merge replaces it)."""
    import dlt

    batch = history.HISTORY_BATCH

    @dlt.transformer(data_from=deals, name="deal_stage_dates", primary_key="id",
                     write_disposition="merge",
                     columns={"properties": {"data_type": "json"},
                              "history": {"data_type": "json"},
                              "updated_at": {"dedup_sort": "desc"}})
    def deal_stage_dates(page: list[dict]):
        ids = [record["id"] for record in page]
        for start in range(0, len(ids), batch):
            response = client.post("/crm/v3/objects/deals/batch/read", json={
                "properties": properties, "propertiesWithHistory": list(history.PROPERTIES),
                "inputs": [{"id": i} for i in ids[start:start + batch]]})
            response.raise_for_status()
            yield [{"id": r["id"], "properties": r.get("properties") or {},
                    "history": history.record(r), "updated_at": r.get("updatedAt")}
                   for r in response.json()["results"]]

    return deal_stage_dates


def _search(name: str, modified: str, properties: list[str]) -> dict:
    from orchestration.connectors.hubspot_paging import NewAtBoundary, SearchWindows  # dlt

    return {
        "name": name,
        "primary_key": "id",
        "write_disposition": "merge",
        # a record changed during the sync comes twice in one load: the merge keeps the newest
        "columns": {"archived": {"data_type": "bool", "hard_delete": True},
                    "updated_at": {"dedup_sort": "desc"}},
        "endpoint": {
            "path": f"/crm/v3/objects/{name}/search",
            "method": "POST",
            "json": {
                "filterGroups": [{"filters": [{"propertyName": modified, "operator": "GTE",
                                               "value": "{incremental.start_value}"}]}],
                "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
                "properties": properties,
                "limit": SEARCH_PAGE_SIZE,
            },
            "data_selector": "results",
            "paginator": SearchWindows(name, modified),
            # `lag`: start that far before the stored cursor (late indexing, see above)
            "incremental": {"cursor_path": f"properties.{modified}", "initial_value": EPOCH,
                            "lag": hubspot_search_lookback_seconds()},
        },
        "processing_steps": [{"filter": NewAtBoundary(modified)}],
    }


def _archived(name: str) -> dict:
    return {
        "name": f"{name}_archived",
        "table_name": name,
        "primary_key": "id",
        "write_disposition": "merge",
        "columns": {"archived": {"data_type": "bool", "hard_delete": True}},
        "endpoint": {
            "path": f"/crm/v3/objects/{name}",
            "params": {"archived": "true", "limit": PAGE_SIZE},
            "data_selector": "results",
            "paginator": {"type": "cursor", "cursor_path": "paging.next.after",
                          "cursor_param": "after"},
        },
    }


def _replaced(name: str, path: str, selector: str = "results", paged: bool = False,
              primary_key: str = "id") -> dict:
    paginator = ({"type": "cursor", "cursor_path": "paging.next.after", "cursor_param": "after"}
                 if paged else "single_page")
    return {"name": name, "primary_key": primary_key, "write_disposition": "replace",
            "endpoint": {"path": path, "data_selector": selector, "paginator": paginator,
                         **({"params": {"limit": PAGE_SIZE}} if paged else {})}}


def source(api: ApiSource):
    from orchestration.connectors.hubspot_paging import (  # imports dlt
        RecentEngagements,
        searched,
        space_searches,
    )

    # no fixed spacing but the search API's: HubSpot's limit headers drive the other pauses
    session = throttled_session(before_send=space_searches, on_response=searched)
    client = _client(api, session)
    stage_props = _stage_properties(_stage_ids(client))
    config = {
        "client": {"base_url": api.base_url, "auth": {"type": "bearer", "token": api.token},
                   "session": session},
        "resources": [
            {**_replaced("account", "/account-info/v3/details", "$"), "primary_key": "portalId"},
            {**_replaced("contact_properties", "/crm/v3/properties/contacts"),
             "primary_key": "name"},
            {**_replaced("deal_properties", "/crm/v3/properties/deals"), "primary_key": "name"},
            _replaced("pipelines", "/crm/v3/pipelines/deals"),
            _replaced("owners", "/crm/v3/owners", paged=True),
            _search("contacts", "lastmodifieddate", list(CONTACT_PROPERTIES)),
            _archived("contacts"),
            _search("deals", "hs_lastmodifieddate", list(DEAL_PROPERTIES)),
            _archived("deals"),
            {
                "name": "deal_contacts",
                "primary_key": ["deal_id", "contact_id"],
                "write_disposition": "merge",
                "include_from_parent": ["id"],
                "endpoint": {
                    "path": "/crm/v4/objects/deals/{deal_id}/associations/contacts",
                    "params": {"deal_id": {"type": "resolve", "resource": "deals",
                                           "field": "id"}, "limit": 500},
                    "data_selector": "results",
                    "paginator": {"type": "cursor", "cursor_path": "paging.next.after",
                                  "cursor_param": "after"},
                },
                "processing_steps": [{"map": _association}],
            },
            {
                "name": "engagements",
                "primary_key": "id",
                "write_disposition": "merge",
                "endpoint": {
                    "path": "/engagements/v1/engagements/recent/modified",
                    "params": {"count": PAGE_SIZE, "since": "{incremental.start_value}"},
                    "data_selector": "results",
                    "paginator": RecentEngagements(),
                    "incremental": {"cursor_path": "engagement.lastUpdated",
                                    "initial_value": 0},
                },
                "processing_steps": [{"map": _engagement}],
            },
        ],
    }
    source = rest_source("hubspot", config)
    source.resources.add(_stage_dates(client, source.resources["deals"], stage_props))
    return source


def _association(row: dict) -> dict:
    return {"deal_id": str(row["_deals_id"]), "contact_id": str(row["toObjectId"])}


def _engagement(row: dict) -> dict:
    return {"id": str(row["engagement"]["id"]), **row}


# ---------------------------------------------------------------------------------------------
# Snapshots: the UI export's files, rebuilt from the synced tables


def _prop(name: str, alias: str = "t") -> str:
    return f"{alias}.properties->>{literal('$.' + name)}"


class _Sql:
    """SQL pieces that depend on the synced account: time zone, option labels, owners."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        row = con.execute("select time_zone from ds.account limit 1").fetchone()
        self.tz = row[0] if row and row[0] else "UTC"
        con.execute("create or replace temp table opts (object varchar, property varchar, "
                    "value varchar, label varchar)")
        for obj in ("contact", "deal"):
            for name, options in con.execute(
                    f"select name, options from ds.{obj}_properties").fetchall():
                values = [(obj, name, o.get("value"), o.get("label"))
                          for o in json.loads(options or "[]")]
                if values:
                    con.executemany("insert into opts values (?, ?, ?, ?)", values)

    def local(self, expr: str) -> str:
        """A UTC instant (ISO text) as the export writes it: account time, to the minute."""
        return (f"strftime(timezone({literal(self.tz)}, try_cast({expr} as timestamptz)), "
                "'%Y-%m-%d %H:%M')")

    def local_ms(self, expr: str) -> str:
        return (f"strftime(timezone({literal(self.tz)}, make_timestamptz(cast({expr} as bigint)"
                " * 1000)), '%Y-%m-%d %H:%M')")

    @staticmethod
    def label(obj: str, prop: str, expr: str) -> str:
        return (f"coalesce((select o.label from opts o where o.object = {literal(obj)} and "
                f"o.property = {literal(prop)} and o.value = {expr}), {expr})")

    @staticmethod
    def owner(expr: str) -> str:
        return (f"(select trim(coalesce(w.first_name, '') || ' ' || coalesce(w.last_name, '')) "
                f"from ds.owners w where cast(w.id as varchar) = {expr})")


def _latest_links(key: str) -> str:
    """Deal-contact links of each deal's latest association answer."""
    return (f"(select {key}, string_agg(other, ';' order by try_cast(other as bigint)) as ids "
            "from (select deal_id, contact_id, "
            f"{'contact_id' if key == 'deal_id' else 'deal_id'} as other, "
            "_dlt_load_id = max(_dlt_load_id) over (partition by deal_id) as is_latest "
            f"from ds.deal_contacts) where is_latest group by {key})")


def contacts_sql(con: duckdb.DuckDBPyConnection) -> str:
    q = _Sql(con)
    p = _prop
    return f"""
        select t.id as "Record ID", {p('firstname')} as "First Name",
            {p('lastname')} as "Last Name", {p('email')} as "Email",
            {p('phone')} as "Phone Number", {p('jobtitle')} as "Job Title",
            {p('company')} as "Company Name",
            {q.label('contact', 'industry', p('industry'))} as "Industry",
            {p('numemployees')} as "Number of Employees", {p('country')} as "Country/Region",
            {q.label('contact', 'hs_analytics_source', p('hs_analytics_source'))}
                as "Original Source",
            {q.label('contact', 'lifecyclestage', p('lifecyclestage'))} as "Lifecycle Stage",
            {q.owner(p('hubspot_owner_id'))} as "Contact owner",
            {q.local(p('createdate'))} as "Create Date",
            {q.local(p('notes_last_updated'))} as "Last Activity Date",
            {q.label('contact', 'budget_range', p('budget_range'))} as "Budget Range",
            {q.label('contact', 'decision_maker', p('decision_maker'))} as "Decision Maker",
            {q.label('contact', 'need_identified', p('need_identified'))} as "Need Identified",
            {q.label('contact', 'purchase_timeline', p('purchase_timeline'))}
                as "Purchase Timeline",
            links.ids as "Associated Deal IDs"
        from ds.contacts t left join {_latest_links('contact_id')} links
            on links.contact_id = t.id"""


def deals_sql(con: duckdb.DuckDBPyConnection) -> str:
    q = _Sql(con)
    p = _prop
    stage_cols = []
    for pipeline, stages in con.execute("select label, stages from ds.pipelines").fetchall():
        for stage in json.loads(stages or "[]"):
            header = f'{stage["label"]} ({pipeline})'
            for event in ("entered", "exited"):
                # from the batch read; a deal not changed since the syncs that asked the
                # search for stage dates still has them among its own properties
                name = f"hs_v2_date_{event}_{stage['id']}"
                prop = f"coalesce({p(name, 'sd')}, {p(name)})"
                column = quote(f'Date {event} "{header}"')
                stage_cols.append(f"{q.local(prop)} as {column}")
    return f"""
        select t.id as "Record ID", {p('dealname')} as "Deal Name",
            pl.label as "Pipeline",
            (select s->>'$.label' from (select unnest(from_json(pl.stages, '["JSON"]')) as s)
             where s->>'$.id' = {p('dealstage')}) as "Deal Stage",
            {p('amount')} as "Amount", {p('deal_currency_code')} as "Currency",
            {q.local(p('closedate'))} as "Close Date", {q.local(p('createdate'))} as "Create Date",
            {q.owner(p('hubspot_owner_id'))} as "Deal owner",
            {q.label('deal', 'dealtype', p('dealtype'))} as "Deal Type",
            links.ids as "Associated Contact IDs",
            {q.local(p('notes_last_updated'))} as "Last Activity Date"
            {''.join(', ' + c for c in stage_cols)}
        from ds.deals t
        left join ds.deal_stage_dates sd on sd.id = t.id
        left join ds.pipelines pl on pl.id = {p('pipeline')}
        left join {_latest_links('deal_id')} links on links.deal_id = t.id"""


def activities_sql(con: duckdb.DuckDBPyConnection) -> str:
    q = _Sql(con)

    def ids(key: str) -> str:
        return (f"nullif(array_to_string(from_json(t.associations->{literal('$.' + key)}, "
                "'[\"VARCHAR\"]'), ';'), '')")

    return f"""
        select t.id as "Record ID", t.engagement->>'$.type' as "Activity Type",
            {q.local_ms("t.engagement->>'$.timestamp'")} as "Activity Date",
            {q.owner("t.engagement->>'$.ownerId'")} as "Activity assigned to",
            {ids('contactIds')} as "Associated Contact IDs",
            {ids('dealIds')} as "Associated Deal IDs"
        from ds.engagements t"""


def pipelines_sql(con: duckdb.DuckDBPyConnection) -> str:
    return """
        select p.id as pipelineId, p.label as pipelineLabel,
            cast(p.display_order as varchar) as pipelineDisplayOrder,
            s->>'$.id' as stageId, s->>'$.label' as stageLabel,
            s->>'$.displayOrder' as stageDisplayOrder,
            s->>'$.metadata.isClosed' as isClosed, s->>'$.metadata.probability' as probability,
            s->>'$.archived' as archived
        from (select *, unnest(from_json(stages, '["JSON"]')) as s from ds.pipelines) p"""


def owners_sql(con: duckdb.DuckDBPyConnection) -> str:
    return """
        select cast(id as varchar) as id, email, first_name as firstName,
            last_name as lastName, cast(archived as varchar) as archived,
            (select t->>'$.name' from (select unnest(from_json(teams, '["JSON"]')) as t)
             where cast(t->>'$.primary' as boolean) limit 1) as primaryTeamName
        from ds.owners"""


def deal_history_sql(con: duckdb.DuckDBPyConnection) -> str:
    return history.history_sql(con, _Sql(con))


def _object(name: str):
    return next(o for o in files.OBJECTS if o.name == name)


JSON_T = "json"
CONNECTOR = Connector(
    name="hubspot",
    label="HubSpot",
    source=source,
    resources=("account", "contact_properties", "deal_properties", "pipelines", "owners",
               "contacts", "deals", "deal_stage_dates", "deal_contacts", "engagements"),
    tables={
        "account": {"time_zone": "varchar"},
        "contact_properties": {"name": "varchar", "options": JSON_T},
        "deal_properties": {"name": "varchar", "options": JSON_T},
        "pipelines": {"id": "varchar", "label": "varchar", "display_order": "bigint",
                      "stages": JSON_T, "archived": "boolean"},
        "owners": {"id": "varchar", "email": "varchar", "first_name": "varchar",
                   "last_name": "varchar", "archived": "boolean", "teams": JSON_T},
        "contacts": {"id": "varchar", "properties": JSON_T},
        "deals": {"id": "varchar", "properties": JSON_T},
        "deal_stage_dates": {"id": "varchar", "properties": JSON_T, "history": JSON_T},
        "deal_contacts": {"deal_id": "varchar", "contact_id": "varchar",
                          "_dlt_load_id": "varchar"},
        "engagements": {"id": "varchar", "engagement": JSON_T, "associations": JSON_T},
    },
    snapshots=(
        Snapshot(_object("contacts"), contacts_sql, 'try_cast("Record ID" as bigint)'),
        Snapshot(_object("deals"), deals_sql, 'try_cast("Record ID" as bigint)'),
        Snapshot(_object("activities"), activities_sql, 'try_cast("Record ID" as bigint)'),
        Snapshot(_object("pipelines"), pipelines_sql,
                 "try_cast(pipelineDisplayOrder as int), try_cast(stageDisplayOrder as int), "
                 "stageId"),
        Snapshot(_object("owners"), owners_sql, "id"),
        Snapshot(history.TARGET, deal_history_sql,
                 "try_cast(deal_id as bigint), property, try_cast(position as int)"),
    ),
    window=SyncWindow(RECENT_DAYS, "engagement changes (calls, e-mails, meetings, ...)",
                      CATCH_UP + " Sync at least every few weeks to avoid this."),
)

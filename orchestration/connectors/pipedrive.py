"""Pipedrive connector: deals, their stage/status/owner/value/close-date changes, pipelines,
stages, persons, activities and users, synced with dlt's REST API source into `raw.pipedrive_*`.

API facts used (developers.pipedrive.com/docs/api/v1; pipedrive.readme.io/docs):
- Auth: the user's API token in the `x-api-token` header (never in the URL, so it cannot
  land in a log line) - "core-api-concepts-authentication".
- v2 list endpoints (`/api/v2/deals`, `/persons`, `/activities`, `/pipelines`, `/stages`)
  page with `cursor`/`limit` (max 500) and answer `additional_data.next_cursor`, null on the
  last page - "core-api-concepts-pagination".
- Incremental: `updated_since` (RFC 3339) on deals, persons and activities returns records
  whose `update_time` is later than or equal to it; dlt keeps the highest `update_time` seen
  as the cursor and drops the boundary records it already has. The lists are asked with
  `sort_by=update_time` (supported: id, update_time, add_time) and the cursor is "the marker
  representing the first item on the next page" (the v2 `getDeals` reference), so a record
  changed during the sync comes again at the end; the merge keeps its newest version. (In id
  order, a deal read and then changed would be stored as it was, and the cursor, moved past
  its change by a later one, would hide that change from the next sync too.)
- Deletes: v2 deals leave deleted deals out unless `status=deleted`, which returns deals
  deleted less than 30 days ago (developers.pipedrive.com/changelog/post/
  permanent-deletion-logic-for-6-core-entities); a second resource asks for them, with its own
  `updated_since` cursor. Persons and activities carry `is_deleted`. Staging drops deleted
  records.
- Archived deals: since 15 July 2025 `GET /api/v2/deals` leaves archived deals out, and they
  come from `GET /api/v2/deals/archived` (same parameters, incl. `updated_since`, `sort_by` and
  the cursor; developers.pipedrive.com/changelog/post/breaking-change-archived-deals-and-leads-
  will-not-be-returned-in-existing-endpoints-and-will-not-be-editable). A third resource reads
  them into the same table, with their update logs, and marks them `is_archived` (true from
  that list, false from the other: each list holds only its kind). An archived deal is still
  a deal: staging keeps it.
- Stage history: GET /v1/deals/{id}/flow, the deal's updates log; its `dealChange` items with
  `field_key` stage_id / status / user_id are every stage change, win, loss, reopen and owner
  change (the same endpoint dlt's verified Pipedrive source reads for `deals_flow`); `value`
  and `expected_close_date` (the deal's field keys, developers.pipedrive.com/docs/api/v1/
  Deals#updateDeal) every amount change and push of the expected close date, old and new
  value as text ("1500", "2024-05-20"; the flow item's field_key is "the key of the field
  that was changed", github.com/pipedrive/client-nodejs docs/ChangelogResponseAllOfData.md). The
  changelog endpoint has the same changes but pages worse (devcommunity.pipedrive.com thread
  18539). It is per deal, so only deals changed since their log was last read are asked for,
  after the lists are stored and in loads of FLOW_BATCH deals (`follow_ups`), each recording
  the deals read (`deal_flow_synced`): a first sync that runs out of the daily budget keeps
  what it read, and the next sync continues with the rest instead of starting over. v1 pages
  with `start`/`limit` and `additional_data.pagination.next_start`.
- Rate limits: token-based per company; answers carry `x-ratelimit-limit`,
  `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds), and a 429 with `Retry-After`
  when exhausted - "core-api-concepts-rate-limiting". The shared session waits for the reset
  when remaining reaches 0; dlt's client retries 429 (Retry-After) and 5xx with backoff.
  Beside that 2-second window, each company has a daily token budget (30,000 tokens x plan
  multiplier x seats; each request costs tokens by endpoint): once it is used up, requests are
  refused "until the budget resets at the start of the next day" (same page, "Token-Based Rate
  Limiting"). A 429 whose Retry-After is that long is no window to wait out: the sync stops at
  once with a message (`_stop_on_budget`) instead of retrying for minutes.
"""

from __future__ import annotations

from typing import Any

from orchestration.connectors.errors import ConnectorLimitError
from orchestration.connectors.records import ApiTable, fields, records_connector, records_source
from orchestration.connectors.rest import throttled_session
from orchestration.connectors.windows import SyncWindow
from orchestration.settings import ApiSource

NAME = "pipedrive"
PAGE = 500
EPOCH = "1970-01-01T00:00:00Z"
DELETED_DAYS = 30  # `status=deleted` returns deals deleted in the last 30 days
WINDOW_WAIT = 60  # seconds: a 429 asking a longer wait is the daily budget, not the window

TABLES = (
    ApiTable(NAME, "deals", "deals", fields(
        "id, title, owner_id, creator_user_id, value:number, currency, person_id, org_id, "
        "pipeline_id, stage_id, status, probability:number, lost_reason, add_time:timestamp, "
        "update_time:timestamp, stage_change_time:timestamp, close_time:timestamp, "
        "won_time:timestamp, lost_time:timestamp, expected_close_date:timestamp, "
        "is_deleted:boolean, is_archived:boolean, archive_time:timestamp")),
    ApiTable(NAME, "deal_changes", "deal_flow", fields(
        "id, deal_id, user_id, field_key, old_value, new_value, log_time:timestamp")),
    ApiTable(NAME, "pipelines", "pipelines", fields(
        "id, name, order_nr:integer, is_deleted:boolean, add_time:timestamp, "
        "update_time:timestamp")),
    ApiTable(NAME, "stages", "stages", fields(
        "id, name, pipeline_id, order_nr:integer, deal_probability:number, is_deleted:boolean, "
        "add_time:timestamp, update_time:timestamp")),
    ApiTable(NAME, "persons", "persons", fields(
        "id, name, first_name, last_name, email, phone, owner_id, org_id, add_time:timestamp, "
        "update_time:timestamp, is_deleted:boolean")),
    ApiTable(NAME, "activities", "activities", fields(
        "id, type, subject, owner_id, deal_id, person_id, done:boolean, due_date:timestamp, "
        "add_time:timestamp, update_time:timestamp, marked_as_done_time:timestamp, "
        "is_deleted:boolean")),
    ApiTable(NAME, "users", "users", fields(
        "id, name, email, active_flag:boolean, created:timestamp, modified:timestamp")),
)


def _primary(items: Any) -> str | None:
    """The primary (else first) value of a v2 person's `emails`/`phones` list."""
    if not isinstance(items, list) or not items:
        return None
    best = next((i for i in items if isinstance(i, dict) and i.get("primary")), items[0])
    return best.get("value") if isinstance(best, dict) else None


def _person(record: dict) -> dict:
    record["email"] = _primary(record.pop("emails", None))
    record["phone"] = _primary(record.pop("phones", None))
    return record


def _deal_change(record: dict) -> dict:
    """A flow item {object: dealChange, data: {...}} as one flat change row."""
    d = record.get("data") or {}
    return {"id": d.get("id"), "deal_id": d.get("item_id"), "user_id": d.get("user_id"),
            "field_key": d.get("field_key"), "old_value": d.get("old_value"),
            "new_value": d.get("new_value"), "log_time": d.get("log_time")}


def _stop_on_budget(response) -> None:
    """A 429 asking to wait longer than a rate-limit window: the daily token budget is used
    up, and retrying until it resets would only hold the run."""
    if response.status_code != 429:
        return
    try:
        wait = float(response.headers.get("Retry-After") or 0)
    except ValueError:
        return
    if wait > WINDOW_WAIT:
        raise ConnectorLimitError(
            f"Pipedrive API: the company's daily API token budget is used up (429, retry in "
            f"{wait / 3600:.1f} hours). What this run stored before stays (the lists, and the "
            "deals' update logs in batches); the next run after the reset continues from "
            "there. Other integrations share the budget: see Company settings > Usage in "
            "Pipedrive (and the README, Pipedrive).")


def _archived(flag: bool):
    """A map step marking each deal of a list as archived or not (each list holds one kind)."""
    def mark(record: dict) -> dict:
        record["is_archived"] = flag
        return record
    return mark


FLOW_BATCH = 200  # deals whose update logs one load stores
FLOW_PAGE = 500  # update-log items a page (v1 `limit`, at most 500)
SYNCED = "deal_flow_synced"  # deal id -> the update_time its update log was read at


def _pending(pipeline) -> tuple[list[tuple], list[tuple]]:
    """Deals (id, update_time) whose update log was not read since they last changed, oldest
    change first; and, in a dataset synced before `deal_flow_synced` existed (the logs were
    read along with the deals then), the deals this run's lists did not bring, to mark read."""
    with pipeline.sql_client() as client:
        tables = {r[0] for r in client.execute_sql(
            "select table_name from information_schema.tables where table_schema = %s",
            client.dataset_name)}
        if "deals" not in tables:
            return [], []
        deals = client.make_qualified_table_name("deals")
        alive = "not coalesce(d.is_deleted, false)"
        if SYNCED in tables:
            synced = client.make_qualified_table_name(SYNCED)
            return client.execute_sql(
                f"select d.id, d.update_time from {deals} d left join {synced} s "
                f"on s.id = d.id where {alive} and (s.id is null or s.update_time < "
                "d.update_time) order by d.update_time, d.id"), []
        if "deal_flow" not in tables:  # a first sync
            return client.execute_sql(f"select d.id, d.update_time from {deals} d where "
                                      f"{alive} order by d.update_time, d.id"), []
        latest = f"d._dlt_load_id = (select max(_dlt_load_id) from {deals})"
        return (client.execute_sql(f"select d.id, d.update_time from {deals} d where {alive} "
                                   f"and {latest} order by d.update_time, d.id"),
                client.execute_sql(f"select d.id, d.update_time from {deals} d where {alive} "
                                   f"and not {latest}"))


def follow_ups(api: ApiSource, pipeline):
    """The update logs of the deals changed since theirs was read, FLOW_BATCH deals a load:
    a sync stopped by the daily token budget keeps the logs it read, and the next one
    continues with the others (each log costs one request: a first sync of a large account
    can take more than a day's budget, README)."""
    session = _session()
    pending, already_read = _pending(pipeline)
    if already_read:
        yield _flows(api, session, already_read, ask=False)
    for start in range(0, len(pending), FLOW_BATCH):
        yield _flows(api, session, pending[start:start + FLOW_BATCH])


def _flows(api: ApiSource, session, deals: list[tuple], ask: bool = True):
    import dlt

    # one page (a list in a list): rest_api resolves a child's parameters page by page
    synced = dlt.resource([[{"id": i, "update_time": t} for i, t in deals]], name=SYNCED,
                          primary_key="id", write_disposition="merge")
    flow = {"name": "deal_flow",
            "endpoint": {"path": f"v1/deals/{{resources.{SYNCED}.id}}/flow",
                         "params": {"limit": FLOW_PAGE}, "paginator": V1_PAGES},
            "processing_steps": [{"filter": _is_deal_change}, {"map": _deal_change}]}
    return records_source(NAME, api, _auth(api), session, _defaults(),
                          [synced, *([flow] if ask else [])])


def _is_deal_change(record: dict) -> bool:
    return record.get("object") == "dealChange" and (record.get("data") or {}).get(
        "field_key") in DEAL_FIELDS


# the deal fields whose changes the marts follow (int_stage_events, int_deal_owner_events,
# int_deal_changes)
DEAL_FIELDS = ("stage_id", "status", "user_id", "value", "expected_close_date")


# Lists are read in update_time order, so a record changed during the sync comes again at the
# end: the merge keeps that newest version of a record that came twice in one load.
NEWEST_WINS = {"update_time": {"dedup_sort": "desc"}}


def _v2(path: str, incremental: bool = True, **params: Any) -> dict:
    endpoint: dict[str, Any] = {"path": f"api/v2/{path}", "params": {"limit": PAGE, **params}}
    if incremental:
        endpoint["params"].update(sort_by="update_time", sort_direction="asc")
        endpoint["params"]["updated_since"] = {
            "type": "incremental", "cursor_path": "update_time", "initial_value": EPOCH}
    return endpoint


V1_PAGES = {"type": "cursor", "cursor_path": "additional_data.pagination.next_start",
            "cursor_param": "start"}


def _auth(api: ApiSource) -> dict:
    return {"type": "api_key", "name": "x-api-token", "api_key": api.token,
            "location": "header"}


def _defaults() -> dict:
    cursor = {"type": "cursor", "cursor_path": "additional_data.next_cursor",
              "cursor_param": "cursor"}
    return {"primary_key": "id", "write_disposition": "merge",
            "endpoint": {"data_selector": "data", "paginator": cursor}}


def _session():
    return throttled_session(reset_header="X-RateLimit-Reset", on_response=_stop_on_budget)


def source(api: ApiSource):
    """Every list; the deals' update logs follow in their own loads (`follow_ups`)."""
    return records_source(
        NAME, api, _auth(api), _session(), _defaults(), [
            {"name": "deals", "endpoint": _v2("deals"), "columns": NEWEST_WINS,
             "processing_steps": [{"map": _archived(False)}]},
            # deleted deals only come with status=deleted; merged into the same table
            {"name": "deals_deleted", "table_name": "deals", "columns": NEWEST_WINS,
             "endpoint": _v2("deals", status="deleted"),
             "processing_steps": [{"map": _archived(False)}]},
            # archived deals only come from their own list; merged into the same table
            {"name": "deals_archived", "table_name": "deals", "columns": NEWEST_WINS,
             "endpoint": _v2("deals/archived"),
             "processing_steps": [{"map": _archived(True)}]},
            {"name": "persons", "endpoint": _v2("persons"), "columns": NEWEST_WINS,
             "processing_steps": [{"map": _person}]},
            {"name": "activities", "endpoint": _v2("activities"), "columns": NEWEST_WINS},
            {"name": "pipelines", "write_disposition": "replace",
             "endpoint": _v2("pipelines", incremental=False)},
            {"name": "stages", "write_disposition": "replace",
             "endpoint": _v2("stages", incremental=False)},
            {"name": "users", "write_disposition": "replace",
             "endpoint": {"path": "v1/users", "paginator": "single_page"}},
        ])


CONNECTOR = records_connector(
    NAME, "Pipedrive", source,
    ("deals", "deals_deleted", "deals_archived", "deal_flow", "persons", "activities",
     "pipelines", "stages", "users"),
    TABLES,
    window=SyncWindow(
        DELETED_DAYS, "deleted deals",
        "Delete the connectors/pipedrive/ folder in SALESPIPE_DATA_DIR for a full re-sync, which "
        "leaves the deals deleted meanwhile out (it asks every deal's update log again: slow for "
        "a large account). Sync at least every few weeks to avoid this."),
    follow_ups=follow_ups,
)

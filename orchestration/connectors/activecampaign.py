"""ActiveCampaign v3 API connector: contacts (with custom field values), deals, deal groups
(pipelines) and stages, deal activities (the stage history), users and user groups, custom
fields and the contact activity log, synced by dlt's REST API source.

Endpoints (developers.activecampaign.com/reference; authentication: the account's API key in
the `Api-Token` header; base `https://<account>.api-us1.com/api/3`; lists page with
`limit` (max 100) and `offset`, `meta.total` says how many there are):
- `GET /contacts?filters[updated_after]=<cursor>` and `GET /deals?filters[updated_after]=`:
  incremental on `udate` / `mdate`, or `cdate` where those are null (some records carry no
  update date until they are first changed, as other taps note): the cursor is `cursor_date`,
  the first of the two set, added to each record before dlt reads the cursor. The dates carry the account's UTC offset, which changes
  with daylight saving time, so the cursor is compared as an instant, not as text. Contacts
  page by id (`orders[id]=ASC`, `id_greater`), which a deletion during the sync cannot shift;
  the other lists step back when `meta.total` shows records went meanwhile
  (activecampaign_paging.py). Neither comes in modified order, so the stored cursor is kept
  no later than the sync's start: a record changed after it was read comes with the next sync
  (windows.hold_cursors).
- `GET /contacts/{id}/fieldValues`, `GET /activities?contact={id}` (contact activity log) and
  `GET /deals/{id}/dealActivities` (stage, status and owner changes, notes, tasks): asked
  only for the contacts and deals the incremental lists returned; merged on id.
- `GET /dealGroups`, `/dealStages`, `/users`, `/groups`, `/fields`: small, replaced each sync.
ActiveCampaign allows 5 requests per second per account: requests are spaced to that, and a
429 is retried after its Retry-After. The API has no feed of deleted contacts or deals: a
record deleted in ActiveCampaign stays until a full re-sync (see the README).

The API's records are the export format itself (docs/export-formats.md saves these responses),
so the snapshots only rename dlt's snake_case columns back to the API's field names.
"""

from __future__ import annotations

import datetime as dt

from orchestration.connectors.base import Connector, Snapshot
from orchestration.connectors.rest import rest_source, throttled_session
from orchestration.settings import ApiSource
from orchestration.sources import activecampaign as files

PAGE_SIZE = 100  # ActiveCampaign's maximum `limit`
REQUESTS_PER_SECOND: float | None = 5.0  # the account's documented rate limit
EPOCH = "1970-01-01T00:00:00+00:00"


def api_base(url: str) -> str:
    """`https://<account>.api-us1.com` (what the account settings show) -> its v3 API base."""
    url = url.rstrip("/")
    return url if url.endswith("/api/3") else f"{url}/api/3"


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def latest(values) -> str:
    """dlt last_value_func: the latest of ISO timestamps with differing UTC offsets."""
    return max((v for v in values if v), key=_instant)


def _pages(selector: str) -> dict:
    from orchestration.connectors.activecampaign_paging import OffsetStepsBack  # imports dlt

    return {"data_selector": selector, "paginator": OffsetStepsBack(PAGE_SIZE)}


def _listed(name: str, path: str, selector: str) -> dict:
    return {"name": name, "primary_key": "id", "write_disposition": "replace",
            "endpoint": {"path": path, **_pages(selector)}}


CURSOR = "cursor_date"  # the update date, else the creation date (`cursor_date`)


def _changed(name: str, path: str, paginator=None) -> dict:
    pages = _pages(name) if paginator is None else {"data_selector": name,
                                                    "paginator": paginator}
    return {"name": name, "primary_key": "id", "write_disposition": "merge",
            "endpoint": {"path": path, **pages,
                         "params": {"filters[updated_after]": "{incremental.start_value}"},
                         "incremental": {"cursor_path": CURSOR, "initial_value": EPOCH,
                                         "last_value_func": latest}}}


def cursor_date(updated: str):
    """A map step: the record's `cursor_date`, its `updated` date or, while that is null (a
    record never changed since it was created), its `cdate`."""
    def add(record: dict) -> dict:
        record[CURSOR] = record.get(updated) or record.get("cdate")
        return record
    return add


def _child(name: str, path: str, selector: str, params: dict | None = None) -> dict:
    """Asked once per record of its parent (`{resources.<parent>.id}` in path or params)."""
    endpoint = {"path": path, **_pages(selector)}
    if params:
        endpoint["params"] = params
    return {"name": name, "primary_key": "id", "write_disposition": "merge",
            "include_from_parent": ["id"], "endpoint": endpoint}


def source(api: ApiSource):
    from orchestration.connectors.activecampaign_paging import ContactsById  # imports dlt

    config = {
        "client": {
            "base_url": api_base(api.base_url),
            "auth": {"type": "api_key", "name": "Api-Token", "api_key": api.token,
                     "location": "header"},
            "session": throttled_session(REQUESTS_PER_SECOND),
        },
        "resources": [
            _listed("fields", "/fields", "fields"),
            _listed("deal_groups", "/dealGroups", "dealGroups"),
            _listed("deal_stages", "/dealStages", "dealStages"),
            _listed("users", "/users", "users"),
            _listed("groups", "/groups", "groups"),
            _changed("contacts", "/contacts", ContactsById(PAGE_SIZE)),
            _changed("deals", "/deals"),
            _child("contact_field_values", "/contacts/{resources.contacts.id}/fieldValues",
                   "fieldValues"),
            _child("activities", "/activities", "activities",
                   {"contact": "{resources.contacts.id}"}),
            _child("deal_activities", "/deals/{resources.deals.id}/dealActivities",
                   "dealActivities"),
        ],
    }
    source = rest_source("activecampaign", config)
    for name, updated in (("contacts", "udate"), ("deals", "mdate")):
        # before the incremental step (position 1, after the request generator), which reads
        # the cursor
        source.resources[name].add_map(cursor_date(updated), insert_at=1)
    return source


def _select(columns: dict[str, str], table: str, where: str = "") -> str:
    """SELECT renaming dlt's columns (values) to the API's field names (keys), as text."""
    cols = ", ".join(f'cast(t."{src}" as varchar) as "{name}"' for name, src in columns.items())
    return f"select {cols} from ds.{table} t {where}"


def _latest_answer(parent_key: str) -> str:
    """Keep each parent's rows of its latest answer (drops values since removed)."""
    return (f"qualify _dlt_load_id = max(_dlt_load_id) over (partition by {parent_key})")


def _fields(*names: str) -> dict[str, str]:
    return {n: n for n in names}


SNAPSHOTS = {  # object (orchestration/sources/activecampaign.py) -> (table, columns, where)
    "contacts": ("contacts", {**_fields("id", "email"), "firstName": "first_name",
                              "lastName": "last_name", **_fields("phone", "orgname", "cdate",
                                                                 "udate")}, ""),
    "contact_field_values": ("contact_field_values", _fields("id", "contact", "field", "value"),
                             _latest_answer("_contacts_id")),
    "fields": ("fields", _fields("id", "title", "type", "perstag"), ""),
    "deals": ("deals", _fields("id", "title", "value", "currency", "group", "stage", "owner",
                               "contact", "status", "percent", "cdate", "mdate", "edate"), ""),
    "deal_groups": ("deal_groups", _fields("id", "title", "currency", "cdate", "udate"), ""),
    "deal_stages": ("deal_stages", _fields("id", "title", "group", "order", "cdate", "udate"),
                    ""),
    "deal_activities": ("deal_activities", {
        **_fields("id", "d_id", "d_stageid", "userid", "cdate"), "dataType": "data_type",
        "dataAction": "data_action", "dataOldval": "data_oldval", "dataNewval": "data_newval"},
        _latest_answer("_deals_id")),
    "users": ("users", {**_fields("id", "username"), "firstName": "first_name",
                        "lastName": "last_name", **_fields("email", "group")}, ""),
    "groups": ("groups", _fields("id", "title"), ""),
    "activities": ("activities", _fields("id", "contact", "deal", "userid", "tstamp", "type"),
                   _latest_answer("_contacts_id")),
}
PARENT_KEYS = {"contact_field_values": "_contacts_id", "activities": "_contacts_id",
               "deal_activities": "_deals_id"}


def _snapshot(obj) -> Snapshot:
    table, columns, where = SNAPSHOTS[obj.name]
    return Snapshot(obj, lambda con: _select(columns, table, where), 'try_cast("id" as bigint)')


def _tables() -> dict[str, dict[str, str]]:
    out = {}
    for table, columns, _ in SNAPSHOTS.values():
        cols = {src: "varchar" for src in columns.values()}
        if table in PARENT_KEYS:
            cols.update({PARENT_KEYS[table]: "varchar", "_dlt_load_id": "varchar"})
        out[table] = cols
    return out


CONNECTOR = Connector(
    name="activecampaign",
    label="ActiveCampaign",
    source=source,
    resources=("fields", "deal_groups", "deal_stages", "users", "groups", "contacts", "deals",
               "contact_field_values", "activities", "deal_activities"),
    tables=_tables(),
    snapshots=tuple(_snapshot(o) for o in files.OBJECTS),
    # contacts come in id order, deals in the API's own: a record changed after it was read
    # is asked again by the next sync (windows.hold_cursors)
    cursors_from_start=(("contacts", CURSOR), ("deals", CURSOR)),
)

"""Salesforce connector: Opportunity, OpportunityHistory, the OpportunityStage picklist, Contact,
Lead, Task, Event and User through the REST query API, synced with dlt's REST API source into
`raw.salesforce_*`.

API facts used (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/):
- Auth: an OAuth 2.0 access token as `Authorization: Bearer`, sent to the org's instance URL
  ("intro_oauth_and_connected_apps", "quickstart_oauth"). With a connected app's client id
  and secret, the sync gets its own tokens from `POST <instance URL>/services/oauth2/token`
  (`grant_type=client_credentials`; help.salesforce.com "OAuth 2.0 Client Credentials Flow
  for Server-to-Server Integration"). The answer carries no expiry and a token lives as long
  as the org's session timeout (15 minutes to 24 hours), so a new one is fetched every
  `TOKEN_SECONDS`, and once more when an answer says the session expired (401).
- `GET /services/data/vXX.X/queryAll?q=<SOQL>` ("resources_queryall.htm"): like `query`, but
  also returns deleted records (IsDeleted = true, still in the Recycle Bin) and archived
  Tasks/Events, which is how deletes reach the warehouse: merged by Id, dropped in staging.
- Paging ("dome_query.htm"): a response holds up to 2,000 records, `done` and, while not
  done, `nextRecordsUrl` (`/services/data/vXX.X/query/01g...-2000`), followed as is.
- Incremental: each SOQL asks `WHERE SystemModstamp >= <last cursor> ORDER BY SystemModstamp`
  (SystemModstamp changes on every change, including system ones, and is indexed; the SOQL
  dateTime literal is `2024-01-04T10:44:00Z`, "sforce_api_calls_soql_select_dateformats").
  `>=` so a record saved in the same second as the cursor is never lost; dlt drops the
  boundary records it already stored.
- Errors: 401 `INVALID_SESSION_ID` (expired token), 403 `REQUEST_LIMIT_EXCEEDED` or missing
  permission, 5xx retried ("errorcodes.htm"). Every answer carries
  `Sforce-Limit-Info: api-usage=used/limit` (the org's rolling 24-hour API request
  allocation): the sync logs it and stops with a clear message before using the last 5%
  ("headers_api_usage.htm"), so the nightly run never locks the org's integrations out.
  An org whose allocation is used up anyway (by other integrations) answers 403
  `REQUEST_LIMIT_EXCEEDED`, not 429 ("API Request Limits and Allocations"): reported as the
  limit it is, not as bad credentials (errors.py), and not retried.
- Deletes are seen only while the deleted records are in the Recycle Bin: 15 days, then they
  are purged and `queryAll` no longer returns them (Apex Developer Guide, "Restoring Deleted
  Records"; SOAP API `emptyRecycleBin()`). So a sync more than 14 days after the last stored
  one would keep deleted records as live ones for good: it stops before asking (`SyncWindow`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from orchestration.connectors.errors import ConnectorError
from orchestration.connectors.records import ApiTable, fields, records_connector, records_source
from orchestration.connectors.rest import throttled_session
from orchestration.connectors.windows import SyncWindow
from orchestration.settings import (
    ApiSource,
    salesforce_api_version,
    salesforce_currency,
)

NAME = "salesforce"
EPOCH = "1970-01-01T00:00:00.000+0000"
USAGE_STOP = 0.95  # share of the org's daily API allocation the sync never goes beyond
TOKEN_SECONDS = 15 * 60  # the shortest session timeout an org can set
RECYCLE_BIN_DAYS = 15  # deleted records stay queryable (queryAll) this long
log = logging.getLogger("salespipe.connectors")

# sObject -> (raw table name, SOQL fields, incremental?)
OBJECTS: dict[str, tuple[str, str, bool]] = {
    "Opportunity": ("opportunities", (
        "Id, Name, AccountId, ContactId, Amount, CurrencyIsoCode, StageName, Probability, "
        "CloseDate, IsClosed, IsWon, Type, OwnerId, CreatedDate, LastModifiedDate, "
        "SystemModstamp, IsDeleted"), True),
    "OpportunityHistory": ("opportunity_history", (
        "Id, OpportunityId, StageName, Amount, Probability, CloseDate, CreatedDate, "
        "CreatedById, SystemModstamp, IsDeleted"), True),
    "OpportunityStage": ("opportunity_stages", (
        "Id, MasterLabel, ApiName, SortOrder, IsActive, IsClosed, IsWon, DefaultProbability, "
        "SystemModstamp"), False),
    "Contact": ("contacts", (
        "Id, FirstName, LastName, Email, Phone, Title, LeadSource, OwnerId, AccountId, "
        "MailingCountry, CreatedDate, SystemModstamp, IsDeleted"), True),
    "Lead": ("leads", (
        "Id, FirstName, LastName, Email, Phone, Title, LeadSource, OwnerId, Company, Industry, "
        "NumberOfEmployees, Country, Status, IsConverted, CreatedDate, SystemModstamp, "
        "IsDeleted"), True),
    "Task": ("tasks", (
        "Id, WhoId, WhatId, OwnerId, Subject, TaskSubtype, Status, ActivityDate, "
        "CompletedDateTime, CreatedDate, SystemModstamp, IsDeleted"), True),
    "Event": ("events", (
        "Id, WhoId, WhatId, OwnerId, Subject, ActivityDateTime, StartDateTime, EndDateTime, "
        "CreatedDate, SystemModstamp, IsDeleted"), True),
    "User": ("users", (
        "Id, Name, FirstName, LastName, Email, IsActive, Department, SystemModstamp"), False),
}
TYPES = {
    "Amount": "number", "Probability": "number", "DefaultProbability": "number",
    "SortOrder": "integer", "NumberOfEmployees": "integer", "IsClosed": "boolean",
    "IsWon": "boolean", "IsDeleted": "boolean", "IsActive": "boolean", "IsConverted": "boolean",
    "CloseDate": "timestamp", "ActivityDate": "timestamp", "CreatedDate": "timestamp",
    "LastModifiedDate": "timestamp", "SystemModstamp": "timestamp",
    "CompletedDateTime": "timestamp", "ActivityDateTime": "timestamp",
    "StartDateTime": "timestamp", "EndDateTime": "timestamp",
}


def snake(name: str) -> str:
    """dlt's column name for a field: `SystemModstamp` -> `system_modstamp`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _table(sobject: str) -> ApiTable:
    name, soql_fields, _ = OBJECTS[sobject]
    spec = ", ".join(f"{snake(f)}:{TYPES.get(f, 'text')}"
                     for f in (x.strip() for x in soql_fields.split(",")))
    return ApiTable(NAME, name, snake(sobject), fields(spec))


TABLES = tuple(_table(s) for s in OBJECTS)


def soql_datetime(value: str) -> str:
    """A SystemModstamp as a SOQL dateTime literal: 2024-01-04T10:44:00.000+0000 ->
    2024-01-04T10:44:00Z (SOQL takes no fractional seconds and needs Z or +hh:mm)."""
    text = str(value).replace(" ", "T")
    return re.sub(r"(\.\d+)?([+-]00:?00|Z)?$", "", text) + "Z"


def _resource(sobject: str, version: str, currency: str | None = None) -> dict:
    _, soql_fields, incremental = OBJECTS[sobject]
    steps = []
    if currency and "CurrencyIsoCode" in soql_fields:
        # a single-currency org has no CurrencyIsoCode field: every record is in `currency`
        soql_fields = soql_fields.replace(" CurrencyIsoCode,", "")
        steps.append({"map": lambda record: {**record, "CurrencyIsoCode": currency}})
    soql = f"SELECT {soql_fields} FROM {sobject}"
    endpoint: dict[str, Any] = {"path": f"services/data/v{version}/"
                                        f"{'queryAll' if incremental else 'query'}"}
    if incremental:
        soql += " WHERE SystemModstamp >= {incremental.start_value} ORDER BY SystemModstamp ASC"
        endpoint["incremental"] = {"cursor_path": "SystemModstamp", "initial_value": EPOCH,
                                   "convert": soql_datetime}
    endpoint["params"] = {"q": soql}
    return {"name": snake(sobject), "endpoint": endpoint, "processing_steps": steps,
            "write_disposition": "merge" if incremental else "replace"}


def usage(header: str | None) -> tuple[int, int] | None:
    """`api-usage=25/15000` -> (25, 15000)."""
    match = re.search(r"api-usage=(\d+)/(\d+)", header or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def _watch_limits(response) -> None:
    used = usage(response.headers.get("Sforce-Limit-Info"))
    if used and used[1] and used[0] >= USAGE_STOP * used[1]:
        raise ConnectorError(
            f"Salesforce API: the org has used {used[0]:,} of its {used[1]:,} daily API requests "
            f"(Sforce-Limit-Info); the sync stops at {USAGE_STOP:.0%} so other integrations keep "
            "working. Nothing from this run was stored; it resumes on the next run.")


def _watched_session(renew=None):
    """The shared throttled session, checking Sforce-Limit-Info on every answer; with `renew`
    (a function returning a new access token), a 401 is asked again once with a new token."""
    import requests

    session = throttled_session()
    send = session.send

    def watched_send(request, **kwargs):
        try:
            response = send(request, **kwargs)
        except requests.HTTPError as err:  # dlt's retrying send raises what it does not retry
            expired = err.response is not None and err.response.status_code == 401
            if not (renew and expired and "/oauth2/token" not in request.url):
                raise
            request.headers["Authorization"] = f"Bearer {renew()}"
            response = send(request, **kwargs)
        _watch_limits(response)
        return response

    session.send = watched_send
    return session


def _client_credentials(api: ApiSource):
    """dlt's OAuth 2.0 client-credentials auth against the org's token endpoint, and the
    session it fetches tokens through."""
    from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials

    def renew() -> str:
        auth.obtain_token()
        return auth.access_token

    session = _watched_session(renew)
    auth = OAuth2ClientCredentials(
        access_token_url=f"{api.base_url}/services/oauth2/token", client_id=api.client_id,
        client_secret=api.client_secret, default_token_expiration=TOKEN_SECONDS,
        session=session)
    return auth, session


def source(api: ApiSource):
    version = salesforce_api_version()
    if api.client_id:
        auth, session = _client_credentials(api)
    else:
        auth, session = {"type": "bearer", "token": api.token}, _watched_session()
    defaults = {
        "primary_key": "Id",
        "endpoint": {
            "data_selector": "records",
            "paginator": {"type": "json_link", "next_url_path": "nextRecordsUrl"},
        },
    }
    return records_source(NAME, api, auth, session, defaults,
                          [_resource(s, version, salesforce_currency()) for s in OBJECTS])


CONNECTOR = records_connector(
    NAME, "Salesforce", source, tuple(snake(s) for s in OBJECTS), TABLES,
    window=SyncWindow(
        RECYCLE_BIN_DAYS, "deleted records (the Recycle Bin, which queryAll reads)",
        "Delete the connectors/salesforce/ folder in SALESPIPE_DATA_DIR for a full re-sync, "
        "which leaves the records deleted meanwhile out. Sync at least every two weeks to "
        "avoid this."))

"""A local HubSpot API serving the generator's HubSpot company (the same data as its exports).

Shapes follow HubSpot's documentation:
- CRM search: https://developers.hubspot.com/docs/guides/api/crm/search (POST
  /crm/v3/objects/{object}/search; filterGroups/filters with GTE, sorts, properties, limit,
  `after`; answers {total, results: [{id, properties, createdAt, updatedAt, archived}],
  paging.next.after}). Search always returns hs_object_id, createdate and the last-modified
  property besides those asked for. A query reaches at most its first 10,000 results: asking
  for a page at `after` >= 10,000 is a 400 (the "Limitations" section of that page). A request
  body over 3,000 characters is a 400 too (same section, as the issue that brought this rule
  quotes it; the stored copies of that page searched here did not show the sentence). Newly
  created or updated records "may take a few moments to appear in search" (same guide):
  `HubSpotApi.unindexed` holds ids search does not show yet (batch read and lists do).
- Batch read: https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/deals/batch/
  get-deals (POST /crm/v3/objects/deals/batch/read, `{properties, inputs: [{id}]}`, at most
  100 inputs; answers {status, results: [{id, properties, createdAt, updatedAt, archived}]}).
  Property history: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/
  objects/batch/get-objects (`propertiesWithHistory` in the body; each result then carries
  `propertiesWithHistory: {property: [{value, timestamp, sourceType, sourceId,
  updatedByUserId}]}`, the ValueWithTimestamp of that page's schema). A property never set
  has no list (HubSpot leaves out what a record does not have, as `properties` does). With
  `propertiesWithHistory` a batch takes at most 50 inputs: more is a 400 with HubSpot's message
  "The maximum number of inputs supported in a batch request for property histories is 50"
  (quoted in github.com/HubSpot/hubspot-api-python/issues/143 and
  github.com/activepieces/activepieces/pull/9359; the reference page does not state the limit).
  The order of a list is not documented; this server gives the newest value first, as the
  answers quoted in those threads and github.com/HubSpot/hubspot-api-nodejs/issues/154 do, and
  the connector must not depend on it. A deal's history starts with its values at creation
  (`HubSpotData.history`), its stage's with each stage it entered (the export's stage dates);
  `update_deal` adds the values it sets.
- Rate limits: https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines
  (per 10 seconds: 100 a private app on Free/Starter, 190 on Professional/Enterprise; every
  answer carries X-HubSpot-RateLimit-Daily, -Daily-Remaining, -Interval-Milliseconds, -Max,
  -Remaining, -Secondly and -Secondly-Remaining; beyond the limit a 429 with
  `policyName`). Search answers carry none of them (community.hubspot.com, "Rate limit headers
  will now appear for OAuth authenticated calls", replies: search gives only
  X-HubSpot-Correlation-Id) and have their own limit, which the connector spaces to.
- Objects list with archived=true: https://developers.hubspot.com/docs/api-reference/crm-deals-v3
- Associations v4: https://developers.hubspot.com/docs/api-reference/crm-associations-v4
  (GET /crm/v4/objects/{from}/{id}/associations/{to}: results [{toObjectId, associationTypes}])
- Engagements v1 recent/modified:
  https://legacydocs.hubspot.com/docs/methods/engagements/get-recent-engagements
  ({results: [{engagement, associations, metadata}], hasMore, offset, total}; `since` in ms;
  the most recently updated first, and only the 10k most recently updated: its API reference
  page. Its other limit, the last 30 days only, is not served: the generated history is years
  long and the tests compare a first sync with the exports; the connector refuses to sync
  that late after the last stored sync, tested by ageing that sync)
- Pipelines https://developers.hubspot.com/docs/guides/api/crm/pipelines, owners
  https://developers.hubspot.com/docs/guides/api/crm/owners, properties
  https://developers.hubspot.com/docs/guides/api/crm/properties, account details
  https://developers.hubspot.com/docs/guides/api/settings/account-information-api
- Errors: https://developers.hubspot.com/docs/guides/api/error-handling ({status: "error",
  message, correlationId, category}); 401 for a missing or bad token, 429 when rate limited.

Data: `salespipe generate` writes the HubSpot UI export (labels, owner names, local times); this
server turns those records back into what the API holds (internal option values, owner and
stage ids, UTC instants in ms or ISO), so an API sync and the export describe the same company.
The generator's marketing activities (EMAIL_OPEN, EMAIL_CLICK, FORM_SUBMISSION, PAGE_VIEW) are
served as engagements of those types beside EMAIL/CALL/MEETING/NOTE/TASK, so both paths carry
the same activities (HubSpot itself keeps those in its email-events and web-analytics APIs).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from .common import MockApi, Reply, Request

CONTACT_MAP = {  # export header -> internal property name
    "First Name": "firstname", "Last Name": "lastname", "Email": "email",
    "Phone Number": "phone", "Job Title": "jobtitle", "Company Name": "company",
    "Industry": "industry", "Number of Employees": "numemployees", "Country/Region": "country",
    "Original Source": "hs_analytics_source", "Lifecycle Stage": "lifecyclestage",
    "Budget Range": "budget_range", "Decision Maker": "decision_maker",
    "Need Identified": "need_identified", "Purchase Timeline": "purchase_timeline",
}
CONTACT_ENUMS = ("industry", "hs_analytics_source", "lifecyclestage", "budget_range",
                 "decision_maker", "need_identified", "purchase_timeline")
DEAL_ENUMS = ("dealtype",)
HISTORY = ("amount", "closedate", "hubspot_owner_id", "dealstage")  # with a history kept
STAGE_HEADER = re.compile(r'^Date (entered|exited) "(.+) \(([^()]+)\)"$')


def option_value(label: str) -> str:
    """HubSpot-style internal value of an option label ("Organic Search" -> organic_search)."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


class HubSpotData:
    """The API's records, built from one generated `hubspot/` export folder."""

    def __init__(self, folder: Path, tz: str):
        self.tz = ZoneInfo(tz)
        self.tz_name = tz
        self.pipelines = json.loads((folder / "pipelines.json").read_text())["results"]
        self.owners = json.loads((folder / "owners.json").read_text())["results"]
        self.owner_ids = {f'{o["firstName"]} {o["lastName"]}': o["id"] for o in self.owners}
        self.options: dict[str, dict[str, dict[str, str]]] = {"contacts": {}, "deals": {}}
        self.contacts = {r["Record ID"]: self._contact(r) for r in _rows(folder, "contacts")}
        self.links: dict[str, list[str]] = {}
        self.history: dict[str, dict[str, list[dict]]] = {}  # deal -> property -> oldest first
        self.deals = {r["Record ID"]: self._deal(r) for r in _rows(folder, "deals")}
        self.engagements = [self._engagement(r) for r in _rows(folder, "activities")]
        self.archived: dict[str, dict[str, dict]] = {"contacts": {}, "deals": {}}
        self._clock = max(self._instants()) if self.deals else "2026-01-01T00:00:00.000Z"

    # -- conversions --------------------------------------------------------------------------
    def iso(self, local: str | None) -> str | None:
        """Export time (account-local `YYYY-MM-DD HH:MM`) -> the API's UTC ISO instant."""
        if not local:
            return None
        t = dt.datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=self.tz)
        return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def ms(self, local: str | None) -> int | None:
        iso = self.iso(local)
        return int(dt.datetime.fromisoformat(iso).timestamp() * 1000) if iso else None

    def _enum(self, obj: str, prop: str, label: str | None) -> str | None:
        if not label:
            return None
        value = option_value(label)
        self.options[obj].setdefault(prop, {})[value] = label
        return value

    def _stage(self, pipeline_label: str, stage_label: str) -> tuple[str | None, str | None]:
        for p in self.pipelines:
            if p["label"] == pipeline_label:
                for s in p["stages"]:
                    if s["label"] == stage_label:
                        return p["id"], s["id"]
                return p["id"], None
        return None, None

    # -- records ------------------------------------------------------------------------------
    def _contact(self, r: dict) -> dict:
        props = {prop: (r.get(h) or None) for h, prop in CONTACT_MAP.items()}
        for prop in CONTACT_ENUMS:
            props[prop] = self._enum("contacts", prop, props[prop])
        props.update({
            "hubspot_owner_id": self.owner_ids.get(r.get("Contact owner") or ""),
            "createdate": self.iso(r.get("Create Date")),
            "notes_last_updated": self.iso(r.get("Last Activity Date")),
            "hs_object_id": r["Record ID"],
        })
        props["lastmodifieddate"] = max(v for v in (props["createdate"],
                                                    props["notes_last_updated"]) if v)
        return _record(r["Record ID"], props, props["lastmodifieddate"])

    def _deal(self, r: dict) -> dict:
        pipeline, stage = self._stage(r["Pipeline"], r["Deal Stage"])
        props = {
            "dealname": r.get("Deal Name") or None, "pipeline": pipeline, "dealstage": stage,
            "amount": r.get("Amount") or None, "deal_currency_code": r.get("Currency") or None,
            "closedate": self.iso(r.get("Close Date")),
            "createdate": self.iso(r.get("Create Date")),
            "hubspot_owner_id": self.owner_ids.get(r.get("Deal owner") or ""),
            "dealtype": self._enum("deals", "dealtype", r.get("Deal Type")),
            "notes_last_updated": self.iso(r.get("Last Activity Date")),
            "hs_object_id": r["Record ID"],
        }
        for header, value in r.items():
            match = STAGE_HEADER.match(header)
            if match and value:
                event, stage_label, pipeline_label = match.groups()
                stage_id = self._stage(pipeline_label, stage_label)[1]
                props[f"hs_v2_date_{event}_{stage_id}"] = self.iso(value)
        stamps = [v for k, v in props.items() if v and (k.startswith("hs_v2_date_") or k in (
            "createdate", "notes_last_updated"))]
        props["hs_lastmodifieddate"] = max(stamps)
        self.links[r["Record ID"]] = [c for c in (r.get("Associated Contact IDs") or "")
                                      .split(";") if c]
        self.history[r["Record ID"]] = {}
        self._remember(r["Record ID"], {p: v for p, v in props.items() if p != "dealstage"},
                       props["createdate"])
        self._stage_history(r["Record ID"], props)
        return _record(r["Record ID"], props, props["hs_lastmodifieddate"])

    def _engagement(self, r: dict) -> dict:
        at = self.ms(r["Activity Date"])
        owner = self.owner_ids.get(r.get("Activity assigned to") or "")
        return {
            "engagement": {"id": int(r["Record ID"]), "portalId": 62515, "active": True,
                           "createdAt": at, "lastUpdated": at, "type": r["Activity Type"],
                           "timestamp": at, "ownerId": int(owner) if owner else None},
            "associations": {
                "contactIds": [int(x) for x in (r.get("Associated Contact IDs") or "").split(";")
                               if x],
                "dealIds": [int(x) for x in (r.get("Associated Deal IDs") or "").split(";") if x],
                "companyIds": [], "ownerIds": [], "ticketIds": [], "workflowIds": []},
            "metadata": {},
        }

    def _instants(self):
        for d in self.deals.values():
            yield d["properties"]["hs_lastmodifieddate"]
        for c in self.contacts.values():
            yield c["properties"]["lastmodifieddate"]

    # -- changes, as a user would make them in HubSpot ---------------------------------------
    def tick(self) -> str:
        """A new 'now', later than every stored modification (minute steps)."""
        t = dt.datetime.fromisoformat(self._clock) + dt.timedelta(minutes=1)
        self._clock = t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return self._clock

    def update_deal(self, deal_id: str, **props) -> None:
        record = self.deals[deal_id]
        now = self.tick()
        if props.get("dealstage"):  # HubSpot dates the entry into the stage moved to
            record["properties"][f"hs_v2_date_entered_{props['dealstage']}"] = now
        record["properties"].update(props)
        record["properties"]["hs_lastmodifieddate"] = record["updatedAt"] = now
        self._remember(deal_id, props, now)

    def _remember(self, deal_id: str, props: dict, at: str | None) -> None:
        """The history entries of the tracked properties `props` sets at `at`."""
        for prop in HISTORY:
            if props.get(prop) is not None:
                self.history[deal_id].setdefault(prop, []).append({
                    "value": props[prop], "timestamp": at, "sourceType": "CRM_UI",
                    "sourceId": "userId:4100", "updatedByUserId": 4100})

    def _stage_history(self, deal_id: str, props: dict) -> None:
        """The stage's history from the export's stage dates: each stage entered, in time
        order (stages entered at one instant in pipeline order). The export keeps one date per
        stage, so no revisit shows here; `update_deal` adds later moves, backward ones too."""
        order = {s["id"]: int(s["displayOrder"]) for p in self.pipelines for s in p["stages"]}
        prefix = "hs_v2_date_entered_"
        entered = sorted((at, order.get(prop[len(prefix):], 0), prop[len(prefix):])
                         for prop, at in props.items() if prop.startswith(prefix) and at)
        for at, _, stage in entered:
            self._remember(deal_id, {"dealstage": stage}, at)

    def update_contact(self, contact_id: str, **props) -> None:
        record = self.contacts[contact_id]
        record["properties"].update(props)
        record["properties"]["lastmodifieddate"] = record["updatedAt"] = self.tick()

    def add_pipelines(self, pipelines: int, stages: int) -> list[str]:
        """More deal pipelines, as a larger account has them: their stage ids (numeric, as
        HubSpot gives stages created in the UI)."""
        ids = []
        for n in range(pipelines):
            pipeline_id = str(90_000_000 + n)
            stage_list = []
            for k in range(stages):
                stage_id = str(1_200_000_000 + n * 1000 + k)
                ids.append(stage_id)
                stage_list.append({"id": stage_id, "label": f"Step {k + 1}",
                                   "displayOrder": k, "archived": False,
                                   "metadata": {"isClosed": "false", "probability": "0.5"}})
            self.pipelines.append({"id": pipeline_id, "label": f"Region {n + 1}",
                                   "displayOrder": 10 + n, "archived": False,
                                   "stages": stage_list})
        return ids

    def archive(self, obj: str, record_id: str) -> None:
        record = getattr(self, obj).pop(record_id)
        record.update(archived=True, archivedAt=self.tick())
        self.archived[obj][record_id] = record


def _rows(folder: Path, stem: str) -> list[dict]:
    rows = []
    for path in sorted(folder.glob(f"{stem}*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh))
    return rows


def _record(record_id: str, props: dict, modified: str) -> dict:
    return {"id": record_id, "properties": props, "createdAt": props.get("createdate"),
            "updatedAt": modified, "archived": False}


SEARCH_CAP = 10_000  # results one search query can page through
SEARCH_BODY_CAP = 3_000  # characters of a search request body
BATCH_CAP = 100  # inputs of a batch read
HISTORY_BATCH_CAP = 50  # inputs of a batch read asking for property histories
RATE_MAX, RATE_INTERVAL_MS = 190, 10_000  # requests per window (Professional), its length
DAILY = 625_000  # requests a day (Professional)
RECENT_CAP = 10_000  # engagements recent/modified returns at most


def _error(status: int, message: str) -> dict:
    category = {400: "VALIDATION_ERROR", 401: "INVALID_AUTHENTICATION",
                429: "RATE_LIMITS"}.get(status, "ERROR")
    return {"status": "error", "message": message, "correlationId": "test-correlation",
            "category": category}


def _page(items: list, after: str | None, limit: int, link: str) -> tuple[list, dict]:
    start = int(after or 0)
    page = items[start:start + limit]
    paging = {}
    if start + limit < len(items):
        paging = {"paging": {"next": {"after": str(start + limit), "link": link}}}
    return page, paging


class HubSpotApi(MockApi):
    """`with HubSpotApi(data, token) as api:` ... `api.url` is the base URL to configure."""

    def __init__(self, data: HubSpotData, token: str, search_cap: int = SEARCH_CAP,
                 recent_cap: int = RECENT_CAP, rate_max: int = RATE_MAX,
                 rate_interval_ms: int = RATE_INTERVAL_MS,
                 history_cap: int = HISTORY_BATCH_CAP):
        super().__init__(
            check_auth=lambda req: req.headers.get("Authorization") == f"Bearer {token}",
            error_body=_error)
        self.data = data
        # tests lower the caps to go past them with a small company
        self.search_cap, self.recent_cap = search_cap, recent_cap
        self.history_cap = history_cap
        # called with each search page served (a test's change between two pages)
        self.after_search_page: Callable[[str, list[dict]], None] | None = None
        self.after_engagements_page: Callable[[list[dict]], None] | None = None
        self.unindexed: set[str] = set()  # record ids search does not show yet
        self.rate_max, self.rate_interval_ms = rate_max, rate_interval_ms
        self._window = {"start": 0.0, "used": 0, "daily": 0}
        self.route("GET", r"/account-info/v3/details", self._account)
        self.route("GET", r"/crm/v3/properties/(contacts|deals)", self._properties)
        self.route("GET", r"/crm/v3/pipelines/deals", lambda r: Reply(body={
            "results": self.data.pipelines}))
        self.route("GET", r"/crm/v3/owners/?", self._owners)
        self.route("POST", r"/crm/v3/objects/(contacts|deals)/search", self._search)
        self.route("GET", r"/crm/v3/objects/(contacts|deals)", self._list)
        self.route("POST", r"/crm/v3/objects/(deals)/batch/read", self._batch_read)
        self.route("GET", r"/crm/v4/objects/deals/(\d+)/associations/contacts", self._links)
        self.route("GET", r"/engagements/v1/engagements/recent/modified", self._engagements)

    def _answer(self, req: Request) -> tuple[Reply, str]:
        """The 10-second window of every request but searches: counted, its headers sent, and
        a 429 once it is used up."""
        if req.path.endswith("/search"):
            return super()._answer(req)
        with self._lock:
            now, window = time.monotonic(), self._window
            if now - window["start"] >= self.rate_interval_ms / 1000:
                window.update(start=now, used=0)
            over = window["used"] >= self.rate_max
            if not over:
                window["used"] += 1
                window["daily"] += 1
            headers = {"X-HubSpot-RateLimit-Daily": str(DAILY),
                       "X-HubSpot-RateLimit-Daily-Remaining": str(DAILY - window["daily"]),
                       "X-HubSpot-RateLimit-Interval-Milliseconds": str(self.rate_interval_ms),
                       "X-HubSpot-RateLimit-Max": str(self.rate_max),
                       "X-HubSpot-RateLimit-Remaining": str(self.rate_max - window["used"]),
                       "X-HubSpot-RateLimit-Secondly": str(self.rate_max // 10),
                       "X-HubSpot-RateLimit-Secondly-Remaining": str(
                           max(0, self.rate_max // 10 - window["used"]))}
        if over:
            body = {**_error(429, "You have reached your ten_secondly_rolling limit."),
                    "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}
            return Reply(429, body, headers), "rate_limit"
        reply, fault = super()._answer(req)
        reply.headers = {**headers, **reply.headers}
        return reply, fault

    def _account(self, req: Request) -> Reply:
        offset = dt.datetime.now(self.data.tz).utcoffset()
        return Reply(body={"portalId": 62515, "timeZone": self.data.tz_name,
                           "companyCurrency": "USD", "additionalCurrencies": ["EUR"],
                           "utcOffset": str(offset),
                           "utcOffsetMilliseconds": int(offset.total_seconds() * 1000),
                           "uiDomain": "app.hubspot.com", "dataHostingLocation": "na1"})

    def _properties(self, req: Request) -> Reply:
        obj = req.match.group(1)
        results = [{"name": prop, "label": prop, "type": "enumeration", "fieldType": "select",
                    "options": [{"label": label, "value": value, "displayOrder": i,
                                 "hidden": False}
                                for i, (value, label) in enumerate(sorted(values.items()))]}
                   for prop, values in self.data.options[obj].items()]
        return Reply(body={"results": results})

    def _owners(self, req: Request) -> Reply:
        page, paging = _page(self.data.owners, req.arg("after"), int(req.arg("limit", "100")),
                             "/crm/v3/owners")
        return Reply(body={"results": page, **paging})

    def _search(self, req: Request) -> Reply:
        obj = req.match.group(1)
        if len(req.body) > SEARCH_BODY_CAP:
            return Reply(400, _error(400, f"The request body has {len(req.body)} characters; "
                                          f"search requests are limited to {SEARCH_BODY_CAP}"))
        body = req.json or {}
        records = [r for r in getattr(self.data, obj).values() if r["id"] not in self.unindexed]
        for group in body.get("filterGroups", [])[:1]:
            for f in group.get("filters", []):
                records = [r for r in records if _matches(r, f)]
        for sort in reversed(body.get("sorts", [])):
            name = sort["propertyName"] if isinstance(sort, dict) else sort
            records.sort(key=lambda r, n=name: (r["properties"].get(n) or "", int(r["id"])),
                         reverse=isinstance(sort, dict) and sort.get("direction") == "DESCENDING")
        limit = min(int(body.get("limit", 10)), 200)
        after = int(body.get("after") or 0)
        if after >= self.search_cap:
            return Reply(400, _error(400, f"paging past {self.search_cap} results of a search "
                                          "is not supported"))
        page = records[after:min(after + limit, self.search_cap)]
        paging = ({"paging": {"next": {"after": str(after + len(page))}}}
                  if after + len(page) < len(records) else {})
        wanted = set(body.get("properties") or []) | {"hs_object_id", "createdate",
                                                      "lastmodifieddate", "hs_lastmodifieddate"}
        results = [{**r, "properties": {k: v for k, v in r["properties"].items() if k in wanted}}
                   for r in page]
        if self.after_search_page:
            self.after_search_page(obj, page)
        return Reply(body={"total": len(records), "results": results, **paging})

    def _batch_read(self, req: Request) -> Reply:
        body = req.json or {}
        inputs = body.get("inputs") or []
        if len(inputs) > BATCH_CAP:
            return Reply(400, _error(400, f"a batch reads at most {BATCH_CAP} inputs"))
        with_history = body.get("propertiesWithHistory") or []
        if with_history and len(inputs) > self.history_cap:
            return Reply(400, _error(400, "The maximum number of inputs supported in a batch "
                                          f"request for property histories is "
                                          f"{self.history_cap}. Please reduce the number of "
                                          "items and try again"))
        wanted = set(body.get("properties") or []) | {"hs_object_id", "createdate",
                                                      "hs_lastmodifieddate"}
        records = [self.data.deals[i["id"]] for i in inputs if i["id"] in self.data.deals]
        results = [{**r, "properties": {k: v for k, v in r["properties"].items() if k in wanted}}
                   for r in records]
        if with_history:
            for result in results:
                kept = self.data.history.get(result["id"], {})
                result["propertiesWithHistory"] = {  # newest first; unset ones left out
                    p: list(reversed(kept[p])) for p in with_history if kept.get(p)}
        return Reply(body={"status": "COMPLETE", "results": results,
                           "startedAt": "2026-01-01T00:00:00.000Z",
                           "completedAt": "2026-01-01T00:00:00.100Z"})

    def _list(self, req: Request) -> Reply:
        obj = req.match.group(1)
        source = self.data.archived[obj] if req.arg("archived") == "true" else getattr(
            self.data, obj)
        records = sorted(source.values(), key=lambda r: int(r["id"]))
        page, paging = _page(records, req.arg("after"), int(req.arg("limit", "10")), req.path)
        return Reply(body={"results": page, **paging})

    def _links(self, req: Request) -> Reply:
        contacts = self.data.links.get(req.match.group(1), [])
        return Reply(body={"results": [
            {"toObjectId": int(c), "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}]}
            for c in contacts]})

    def _engagements(self, req: Request) -> Reply:
        since = int(req.arg("since", "0") or 0)
        count = min(int(req.arg("count", "20")), 100)
        offset = int(req.arg("offset", "0") or 0)
        items = sorted((e for e in self.data.engagements
                        if e["engagement"]["lastUpdated"] >= since),
                       key=lambda e: (e["engagement"]["lastUpdated"], e["engagement"]["id"]),
                       reverse=True)[:self.recent_cap]
        page = items[offset:offset + count]
        body = {"results": json.loads(json.dumps(page)), "hasMore": offset + count < len(items),
                "offset": offset + len(page), "total": len(items)}
        if self.after_engagements_page:  # after the page is answered, as it is
            self.after_engagements_page(page)
        return Reply(body=body)


def _matches(record: dict, f: dict) -> bool:
    value = record["properties"].get(f["propertyName"])
    if f.get("operator") != "GTE":
        raise ValueError(f"operator {f.get('operator')} not supported by the mock")
    if value is None:
        return False
    return _instant(value) >= _instant(str(f["value"]))


def _instant(value: str) -> dt.datetime:
    """An ISO instant in any precision, or epoch milliseconds (HubSpot takes both)."""
    if value.isdigit():
        return dt.datetime.fromtimestamp(int(value) / 1000, dt.UTC)
    return dt.datetime.fromisoformat(value)

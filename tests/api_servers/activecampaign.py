"""A local ActiveCampaign v3 API serving the generator's ActiveCampaign company.

Shapes follow ActiveCampaign's API reference (https://developers.activecampaign.com/reference):
- authentication: the `Api-Token` header
  (https://developers.activecampaign.com/reference/authentication); without a valid one the
  API answers 403 `{"message": "No Result found..."}`-style errors, 401 here;
- pagination: `limit` (default 20, max 100) and `offset`, the total in `meta.total` as a
  string (https://developers.activecampaign.com/reference/pagination), which says responses
  "can" carry that metadata: `send_meta = False` leaves it out, as several list responses saved
  in docs/export-formats.md do;
- update dates: `udate` (contacts) and `mdate` (deals) can be null on a record never changed
  since it was created (ActiveCampaign's reference does not say; other taps fall back to
  `cdate` for it, e.g. Airbyte's and Singer's ActiveCampaign sources): `ActiveCampaignData.
  add_deal` creates such a deal. The reference does not say how `filters[updated_after]`
  treats them either; this server compares their `cdate`;
- rate limit: 5 requests per second per account, 429 beyond
  (https://developers.activecampaign.com/reference/rate-limits): `rate_limit` requests in
  any second answered, later ones 429 with `Retry-After: 1` (None: no limit, for tests that
  switch the connector's spacing off to go fast);
- lists: `GET /api/3/contacts` and `/deals` with `filters[updated_after]`, contacts also
  with `id_greater` (in id order, as `orders[id]=ASC` asks; the pagination page's
  "Performance Tip for Pagination and Contacts")
  (https://developers.activecampaign.com/reference/list-all-contacts,
  .../reference/list-all-deals), `GET /contacts/{id}/fieldValues`
  (.../reference/retrieve-contact-field-values), `GET /activities?contact=`
  (.../reference/list-all-activities), `GET /deals/{id}/dealActivities`
  (.../reference/retrieve-deal-activities), `GET /dealGroups`, `/dealStages`, `/users`,
  `/groups`, `/fields`.

Data: the generator writes these very responses as the export files
(docs/export-formats.md); this server loads them and answers the API's requests from them, so
an API sync and the export describe the same company.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .common import MockApi, Reply, Request

LISTS = {"fields": "fields", "dealGroups": "dealGroups", "dealStages": "dealStages",
         "users": "users", "groups": "groups"}


def _load(folder: Path, stem: str, key: str) -> list[dict]:
    rows = []
    for path in sorted(folder.glob(f"{stem}*.json")):
        rows += json.loads(path.read_text()).get(key, [])
    return rows


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


class ActiveCampaignData:
    """The account's records, loaded from one generated `activecampaign/` export folder."""

    def __init__(self, folder: Path):
        self.contacts = {c["id"]: c for c in _load(folder, "contacts", "contacts")}
        self.field_values = _load(folder, "contacts", "fieldValues")
        self.deals = {d["id"]: d for d in _load(folder, "deals", "deals")}
        self.deal_activities = _load(folder, "dealActivities", "dealActivities")
        self.activities = _load(folder, "activities", "activities")
        self.lists = {name: _load(folder, name, name) for name in LISTS}
        stamps = [c["udate"] or c["cdate"] for c in self.contacts.values()] + [
            d["mdate"] or d["cdate"] for d in self.deals.values()]
        self._clock = max(stamps, key=_instant)

    def tick(self) -> str:
        """A new 'now', a minute after every stored change, in the account's offset."""
        t = _instant(self._clock) + dt.timedelta(minutes=1)
        self._clock = t.isoformat()
        return self._clock

    def update_deal(self, deal_id: str, **fields) -> None:
        self.deals[deal_id].update(fields, mdate=self.tick())

    def update_contact(self, contact_id: str, **fields) -> None:
        self.contacts[contact_id].update(fields, udate=self.tick())

    def add_deal(self, **fields) -> str:
        """A new deal as the API shows it before its first change: `mdate` null."""
        template = self.deals[min(self.deals, key=int)]
        deal_id = str(max(int(i) for i in self.deals) + 1)
        self.deals[deal_id] = {**template, **fields, "id": deal_id, "cdate": self.tick(),
                               "mdate": None}
        return deal_id


def _error(status: int, message: str) -> dict:
    return {"message": message}


class ActiveCampaignApi(MockApi):
    """`with ActiveCampaignApi(data, token) as api:` ... configure `api.url` as the account
    URL (the connector appends /api/3)."""

    def __init__(self, data: ActiveCampaignData, token: str, rate_limit: int | None = 5):
        super().__init__(check_auth=lambda req: req.headers.get("Api-Token") == token,
                         error_body=_error)
        self.data = data
        self.rate_limit = rate_limit
        self._answered: collections.deque[float] = collections.deque()  # the last second's
        self._rate_lock = threading.Lock()
        # called with each list page served, and its key (a test's change between two pages)
        self.after_page: Callable[[str, list[dict]], None] | None = None
        self.ignore_orders = False
        self.send_meta = True  # False: list answers without `meta` (see the docstring)
        for name in LISTS:
            self.route("GET", rf"/api/3/{name}", lambda req, n=name: self._page(
                req, n, self.data.lists[n]))
        self.route("GET", r"/api/3/contacts", self._contacts)
        self.route("GET", r"/api/3/deals", lambda req: self._page(
            req, "deals", self._updated(req, self.data.deals.values(), "mdate")))
        self.route("GET", r"/api/3/contacts/(\d+)/fieldValues", lambda req: self._page(
            req, "fieldValues", [v for v in self.data.field_values
                                 if v["contact"] == req.match.group(1)]))
        self.route("GET", r"/api/3/deals/(\d+)/dealActivities", lambda req: self._page(
            req, "dealActivities", [a for a in self.data.deal_activities
                                    if a["d_id"] == req.match.group(1)]))
        self.route("GET", r"/api/3/activities", lambda req: self._page(
            req, "activities", [a for a in self.data.activities
                                if a["contact"] == req.arg("contact")]))

    def _answer(self, req: Request) -> tuple[Reply, str]:
        if self.rate_limit is not None and self._over_rate():
            return Reply(429, _error(429, "Too Many Requests"), {"Retry-After": "1"}), ""
        return super()._answer(req)

    def _over_rate(self) -> bool:
        """Arrivals of the last second, this one included, beyond `rate_limit` (a 429 counts:
        a client that keeps asking stays limited)."""
        now = time.monotonic()
        with self._rate_lock:
            while self._answered and self._answered[0] <= now - 1.0:
                self._answered.popleft()
            self._answered.append(now)
            return len(self._answered) > self.rate_limit

    def _contacts(self, req: Request) -> Reply:
        records = self._updated(req, self.data.contacts.values(), "udate")
        if self.ignore_orders:  # an account where `orders[id]` would not be honoured
            records.sort(key=lambda r: _instant(r["udate"] or r["cdate"]), reverse=True)
        if req.arg("id_greater"):
            records = [r for r in records if int(r["id"]) > int(req.arg("id_greater"))]
        return self._page(req, "contacts", records)

    @staticmethod
    def _updated(req: Request, records, field: str) -> list[dict]:
        after = req.arg("filters[updated_after]")
        records = list(records)
        if after:
            since = _instant(after)
            records = [r for r in records if _instant(r[field] or r["cdate"]) >= since]
        return sorted(records, key=lambda r: int(r["id"]))

    def _page(self, req: Request, key: str, records: list[dict]) -> Reply:
        limit = min(int(req.arg("limit", "20")), 100)
        offset = int(req.arg("offset", "0"))
        page = records[offset:offset + limit]
        body = {key: json.loads(json.dumps(page))}
        if self.send_meta:
            body["meta"] = {"total": str(len(records))}
        if self.after_page:  # after the page is answered, as it is
            self.after_page(key, page)
        return Reply(body=body)

"""A local Pipedrive API serving the generator's Pipedrive company (`salespipe generate
--format pipedrive`: the API records of the generic slice's company).

Shapes follow Pipedrive's API reference (https://developers.pipedrive.com/docs/api/v1):
- authentication: the API token in the `x-api-token` header or `api_token` query parameter
  (https://pipedrive.readme.io/docs/core-api-concepts-authentication); otherwise 401
  `{"success": false, "error": "unauthorized access", "errorCode": 401, ...}`;
- v2 lists (`GET /api/v2/deals`, `/persons`, `/activities`, `/pipelines`, `/stages`): cursor
  pagination, `limit` (default 100, max 500) and `cursor`, the next one in
  `additional_data.next_cursor`, null on the last page
  (https://pipedrive.readme.io/docs/core-api-concepts-pagination); the cursor is "the marker
  (an opaque string value) representing the first item on the next page" (the v2 `getDeals`
  reference), here that item's sort key; `updated_since` (RFC 3339,
  records with `update_time` >= it), `sort_by` id / update_time / add_time, `sort_direction`;
  deals: deleted ones only with `status=deleted`
  (https://developers.pipedrive.com/docs/api/v1/Deals#getDeals v2); archived deals never in
  `/api/v2/deals`, only in `GET /api/v2/deals/archived`, which takes the same parameters
  (https://developers.pipedrive.com/changelog/post/breaking-change-archived-deals-and-leads-
  will-not-be-returned-in-existing-endpoints-and-will-not-be-editable, effective 15 July 2025);
  archiving a deal sets `is_archived`, `archive_time` and, as any change of a deal does here,
  `update_time` (the changelog does not say whether archiving moves `update_time`: if it did
  not, no `updated_since` sync could see an archiving at all);
- `GET /v1/deals/{id}/flow`: the deal's updates, newest first, `{object, timestamp, data}`
  items (dealChange, activity, ...), offset pagination `start`/`limit` with
  `additional_data.pagination.{more_items_in_collection, next_start}`
  (https://developers.pipedrive.com/docs/api/v1/Deals#getDealUpdates); a dealChange's
  `field_key` is the key of the deal field that changed (stage_id, status, user_id, value,
  expected_close_date: the deal's field keys, Deals#updateDeal), old and new value as text
  (github.com/pipedrive/client-nodejs docs/ChangelogResponseAllOfData.md, "The value of the
  field before the change");
- `GET /v1/users` (https://developers.pipedrive.com/docs/api/v1/Users#getUsers);
- rate limiting: every answer carries `x-ratelimit-limit`, `x-ratelimit-remaining` and
  `x-ratelimit-reset`; beyond the limit a 429 with `Retry-After`
  (https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting);
- the daily token budget (same page, "Token-Based Rate Limiting"): each request costs tokens
  from the company's daily budget (30,000 x plan multiplier x seats); once it is used up,
  requests are refused until it resets at the start of the next day. The page's cost table
  was not in the stored copy searched here: `LIST_COST` is the figure a third-party summary
  gives for a list GET (rate-limits.apis.io/rate-limits/pipedrive, 20 tokens; Pipedrive's
  "Guide for optimizing API usage" says v2 endpoints cost less, without a figure found), and
  the refusal is a 429 with `Retry-After` until the reset (the page says requests are
  "temporarily blocked"; its exact answer was not found). `daily_budget=None`: no budget.

Data: the generator's `pipedrive/` records, loaded once; tests change them through
`PipedriveData` (a stage change, a win, a deletion) to drive incremental syncs.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

from .common import MockApi, Reply, Request

V2_LISTS = ("deals", "persons", "activities", "pipelines", "stages")
RATE_LIMIT = 80  # requests per window (the mock's default; a test can lower it)
RESET_SECONDS = 2  # x-ratelimit-reset: seconds until the window resets
LIST_COST = 20  # tokens a list request costs (see the docstring)


def _load(folder: Path, stem: str) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(folder.glob(f"{stem}*.json")):
        rows += json.loads(path.read_text())
    return rows


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _v2_time(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _v1_time(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


class PipedriveData:
    """The company's records, loaded from one generated `pipedrive/` folder."""

    def __init__(self, folder: Path):
        self.lists = {name: {r["id"]: r for r in _load(folder, name)} for name in V2_LISTS}
        self.users = _load(folder, "users")
        self.flow: dict[int, list[dict]] = {}
        for item in _load(folder, "dealFlow"):
            self.flow.setdefault(item["data"]["item_id"], []).append(item)
        for act in self.lists["activities"].values():  # the flow lists activities too
            if act.get("deal_id"):
                self.flow.setdefault(act["deal_id"], []).append({
                    "object": "activity", "timestamp": act["add_time"].replace("T", " ")[:19],
                    "data": dict(act)})
        self._clock = max(_instant(d["update_time"]) for d in self.lists["deals"].values())
        self._change_id = max((i["data"]["id"] for f in self.flow.values() for i in f
                               if i["object"] == "dealChange"), default=0)

    @property
    def deals(self) -> dict[int, dict]:
        return self.lists["deals"]

    def tick(self) -> dt.datetime:
        """A new 'now', a minute after every stored change."""
        self._clock += dt.timedelta(minutes=1)
        return self._clock

    def _log(self, deal: dict, field: str, old, new, when: dt.datetime) -> None:
        self._change_id += 1
        self.flow.setdefault(deal["id"], []).append({
            "object": "dealChange", "timestamp": _v1_time(when), "data": {
                "id": self._change_id, "item_id": deal["id"], "user_id": deal["owner_id"],
                "field_key": field, "old_value": None if old is None else str(old),
                "new_value": None if new is None else str(new), "is_bulk_update_flag": None,
                "log_time": _v1_time(when), "change_source": "api"}})

    def move_deal(self, deal_id: int, stage_id: int) -> None:
        deal, when = self.deals[deal_id], self.tick()
        self._log(deal, "stage_id", deal["stage_id"], stage_id, when)
        deal.update(stage_id=stage_id, update_time=_v2_time(when),
                    stage_change_time=_v2_time(when))

    def win_deal(self, deal_id: int) -> None:
        deal, when = self.deals[deal_id], self.tick()
        self._log(deal, "status", deal["status"], "won", when)
        deal.update(status="won", update_time=_v2_time(when), close_time=_v2_time(when),
                    won_time=_v2_time(when), probability=None)

    def change_deal(self, deal_id: int, **values) -> None:
        """Change a deal's `value` and/or `expected_close_date` ("YYYY-MM-DD"), one logged
        change per field, as an edit in Pipedrive does."""
        deal, when = self.deals[deal_id], self.tick()
        for field, new in values.items():
            self._log(deal, field, deal.get(field), new, when)
            deal[field] = new
        deal["update_time"] = _v2_time(when)

    def delete_deal(self, deal_id: int) -> None:
        self.deals[deal_id].update(is_deleted=True, update_time=_v2_time(self.tick()))

    def archive_deal(self, deal_id: int) -> None:
        when = _v2_time(self.tick())
        self.deals[deal_id].update(is_archived=True, archive_time=when, update_time=when)


def _error(status: int, message: str) -> dict:
    errors = {401: "unauthorized access", 404: "Not found", 429: "Rate limit exceeded"}
    return {"success": False, "error": errors.get(status, message), "errorCode": status,
            "error_info": "Please check developers.pipedrive.com for more information about "
                          "Pipedrive API."}


def _authorised(req: Request, token: str) -> bool:
    sent = {k.lower(): v for k, v in req.headers.items()}.get("x-api-token")
    return (sent or req.arg("api_token")) == token


def _cursor(marker: list) -> str:
    """An opaque marker of the first item on the next page: its sort key, not its position, so
    a record that moves in the order meanwhile shifts nothing."""
    return base64.urlsafe_b64encode(json.dumps({"from": marker}).encode()).decode()


def _marker(cursor: str | None) -> list | None:
    return json.loads(base64.urlsafe_b64decode(cursor.encode()))["from"] if cursor else None


class PipedriveApi(MockApi):
    """`with PipedriveApi(data, token) as api:` ... configure `api.url` as the company URL."""

    def __init__(self, data: PipedriveData, token: str, rate_limit: int = RATE_LIMIT,
                 reset_seconds: int = RESET_SECONDS, daily_budget: int | None = None,
                 budget_reset_seconds: int = 6 * 3600):
        super().__init__(check_auth=lambda req: _authorised(req, token), error_body=_error)
        self.data = data
        self.rate_limit, self.reset_seconds = rate_limit, reset_seconds
        self.used = 0  # requests in the current window
        self.daily_budget, self.budget_reset_seconds = daily_budget, budget_reset_seconds
        self.tokens_used = 0  # of the daily budget
        # called with each v2 list page served, and the list's name (a test's change between
        # two pages)
        self.after_page: Callable[[str, list[dict]], None] | None = None
        self.window_ends = 0.0  # when a used-up window resets (monotonic seconds)
        for name in V2_LISTS:
            self.route("GET", rf"/api/v2/{name}", self._limited(
                lambda req, n=name: self._list(req, n)))
        self.route("GET", r"/api/v2/deals/archived", self._limited(
            lambda req: self._list(req, "deals", archived=True)))
        self.route("GET", r"/v1/deals/(\d+)/flow", self._limited(self._flow))
        self.route("GET", r"/v1/users", self._limited(
            lambda req: {"success": True, "data": self.data.users}))

    def _limited(self, handler):
        """The rate limit: each answer says what is left of the window; a request sent
        before a used-up window resets gets 429 with Retry-After."""

        def serve(req: Request) -> Reply:
            now = time.monotonic()
            with self._lock:
                if self.daily_budget is not None and \
                        self.tokens_used + LIST_COST > self.daily_budget:
                    return Reply(429, _error(429, ""),
                                 {"Retry-After": str(self.budget_reset_seconds)})
                self.tokens_used += LIST_COST
                if self.used >= self.rate_limit:
                    if now < self.window_ends:
                        wait = max(1, round(self.window_ends - now))
                        return Reply(429, _error(429, ""), {"Retry-After": str(wait)})
                    self.used = 0
                self.used += 1
                remaining = self.rate_limit - self.used
                if remaining == 0:
                    self.window_ends = now + self.reset_seconds
            return Reply(body=handler(req), headers={
                "x-ratelimit-limit": str(self.rate_limit),
                "x-ratelimit-remaining": str(remaining),
                "x-ratelimit-reset": str(self.reset_seconds)})

        return serve

    def _list(self, req: Request, name: str, archived: bool = False) -> dict:
        records = list(self.data.lists[name].values())
        if name == "deals":
            records = [r for r in records if bool(r.get("is_archived")) == archived]
            deleted = req.arg("status") == "deleted"
            records = [r for r in records if bool(r.get("is_deleted")) == deleted]
            if req.arg("status") in ("open", "won", "lost"):
                records = [r for r in records if r["status"] == req.arg("status")]
        since = req.arg("updated_since")
        if since:
            records = [r for r in records if _instant(r["update_time"]) >= _instant(since)]
        key = req.arg("sort_by", "id")

        def sort_key(r: dict) -> list:
            return [r.get(key) or "", r["id"]] if key != "id" else [r["id"]]

        desc = req.arg("sort_direction") == "desc"
        records.sort(key=sort_key, reverse=desc)
        marker = _marker(req.arg("cursor"))
        if marker is not None:
            records = [r for r in records
                       if (sort_key(r) <= marker if desc else sort_key(r) >= marker)]
        limit = min(int(req.arg("limit", "100")), 500)
        page, rest = records[:limit], records[limit:]
        body = {"success": True, "data": json.loads(json.dumps(page)), "additional_data": {
            "next_cursor": _cursor(sort_key(rest[0])) if rest else None}}
        if self.after_page:  # after the page is answered, as it is
            self.after_page(name, page)
        return body

    def _flow(self, req: Request) -> dict:
        items = sorted(self.data.flow.get(int(req.match.group(1)), []),
                       key=lambda i: (i["timestamp"], i["data"]["id"]), reverse=True)
        start, limit = int(req.arg("start", "0")), min(int(req.arg("limit", "100")), 500)
        more = start + limit < len(items)
        pagination = {"start": start, "limit": limit, "more_items_in_collection": more}
        if more:
            pagination["next_start"] = start + limit
        return {"success": True, "data": items[start:start + limit],
                "additional_data": {"pagination": pagination}}

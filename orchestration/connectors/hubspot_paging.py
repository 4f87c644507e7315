"""Paging HubSpot endpoints whose answers are capped, without losing records unnoticed.

- CRM search: `after` is a position in the sorted result, not a bookmark, and a page at
  `after` >= 10,000 is a 400 (developers.hubspot.com, CRM search, "Limitations"). Sorted by
  modified date, a record that changes while a sync pages through moves to the end, every later
  record moves one place up, and the one that crosses into the page already read would never be
  seen (the cursor then passes its date). So every page starts the search again from the last
  modified date it reached (`SearchWindows`): the changed record comes again at the end, none
  is skipped, and no query goes near the cap, however many records changed. Only records
  stamped with one same instant are paged through with `after`. Search requests also have
  their own rate limit, 4 a second per token (HubSpot's developer changelog, "CRM Search API
  Rate Limit Increase"): they are spaced to that ahead of time, right before each goes out
  (`space_searches`, in the session), since every 429 costs a wait and a request of the quota.
- Recent engagements (`/engagements/v1/engagements/recent/modified`): "will only return
  records updated in the last 30 days, or the 10k most recently updated records" (its API
  reference page). Past the 10k the older changes are simply not in the answer, so
  `RecentEngagements` stops the sync rather than move the cursor past them. It pages by
  offset, so it also steps back when engagements were deleted between two pages.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from orchestration.connectors.errors import ConnectorError
from orchestration.connectors.hubspot import CATCH_UP

SEARCH_CAP = 10_000  # results one search query reaches
SEARCH_PER_SECOND = 4  # search requests per second, all objects together
RECENT_CAP = 10_000  # engagements the recent endpoint returns at most


_spacing = {"lock": threading.Lock(), "next": 0.0}


def space_searches(request) -> None:
    """Wait until the next search request may go (shared by every search of the process);
    other requests go at once. Runs right before each attempt is sent (rest.py)."""
    if not _is_search(request.url):
        return
    with _spacing["lock"]:
        wait = _spacing["next"] - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        _spacing["next"] = time.monotonic() + 1.0 / SEARCH_PER_SECOND


def searched(response) -> None:
    """After a search's answer: the next one waits a full interval from now, so a request
    that left late (a busy machine) does not bring the next one closer to it."""
    if response.request is not None and _is_search(response.request.url):
        with _spacing["lock"]:
            _spacing["next"] = max(_spacing["next"],
                                   time.monotonic() + 1.0 / SEARCH_PER_SECOND)


def _is_search(url: str) -> bool:
    return url.split("?")[0].endswith("/search")


class SearchWindows(JSONResponseCursorPaginator):
    """Pages a search sorted by its modified date: each next page asks again with the filter
    moved to the last modified date reached. The filter is GTE, so the records of that instant
    come again (`NewAtBoundary` drops them). A page whose records all have the date the query
    started from moves on with `after`, up to SEARCH_CAP."""

    def __init__(self, name: str, modified: str):
        super().__init__(cursor_path="paging.next.after", cursor_body_path="after")
        self.name, self.modified = name, modified
        self._start: str | None = None  # the current query's filter value
        self._restart: str | None = None

    def init_request(self, request) -> None:
        self._start = _filter(request.json)["value"]

    def update_state(self, response, data=None) -> None:
        super().update_state(response, data)
        if self._next_reference is None:  # the last page
            return
        last = ((data or [{}])[-1].get("properties") or {}).get(self.modified)
        if last is not None and last != self._start:
            self._restart = last
            return
        if int(self._next_reference) >= SEARCH_CAP:
            raise ConnectorError(
                f"HubSpot search of {self.name}: more than {SEARCH_CAP} records have "
                f"{self.modified} = {self._start}, and a search reaches {SEARCH_CAP} results, "
                "so the sync stopped there rather than skip some (nothing of this run was "
                f"stored). Load HubSpot's UI export of {self.name} (the hubspot/ folder) to "
                "bring them in; the API sync gets past that instant once they change again.")

    def update_request(self, request) -> None:
        if self._restart is None:
            super().update_request(request)
            return
        _filter(request.json)["value"] = self._start = self._restart
        request.json.pop("after", None)
        self._restart = None


class NewAtBoundary:
    """A filter step for a `SearchWindows` search: drops the records a restarted query gives
    again (same id, same modified date as already received), so a deal's associations are not
    asked twice. A record changed during the sync comes again with a later date, and is kept.
    Only the ids of the newest date received are remembered."""

    def __init__(self, modified: str):
        self.modified = modified
        self._date: str | None = None
        self._ids: set[str] = set()

    def __call__(self, record: dict) -> bool:
        date = (record.get("properties") or {}).get(self.modified)
        if date != self._date:
            if self._date is not None and date is not None and date < self._date:
                return True  # an older date cannot repeat the newest one
            self._date, self._ids = date, set()
        if record["id"] in self._ids:
            return False
        self._ids.add(record["id"])
        return True


def _filter(body: dict) -> dict:
    return body["filterGroups"][0]["filters"][0]


class RecentEngagements(JSONResponseCursorPaginator):
    """Pages `recent/modified` by `offset` while `hasMore`. A first sync (`since` 0) takes
    what the endpoint has, as documented (the exports bring older history); a later one stops
    when it got the endpoint's ceiling of records, since changes made after its cursor may then
    be missing. Its other limit, 30 days, is the connector's `SyncWindow` (hubspot.py): a sync
    that late after the last stored one does not start.

    Newest first, an engagement changed during the sync moves to the top and only pushes the
    others down (one comes twice); one deleted above the offset pulls them up, and the one
    crossing into the pages already read would be skipped. So when `total` dropped by k since
    the previous page, the next request starts k before the page just read."""

    def __init__(self):
        super().__init__(cursor_path="offset", cursor_param="offset", has_more_path="hasMore")
        self._since = 0
        self._reached = 0  # how far into the list the pages went
        self._offset = 0  # the offset of the page being read
        self._total: int | None = None

    def init_request(self, request) -> None:
        self._since = int((request.params or {}).get("since") or 0)
        self._offset, self._total = 0, None

    def update_state(self, response, data=None) -> None:
        super().update_state(response, data)
        self._reached = max(self._reached, self._offset + len(data or []))
        if self._since and self._reached >= RECENT_CAP:
            raise ConnectorError(_gap(self._since, f"HubSpot returned its ceiling of "
                                                   f"{RECENT_CAP} engagements changed since, "
                                                   "so older changes may be missing"))
        total = response.json().get("total")
        if self._total is not None and total is not None and total < self._total \
                and self._next_reference is not None:
            self._next_reference = str(max(0, self._offset - (self._total - total)))
        self._total = total

    def update_request(self, request) -> None:
        self._offset = int(self._next_reference)
        super().update_request(request)


def _gap(since_ms: int, why: str) -> str:
    since = dt.datetime.fromtimestamp(since_ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"HubSpot engagements: {why} (engagements changed since {since}). The sync stopped "
            f"without storing anything rather than skip them. {CATCH_UP} "
            "An account with more engagement changes than that between two syncs needs them "
            "from the exports (see the README, HubSpot).")

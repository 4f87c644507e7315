"""Paging a HubSpot CRM search past the 10,000 results one query reaches.

HubSpot's search answers a page at `after` >= 10,000 with a 400 (developers.hubspot.com,
CRM search, "Limitations"). A nightly sync of a large account can see more changes than that,
and a first sync sees every record, so a query that stopped there would fail every night.
The search is sorted by its modified date, so past the cap it can start again from the last
date it reached.
"""

from __future__ import annotations

from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from orchestration.connectors.base import ConnectorError

SEARCH_CAP = 10_000  # results one search query reaches


class SearchWindows(JSONResponseCursorPaginator):
    """Pages a search sorted by its modified date through `after`; where the next page would be
    past SEARCH_CAP, asks again with the filter moved to the last modified date reached. The
    filter is GTE, so the records of that instant come again; the merge on id keeps one."""

    def __init__(self, name: str, modified: str):
        super().__init__(cursor_path="paging.next.after", cursor_body_path="after")
        self.name, self.modified = name, modified
        self._start: str | None = None  # the current query's filter value
        self._restart: str | None = None

    def init_request(self, request) -> None:
        self._start = _filter(request.json)["value"]

    def update_state(self, response, data=None) -> None:
        super().update_state(response, data)
        if self._next_reference is None or int(self._next_reference) < SEARCH_CAP:
            return
        last = ((data or [{}])[-1].get("properties") or {}).get(self.modified)
        if last is None or last == self._start:
            raise ConnectorError(
                f"HubSpot search of {self.name}: more than {SEARCH_CAP} records have "
                f"{self.modified} = {self._start}, and a search reaches {SEARCH_CAP} results, "
                "so the sync stopped there rather than skip some (nothing of this run was "
                f"stored). Load HubSpot's UI export of {self.name} (the hubspot/ folder) to "
                "bring them in; the API sync gets past that instant once they change again.")
        self._restart = last

    def update_request(self, request) -> None:
        if self._restart is None:
            super().update_request(request)
            return
        _filter(request.json)["value"] = self._start = self._restart
        request.json.pop("after", None)
        self._restart = None


def _filter(body: dict) -> dict:
    return body["filterGroups"][0]["filters"][0]

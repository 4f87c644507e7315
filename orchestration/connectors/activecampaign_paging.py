"""Paging ActiveCampaign's lists without skipping records that something else deletes meanwhile.

Lists page with `limit` and `offset` (developers.activecampaign.com/reference/pagination). An
offset counts records as they are at the moment of each request, so a contact deleted (or no
longer matching `filters[updated_after]`) while a sync pages past it moves every later contact
one place forward, and the one that crosses the page boundary is never seen. Offsets also get
slow deep into a large account, which is why the same page's "Performance Tip for Pagination
and Contacts" points `GET /contacts` to `orders[id]=ASC` with `id_greater` instead. So contacts
are asked in id order, each page for the ids after the last one received: a deletion can no
longer hide another contact, and each page costs the same.

That only works if the answer really is in id order; a page that is not (an account where the
order is not honoured) stops the sync, rather than skip contacts unnoticed.

The other lists (deals and the per-record lists) have no such filter and keep `offset`, but
each answer's `meta.total` shows when records went meanwhile: if it dropped by k since the
previous page, up to k records may have moved onto pages already read, so the next request
starts k records before the page just read (`OffsetStepsBack`). A few records come twice;
the merge on id keeps one.

`meta` is not always there: the pagination page says list responses "can" carry it, and
several saved list responses (docs/export-formats.md) have none. Without `meta.total` a list
ends with a page shorter than `limit`, and a deletion between two pages cannot be seen (the
next sync, which asks again from a cursor held to this one's start, brings a changed record
that was skipped; an unchanged one comes with a full re-sync).
"""

from __future__ import annotations

from dlt.sources.helpers.rest_client.paginators import BasePaginator, OffsetPaginator

from orchestration.connectors.errors import ConnectorResponseError


class ContactsById(BasePaginator):
    """`orders[id]=ASC`, `limit`, and from the second page on `id_greater=<last id>`; the list
    ends with a page shorter than `limit`."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit
        self._last: int | None = None

    def init_request(self, request) -> None:
        request.params = {**(request.params or {}), "orders[id]": "ASC", "limit": self.limit}
        request.params.pop("id_greater", None)
        self._last = None

    def update_state(self, response, data=None) -> None:
        ids = [int(record["id"]) for record in data or []]
        floor = self._last if self._last is not None else -1
        if any(b <= a for a, b in zip([floor, *ids], ids)):
            raise ConnectorResponseError(
                "ActiveCampaign API: GET /contacts did not answer in ascending id order "
                f"(orders[id]=ASC; ids after {self._last}: {ids[:5]}...), so paging it by id "
                "could skip contacts; the sync stopped and nothing of it was stored.")
        if ids:
            self._last = ids[-1]
        self._has_next_page = len(ids) >= self.limit

    def update_request(self, request) -> None:
        request.params["id_greater"] = self._last


class OffsetStepsBack(OffsetPaginator):
    """`offset`/`limit` paging that reads again from k records before the page just read when
    `meta.total` dropped by k since the previous page."""

    def __init__(self, limit: int):
        # no total_path: `meta.total` is read here, and may be missing
        super().__init__(limit=limit, offset_param="offset", limit_param="limit",
                         total_path=None)
        self._total: int | None = None

    def init_request(self, request) -> None:
        self._total = None
        super().init_request(request)

    def update_state(self, response, data=None) -> None:
        page_offset = self.current_value
        super().update_state(response, data)  # next offset; stops after an empty page
        total = _total(response.json())
        if total is None:  # no meta: the last page is the one shorter than `limit`
            self._has_next_page = self._has_next_page and len(data or []) >= self.limit
        elif self._total is not None and total < self._total:
            self.current_value = max(self.initial_value, page_offset - (self._total - total))
            self._has_next_page = self.current_value < total
        else:
            self._has_next_page = self._has_next_page and self.current_value < total
        self._total = total


def _total(body) -> int | None:
    """`meta.total` (a string in ActiveCampaign's answers), None when the answer has none."""
    meta = body.get("meta") if isinstance(body, dict) else None
    total = meta.get("total") if isinstance(meta, dict) else None
    try:
        return int(total) if total is not None else None
    except (TypeError, ValueError):
        raise ConnectorResponseError(
            f"ActiveCampaign API: a list answered meta.total = {total!r}, not a number; the "
            "sync stopped and nothing of it was stored.") from None

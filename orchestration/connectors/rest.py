"""How connectors talk to an API: dlt's REST API source (paginators, incremental cursors, merge
on primary key) over dlt's retrying requests session, throttled to the API's rate limit.

Retries (429 honouring Retry-After, 5xx, timeouts, dropped connections) are dlt's; the
throttle only spaces requests ahead of time (a fixed rate, ActiveCampaign's 5/s) and pauses when
an answer says the rate-limit window is used up, since every 429 costs a wait and a request
of the quota.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from orchestration.connectors.dlt_overrides import retrying_session


def rest_source(name: str, config: dict) -> Any:
    """dlt's REST API source for `config` (its RESTAPIConfig dict), nested objects as JSON."""
    from dlt.sources.rest_api import rest_api_source

    return rest_api_source(config, name=name, max_table_nesting=0)


def throttled_session(per_second: float | None = None, reset_header: str | None = None,
                      before_send: Callable[[Any], None] | None = None,
                      on_response: Callable[[Any], None] | None = None) -> Any:
    """A dlt requests session (retries per RUNTIME__REQUEST_*, Retry-After honoured) that
    spaces requests to at most `per_second` (ActiveCampaign: 5/s per account) and pauses when
    a response says the rate-limit window is used up (X-RateLimit-Remaining: 0).
    `before_send(request)` runs right before each attempt goes out (HubSpot spaces its search
    requests there: spacing any earlier would count time the request still waits).
    `on_response(response)` sees each answer before dlt's retry does, and may raise a
    ConnectorError to stop a retry that cannot help (Pipedrive's used-up daily budget)."""

    import requests

    def spaced(send):
        state = {"next": 0.0}

        def spaced_send(request, **kwargs):
            wait = state["next"] - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if before_send is not None:
                before_send(request)
            try:
                response = send(request, **kwargs)
            except requests.HTTPError as err:  # dlt's response hook raised for the status
                if on_response is not None and err.response is not None:
                    on_response(err.response)
                raise
            if on_response is not None:
                on_response(response)
            gap = 1.0 / per_second if per_second else 0.0
            remaining = _header_number(response, "X-HubSpot-RateLimit-Remaining",
                                       "X-RateLimit-Remaining")
            if remaining is not None and remaining <= 0:
                window = _header_number(response, "X-HubSpot-RateLimit-Interval-Milliseconds")
                # `reset_header`: seconds until the window resets (Pipedrive's
                # X-RateLimit-Reset), capped so a bogus value cannot stall a run.
                reset = _header_number(response, reset_header) if reset_header else None
                gap = max(gap, min(reset, 60.0) if reset is not None
                          else (window or 1000) / 1000)
            state["next"] = time.monotonic() + gap
            return response

        return spaced_send

    return retrying_session(spaced)


def _header_number(response, *names: str) -> float | None:
    for name in names:
        value = response.headers.get(name)
        if value is not None:
            try:
                return float(value)
            except ValueError:
                return None
    return None

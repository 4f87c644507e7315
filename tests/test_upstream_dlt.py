"""The dlt internals salespipe relies on are still there, and the override is in effect.

orchestration/connectors/dlt_overrides.py overrides the private `Client._make_session` of
`dlt.sources.helpers.requests.retry` and calls its private `_make_retry` (written against dlt
1.31.0). Only the pin keeps them working: an upgrade that renames, removes or changes them
fails here, with a message saying what to port, instead of somewhere in a sync. The CRM
paginators (hubspot_paging.py, activecampaign_paging.py) subclass dlt's paginators and use
their protected state the way dlt's custom-paginator docs do; that is checked too.

Cheap: no server, no pipeline; answers come from an in-process requests adapter.
"""

from __future__ import annotations

import hashlib
import inspect
import time

import dlt
import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from orchestration.connectors.dlt_overrides import retrying_session
from orchestration.connectors.rest import throttled_session

WRITTEN_FOR = "1.31.0"
# The upstream method dlt_overrides.py copies, fingerprinted as in dlt 1.31.0 (`_fingerprint`):
# a change there (a new step in building the session) must be ported, not silently dropped.
MAKE_SESSION_FINGERPRINT = "3b8c64ce6520cc98"


def _retry_module():
    try:
        from dlt.sources.helpers.requests import retry
    except ImportError as exc:  # pragma: no cover - only on an upgrade that moved it
        pytest.fail(f"dlt {dlt.__version__}: dlt.sources.helpers.requests.retry is gone ({exc}); "
                    f"orchestration/connectors/dlt_overrides.py was written for dlt {WRITTEN_FOR}.")
    return retry


def _need(owner, name: str, what: str):
    value = inspect.getattr_static(owner, name, None)
    if value is None:
        pytest.fail(f"dlt {dlt.__version__} has no {what} any more: "
                    "orchestration/connectors/dlt_overrides.py (written for dlt "
                    f"{WRITTEN_FOR}) overrides or calls it. Port the throttled session to what "
                    "dlt offers now, then update this test.")
    return getattr(owner, name)


def _fingerprint(func) -> str:
    lines = (line.strip() for line in inspect.getsource(func).splitlines())
    return hashlib.sha256("\n".join(x for x in lines if x).encode()).hexdigest()[:16]


def test_the_private_dlt_names_the_override_uses_are_there():
    retry = _retry_module()
    client_cls = _need(retry, "Client", "dlt.sources.helpers.requests.retry.Client")
    make_session = _need(client_cls, "_make_session", "Client._make_session")
    make_retry = _need(retry, "_make_retry", "dlt.sources.helpers.requests.retry._make_retry")
    assert list(inspect.signature(make_session).parameters) == ["self"], (
        f"dlt {dlt.__version__}: Client._make_session(self) now takes "
        f"{inspect.signature(make_session)}; dlt_overrides.py overrides the 1.31.0 signature.")
    client = client_cls(raise_for_status=False)
    for attr in ("_session_kwargs", "_adapter", "_retry_kwargs"):
        assert hasattr(client, attr), (
            f"dlt {dlt.__version__}: Client instances have no {attr} any more; "
            "dlt_overrides.py builds its session from it (dlt 1.31.0).")
    params = set(inspect.signature(make_retry).parameters)
    assert params == set(client._retry_kwargs), (
        f"dlt {dlt.__version__}: _make_retry takes {sorted(params)}, Client._retry_kwargs holds "
        f"{sorted(client._retry_kwargs)}; dlt_overrides.py calls _make_retry(**_retry_kwargs).")
    assert callable(getattr(make_retry(**client._retry_kwargs), "wraps", None)), (
        f"dlt {dlt.__version__}: _make_retry no longer returns a tenacity Retrying (.wraps).")


def test_the_upstream_method_the_override_copies_is_unchanged():
    make_session = _need(_retry_module().Client, "_make_session", "Client._make_session")
    assert _fingerprint(make_session) == MAKE_SESSION_FINGERPRINT, (
        f"dlt {dlt.__version__} changed Client._make_session (dlt_overrides.py copies dlt "
        f"{WRITTEN_FOR}'s). Read it in dlt/sources/helpers/requests/retry.py, port what changed "
        "into orchestration/connectors/dlt_overrides.py, then record the new fingerprint "
        f"{_fingerprint(make_session)} here.")


class _Answers(BaseAdapter):
    """A requests adapter answering with the given statuses in turn, noting when each came."""

    def __init__(self, *statuses: int):
        super().__init__()
        self.statuses, self.arrived = list(statuses), []

    def send(self, request, **kwargs):
        self.arrived.append(time.monotonic())
        response = requests.Response()
        response.status_code = self.statuses.pop(0)
        response.headers = CaseInsensitiveDict({"Retry-After": "0"})
        response._content, response.request, response.url = b"{}", request, request.url
        return response

    def close(self):
        pass


def test_the_override_is_in_effect_inside_dlts_retries():
    seen = []

    def wrap(send):
        def counted(request, **kwargs):
            seen.append(request.url)
            return send(request, **kwargs)
        return counted

    session = retrying_session(wrap)
    answers = _Answers(429, 200)
    session.mount("http://upstream.test/", answers)
    response = session.get("http://upstream.test/deals")
    assert response.status_code == 200, "dlt's retry no longer wraps the overridden send"
    assert seen == ["http://upstream.test/deals"] * 2, (
        f"dlt {dlt.__version__}: the overridden Client._make_session is not in effect "
        "(each attempt, retries included, should go through our send)")


def test_the_throttled_session_spaces_every_attempt():
    session = throttled_session(per_second=10)
    answers = _Answers(429, 200, 200)
    session.mount("http://upstream.test/", answers)
    for _ in range(2):
        assert session.get("http://upstream.test/deals").status_code == 200
    gaps = [b - a for a, b in zip(answers.arrived, answers.arrived[1:], strict=False)]
    assert len(answers.arrived) == 3 and min(gaps) > 0.08, gaps  # 0.1 s apart, less jitter


def test_the_paginators_protected_state_is_where_the_crm_paginators_use_it():
    from dlt.sources.helpers.rest_client.paginators import (
        BasePaginator,
        JSONResponseCursorPaginator,
        OffsetPaginator,
    )

    class Probe(BasePaginator):
        def update_state(self, response, data=None):
            self._has_next_page = False

        def update_request(self, request):
            pass

    probe = Probe()
    probe.update_state(None)
    assert probe.has_next_page is False, (
        f"dlt {dlt.__version__}: BasePaginator.has_next_page no longer reads _has_next_page, "
        "which activecampaign_paging.py sets (as dlt 1.31.0's custom-paginator docs do)")
    cursor = JSONResponseCursorPaginator(cursor_path="offset", cursor_param="offset")
    assert hasattr(cursor, "_next_reference"), (
        f"dlt {dlt.__version__}: JSONResponseCursorPaginator has no _next_reference, which "
        "hubspot_paging.py reads and sets")
    offset = OffsetPaginator(limit=10, total_path="meta.total")
    assert (offset.current_value, offset.initial_value) == (0, 0), (
        f"dlt {dlt.__version__}: OffsetPaginator's current_value/initial_value changed, which "
        "activecampaign_paging.OffsetStepsBack moves back")

"""The one place salespipe overrides dlt internals (written against dlt 1.31.0, the pin in
constraints.txt). tests/test_upstream_dlt.py fails with a clear message when an upgrade
changes what this relies on, and checks that the override is in effect.

`retrying_session` overrides the private `Client._make_session` of
`dlt.sources.helpers.requests.retry` and calls its private `_make_retry`. Upstream behaviour
worked around: dlt builds its retrying requests session in `Client._make_session`, wrapping
`Session.send` in the tenacity `Retrying` that `_make_retry(**self._retry_kwargs)` returns
(429 honouring Retry-After, 5xx, timeouts, dropped connections), and offers no public hook for
a step inside that retry loop. To space requests to an API's rate limit (rest.py), each
attempt, retries included, must go through our own `send`; so the session is built here as
dlt 1.31.0 builds it (its own `_session_kwargs`, `_adapter` and `_retry_kwargs`), with that
`send` wrapped instead of the bare one. dlt's `session_attrs` are not used, so not copied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Send = Callable[..., Any]  # requests' Session.send: (PreparedRequest, **kwargs) -> Response


def retrying_session(wrap_send: Callable[[Send], Send]) -> Any:
    """A dlt requests session (raise_for_status off) whose every attempt, retries included,
    goes through `wrap_send(<the session's own send>)`; dlt's retry wraps the result."""
    from dlt.sources.helpers.requests.retry import Client, _make_retry
    from dlt.sources.helpers.requests.session import Session

    class _Client(Client):
        def _make_session(self) -> Session:
            session = Session(**self._session_kwargs)
            session.mount("http://", self._adapter)
            session.mount("https://", self._adapter)
            session.send = _make_retry(**self._retry_kwargs).wraps(wrap_send(session.send))
            return session

    return _Client(raise_for_status=False).session

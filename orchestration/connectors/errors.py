"""What a failed sync means, in words: the connector errors and the mapping of whatever dlt,
requests or an API raised onto them.

A sync's failure reaches the data team as one message that says which source, what happened
and what to do (which variable to fix, that nothing was stored); dlt wraps every failure in
PipelineStepFailed, so `explain` walks the chain to the innermost meaningful cause. No token
ever appears in a message (`redact`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from orchestration.connectors.redaction import redact

if TYPE_CHECKING:
    from orchestration.connectors.base import Connector
    from orchestration.settings import ApiSource


class ConnectorError(RuntimeError):
    """A sync failed; the message says which source, what happened and what to do."""


class ConnectorAuthError(ConnectorError):
    """The API refused the credentials (401/403); the message names the variable to fix."""


class ConnectorResponseError(ConnectorError):
    """The API answered with something that is not the documented JSON."""


class ConnectorLimitError(ConnectorError):
    """The API refused the request because an allowance of the account is used up (a daily
    request allocation): not a credentials problem, and no retry today helps."""


# Error codes that mean "limit reached" in a 403 body: Salesforce sends 403
# REQUEST_LIMIT_EXCEEDED for its org-wide request allocation and concurrent-request limit
# (developer.salesforce.com "API Request Limits and Allocations", REST API "Status Codes and
# Error Responses", errorcodes.htm), where other APIs send 429.
LIMIT_CODES = ("REQUEST_LIMIT_EXCEEDED",)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__


def explain(connector: Connector, api: ApiSource, exc: BaseException) -> ConnectorError:
    """The innermost meaningful error of a failed sync, in words, without the token."""
    import requests

    secrets = api.secrets
    for err in _chain(exc):
        if isinstance(err, ConnectorError):  # a connector's own words
            return type(err)(redact(str(err), secrets))
        response = getattr(err, "response", None)
        if isinstance(err, requests.HTTPError) and response is not None:
            status = response.status_code
            where = redact(_path(response.url), secrets)
            if where.endswith("/oauth2/token"):  # the client-credentials flow's token request
                return ConnectorAuthError(
                    f"{connector.label} refused the client credentials ({status} "
                    f"{response.reason}) at {where}.{_api_said(response, secrets)} Check "
                    f"{' and '.join(api.client_env)}, and that the connected app allows the "
                    f"client-credentials flow (see the README, {connector.label}). Nothing was "
                    "synced; the last stored sync stays.")
            limit = _limit_code(response) if status == 403 else None
            if limit:
                return ConnectorLimitError(
                    f"{connector.label} API: the account's API request limit is used up "
                    f"({status} {limit} at {where}).{_api_said(response, secrets)} The "
                    "credentials are fine. Nothing from this run was stored; the next run "
                    "resumes from the last stored cursor once the allowance has recovered "
                    f"(see the README, {connector.label}).")
            if status in (401, 403):
                return ConnectorAuthError(
                    f"{connector.label} API refused the credentials ({status} "
                    f"{response.reason}) at {where}. Check {_credential_names(api)}: the "
                    f"token is missing, expired, revoked or lacks a scope (see the README, "
                    f"{connector.label}). Nothing was synced; the last stored sync stays."
                    + _unattended_hint(api))
            return ConnectorError(
                f"{connector.label} API answered {status} {response.reason} at {where} after "
                f"retries.{_api_said(response, secrets)} Nothing from this run was stored; the "
                "next run resumes from the last stored cursor.")
        if isinstance(err, (json.JSONDecodeError, requests.exceptions.JSONDecodeError)):
            return ConnectorResponseError(
                f"{connector.label} API sent a page that is not valid JSON ({err}). Nothing "
                "from this run was stored; the next run resumes from the last stored cursor.")
        if isinstance(err, (requests.ConnectionError, requests.Timeout)):
            return ConnectorError(
                f"{connector.label} API cannot be reached at {api.base_url} "
                f"({type(err).__name__}) after retries. Check {api.base_url_env} and the "
                "network. Nothing from this run was stored.")
    inner = list(_chain(exc))[-1]
    return ConnectorError(redact(
        f"{connector.label} API sync failed: {type(inner).__name__}: {inner}".strip(), secrets))


def _limit_code(response) -> str | None:
    try:
        text = response.text
    except (UnicodeDecodeError, RuntimeError):
        return None
    return next((code for code in LIMIT_CODES if code in (text or "")), None)


def _credential_names(api: ApiSource) -> str:
    return " and ".join(api.client_env) if api.client_id else api.token_env


def _unattended_hint(api: ApiSource) -> str:
    if not api.client_env or api.client_id:
        return ""
    return (f" Access tokens expire: for runs nobody attends, set {' and '.join(api.client_env)}"
            " instead, and each run fetches its own token.")


def _api_said(response, secrets: tuple[str, ...]) -> str:
    """The start of the API's error body (e.g. Salesforce's `No such column ...`), redacted."""
    try:
        text = " ".join(response.text.split())[:300]
    except (UnicodeDecodeError, RuntimeError):  # an unreadable or consumed body
        return ""
    return f" The API said: {redact(text, secrets)}." if text else ""


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path or url

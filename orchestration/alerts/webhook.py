"""A Slack-compatible summary of tonight's new alerts, posted to SALESPIPE_ALERT_WEBHOOK.

Best effort: the report and the warehouse are what matter, so a webhook that is unusable,
down, slow or refuses the message is logged as a warning and never fails the run. The URL is
a secret (whoever has it posts to the channel): no message, log line or metadata quotes it."""

from __future__ import annotations

import json
import logging
import ssl
import urllib.error
import urllib.request
from collections import Counter

from orchestration.alerts.escaping import slack_text
from orchestration.alerts.queries import Alert
from orchestration.settings import ReportSettings

TOP = 10
TIMEOUT_SECONDS = 10


def summary_payload(new_alerts: list[Alert], as_of: str) -> dict:
    """Slack's incoming-webhook JSON: one `text` in mrkdwn (also read by Mattermost, Teams'
    Slack-compatible connectors and Rocket.Chat). What the README says it holds: the count of
    new alerts by type, the as-of date, the TOP largest (deal, owner, amount, alert, reason)
    and how many more; every CRM string in it is escaped (escaping.slack_text)."""
    by_type = Counter(a["alert_type"] for a in new_alerts)
    lines = [f"*salespipe*: {len(new_alerts)} new deal alert(s) as of {as_of} ("
             + ", ".join(f"{slack_text(t)} {n}" for t, n in sorted(by_type.items())) + ")"]
    top = sorted(new_alerts, key=lambda a: -(a["amount"] or 0))[:TOP]
    for a in top:
        amount = f"{a['amount']:,.0f} {a['currency'] or ''}".strip() if a["amount"] else "no amount"
        lines.append(f"• {slack_text(a['deal_name'] or a['deal_id'])} ({slack_text(a.owner)}, "
                     f"{slack_text(amount)}): {slack_text(a['alert_type'])}: "
                     f"{slack_text(a['reason'])}")
    if len(new_alerts) > TOP:
        lines.append(f"… and {len(new_alerts) - TOP} more in the report.")
    return {"text": "\n".join(lines)}


def post_new_alerts(settings: ReportSettings, new_alerts: list[Alert], as_of: str,
                    log: logging.Logger) -> str:
    """The webhook step of a run: what happened, for the report's metadata."""
    if settings.webhook_problem:
        log.warning(settings.webhook_problem)
        return "not sent: SALESPIPE_ALERT_WEBHOOK is not usable (see the run's warning)"
    if not settings.alert_webhook:
        return "not configured"
    return send_summary(settings.alert_webhook, new_alerts, as_of, log)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would re-send to a URL nobody configured (urllib turns a POST into a GET
    # there, maybe over http://); Slack's webhooks answer without one.
    def redirect_request(self, *args, **kwargs):
        return None


def send_summary(url: str, new_alerts: list[Alert], as_of: str,
                 log: logging.Logger | None = None) -> str:
    """Post the summary; returns what happened ('sent', 'nothing new', or why it failed)."""
    log = log or logging.getLogger(__name__)
    if not new_alerts:
        return "nothing new"
    body = json.dumps(summary_payload(new_alerts, as_of)).encode()
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = failure_reason(exc)
        log.warning("SALESPIPE_ALERT_WEBHOOK: could not send the alert summary (%s); the run "
                    "goes on", reason)
        return f"failed: {reason}"
    return "sent"


def failure_reason(exc: Exception) -> str:
    """Why a post failed, in words that never quote the URL (urllib's own messages can)."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"the webhook answered HTTP {exc.code}"
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ssl.SSLCertVerificationError):
        return "its TLS certificate could not be verified"
    if isinstance(reason, TimeoutError):
        return f"no answer within {TIMEOUT_SECONDS} s"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror  # "Connection refused", "Name or service not known"
    return type(reason).__name__ if isinstance(reason, Exception) else "no connection"

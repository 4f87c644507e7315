"""A Slack-compatible summary of tonight's new alerts, posted to SALESPIPE_ALERT_WEBHOOK.

Best effort: the report and the warehouse are what matter, so a webhook that is down, slow or
refuses the message is logged and never fails the run."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections import Counter

from orchestration.alerts.queries import Alert

TOP = 10
TIMEOUT_SECONDS = 10


def summary_payload(new_alerts: list[Alert], as_of: str) -> dict:
    """Slack's incoming-webhook JSON: one `text` in mrkdwn (also read by Mattermost, Teams'
    Slack-compatible connectors and Rocket.Chat)."""
    by_type = Counter(a["alert_type"] for a in new_alerts)
    lines = [f"*salespipe*: {len(new_alerts)} new deal alert(s) as of {as_of} ("
             + ", ".join(f"{t} {n}" for t, n in sorted(by_type.items())) + ")"]
    top = sorted(new_alerts, key=lambda a: -(a["amount"] or 0))[:TOP]
    for a in top:
        amount = f"{a['amount']:,.0f} {a['currency'] or ''}".strip() if a["amount"] else "no amount"
        lines.append(f"• {a['deal_name'] or a['deal_id']} ({a.owner}, {amount}): "
                     f"{a['alert_type']}: {a['reason']}")
    if len(new_alerts) > TOP:
        lines.append(f"… and {len(new_alerts) - TOP} more in the report.")
    return {"text": "\n".join(lines)}


def send_summary(url: str, new_alerts: list[Alert], as_of: str,
                 log: logging.Logger | None = None) -> str:
    """Post the summary; returns what happened ('sent', 'nothing new', or the error)."""
    log = log or logging.getLogger(__name__)
    if not new_alerts:
        return "nothing new"
    body = json.dumps(summary_payload(new_alerts, as_of)).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("alert webhook: could not send the summary (%s); the run goes on", exc)
        return f"failed: {exc}"
    return "sent"

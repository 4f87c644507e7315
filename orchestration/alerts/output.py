"""`salespipe alerts` output: the open alerts as a terminal table, CSV or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import textwrap

from orchestration.alerts.escaping import plain_line, spreadsheet_cell
from orchestration.alerts.queries import Alert

COLUMNS = ["status", "alert_type", "owner_name", "deal_name", "amount", "currency", "reason",
           "first_flagged_at", "deal_id"]
FORMATS = ("table", "csv", "json")


def render(alerts: list[Alert], fmt: str) -> str:
    if fmt == "csv":
        return to_csv(alerts)
    if fmt == "json":
        return json.dumps([_jsonable(a.values) for a in alerts], indent=2)
    return to_table(alerts)


def to_csv(alerts: list[Alert]) -> str:
    """For spreadsheets: a text cell that would run as a formula starts with a single quote."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([[spreadsheet_cell(a[c]) for c in COLUMNS] for a in alerts])
    return out.getvalue()


def to_table(alerts: list[Alert]) -> str:
    """For the terminal: CRM strings lose their escape sequences and control characters, so a
    deal name cannot clear the screen, retitle the window or hide the rows after it."""
    if not alerts:
        return "No open alerts."
    header = ["status", "type", "owner", "deal", "amount", "reason"]
    rows = [[a["status"], a["alert_type"], plain_line(a.owner),
             _clip(plain_line(a["deal_name"] or a["deal_id"]), 40),
             plain_line(f"{a['amount']:,.0f} {a['currency'] or ''}".strip()) if a["amount"]
             else "-", plain_line(a["reason"])] for a in alerts]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    # The reason takes what the terminal has left, wrapped under its own column.
    indent = sum(widths) + 2 * len(widths)
    reason_width = max(30, shutil.get_terminal_size((160, 24)).columns - indent)
    lines = []
    for r in [header, *rows]:
        left = "  ".join(str(v).ljust(w) for v, w in zip(r, widths))
        wrapped = textwrap.wrap(str(r[-1]), reason_width) or [""]
        lines.append(f"{left}  {wrapped[0]}")
        lines += [" " * indent + more for more in wrapped[1:]]
    lines.append(f"{len(alerts)} open alert(s), {sum(a['status'] == 'new' for a in alerts)} new")
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _jsonable(values: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}

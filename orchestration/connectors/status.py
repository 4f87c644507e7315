"""What `salespipe run` says about each CRM API before it starts: syncing from where, or
skipped and which variable to set. A source without credentials is not an error: the raw
tables keep whatever the export files gave.
"""

from __future__ import annotations

from orchestration.connectors import all_connectors
from orchestration.connectors.base import Connector
from orchestration.settings import ApiSource, api_settings


def skipped_line(connector: Connector, api: ApiSource) -> str:
    return (f"{connector.label} API: not configured (set {' and '.join(api.missing)} to sync "
            "it), skipped")


def api_status_lines() -> list[str]:
    """One line per CRM API for `salespipe run`: what is synced, or why it is skipped."""
    lines = []
    for connector in all_connectors():
        api = api_settings(connector.name)
        lines.append(skipped_line(connector, api) if not api.configured else
                     f"{connector.label} API: syncing from {api.base_url}")
    return lines

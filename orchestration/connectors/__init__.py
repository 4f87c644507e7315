"""CRM API connectors (dlt), one module per CRM, each declaring its `CONNECTOR`; the CRMs that
have one are listed in orchestration/registry.py."""

from __future__ import annotations

from orchestration.registry import with_connectors


def all_connectors() -> list:
    """Every connector (`Connector`), in the registry's order."""
    return [crm.connector_module().CONNECTOR for crm in with_connectors()]

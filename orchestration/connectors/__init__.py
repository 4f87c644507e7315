# Shared with the Pipedrive/Salesforce connectors: add your module to MODULES.
"""CRM API connectors (dlt), one module per CRM; base.py is the runner they share."""

from __future__ import annotations

import importlib

MODULES = ("hubspot", "activecampaign", "pipedrive", "salesforce")


def all_connectors() -> list:
    """Every connector (`base.Connector`), in a stable order."""
    return [importlib.import_module(f"orchestration.connectors.{m}").CONNECTOR for m in MODULES]

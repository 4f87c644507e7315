"""Dagster definitions of the CRM API syncs: `api/<crm>/<resource>` assets and each CRM's
credentials resource (`<crm>_api`, EnvVar)."""

import dagster as dg

from orchestration.connectors.assets import api_resources, api_sync_assets


def defs() -> dg.Definitions:
    return dg.Definitions(assets=api_sync_assets(), resources=api_resources())

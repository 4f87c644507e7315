"""The one list of CRMs salespipe knows. Everything that lists CRMs reads it: the raw-ingest
assets, the API sync assets and resources, the freshness checks, the settings' defaults, the
generator's formats. Adding a CRM is adding its module(s) and one entry here.

Modules are named, not imported, so reading the registry costs nothing: the runtime imports
only the modules of the job at hand (the generator is never imported by a run).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class ApiVars:
    """The environment variables of a CRM's API credentials (orchestration/settings.py reads
    them; Dagster resources refer to them through EnvVar)."""

    token: str
    base_url: str
    default_base_url: str = ""
    # an OAuth client id and secret, which (both set) stand in for the token (Salesforce)
    client: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.token, self.base_url, *self.client)


@dataclass(frozen=True)
class Crm:
    name: str  # its folder in SALESPIPE_SOURCE_DIR, its connector's dataset, its id prefix
    label: str  # for messages
    # orchestration.sources.<export>: reads its export files (None: API only)
    export: str | None = None
    # orchestration.connectors.<connector>: syncs its API (None: files only)
    connector: str | None = None
    api: ApiVars | None = None
    # `salespipe generate --format <name>` writes its files; in `all` or only on request
    generator: str = ""
    generated_by_default: bool = False
    # the raw table its freshness check hangs on (its deals: the data that matters most)
    freshness_table: str = ""

    def export_module(self) -> ModuleType | None:
        return importlib.import_module(f"orchestration.sources.{self.export}") \
            if self.export else None

    def connector_module(self) -> ModuleType | None:
        return importlib.import_module(f"orchestration.connectors.{self.connector}") \
            if self.connector else None

    @property
    def freshness_check(self) -> str:
        """Sources with an export are checked for the export, API-only ones for the sync."""
        return "export_is_fresh" if self.export else "sync_is_fresh"


CRMS: tuple[Crm, ...] = (
    Crm("hubspot", "HubSpot", export="hubspot", connector="hubspot",
        api=ApiVars("SALESPIPE_HUBSPOT_TOKEN", "SALESPIPE_HUBSPOT_BASE_URL",
                    "https://api.hubapi.com"),
        generator="hubspot", generated_by_default=True, freshness_table="hubspot_deals"),
    Crm("activecampaign", "ActiveCampaign", export="activecampaign", connector="activecampaign",
        # the API URL is per account (https://<account>.api-us1.com): no default
        api=ApiVars("SALESPIPE_ACTIVECAMPAIGN_TOKEN", "SALESPIPE_ACTIVECAMPAIGN_URL"),
        generator="activecampaign", generated_by_default=True,
        freshness_table="activecampaign_deals"),
    Crm("generic", "Generic CSV", export="generic",
        generator="generic", generated_by_default=True, freshness_table="generic_deals"),
    Crm("pipedrive", "Pipedrive", connector="pipedrive",
        api=ApiVars("SALESPIPE_PIPEDRIVE_TOKEN", "SALESPIPE_PIPEDRIVE_BASE_URL",
                    "https://api.pipedrive.com"),
        generator="pipedrive", freshness_table="pipedrive_deals"),
    # report exports (CSV) for users without API access, and the API sync, into the same tables
    Crm("salesforce", "Salesforce", export="salesforce", connector="salesforce",
        api=ApiVars("SALESPIPE_SALESFORCE_TOKEN", "SALESPIPE_SALESFORCE_INSTANCE_URL",
                    client=("SALESPIPE_SALESFORCE_CLIENT_ID",
                            "SALESPIPE_SALESFORCE_CLIENT_SECRET")),
        generator="salesforce", freshness_table="salesforce_opportunities"),
)

BY_NAME = {crm.name: crm for crm in CRMS}


def crm(name: str) -> Crm:
    return BY_NAME[name]


def with_exports() -> list[Crm]:
    return [c for c in CRMS if c.export]


def with_connectors() -> list[Crm]:
    return [c for c in CRMS if c.connector]

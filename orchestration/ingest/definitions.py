"""Dagster definitions of ingestion: one raw-ingest asset per CRM export object (`raw/<table>`)."""

import dagster as dg

from orchestration.ingest.assets import raw_assets


def defs() -> dg.Definitions:
    return dg.Definitions(assets=raw_assets())

"""Dagster definitions of the publication for BI tools, which waits for every mart."""

import dagster as dg

from orchestration.publish.assets import publication_asset


def defs(marts: list[dg.AssetKey]) -> dg.Definitions:
    """`marts`: the keys of the dbt models BI reads (orchestration/transform)."""
    return dg.Definitions(assets=[publication_asset(marts)])

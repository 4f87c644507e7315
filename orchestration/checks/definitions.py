"""Dagster definitions of the data-quality suites: each GX suite of expectations/ as asset
checks. (dbt tests are asset checks of the dbt assets, orchestration/transform.)"""

import dagster as dg

from orchestration.checks.expectations import expectation_checks


def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=expectation_checks())

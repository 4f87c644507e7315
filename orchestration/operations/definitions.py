"""Dagster definitions of nightly operations: the job over everything, its schedule, the
export-folder sensor and each CRM's freshness check (WARN)."""

import dagster as dg

from orchestration.operations.freshness import freshness_checks
from orchestration.operations.schedules import nightly_schedule
from orchestration.operations.sensors import export_drop_sensor

everything = dg.define_asset_job("everything", selection=dg.AssetSelection.all())


def defs() -> dg.Definitions:
    return dg.Definitions(
        asset_checks=freshness_checks(),
        jobs=[everything],
        schedules=[nightly_schedule(everything)],
        sensors=[export_drop_sensor(everything)],
    )

"""Dagster definitions of the deal alerts: the report RevOps reads (after marts/deal_alerts) and
the alerts' WARN check."""

import dagster as dg

from orchestration.alerts.assets import deal_alerts_check, pipeline_report


def defs() -> dg.Definitions:
    return dg.Definitions(assets=[pipeline_report], asset_checks=[deal_alerts_check])

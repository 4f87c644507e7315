"""The nightly schedule: materialize everything (ingest, dbt build and checks, publish)."""

from __future__ import annotations

import dagster as dg

from orchestration.settings import OperationsSettings


def nightly_schedule(job: dg.UnresolvedAssetJobDefinition,
                     settings: OperationsSettings | None = None) -> dg.ScheduleDefinition:
    """SALESPIPE_SCHEDULE_CRON (default 02:00) in SALESPIPE_TIMEZONE (default UTC).

    Running by default: `salespipe ui` starts the daemon, and a schedule that must be switched on
    by hand in the UI is a nightly run that silently never happens."""
    settings = settings or OperationsSettings.from_env()
    return dg.ScheduleDefinition(
        name="nightly",
        job=job,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every night: ingest the exports, build and check every model, publish.",
    )

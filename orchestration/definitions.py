"""The one Dagster `Definitions` of salespipe: raw ingestion, dbt models, resources."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import dagster as dg

from orchestration.settings import DBT_PROJECT_DIR, apply_defaults

apply_defaults()  # before EnvVar resolution and the dbt parse, so the demo needs no setup

from orchestration.assets.dbt import dbt_models, dbt_project
from orchestration.assets.raw import raw_assets
from orchestration.checks.expectations import expectation_checks
from orchestration.resources import DbtCli, DuckDBWarehouse, SourceFiles

all_assets = [*raw_assets, dbt_models]
# The GX suites of expectations/ as asset checks. They sit in all_assets because
# `dg.materialize(all_assets)` (salespipe run) only runs the checks it is given.
all_assets += expectation_checks()

# Operations: publication for BI tools (after every mart), source freshness checks (WARN).
from orchestration.assets.publish import published_warehouse
from orchestration.freshness import freshness_checks

all_assets += [published_warehouse, *freshness_checks]

# Deal alerts: the report RevOps reads (after marts/deal_alerts) and the alerts' WARN check.
from orchestration.alerts.assets import alert_assets, alert_checks

all_assets += [*alert_assets, *alert_checks]

# CRM API syncs (dlt): api/<source>/<resource>, upstream of the raw tables they feed.
from orchestration.assets.api import api_resources, api_sync_assets

all_assets += api_sync_assets()

# The dbt installed beside this Python, so `.venv/bin/salespipe` works without activating.
_dbt_beside_python = Path(sys.executable).parent / "dbt"
DBT_EXECUTABLE = str(_dbt_beside_python) if _dbt_beside_python.exists() else (
    shutil.which("dbt") or "dbt")

resources = {
    "warehouse": DuckDBWarehouse(
        path=dg.EnvVar("SALESPIPE_WAREHOUSE"),
        threads=dg.EnvVar("SALESPIPE_DUCKDB_THREADS"),
        memory_limit=dg.EnvVar("SALESPIPE_DUCKDB_MEMORY_LIMIT"),
    ),
    "source_files": SourceFiles(source_dir=dg.EnvVar("SALESPIPE_SOURCE_DIR")),
    "dbt": DbtCli(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR),
                   dbt_executable=DBT_EXECUTABLE),
}
resources.update(api_resources())  # <crm>_api: token and base URL of each CRM API (EnvVar)

everything = dg.define_asset_job("everything", selection=dg.AssetSelection.all())

from orchestration.schedules import nightly_schedule
from orchestration.sensors import export_drop_sensor

# One DuckDB file takes one writer process at a time, so steps run in one process, in order.
defs = dg.Definitions(
    assets=all_assets,
    resources=resources,
    jobs=[everything],
    schedules=[nightly_schedule(everything)],
    sensors=[export_drop_sensor(everything)],
    executor=dg.in_process_executor,
)

"""Dagster definitions of the dbt project: every model, seed and snapshot as an asset (dbt tests
as asset checks), and the dbt CLI resource."""

import shutil
import sys
from pathlib import Path

import dagster as dg

from orchestration.settings import DBT_PROJECT_DIR
from orchestration.transform.assets import build_dbt_models, dbt_project
from orchestration.transform.dbt_cli import DbtCli


def dbt_executable() -> str:
    """The dbt installed beside this Python, so `.venv/bin/salespipe` works without activating."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def defs() -> dg.Definitions:
    project = dbt_project()
    return dg.Definitions(
        assets=[build_dbt_models(project)],
        resources={"dbt": DbtCli(project_dir=project, profiles_dir=str(DBT_PROJECT_DIR),
                                 dbt_executable=dbt_executable())})

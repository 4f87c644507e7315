"""Source freshness: a WARN check per CRM source, so a silently dead export or sync is noticed.

A source is fresh when its newest export file, its newest API snapshot (rewritten by every
successful sync, orchestration/connectors) or its newest load in `raw._loads` is younger than
SALESPIPE_MAX_SOURCE_AGE_HOURS, measured against the wall clock (not the as-of date: this is
about the export job or the sync, not the data). A source with neither an export folder nor
synced data is not in use and passes. So an API whose sync quietly stops (its credentials
gone from the environment: "not configured, skipped") warns once its data is older than that.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from orchestration.connectors.paths import snapshot_dir
from orchestration.registry import CRMS
from orchestration.resources import DuckDBWarehouse, SourceFiles
from orchestration.settings import OperationsSettings, Settings


def newest_export(folder: Path) -> dt.datetime | None:
    stamps = [p.stat().st_mtime for p in folder.rglob("*")
              if p.is_file() and not p.name.startswith(".")]
    return dt.datetime.fromtimestamp(max(stamps), dt.UTC) if stamps else None


def newest_load(warehouse: DuckDBWarehouse, source: str) -> dt.datetime | None:
    with warehouse.connect() as con:
        exists = con.execute("select count(*) from information_schema.tables "
                             "where table_schema = 'raw' and table_name = '_loads'").fetchone()[0]
        if not exists:
            return None
        loaded = con.execute("select max(loaded_at) from raw._loads where source_system = ?",
                             [source]).fetchone()[0]
    return loaded.replace(tzinfo=dt.UTC) if loaded else None


def evaluate(source: str, folders: list[Path], last_load: dt.datetime | None,
             max_age_hours: float, now: dt.datetime) -> dg.AssetCheckResult:
    """`folders`: where the source's files appear (its export folder, its API snapshots)."""
    used = [f for f in folders if f.is_dir()]
    if not used:
        return dg.AssetCheckResult(passed=True, description=f"{source} is not in use (no "
                                   f"{' or '.join(str(f) for f in folders)})")
    stamps = [s for s in (*(newest_export(f) for f in used), last_load) if s is not None]
    newest = max(stamps) if stamps else None
    age = (now - newest).total_seconds() / 3600 if newest else None
    passed = age is not None and age <= max_age_hours
    text = (f"newest {source} export, sync or load is {age:.1f} h old" if age is not None
            else f"{' and '.join(str(f) for f in used)} hold no files")
    return dg.AssetCheckResult(
        passed=passed, severity=dg.AssetCheckSeverity.WARN,
        description=f"{text} (limit {max_age_hours:g} h, SALESPIPE_MAX_SOURCE_AGE_HOURS)",
        metadata={"newest": newest.isoformat() if newest else "none",
                  "age_hours": round(age, 2) if age is not None else -1.0,
                  "max_age_hours": max_age_hours})


def freshness_check(source: str, table: str, name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["raw", table]), name=f"{source}_{name}",
                    description=f"{source} data arrives: its newest export file, API sync or "
                                "load is younger than SALESPIPE_MAX_SOURCE_AGE_HOURS (WARN)")
    def _check(source_files: SourceFiles, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
        max_age = OperationsSettings.from_env().max_source_age_hours
        folders = [source_files.folder(source),
                   snapshot_dir(Settings.from_env().data_dir, source)]
        return evaluate(source, folders, newest_load(warehouse, source), max_age,
                        dt.datetime.now(dt.UTC))

    return _check


def freshness_checks() -> list[dg.AssetChecksDefinition]:
    """One per CRM, on the raw table the registry names (its deals)."""
    return [freshness_check(c.name, c.freshness_table, c.freshness_check) for c in CRMS]

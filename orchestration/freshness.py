"""Source freshness: a WARN check per CRM source, so a silently dead export is noticed.

A source is fresh when its newest export file (or its newest load in `raw._loads`, for a
source that syncs rather than drops files) is younger than SALESPIPE_MAX_SOURCE_AGE_HOURS,
measured against the wall clock (not the as-of date: this is about the export job, not the
data). A source with no folder is not in use and passes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from orchestration.resources import DuckDBWarehouse, SourceFiles
from orchestration.settings import OperationsSettings

# The raw table each source's check hangs on (its deals: the export that matters most).
SOURCES = {"hubspot": "hubspot_deals", "activecampaign": "activecampaign_deals",
           "generic": "generic_deals"}


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


def evaluate(source: str, folder: Path, last_load: dt.datetime | None,
             max_age_hours: float, now: dt.datetime) -> dg.AssetCheckResult:
    if not folder.is_dir():
        return dg.AssetCheckResult(passed=True, description=f"{source} is not in use "
                                   f"(no folder {folder})")
    stamps = [s for s in (newest_export(folder), last_load) if s is not None]
    newest = max(stamps) if stamps else None
    age = (now - newest).total_seconds() / 3600 if newest else None
    passed = age is not None and age <= max_age_hours
    text = (f"newest {source} export or load is {age:.1f} h old" if age is not None
            else f"{folder} holds no export files")
    return dg.AssetCheckResult(
        passed=passed, severity=dg.AssetCheckSeverity.WARN,
        description=f"{text} (limit {max_age_hours:g} h, SALESPIPE_MAX_SOURCE_AGE_HOURS)",
        metadata={"newest": newest.isoformat() if newest else "none",
                  "age_hours": round(age, 2) if age is not None else -1.0,
                  "max_age_hours": max_age_hours})


def freshness_check(source: str, table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["raw", table]), name=f"{source}_export_is_fresh",
                    description=f"{source} exports arrive: the newest is younger than "
                                "SALESPIPE_MAX_SOURCE_AGE_HOURS (WARN)")
    def _check(source_files: SourceFiles, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
        max_age = OperationsSettings.from_env().max_source_age_hours
        return evaluate(source, source_files.folder(source), newest_load(warehouse, source),
                        max_age, dt.datetime.now(dt.UTC))

    return _check


freshness_checks = [freshness_check(source, table) for source, table in SOURCES.items()]

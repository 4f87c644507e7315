"""The drop-folder sensor: a new or changed export file triggers ingestion and everything
downstream of it, once per file version.

The cursor maps each export file (path relative to SALESPIPE_SOURCE_DIR) to its
`mtime_ns:size`; a file whose signature differs from the cursor's is new or changed. Files
still being written are left for a later tick (see SETTLE_SECONDS), and the cursor only moves
when a run is requested, so nothing is lost while a run holds the warehouse.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from orchestration.operations.runlock import is_locked
from orchestration.settings import Settings

# An export still being copied in changes size/mtime; wait until it has been quiet this long.
SETTLE_SECONDS = 30
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".swp")


def scan(source_dir: Path, now: float | None = None) -> dict[str, str]:
    """`relative path -> "mtime_ns:size"` of every settled export file."""
    now = time.time() if now is None else now
    found = {}
    for path in sorted(source_dir.rglob("*")) if source_dir.is_dir() else []:
        if (not path.is_file() or path.name.startswith(".")
                or path.name.endswith(IGNORED_SUFFIXES)):
            continue
        stat = path.stat()
        if now - stat.st_mtime >= SETTLE_SECONDS:
            found[str(path.relative_to(source_dir))] = f"{stat.st_mtime_ns}:{stat.st_size}"
    return found


def changed_files(seen: dict[str, str], current: dict[str, str]) -> list[str]:
    return [path for path, sig in current.items() if seen.get(path) != sig]


def _evaluate(context: dg.SensorEvaluationContext):
    settings = Settings.from_env()
    seen = json.loads(context.cursor) if context.cursor else {}
    current = scan(settings.source_dir)
    changed = changed_files(seen, current)
    if not changed:
        return dg.SkipReason(f"no new or changed export in {settings.source_dir}")
    if is_locked(settings.warehouse):
        return dg.SkipReason(f"{len(changed)} changed export(s) wait: a run holds the warehouse")
    # Files the cursor knew but that are now gone are dropped from it; a deletion alone does
    # not trigger a run (loaded rows stay in raw until their file is replaced).
    context.update_cursor(json.dumps(current, sort_keys=True))
    key = hashlib.sha256(json.dumps({p: current[p] for p in changed}).encode()).hexdigest()
    return dg.RunRequest(run_key=key[:32],
                         tags={"salespipe/trigger": "export-drop",
                               "salespipe/files": ", ".join(changed)[:200]})


def export_drop_sensor(job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    return dg.SensorDefinition(
        name="export_drop",
        job=job,
        evaluation_fn=_evaluate,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Runs ingestion and everything downstream when a new or changed export "
                    "file lands in SALESPIPE_SOURCE_DIR (once per file version).",
    )

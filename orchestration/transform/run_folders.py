"""dbt's run folders.

Every run writes its own target folder (manifest, run_results.json, compiled SQL: ~20 MB at
scale), so concurrent runs never share one. The newest few stay for debugging; older ones go,
or a nightly schedule fills the disk. A folder modified within the last hour may belong to a
run still going (parallel test workers, a manual run beside the schedule), so it stays."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

RUN_FOLDER_GLOB = "dbt_models-*"
KEEP_RUN_FOLDERS = 10
IN_USE_SECONDS = 3600


def prune_run_folders(project_dir: Path, keep: int = KEEP_RUN_FOLDERS,
                      in_use_seconds: float = IN_USE_SECONDS) -> list[Path]:
    """Delete run target folders beyond the `keep` newest that are idle; returns them."""
    folders = sorted((p for p in (project_dir / "target").glob(RUN_FOLDER_GLOB) if p.is_dir()),
                     key=_last_modified, reverse=True)
    cutoff = time.time() - in_use_seconds
    pruned = [p for p in folders[keep:] if _last_modified(p) < cutoff]
    for folder in pruned:
        shutil.rmtree(folder, ignore_errors=True)
    return pruned


def _last_modified(folder: Path) -> float:
    # dbt writes run_results.json last; the folder's own mtime covers a run still compiling
    results = folder / "run_results.json"
    stamps = [folder.stat().st_mtime] + ([results.stat().st_mtime] if results.exists() else [])
    return max(stamps)

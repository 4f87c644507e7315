"""Keep dbt's manifest prepared, so loading the Dagster definitions never waits on a parse
unless the dbt project changed since the last one."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import apply_defaults

WATCHED = ("models", "macros", "seeds", "snapshots", "tests")


def _newest_source(project_dir: Path) -> float:
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in WATCHED:
        files.extend(p for p in (project_dir / folder).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in files if p.exists())


def ensure_manifest(project: DbtProject) -> Path:
    """Run `dbt parse` when target/manifest.json is missing or older than the project files."""
    manifest = Path(project.manifest_path)
    project_dir = Path(project.project_dir)
    if _fresh(manifest, project_dir):
        return manifest
    manifest.parent.mkdir(parents=True, exist_ok=True)
    # Processes that start together (the UI and a run, parallel test workers) parse once:
    # the others wait on the lock and then find the manifest fresh.
    with open(manifest.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _fresh(manifest, project_dir):
            _parse(project_dir)
    return manifest


def _fresh(manifest: Path, project_dir: Path) -> bool:
    return manifest.exists() and manifest.stat().st_mtime >= _newest_source(project_dir)


def _parse(project_dir: Path) -> None:
    apply_defaults()
    from dbt.cli.main import dbtRunner

    # Named like the runs name it (dbt counts "no --target" as another target), so the
    # parse state saved here is one a DuckDB run can reuse. Spark runs pass --vars and parse
    # anyway.
    result = dbtRunner().invoke([
        "parse", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
        "--target", "duckdb", "--quiet",
    ])
    if not result.success:
        raise RuntimeError(
            f"dbt could not parse {project_dir}: {result.exception or 'see the messages above'}"
        )


def incremental_keys(manifest_path: Path, schema: str) -> dict[str, list[str]]:
    """The unique key of every incremental model in `schema`, by table name: what publishing
    needs to apply the rows a run wrote the way dbt's delete+insert did."""
    nodes = json.loads(Path(manifest_path).read_text())["nodes"].values()
    keys = {}
    for node in nodes:
        config = node.get("config", {})
        key = config.get("unique_key")
        if (node["resource_type"] == "model" and node["schema"] == schema
                and config.get("materialized") == "incremental" and key):
            keys[node["alias"]] = [key] if isinstance(key, str) else list(key)
    return keys


def published_partitions(manifest_path: Path, schema: str) -> dict[str, str]:
    """The column each model in `schema` has its published Parquet split by (model meta
    `publish_partition_by`), by table name."""
    nodes = json.loads(Path(manifest_path).read_text())["nodes"].values()
    return {node["alias"]: node["config"]["meta"]["publish_partition_by"] for node in nodes
            if node["resource_type"] == "model" and node["schema"] == schema
            and "publish_partition_by" in node.get("config", {}).get("meta", {})}


# --- parse state between runs ------------------------------------------------------------------
# dbt re-parses the whole project when its profile (warehouse path, DuckDB settings, target) or
# vars differ from the saved parse state. Each run's state is kept under a key of those settings,
# so the next run with the same settings parses only what changed, even when runs with other
# settings (tests, a second warehouse) happen in between.

PARTIAL_PARSE = "partial_parse.msgpack"


def _state_file(project_dir: Path) -> Path:
    settings = sorted((k, v) for k, v in os.environ.items()
                      if k.startswith("SALESPIPE_") and k != "SALESPIPE_AS_OF")
    key = hashlib.sha256(repr(settings).encode()).hexdigest()[:16]
    return project_dir / "target" / "parse_state" / f"{key}.msgpack"


def restore_parse_state(project_dir: Path, target_path: Path) -> None:
    """Seed a run's target folder with the state kept for these settings, if any (otherwise
    dagster-dbt copies the prepared target/partial_parse.msgpack)."""
    kept = _state_file(project_dir)
    if kept.exists():
        destination = project_dir / target_path / PARTIAL_PARSE
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, destination)


def keep_parse_state(project_dir: Path, target_path: Path) -> None:
    """Keep a finished run's parse state for the next run with the same settings; replaced
    atomically, since another run may be reading it."""
    produced = project_dir / target_path / PARTIAL_PARSE
    if not produced.exists():
        return
    kept = _state_file(project_dir)
    kept.parent.mkdir(parents=True, exist_ok=True)
    scratch = kept.with_name(f".{kept.name}.{os.getpid()}")
    shutil.copyfile(produced, scratch)
    os.replace(scratch, kept)


# --- run folders -------------------------------------------------------------------------------
# Every run writes its own target folder (manifest, run_results.json, compiled SQL: ~20 MB at
# scale), so concurrent runs never share one. The newest few stay for debugging; older ones go,
# or a nightly schedule fills the disk. A folder modified within the last hour may belong to a
# run still going (parallel test workers, a manual run beside the schedule), so it stays.

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

"""dbt's manifest: kept prepared, so loading the Dagster definitions never waits on a parse
unless the dbt project changed since the last one; and what publishing reads from it."""

from __future__ import annotations

import fcntl
import functools
import json
from pathlib import Path

from orchestration.publish.comments import MartDoc
from orchestration.transform.dagster_dbt_import import dagster_dbt
from orchestration.transform.parse_state import keep_parse_state

WATCHED = ("models", "macros", "seeds", "snapshots", "tests")


def _newest_source(project_dir: Path) -> float:
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in WATCHED:
        files.extend(p for p in (project_dir / folder).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in files if p.exists())


def ensure_manifest(project: dagster_dbt.DbtProject) -> Path:
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
            # the first build, wherever its warehouse, then starts from this parse
            keep_parse_state(project_dir, Path("target"))
    return manifest


def _fresh(manifest: Path, project_dir: Path) -> bool:
    return manifest.exists() and manifest.stat().st_mtime >= _newest_source(project_dir)


def _parse(project_dir: Path) -> None:
    # profiles.yml reads SALESPIPE_* through env_var(): the entry points applied the defaults
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


def manifest_nodes(manifest_path: Path) -> list[dict]:
    """The manifest's nodes; parsed once per version of the file (publishing reads several
    things from it, and parsing costs ~0.2 s)."""
    path = Path(manifest_path)
    return _parsed(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=2)
def _parsed(path: str, mtime_ns: int) -> list[dict]:
    return list(json.loads(Path(path).read_text())["nodes"].values())


def incremental_keys(manifest_path: Path, schema: str) -> dict[str, list[str]]:
    """The unique key of every incremental model in `schema`, by table name: what publishing
    needs to apply the rows a run wrote the way dbt's delete+insert did."""
    nodes = manifest_nodes(manifest_path)
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
    nodes = manifest_nodes(manifest_path)
    return {node["alias"]: node["config"]["meta"]["publish_partition_by"] for node in nodes
            if node["resource_type"] == "model" and node["schema"] == schema
            and "publish_partition_by" in node.get("config", {}).get("meta", {})}


def mart_docs(manifest_path: Path, schema: str) -> dict[str, MartDoc]:
    """Every model in `schema`, by table name, with its description and its columns' from the
    dbt yml: what the publication comments its tables and columns with."""
    nodes = manifest_nodes(manifest_path)
    return {node["alias"]: MartDoc(node.get("description") or "",
                                   {name: column.get("description") or ""
                                    for name, column in node.get("columns", {}).items()})
            for node in nodes if node["resource_type"] == "model" and node["schema"] == schema}

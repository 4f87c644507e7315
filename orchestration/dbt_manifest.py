"""Keep dbt's manifest prepared, so loading the Dagster definitions never waits on a parse
unless the dbt project changed since the last one."""

from __future__ import annotations

import fcntl
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

    result = dbtRunner().invoke([
        "parse", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
        "--quiet",
    ])
    if not result.success:
        raise RuntimeError(
            f"dbt could not parse {project_dir}: {result.exception or 'see the messages above'}"
        )

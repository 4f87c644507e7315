"""Keep dbt's manifest prepared, so loading the Dagster definitions never waits on a parse
unless the dbt project changed since the last one."""

from __future__ import annotations

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
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source(project_dir):
        return manifest
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
    return manifest

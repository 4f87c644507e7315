"""dbt's parse state between runs.

dbt re-parses the whole project when its profile (warehouse path, DuckDB settings, target) or
vars differ from the saved parse state. Each run's state is kept under a key of those settings,
so the next run with the same settings parses only what changed, even when runs with other
settings (tests, a second warehouse) happen in between."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

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

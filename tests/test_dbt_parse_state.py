"""What makes reusing dbt's parse state across warehouse paths sound
(orchestration/transform/parse_state.py): the project parses the same wherever the warehouse
file lives, because nothing in it reads the profile's path. tests/test_incremental.py checks
that a run in a new warehouse really parses partially."""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR

READS_PATH = re.compile(r"target\s*(\.\s*path|\[\s*['\"]path['\"]\s*\])")


def test_no_model_macro_or_config_reads_the_warehouse_path():
    files = [p for folder in ("models", "macros", "seeds", "snapshots", "tests", "analyses")
             for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.suffix in (".sql", ".yml")]
    files.append(DBT_PROJECT_DIR / "dbt_project.yml")
    assert len(files) > 50
    readers = [str(p) for p in files if READS_PATH.search(p.read_text())]
    assert readers == []


# The profile's hashes as a run computes them (orchestration/transform/parse_state.py), in a
# fresh interpreter, and whether dbt was imported to get them.
PROFILE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from orchestration.transform.parse_state import _profile
    profile = _profile(Path(sys.argv[1]), "duckdb")
    print(json.dumps([profile.checksum, profile.key, "dbt.config.profile" in sys.modules]))
""")


def _profile_in_a_new_process(project: Path, warehouse: Path) -> list:
    env = {**os.environ, "SALESPIPE_WAREHOUSE": str(warehouse)}
    done = subprocess.run([sys.executable, "-c", PROFILE, str(project)], check=True, env=env,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_run_with_known_settings_gets_the_profile_hash_without_importing_dbt(tmp_path):
    """Rendering the profile imports dbt (seconds of the run's start-up); a run with the
    settings of an earlier one reuses the hashes rendered then, and other settings (another
    warehouse path) are rendered by dbt again, not taken from the kept ones."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(DBT_PROJECT_DIR / "profiles.yml", project)
    first = _profile_in_a_new_process(project, tmp_path / "a" / "warehouse.duckdb")
    again = _profile_in_a_new_process(project, tmp_path / "a" / "warehouse.duckdb")
    elsewhere = _profile_in_a_new_process(project, tmp_path / "b" / "warehouse.duckdb")
    assert first[2] and not again[2] and elsewhere[2]  # dbt imported: rendered by dbt
    assert again[:2] == first[:2]
    # the path is in dbt's hash, not in the key of the kept parse state
    assert elsewhere[0] != first[0] and elsewhere[1] == first[1]

"""What makes reusing dbt's parse state across warehouse paths sound
(orchestration/transform/parse_state.py): the project parses the same wherever the warehouse
file lives, because nothing in it reads the profile's path. tests/test_incremental.py checks
that a run in a new warehouse really parses partially."""

import re

from orchestration.settings import DBT_PROJECT_DIR

READS_PATH = re.compile(r"target\s*(\.\s*path|\[\s*['\"]path['\"]\s*\])")


def test_no_model_macro_or_config_reads_the_warehouse_path():
    files = [p for folder in ("models", "macros", "seeds", "snapshots", "tests", "analyses")
             for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.suffix in (".sql", ".yml")]
    files.append(DBT_PROJECT_DIR / "dbt_project.yml")
    assert len(files) > 50
    readers = [str(p) for p in files if READS_PATH.search(p.read_text())]
    assert readers == []

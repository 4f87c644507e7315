"""BI tools can open the publication: the file `salespipe run` published from the bundled samples
(the session's `seeds_build`) read by the clients BI tools embed, not by this DuckDB.

- the oldest DuckDB the README promises and the current 1.x LTS, each in its own virtualenv
  (tests/bi_clients.py): every mart read whole, the dbt descriptions there as comments;
- SQLAlchemy with duckdb-engine, read-only, as Superset connects: the `marts` schema lists the
  dbt marts and nothing else, every mart read whole, the table comments reflected.

The same readers during a nightly run: tests/test_operations.py.
"""

import json
import subprocess

import pytest
from bi_clients import DUCKDB_READER, LTS, OLDEST, SQLALCHEMY_READER

from benchmarks.duckdb_releases import duckdb_python
from orchestration.publish.comments import MartDoc
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.transform.manifest import mart_docs


@pytest.fixture(scope="module")
def published(seeds_build):
    assert seeds_build.result.returncode == 0, seeds_build.result.stderr[-2000:]
    return seeds_build.warehouse.parent / "published" / "warehouse.duckdb"


@pytest.fixture(scope="module")
def marts() -> dict[str, MartDoc]:
    """The dbt marts and their descriptions, from the manifest the run published with."""
    return mart_docs(DBT_PROJECT_DIR / "target" / "manifest.json", "marts")


def _read(python, script: str, published) -> dict:
    out = subprocess.run([str(python), "-c", script, str(published)], check=False,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def _one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("version", [OLDEST, LTS])
def test_older_duckdb_reads_every_mart_and_its_comments(published, marts, version):
    seen = _read(duckdb_python(version), DUCKDB_READER, published)
    assert "error" not in seen, seen
    assert seen["duckdb"] == version
    assert seen["tables"] == sorted(marts) and seen["consistent"], seen["rows"]
    assert seen["rows"]["fct_deals"] > 0
    for name, doc in marts.items():
        assert seen["comments"].get(name) == _one_line(doc.description), name
        for column, text in doc.columns.items():
            if text:
                assert seen["comments"].get(f"{name}.{column}") == _one_line(text), column
    described = sum(1 for key in seen["comments"] if "." in key)
    assert described >= 150  # most columns of the marts are described in the dbt yml


def test_sqlalchemy_duckdb_engine_reads_the_marts_schema_read_only(published, marts):
    import sys

    seen = _read(sys.executable, SQLALCHEMY_READER, published)
    assert "error" not in seen, seen
    assert seen["tables"] == sorted(marts)  # the marts and nothing else: no helper tables
    assert seen["consistent"], seen["rows"]
    assert seen["comments"]["fct_deals"] == _one_line(marts["fct_deals"].description)

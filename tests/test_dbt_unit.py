"""dbt unit tests (the hand-worked cases in models/**/_*unit_tests.yml), run once here.

Pipeline runs leave them out (`dbt build --exclude-resource-type unit_test`): they check the
SQL, not the night's data. They need their models' parents to exist, so they run against a copy
of the warehouse that `salespipe run` built from the samples.
"""

import json
import os
from pathlib import Path

import yaml
from conftest import dbt_cli

PROJECT = Path(__file__).parent.parent / "dbt_project"


def _defined_unit_tests() -> set[str]:
    names = set()
    for path in (PROJECT / "models").rglob("*.yml"):
        names.update(t["name"] for t in (yaml.safe_load(path.read_text()) or {})
                     .get("unit_tests", []))
    return names


def test_every_dbt_unit_test_passes(seeds_build, tmp_path):
    assert seeds_build.result.returncode == 0, seeds_build.result.stderr[-2000:]
    warehouse = seeds_build.copy_to(tmp_path)
    target = tmp_path / "target"
    result = dbt_cli(
        ["test", "--select", "test_type:unit", "--log-path", str(tmp_path / "logs")], target,
        {**os.environ, "SALESPIPE_WAREHOUSE": str(warehouse), "SALESPIPE_AS_OF": "2026-10-31",
         "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}, timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:]
    ran = [r for r in json.loads((target / "run_results.json").read_text())["results"]
           if r["unique_id"].startswith("unit_test.")]
    assert {r["unique_id"].split(".")[-1] for r in ran} == _defined_unit_tests()
    assert all(r["status"] == "pass" for r in ran)

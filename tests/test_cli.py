"""`salespipe` as a user calls it."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb

SEEDS = Path(__file__).parent.parent / "seeds"


def salespipe(*args, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd, check=False,
        timeout=600,
    )


def test_run_on_the_bundled_samples_builds_every_format(seeds_build):
    result, warehouse = seeds_build.result, seeds_build.warehouse
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert f"Warehouse: {warehouse}" in out and "marts.fct_deals" in out
    assert "Deals flagged for pipeline cleaning:" in out
    con = duckdb.connect(str(warehouse), read_only=True)
    per_source = dict(con.execute(
        "select source_system, count(*) from marts.fct_deals group by 1").fetchall())
    assert set(per_source) == {"hubspot", "activecampaign", "pipedrive_export"}
    outcomes = {r[0] for r in con.execute("select distinct outcome from marts.fct_deals").fetchall()}
    assert outcomes == {"open", "won", "lost"}
    directions = {r[0] for r in con.execute(
        "select distinct direction from marts.fct_deal_stage_transitions").fetchall()}
    assert {"created", "forward", "skip", "backward", "reopen"} <= directions
    assert con.execute("select count(*) from marts.fct_activities").fetchall()[0][0] > 0
    con.close()


def test_run_with_a_missing_source_folder_says_what_to_fix(tmp_path):
    result = salespipe("run", "--source-dir", str(tmp_path / "nope"),
                       "--warehouse", str(tmp_path / "w.duckdb"))
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "SALESPIPE_SOURCE_DIR" in result.stderr


def test_bad_as_of_is_refused(tmp_path):
    result = salespipe("run", "--as-of", "31/10/2026", "--warehouse", str(tmp_path / "w.duckdb"))
    assert result.returncode == 1 and "2026-10-31" in result.stderr


def test_unknown_dbt_log_level_is_refused_naming_the_variable(tmp_path):
    result = salespipe("run", "--warehouse", str(tmp_path / "w.duckdb"),
                       env={"SALESPIPE_DBT_LOG_FILE": "verbose"})
    assert result.returncode == 1
    assert "SALESPIPE_DBT_LOG_FILE" in result.stderr and "debug" in result.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_generate_writes_every_format(tmp_path):
    result = salespipe("generate", "--out", str(tmp_path), "--deals", "30", "--seed", "3")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "hubspot" / "deals.csv").exists()
    assert (tmp_path / "activecampaign" / "deals.json").exists()
    assert (tmp_path / "generic" / "mapping.yml").exists()


def test_prepare_leaves_a_manifest_no_run_needs_to_parse_again():
    from orchestration.settings import DBT_PROJECT_DIR
    from orchestration.transform.manifest import _fresh

    result = salespipe("prepare")
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    assert f"dbt manifest ready: {manifest}" in result.stdout
    assert _fresh(manifest, DBT_PROJECT_DIR)

"""The benchmark at scale S, through its command line: full run, reference script, the next
night's delta and the incremental run, with figures per phase and per dbt node (benchmarks/).
`--nights N` repeats the night; what it needs from the drops (new ids every day) is checked on
the drops themselves, which costs seconds instead of another pipeline run.

Its times are figures to report, not pass/fail limits: this checks that the figures are there
and describe the runs they claim to (the delta reached the marts, the reference script did the
same core work, the dbt breakdown adds up to no more than the dbt phase)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from benchmarks.delta import write_delta

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("startup", "ingest", "dbt", "checks", "publish_report", "finish")


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench")
    out = work / "S.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESPIPE_")}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--scale", "S", "--workdir", str(work),
         "--json", str(out)],
        # a guard against a hung run, not a time limit: a loaded 2-core machine is slow
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(out.read_text()), result.stdout


def test_each_run_reports_every_phase_and_its_peak_memory(bench):
    report, _ = bench
    for name in ("full", "incremental"):
        run = report[name]
        assert set(run["phases"]) == set(PHASES)
        covered = sum(p["seconds"] for p in run["phases"].values())
        # the phases are disjoint windows of the run: together they fit in its wall time. How
        # much of it they cover is not asserted: the gaps between steps grow with the load.
        assert covered <= run["wall_seconds"] + 0.5, run
        assert run["phases"]["dbt"]["seconds"] > 0 and run["phases"]["ingest"]["seconds"] > 0
        assert 100 < run["peak_mb"] < 4096, run["peak_mb"]
        assert run["peak_mb"] == max(p["peak_mb"] for p in run["phases"].values())
    ratios = report["ratios"]
    assert ratios["incremental / full (target L <= 0.20, M <= 0.35)"] == round(
        report["incremental"]["wall_seconds"] / report["full"]["wall_seconds"], 3)


def test_the_incremental_night_landed_the_delta_and_the_reference_did_the_same_work(bench):
    report, _ = bench
    full, night = report["full"]["mart_rows"], report["incremental"]["mart_rows"]
    new_activities = sum(fmt["activities"] for fmt in report["delta"].values())
    assert new_activities > 0
    assert night["fct_activities"] == full["fct_activities"] + new_activities
    assert night["fct_deals"] > full["fct_deals"]
    # the first night's scoring of every contact, then the second night's changes only
    assert full["lead_scores"] <= night["lead_score_history"] < 2 * full["lead_scores"]
    # the reference script lands the same files and builds the same core outputs (issue 26)
    counts = report["reference"]["counts"]
    assert counts["transitions"] == full["fct_deal_stage_transitions"]
    assert counts["contacts"] == full["dim_contacts"]
    assert counts["owners"] == full["dim_owners"]
    assert counts["funnel_rows"] == full["stage_funnel"]


def test_successive_drops_add_new_records_instead_of_rewriting_the_last_ones(tmp_path):
    """`--nights N` lands a drop per day: each day's new deals and activities need ids of their
    own, or night 2 would rewrite night 1's records and show nothing about history."""
    export = tmp_path / "export"
    shutil.copytree(ROOT / "seeds", export)
    originals = _ids(export)
    drops = [write_delta(export, dt.date(2026, 11, day), fraction=0.01) for day in (1, 2)]
    assert all(d["hubspot"]["activities"] > 0 for d in drops)
    first, second = _ids(export, "20261101"), _ids(export, "20261102")
    for fmt in ("hubspot", "generic", "activecampaign"):
        # every activity of a drop is new; a drop's deals are changed ones (night 1's new deals
        # among them, possibly) and new ones, which no earlier file has
        seen = originals[f"{fmt} activities"] | first[f"{fmt} activities"]
        assert first[f"{fmt} activities"] and second[f"{fmt} activities"], fmt
        assert not second[f"{fmt} activities"] & seen, fmt
        assert second[f"{fmt} deals"] - originals[f"{fmt} deals"] - first[f"{fmt} deals"], fmt


def _ids(export: Path, tag: str = "") -> dict[str, set[str]]:
    """Ids per format and object: of the full export's files, or of one day's drop files."""
    con = duckdb.connect()
    suffix = f"-delta-{tag}" if tag else ""

    def csv(fmt, name, column):
        files = [str(p) for p in (export / fmt).glob(f"{name}*.csv")
                 if (tag and p.stem.endswith(suffix)) or (not tag and "-delta-" not in p.stem)]
        return {r[0] for r in con.execute(
            f"select \"{column}\" from read_csv(?, all_varchar = true)", [files]).fetchall()}

    def ac(name):
        pattern = f"{name}{suffix}.json" if tag else f"{name}*.json"
        files = [str(p) for p in (export / "activecampaign").glob(pattern)
                 if tag or "-delta-" not in p.stem]
        return {r[0] for r in con.execute(
            f"select cast(unnest({name}).id as varchar) from read_json(?, "
            "maximum_object_size = 2000000000)", [files]).fetchall()}

    mapping = yaml.safe_load((export / "generic" / "mapping.yml").read_text())
    ids = {"hubspot deals": csv("hubspot", "deals", "Record ID"),
           "hubspot activities": csv("hubspot", "activities", "Record ID"),
           "generic deals": csv("generic", "deals", mapping["deals"]["columns"]["deal_id"]),
           "generic activities": csv("generic", "activities",
                                     mapping["activities"]["columns"]["activity_id"]),
           "activecampaign deals": ac("deals"), "activecampaign activities": ac("activities")}
    con.close()
    return ids


def test_the_dbt_phase_is_broken_down_by_node(bench):
    report, stdout = bench
    for name in ("full", "incremental"):
        nodes, dbt_phase = report[name]["dbt_nodes"], report[name]["phases"]["dbt"]["seconds"]
        groups = nodes["groups"]
        assert {"models: staging", "models: intermediate", "models: marts", "test"} <= set(
            groups), groups
        assert groups["test"]["nodes"] > 100
        # two dbt threads (SALESPIPE_DBT_THREADS): the nodes' own times fit inside twice the
        # phase they ran in
        assert nodes["threads"] == 2
        assert 0 < sum(g["seconds"] for g in groups.values()) <= 2 * dbt_phase + 0.5
        labels = [label for label, _ in nodes["slowest"]]
        assert len(labels) == 12 and all(label.split()[0] in {"model", "test", "seed", "snapshot"}
                                         for label in labels), labels
        seconds = [s for _, s in nodes["slowest"]]
        assert seconds == sorted(seconds, reverse=True)
    assert "slowest dbt nodes, incremental run:" in stdout
    assert "models: marts" in stdout

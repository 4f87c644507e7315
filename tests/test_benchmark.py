"""The benchmark at scale S, through its command line: full run, reference script, then two
nights, each landing its own delta and running incrementally, with figures per phase and per
dbt node (benchmarks/).

Its times are figures to report, not pass/fail limits: this checks that the figures are there
and describe the runs they claim to (the delta reached the marts, the reference script did the
same core work, the dbt breakdown adds up to no more than the dbt phase)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("startup", "ingest", "dbt", "checks", "publish_report", "finish")


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench")
    out = work / "S.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESPIPE_")}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--scale", "S", "--workdir", str(work),
         "--nights", "2", "--json", str(out)],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(out.read_text()), result.stdout


def test_each_run_reports_every_phase_and_its_peak_memory(bench):
    report, _ = bench
    for name in ("full", "incremental"):
        run = report[name]
        assert set(run["phases"]) == set(PHASES)
        covered = sum(p["seconds"] for p in run["phases"].values())
        # the phases are consecutive windows of the run: together they are its wall time
        assert 0.8 * run["wall_seconds"] <= covered <= run["wall_seconds"] + 0.5, run
        assert run["phases"]["dbt"]["seconds"] > 0 and run["phases"]["ingest"]["seconds"] > 0
        assert 100 < run["peak_mb"] < 4096, run["peak_mb"]
        assert run["peak_mb"] == max(p["peak_mb"] for p in run["phases"].values())
    ratios = report["ratios"]
    assert ratios["incremental / full (target <= 0.15)"] == round(
        report["incremental"]["wall_seconds"] / report["full"]["wall_seconds"], 3)


def test_the_incremental_night_landed_the_delta_and_the_reference_did_the_same_work(bench):
    report, _ = bench
    full, night = report["full"]["mart_rows"], report["incremental"]["mart_rows"]
    new_activities = sum(fmt["activities"] for fmt in report["delta"].values())
    assert new_activities > 0
    assert night["fct_activities"] == full["fct_activities"] + new_activities
    assert night["fct_deals"] > full["fct_deals"]
    assert night["lead_score_history"] == 2 * full["lead_scores"]  # a second scoring date
    # the reference script builds the same stage transitions from the same exports
    assert report["reference"]["counts"]["transitions"] == full["fct_deal_stage_transitions"]


def test_each_night_adds_its_own_delta(bench):
    """Night 2's drop has new ids of its own: its activities and deals add to night 1's
    instead of rewriting them, so a run of nights shows what history does to a night's cost."""
    report, stdout = bench
    first, second = report["nights"]
    assert report["incremental"] == first
    assert (first["as_of"], second["as_of"]) == ("2026-11-01", "2026-11-02")
    rows, added = second["mart_rows"], sum(f["activities"] for f in second["delta"].values())
    assert added > 0
    assert rows["fct_activities"] == first["mart_rows"]["fct_activities"] + added
    assert rows["fct_deals"] > first["mart_rows"]["fct_deals"]
    assert rows["lead_score_history"] == 3 * rows["lead_scores"]  # three scoring dates
    assert report["ratios"]["night 2 / night 1"] == round(
        second["wall_seconds"] / first["wall_seconds"], 3)
    assert "2026-11-02" in stdout


def test_the_dbt_phase_is_broken_down_by_node(bench):
    report, stdout = bench
    for name in ("full", "incremental"):  # the table and the JSON carry the first night
        nodes, dbt_phase = report[name]["dbt_nodes"], report[name]["phases"]["dbt"]["seconds"]
        groups = nodes["groups"]
        assert {"models: staging", "models: intermediate", "models: marts", "test"} <= set(
            groups), groups
        assert groups["test"]["nodes"] > 100
        # one dbt thread: the nodes' own times fit inside the phase they ran in
        assert 0 < sum(g["seconds"] for g in groups.values()) <= dbt_phase + 0.5
        labels = [label for label, _ in nodes["slowest"]]
        assert len(labels) == 12 and all(label.split()[0] in {"model", "test", "seed", "snapshot"}
                                         for label in labels), labels
        seconds = [s for _, s in nodes["slowest"]]
        assert seconds == sorted(seconds, reverse=True)
    assert "slowest dbt nodes, incremental run:" in stdout
    assert "models: marts" in stdout

"""The benchmark's plumbing for a Spark cluster (benchmarks/run.py --spark-cluster): the cluster's
settings reach the measured runs, the cluster's JVMs (outside the run's process tree) are counted
in its memory and CPU, and --record lands its row in RESULTS.md's Runs table. No cluster starts
here: a process tree of our own stands in for its JVMs (the real one's executors are checked in
tests/test_spark.py, on that file's cluster)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

from benchmarks.run import ROOT, measure, pipeline_env, record, tree_rss_mb

# A parent (the "worker") whose child (the "executor") holds ~300 MB and burns CPU until killed.
BUSY_TREE = """
import subprocess, sys
child = "x = bytearray(300 * 2**20)\\nwhile True: x[0] = (x[0] + 1) % 256"
subprocess.run([sys.executable, "-c", child])
"""


def test_spark_settings_and_the_raw_folder_reach_the_runs(monkeypatch, tmp_path):
    """A cluster of one's own (SALESPIPE_SPARK_REMOTE) and where it reads the raw layer
    (SALESPIPE_RAW_DIR) pass; the rest of SALESPIPE_* is the benchmark's own."""
    monkeypatch.setenv("SALESPIPE_SPARK_REMOTE", "sc://127.0.0.1:15002")
    monkeypatch.setenv("SALESPIPE_RAW_DIR", "/shared/raw")
    monkeypatch.setenv("SALESPIPE_PUBLISH_DIR", "/somewhere/else")
    env = pipeline_env(tmp_path / "export", tmp_path, dt.date(2026, 10, 31), "spark")
    assert env["SALESPIPE_SPARK_REMOTE"] == "sc://127.0.0.1:15002"
    assert env["SALESPIPE_RAW_DIR"] == "/shared/raw"
    assert "SALESPIPE_PUBLISH_DIR" not in env
    assert env["SALESPIPE_DATA_DIR"] == str(tmp_path) and env["SALESPIPE_ENGINE"] == "spark"


def test_a_clusters_processes_count_in_the_runs_memory_and_cpu(tmp_path):
    """A measured step (the reference script on the sample) with a busy process tree given as
    the cluster: the tree's child, not only its root, is in the peak memory and the CPU."""
    cluster = subprocess.Popen([sys.executable, "-c", BUSY_TREE], start_new_session=True)
    try:
        while tree_rss_mb(cluster.pid) < 300:  # the child has its memory: it spins now
            time.sleep(0.1)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        run = measure("reference", [str(ROOT / "seeds"), "2026-10-31", str(tmp_path / "r.duckdb")],
                      env, tmp_path / "r.json", tmp_path / "r.log", [cluster.pid])
    finally:
        os.killpg(cluster.pid, signal.SIGKILL)  # the group: the spinning child with its parent
        cluster.wait()
    assert run.cluster_peak_mb > 300, run.cluster_peak_mb
    assert run.peak() > run.cluster_peak_mb + 50  # and the step's own process
    # the child spins all along (a share of a core on a loaded machine); its parent waits
    assert run.cluster_cpu_seconds > 0.1 * run.seconds, (run.cluster_cpu_seconds, run.seconds)
    assert run.cpu_seconds > 0.2  # the step's own CPU, apart


def test_record_appends_to_the_runs_table(tmp_path):
    results = tmp_path / "RESULTS.md"
    before = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    results.write_text(before)
    record(REPORT, results)
    after = results.read_text().splitlines()
    runs = after.index("## Runs")
    row = next(i for i, line in enumerate(after) if "| 2099-01-01 00:00 UTC | M |" in line)
    assert runs < row and after[row - 1].startswith("| ") and not after[row + 1].startswith("|")
    assert "| 1200.0 (60/900/40/20) | 400.0 (10/300/20/10) | - | - | 0.333 | 9000 |" in after[row]
    assert after[:row] + after[row + 1:] == before.splitlines()


def _run(total: float, ingest: float, dbt: float, checks: float, publish: float) -> dict:
    phases = {"ingest": ingest, "dbt": dbt, "checks": checks, "publish_report": publish}
    return {"wall_seconds": total, "phases": {k: {"seconds": v} for k, v in phases.items()}}


REPORT = {"date": "2099-01-01 00:00 UTC", "scale": "M", "engine": "spark on a cluster",
          "sources": {"deals": 100_002, "activities": 2_000_000},
          "full": _run(1200, 60, 900, 40, 20), "incremental": _run(400, 10, 300, 20, 10),
          "ratios": {"incremental / full (target L <= 0.20, M <= 0.35)": 0.333,
                     "peak MB (target < 4096 at L)": 9000.0},
          "load_before": (0.1, 0.1, 0.1), "load_after": (2.0, 2.0, 2.0), "machine": "vm",
          "command": "python -m benchmarks.run --scale M"}


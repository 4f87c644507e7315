"""A Spark cluster that does not answer stops a run before it ingests anything, whichever way
the run starts: `salespipe run` (the CLI checks first) or the nightly schedule and the export
sensor (the job's runs check as they start, in the warehouse resource). No cluster runs here:
the address is a free port nobody listens on."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
from spark_cluster import free_port

from orchestration.pipeline import failed_steps
from orchestration.settings import DBT_PROJECT_DIR


def _unreachable() -> str:
    return f"sc://127.0.0.1:{free_port()}/;token=s3cr3t-t0ken"


def test_a_cluster_that_does_not_answer_stops_the_run_before_ingest(tmp_path):
    """Nothing listens on the port: `salespipe run` stops at once, before ingest, naming
    SALESPIPE_SPARK_REMOTE, and the token in the URL appears nowhere."""
    env = {**os.environ, "SALESPIPE_DATA_DIR": str(tmp_path),
           "SALESPIPE_SPARK_REMOTE": _unreachable(),
           "SALESPIPE_SOURCE_DIR": str(DBT_PROJECT_DIR.parent / "seeds")}
    env.pop("SALESPIPE_WAREHOUSE", None)
    started = time.monotonic()
    result = subprocess.run([str(Path(sys.executable).parent / "salespipe"), "run",
                             "--engine", "spark"], env=env, capture_output=True, text=True,
                            timeout=500, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "SALESPIPE_SPARK_REMOTE=sc://127.0.0.1:" in output and "token=***" in output, output
    assert "s3cr3t" not in output
    assert not (tmp_path / "warehouse.duckdb").exists(), "ingest ran"
    # it did not wait on pyspark's retries (>= 612 s); a loaded machine starts the CLI slowly
    assert time.monotonic() - started < 500


def test_a_scheduled_run_checks_the_cluster_before_ingest(tmp_path, monkeypatch):
    """The nightly schedule and the export sensor launch the `everything` job, not the CLI:
    a run of it fails before its first step (an ingest) starts, with the CLI's message."""
    from orchestration.definitions import defs

    monkeypatch.setenv("SALESPIPE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SALESPIPE_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("SALESPIPE_ENGINE", "spark")
    monkeypatch.setenv("SALESPIPE_SPARK_REMOTE", _unreachable())
    definitions = defs()
    assert definitions.get_schedule_def("nightly").job_name == "everything"
    assert definitions.get_sensor_def("export_drop").job_name == "everything"
    result = definitions.resolve_job_def("everything").execute_in_process(
        asset_selection=[dg.AssetKey(["raw", "activecampaign_deals"])], raise_on_error=False,
        instance=dg.DagsterInstance.ephemeral())
    assert not result.success
    assert "STEP_START" not in {e.event_type_value for e in result.all_events}
    [(_, message)] = failed_steps(result)
    assert message.startswith("the Spark cluster at SALESPIPE_SPARK_REMOTE=sc://127.0.0.1:")
    assert "token=***" in message and "does not answer (Connection refused)" in message
    assert "s3cr3t" not in message
    assert not (tmp_path / "warehouse.duckdb").exists(), "ingest ran"

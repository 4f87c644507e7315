"""A Spark cluster that does not answer stops a run before it ingests anything, whichever way
the run starts: `salespipe run` (the CLI checks first) or the nightly schedule and the export
sensor (the job's runs check as they start, in the warehouse resource); one that hangs during
the build stops it. No cluster runs here: the address is a free port nobody listens on, or one
that accepts connections and never answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
from spark_cluster import free_port

from orchestration.engines.watch import ClusterWatch
from orchestration.pipeline import failed_steps
from orchestration.settings import DBT_PROJECT_DIR, EngineSettings


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


def test_a_cluster_that_hangs_during_the_build_stops_it(tmp_path):
    """A Connect server that hangs (a stopped JVM) still has its port accepting connections:
    the kernel completes them. The watch waits for the server's gRPC handshake too, so dbt (a
    sleeping process stands in for it) is stopped after SALESPIPE_SPARK_LOST_AFTER."""
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    # never accepted, never answered; a backlog as long as a JVM server's (Netty asks for the
    # system's maximum), so the watch's connections do not fill it up
    hung.listen(socket.SOMAXCONN)
    remote = f"sc://127.0.0.1:{hung.getsockname()[1]}"
    settings = EngineSettings(engine="spark", raw_dir=str(tmp_path / "raw"),
                              spark_dir=tmp_path / "spark", spark_method="session",
                              file_format="parquet", spark_remote=remote, spark_lost_after=2)
    dbt = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    watch = ClusterWatch(settings, dbt).start()
    try:
        assert dbt.wait(timeout=30) != 0  # stopped, not ended by itself
    finally:
        dbt.kill()
        hung.close()
    lost = watch.stop()
    assert f"SALESPIPE_SPARK_REMOTE={remote} stopped answering during the dbt build" in lost
    assert "the port accepts connections but the server does not answer" in lost

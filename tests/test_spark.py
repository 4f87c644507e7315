"""The same dbt project on Apache Spark and on DuckDB, the Spark side on a running standalone
cluster reached through Spark Connect (SALESPIPE_SPARK_REMOTE), as a team's cluster would be.

The bundled demo (seeds/, as of 2026-10-31) is built once on DuckDB (the shared `seeds_build`)
and once on the cluster from the same raw tables (written as Parquet to a folder the cluster
reads, declared there as external tables), then every mart is compared row by row. One Spark
build for the whole file: the cluster (tests/spark_cluster.py: a master, one worker, a Connect
server, all from the installed pyspark) starts once per module. It replaced the local[*]
build this file used to run: both were the same dbt-spark SQL on the same Spark, and two
Spark builds did not fit the suite's time (the measure is in the README). dbt's data tests are not run on Spark here
(about a second each there; they run on DuckDB in every other test), only the models, seeds and
the snapshot.

Tolerance: floating-point columns (and decimals, which Spark gives where DuckDB gives doubles)
match when |duckdb - spark| <= 1e-6 + 1e-9 * |spark|: sums and averages of doubles differ in
their last bits with the order an engine adds them in, and the marts that round to 6 decimals
(pipeline_daily) can then round a value either side of its last digit. Everything else (text,
integers, dates, timestamps, booleans, nulls) must be exactly equal, in every column (no mart
holds the time of the run that built it: times are measured against the as-of date).
"""

from __future__ import annotations

import decimal
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from spark_cluster import StandaloneCluster

from orchestration.engines import local_marts
from orchestration.engines.connect import ConnectReader
from orchestration.engines.java import JavaError, check_java, parse_major
from orchestration.engines.raw_parquet import export_raw
from orchestration.publish.delta import BUILT_AT
from orchestration.publish.publication import current as current_publication
from orchestration.settings import DBT_PROJECT_DIR, apply_defaults

AS_OF = "2026-10-31"
REL_TOL, ABS_TOL = 1e-9, 1e-6
DBT = str(Path(sys.executable).parent / "dbt")


def spark_env(root: Path, remote: str) -> dict[str, str]:
    """Environment of a dbt run on the cluster at `remote`, every client file under `root`.
    JAVA_HOME names a folder without Java: a local JVM started by mistake fails the build."""
    apply_defaults()  # the Spark connection variables profiles.yml reads
    (root / "no-java").mkdir(exist_ok=True)
    return {**os.environ, "SALESPIPE_ENGINE": "spark", "SALESPIPE_DATA_DIR": str(root),
            "SALESPIPE_SPARK_DIR": str(root / "spark"), "SALESPIPE_RAW_DIR": str(root / "raw"),
            "SALESPIPE_WAREHOUSE": str(root / "warehouse.duckdb"),
            "DBT_ENV_SECRET_SALESPIPE_SPARK_REMOTE": remote, "JAVA_HOME": str(root / "no-java"),
            "SALESPIPE_SPARK_FILE_FORMAT": "parquet",
            # the sample's tables are small: one shuffle partition spares the cluster's JVMs
            # the CPU of tasks with nothing to do (a third of the suite's CPU was this build)
            "SALESPIPE_SPARK_SHUFFLE_PARTITIONS": "1"}


def dbt_spark(project: Path, root: Path, args: list[str], raw_tables: list[str], remote: str):
    """`dbt <args>` on the `spark_connect` target, run from `root` (so nothing lands in the
    repo)."""
    cmd = [DBT, *args, "--project-dir", str(project), "--profiles-dir", str(project),
           "--target", "spark_connect", "--target-path", str(root / "target"),
           "--log-path", str(root / "logs"),
           "--vars", json.dumps({"as_of": AS_OF, "raw_tables": raw_tables})]
    return subprocess.run(cmd, cwd=root, env=spark_env(root, remote), capture_output=True,
                          text=True, timeout=1800, check=False)  # a hang only: ~5 min here, x3 under load


# A model a later change might add with DuckDB-only SQL (quantile_cont instead of the
# percentile_cont macro of macros/portable.sql): the Spark build must fail on it. It reads a
# seed only, so it runs (and fails) whatever else fails.
PROBE = "portability_probe"
PROBE_SQL = """
select quantile_cont(limit_days, 0.9) as p90_limit_days
from {{ ref('alert_stage_limits') }}
"""


class SparkBuild:
    def __init__(self, root: Path, duck: Path, results: dict[str, dict], seconds: float,
                 cluster: StandaloneCluster):
        self.root, self.duck, self.results, self.seconds = root, duck, results, seconds
        self.cluster = cluster
        self.settings = cluster.settings(raw_dir=str(root / "raw"), spark_dir=root / "spark")
        self.reader = ConnectReader(self.settings)


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory):
    """One standalone cluster for the module, stopped (every process) whatever the tests do.
    Launched only: its JVMs start while `seeds_build` builds on DuckDB."""
    cluster = StandaloneCluster(tmp_path_factory.mktemp("spark_cluster"))
    try:
        yield cluster.launch()
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def spark_build(spark_cluster, seeds_build, tmp_path_factory) -> SparkBuild:
    """The demo's raw tables (from the DuckDB build) as Parquet, and every model, seed and the
    snapshot built from them on the cluster, from a copy of dbt_project/ that also holds the
    DuckDB-only probe model (one build for both)."""
    assert seeds_build.result.returncode == 0, seeds_build.result.stderr[-3000:]
    print(f"standalone cluster answers {spark_cluster.wait():.1f} s after its start")
    root = tmp_path_factory.mktemp("spark_build")
    duck = seeds_build.copy_to(root / "duck")
    con = duckdb.connect(str(duck), read_only=True)
    try:
        raw_tables = sorted(export_raw(con, str(root / "raw")))
    finally:
        con.close()
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (project / "models" / "marts" / f"{PROBE}.sql").write_text(PROBE_SQL)
    started = time.monotonic()
    result = dbt_spark(project, root, ["build", "--resource-type", "model", "seed", "snapshot"],
                       raw_tables, spark_cluster.remote)
    seconds = time.monotonic() - started
    run_results = root / "target" / "run_results.json"
    assert run_results.is_file(), result.stdout[-6000:] + result.stderr[-3000:]
    results = {r["unique_id"].split(".")[-1]: r
               for r in json.loads(run_results.read_text())["results"]}
    print(f"dbt on the standalone cluster: {seconds:.1f} s, {len(results)} nodes")
    return SparkBuild(root, duck, results, seconds, spark_cluster)


def test_every_model_builds_on_spark(spark_build):
    failed = {name: r["message"] for name, r in spark_build.results.items()
              if r["status"] != "success" and name != PROBE}
    assert not failed, json.dumps(failed, indent=1)
    assert len(spark_build.results) > 40


def test_duckdb_only_sql_fails_the_spark_build(spark_build):
    """What keeps the project portable: a model with DuckDB-only SQL does not build on Spark
    (so test_every_model_builds_on_spark fails when one is added to dbt_project/)."""
    probe = spark_build.results[PROBE]
    assert probe["status"] == "error"
    assert "quantile_cont" in probe["message"]


def _marts(duck: Path) -> list[str]:
    con = duckdb.connect(str(duck), read_only=True)
    try:
        return [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name").fetchall()]
    finally:
        con.close()


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Comparable values: timestamps without zone, decimals as floats, NaN/NaT as None, rows
    sorted on the columns that are not floats, columns by name."""
    frame = frame[sorted(frame.columns)].copy()
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            if getattr(series.dt, "tz", None) is not None:
                series = series.dt.tz_convert("UTC").dt.tz_localize(None)
            frame[column] = series.astype("datetime64[us]")
        elif series.dtype == object:
            frame[column] = series.map(_plain)
    return frame.astype(object).where(frame.notna(), None)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys or list(frame.columns), key=lambda s: s.map(repr),
                             ignore_index=True)


def _plain(value):
    """dates and timestamps as pandas Timestamps, numpy scalars as Python ones."""
    if hasattr(value, "isoformat") and not isinstance(value, pd.Timestamp):
        return pd.Timestamp(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _is_float(series: pd.Series) -> bool:
    return any(isinstance(v, float) for v in series.dropna()[:50])


def _differences(duck: pd.DataFrame, spark: pd.DataFrame) -> list[str]:
    """Columns and rows that differ; floats within REL_TOL count as equal."""
    if sorted(duck.columns) != sorted(spark.columns):
        return [f"columns: duckdb {sorted(duck.columns)} vs spark {sorted(spark.columns)}"]
    if len(duck) != len(spark):
        return [f"rows: duckdb {len(duck)} vs spark {len(spark)}"]
    duck, spark = _normalise(duck), _normalise(spark)
    # Rows are matched on the columns that hold no float on either side.
    keys = [c for c in duck.columns if not (_is_float(duck[c]) or _is_float(spark[c]))]
    duck, spark = _sorted(duck, keys), _sorted(spark, keys)
    problems = []
    for column in duck.columns:
        for i, (a, b) in enumerate(zip(duck[column], spark[column], strict=True)):
            if a is None or b is None:
                same = a is None and b is None
            elif isinstance(a, float) or isinstance(b, float):
                same = bool(np.isclose(float(a), float(b), rtol=REL_TOL, atol=ABS_TOL))
            else:
                same = a == b
            if not same:
                problems.append(f"{column} row {i}: duckdb {a!r} vs spark {b!r}")
                break
    return problems


def test_every_mart_equal_on_duckdb_and_spark(spark_build):
    marts = _marts(spark_build.duck)
    assert {"fct_deals", "fct_deal_stage_transitions", "pipeline_metrics", "stage_funnel",
            "lead_scores", "deal_alerts"} <= set(marts)
    assert set(marts) <= set(spark_build.reader.table_names("marts")), "marts missing on Spark"
    con = duckdb.connect(str(spark_build.duck), read_only=True)
    failures = {}
    try:
        for mart in marts:
            # _built_at says when each engine's run wrote a row: different by design
            duck = con.execute(f'select * from marts."{mart}"').df().drop(
                columns=[BUILT_AT], errors="ignore")
            spark = spark_build.reader.query(f"select * from marts.{mart}").drop(
                columns=[BUILT_AT], errors="ignore")
            diff = _differences(duck, spark)
            if diff:
                failures[mart] = diff[:5]
            assert len(duck) > 0 or mart in {"data_quarantine"}, f"{mart} is empty"
    finally:
        con.close()
    assert not failures, json.dumps(failures, indent=1, default=str)


def test_report_queries_read_marts_through_spark(spark_build):
    """The report's DuckDB SQL runs on marts read through Spark (engines.local_marts)."""
    from orchestration.alerts import queries

    con = duckdb.connect(str(spark_build.duck), read_only=True)
    try:
        expected = queries.alerts(con)
        with local_marts(con, ["deal_alerts"], spark_build.settings) as spark_con:
            assert [a["alert_id"] for a in queries.alerts(spark_con)] == \
                [a["alert_id"] for a in expected]
    finally:
        con.close()


def test_marts_live_on_the_cluster_and_no_local_spark_ran(spark_build):
    """The marts are the cluster's tables (in its warehouse, as it reports them); the client
    side (dbt, this reader) left no Spark working files: no local JVM ran there."""
    from pyspark import SparkContext

    from orchestration.engines.spark import marts_location

    location = marts_location(spark_build.settings)["dim_owners"]
    assert location.endswith("/marts.db/dim_owners"), location
    assert str(spark_build.cluster.warehouse) in location
    root = spark_build.root
    for stray in ("spark", "metastore_db", "spark-warehouse", "derby.log"):
        assert not (root / stray).exists(), stray
    assert SparkContext._active_spark_context is None and SparkContext._gateway is None
    repo = DBT_PROJECT_DIR.parent
    for stray in ("derby.log", "metastore_db", "spark-warehouse"):
        assert not (repo / stray).exists() and not (DBT_PROJECT_DIR / stray).exists()


def test_the_benchmark_counts_the_executors_the_worker_started(spark_build):
    """benchmarks/run.py --spark-cluster knows the ids of the JVMs it started (master, worker,
    Connect server); the executor that did the build's work is the worker's child, and what the
    benchmark counts as the cluster's memory and CPU holds it."""
    from benchmarks.run import CpuMeter
    from benchmarks.spark_cluster import pids

    worker = spark_build.cluster.procs["worker"].pid
    executors = [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/cmdline")
                 if b"CoarseGrainedExecutorBackend" in _read(p) and _parent(p) == worker]
    assert len(executors) == 1, executors
    counted = CpuMeter(pids(spark_build.cluster)).first  # what the benchmark samples
    assert executors[0] in counted
    assert counted[executors[0]] > os.sysconf("SC_CLK_TCK")  # over 1 s: the build ran there


def _parent(cmdline: Path) -> int:
    stat = _read(cmdline.with_name("stat"))
    return int(stat.rsplit(b")", 1)[1].split()[1]) if stat else 0


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # a process that ended meanwhile
        return b""


def test_java_check_names_the_fix(monkeypatch, tmp_path):
    assert parse_major('openjdk version "17.0.15" 2025-04-15') == 17
    assert parse_major('java version "1.8.0_392"') == 8
    assert check_java() >= 17  # this machine runs Spark above
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # no bin/java there
    with pytest.raises(JavaError, match="install Java 17 or newer"):
        check_java()
    old = tmp_path / "bin" / "java"
    old.parent.mkdir()
    old.write_text('#!/bin/sh\necho \'openjdk version "11.0.2"\' >&2\n')
    old.chmod(0o755)
    with pytest.raises(JavaError, match="is Java 11: install Java 17"):
        check_java()


# Runs the pipeline's dbt step (and what follows it) in a process of its own, so that a
# regression (dbt waiting on pyspark's retries for ~10 minutes a statement) ends at the
# subprocess timeout instead of holding the test session.
LOST_RUN = """
import json, sys
import dagster as dg
from orchestration.pipeline import PipelineFailed, run_pipeline
dbt = dg.AssetSelection.key_prefixes(["config"], ["staging"], ["intermediate"], ["marts"],
                                     ["snapshots"])
try:
    run_pipeline(selection=dbt.downstream(), stream=False)
except PipelineFailed as exc:
    print(json.dumps({"failed": exc.failed, "note": exc.note}))
"""


def _processes_of(data_dir: Path) -> list[int]:
    """Processes whose environment names `data_dir` (the run's dbt, if it outlived it)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"SALESPIPE_DATA_DIR={data_dir}\0".encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:  # gone, or not ours
            continue
    return found


def test_a_cluster_lost_mid_build_stops_the_dbt_step(spark_cluster, seeds_build, tmp_path):
    """The Connect server dies once the dbt step has started dbt: the step stops after
    SALESPIPE_SPARK_LOST_AFTER (6 s here), not after pyspark's ~10 minutes of retries per
    statement, naming the cluster and the fix; dbt is stopped, nothing downstream (publication)
    runs. The kill comes as dbt starts, while it parses, which keeps this test short; killed
    while models run, the same watch stops dbt as quickly (measured by hand: README).
    LAST in this file: it kills the module's Connect server."""
    spark_cluster.wait()
    duck = seeds_build.copy_to(tmp_path)
    env = {**spark_env(tmp_path, spark_cluster.remote), "SALESPIPE_WAREHOUSE": str(duck),
           "SALESPIPE_SPARK_REMOTE": spark_cluster.remote, "SALESPIPE_SPARK_LOST_AFTER": "6",
           "SALESPIPE_AS_OF": AS_OF, "SALESPIPE_PUBLISH_DIR": str(tmp_path / "published")}
    run = subprocess.Popen([sys.executable, "-c", LOST_RUN], env=env, cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    try:
        while not any("Running dbt command" in log.read_text(errors="replace")
                      for log in (tmp_path / "logs").glob("*.log")):
            assert run.poll() is None, run.communicate()
            time.sleep(0.5)
        spark_cluster.kill_connect_server()  # the dbt step has started dbt
        killed = time.monotonic()
        out, err = run.communicate(timeout=500)  # < pyspark's own retries (>= 612 s)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    print(f"cluster lost: the run ended {time.monotonic() - killed:.1f} s after the kill")
    assert out.strip(), err[-3000:]  # the run did not fail
    failed = dict(json.loads(out.strip().splitlines()[-1])["failed"])
    assert list(failed) == ["dbt_models"], failed
    assert f"SALESPIPE_SPARK_REMOTE={spark_cluster.remote} stopped answering during the dbt " \
        "build" in failed["dbt_models"]
    assert "restart the cluster's Spark Connect server" in failed["dbt_models"]
    assert not _processes_of(tmp_path), "dbt still runs"
    assert current_publication(tmp_path / "published") is None

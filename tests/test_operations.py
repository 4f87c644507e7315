"""Nightly operations: publication BI tools read during runs, crash safety, one run at a time.

One module-scoped story keeps the cost at three pipeline runs: a good run publishes A; a new
deal arrives; runs are SIGKILLed during ingest, during dbt and during publish (each leaves A
published); then a run under a reader process publishes B, and B holds every deal exactly once.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from bi_clients import DUCKDB_READER, OLDEST, SQLALCHEMY_READER

from benchmarks.duckdb_releases import duckdb_python
from orchestration.operations.runlock import RunLocked, acquire, release
from orchestration.pipeline import PipelineFailed, run_pipeline
from orchestration.publish.publication import PublishError, current, publish

FIXTURES = Path(__file__).parent / "fixtures"
NEW_DEAL = ("104,Gamma pilot,Sales Pipeline,Appointment Scheduled,700,USD,2024-05-01 00:00,"
            "2024-03-20 10:00,Bob Ray,newbusiness,3,,2024-03-20 10:00,,,,,,,,,,,\n")

# Five reads a second per reader: the publication is swapped once per run, and faster polling
# only takes CPU from the run it watches (tests/bi_clients.py reads at the same pace).
READER = r"""
import json, sys, time, duckdb
path, stop = sys.argv[1], sys.argv[2]
while True:
    try:
        con = duckdb.connect(path, read_only=True)
        version = con.execute("select version from meta.publication").fetchone()[0]
        expected = dict(con.execute("select table_name, row_count from meta.tables").fetchall())
        actual = {t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0]
                  for t in expected}
        con.close()
        print(json.dumps({"version": version, "consistent": expected == actual,
                          "deals": actual["fct_deals"]}), flush=True)
    except Exception as exc:
        print(json.dumps({"error": repr(exc)}), flush=True)
    if __import__("os").path.exists(stop):
        break
    time.sleep(0.2)
"""


class Ops:
    def __init__(self, root: Path):
        self.root = root
        self.source = root / "exports"
        self.warehouse = root / "data" / "warehouse.duckdb"
        self.publish_dir = root / "data" / "published"
        self.published = self.publish_dir / "warehouse.duckdb"

    def version(self) -> str:
        con = duckdb.connect(str(self.published), read_only=True)
        try:
            return con.execute("select version from meta.publication").fetchone()[0]
        finally:
            con.close()

    def working(self, sql: str):
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()


@pytest.fixture(scope="module")
def ops(small_build):
    """Run A, published, on the hand-worked fixture (6 deals): the worker's build of it
    (conftest.small_build), put back as its run left it."""
    state = Ops(small_build.root)
    with pytest.MonkeyPatch.context() as mp:
        ws = small_build.restore(mp)
        assert (ws.source, ws.warehouse) == (state.source, state.warehouse)
        mp.setenv("SALESPIPE_PUBLISH_DIR", str(state.publish_dir))
        assert str(state.published) in small_build.summary.published
        state.version_a = state.version()
        yield state


def _kill_when(args: list[str], pattern: str, during=None, timeout: float = 900) -> str:
    """Start `args` in its own process group, SIGKILL the group (dbt's process too) once a
    line of its output matches `pattern`; `during()` runs just before the kill."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True,  # unbuffered: kill when the line is said
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    watchdog = threading.Timer(timeout, os.killpg, (proc.pid, signal.SIGKILL))
    watchdog.start()
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if re.search(pattern, line):
            if during:
                during()
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    watchdog.cancel()
    assert proc.returncode == -signal.SIGKILL and re.search(pattern, "".join(lines)), \
        "".join(lines[-30:])
    return "".join(lines)


def _wait_for_the_lock(warehouse: Path, timeout: float = 60) -> None:
    """The killed run's processes (dbt's too) hold the warehouse's lock until the kernel has
    torn them down, which can outlast the run's own process; under load, seconds. Waits for
    the lock to go, and names its holder if it does not."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            duckdb.connect(str(warehouse), read_only=True).close()
            return
        except duckdb.IOException as e:
            holder = re.search(r"PID (\d+)", str(e))
            if time.monotonic() > deadline or holder is None:
                ps = subprocess.run(["ps", "-o", "pid,pgid,stat,etime,args", "-p",
                                     holder.group(1) if holder else "1"],
                                    capture_output=True, text=True, check=False).stdout
                raise AssertionError(f"the warehouse is still locked (this process: "
                                     f"{os.getpid()}):\n{ps}") from e
        time.sleep(0.2)


# --verbose: the runs are killed on what their full log says (ingest lines, dbt node lines)
RUN = [sys.executable, "-m", "orchestration.cli", "run", "--verbose"]
PUBLISH_ONLY = [sys.executable, "-c", ("from orchestration.pipeline import run_pipeline; "
                                       "run_pipeline(selection='published/warehouse')")]


@pytest.fixture(scope="module")
def kills(ops):
    """A new deal arrives; three runs are killed: during ingest, during dbt, during publish."""
    with open(ops.source / "hubspot" / "deals.csv", "a") as f:
        f.write(NEW_DEAL)
    seen = {}
    _kill_when(RUN, r"ingest_\w+ - .* file\(s\) loaded")
    seen["ingest"] = _left_by_kill(ops)
    _kill_when(RUN, r"OK created sql table model marts\.(?!data_quarantine)")
    seen["dbt"] = _left_by_kill(ops)

    def second_run():  # while the publish below holds the lock
        with pytest.raises(PipelineFailed) as refused:
            run_pipeline()
        try:  # refused while the holder still held the lock: it did not wait for it
            acquire(ops.warehouse)
            release(ops.warehouse)
            still_held = False
        except RunLocked:
            still_held = True
        seen["second_run"] = (str(refused.value), still_held)
        seen["temp_files"] = [p.name for p in ops.publish_dir.glob(".*.tmp")]

    # the holder pauses far longer than any run takes to be refused (killed right after)
    os.environ["SALESPIPE_PAUSE_AT"] = "publish:900"
    try:
        _kill_when(PUBLISH_ONLY, r"pausing at publish", during=second_run)
    finally:
        del os.environ["SALESPIPE_PAUSE_AT"]
    seen["publish"] = _left_by_kill(ops)
    return seen


def _left_by_kill(ops) -> dict:
    """What a killed run leaves: the publication, the run lock (the kernel drops a dead
    process's flock: acquire raises RunLocked otherwise), raw rows whose load has no
    raw._loads row (a file half landed), and the new deal's raw row."""
    _wait_for_the_lock(ops.warehouse)
    acquire(ops.warehouse)
    release(ops.warehouse)
    tables = [t for (t,) in ops.working(
        "select table_name from information_schema.columns where table_schema = 'raw' "
        "and column_name = '_load_id'")]
    landed = " union all ".join(f"select '{t}', _load_id, count(*) from raw.\"{t}\" group by all"
                                for t in tables)
    # rows of a load raw._loads does not know, or not as many as it says (tables a hook derives
    # from a file share its load id under another name: only known there)
    half = ops.working(f"""with landed (raw_table, load_id, n) as ({landed})
        select l.* from landed l left join raw._loads r on r.load_id = l.load_id
        where r.load_id is null or (r.raw_table = l.raw_table and r.rows_loaded <> l.n)""")
    return {"version": ops.version(), "lock_free": True, "half_landed": half,
            "hubspot_deals": ops.working("select count(*) from raw.hubspot_deals")[0][0]}


@pytest.mark.parametrize("phase", ["ingest", "dbt", "publish"])
def test_sigkill_leaves_the_last_good_publication(ops, kills, phase):
    left = kills[phase]
    assert left["version"] == ops.version_a
    assert left["lock_free"] and left["half_landed"] == []  # every file landed whole or not
    if phase != "ingest":  # ingest finished before dbt started: its work is kept
        assert left["hubspot_deals"] == 4


def test_a_second_run_refuses_while_one_runs(kills):
    message, lock_still_held = kills["second_run"]
    assert "another salespipe run (pid" in message and "did not start" in message
    # refused while the lock's holder still paused (SALESPIPE_PAUSE_AT): it did not wait for
    # the lock (ordering, not a wall-clock limit a loaded machine could miss)
    assert lock_still_held
    assert kills["temp_files"], "the publish was not caught mid-way"


@pytest.fixture(scope="module")
def recovered(ops, kills, tmp_path_factory):
    """The next run, with reader processes querying the published file throughout: this
    DuckDB, the oldest DuckDB the README promises and SQLAlchemy with duckdb-engine (the BI
    tools' clients, tests/bi_clients.py)."""
    folder = tmp_path_factory.mktemp("reader")
    stop = folder / "stop"
    clients = {"current": (sys.executable, READER),
               "oldest": (duckdb_python(OLDEST), DUCKDB_READER),
               "sqlalchemy": (sys.executable, SQLALCHEMY_READER)}
    readers = {}
    for name, (python, script) in clients.items():  # to files: a full pipe would block them
        with open(folder / name, "w") as out:
            readers[name] = subprocess.Popen(
                [str(python), "-c", script, str(ops.published), str(stop)], stdout=out)
    time.sleep(1)
    summary = run_pipeline()
    time.sleep(1)
    stop.touch()
    for reader in readers.values():
        reader.wait(timeout=300)
    seen = {name: [json.loads(line) for line in (folder / name).read_text().splitlines()]
            for name in readers}
    ops.clients = seen
    return summary, seen["current"]


def test_reader_sees_the_old_or_the_new_publication_never_a_mix(ops, recovered):
    _, observations = recovered
    assert [o for o in observations if "error" in o] == []
    version_b = ops.version()
    assert version_b != ops.version_a
    deals = {ops.version_a: 6, version_b: 7}
    assert {o["version"] for o in observations} == {ops.version_a, version_b}
    assert all(o["consistent"] and o["deals"] == deals[o["version"]] for o in observations)


@pytest.mark.parametrize("client", ["oldest", "sqlalchemy"])
def test_bi_clients_read_every_mart_during_the_run(ops, recovered, client):
    observations = ops.clients[client]
    assert [o for o in observations if "error" in o] == []
    assert {o["version"] for o in observations} == {ops.version_a, ops.version()}
    assert all(o["consistent"] for o in observations)  # every mart, the same state
    deals = {o["version"]: o["rows"]["fct_deals"] for o in observations}
    assert deals == {ops.version_a: 6, ops.version(): 7}


def test_run_after_kills_loses_and_duplicates_nothing(ops, recovered):
    summary, _ = recovered
    assert summary.mart_rows["fct_deals"] == 7
    assert ops.working("select count(*), count(distinct deal_id) from marts.fct_deals") == [(7, 7)]
    assert ops.working("select count(*) from raw.hubspot_deals") == [(4,)]
    assert ops.working('select count(*), count(distinct record_id) from raw.hubspot_deals') \
        == [(4, 4)]
    # raw._loads keeps one row per file version: the changed deals file twice, nothing thrice
    assert ops.working("select count(*) from raw._loads group by raw_table, source_file, "
                       "file_sha256 having count(*) > 1") == []
    assert not list(ops.publish_dir.glob(".*.tmp"))  # the killed publish's temp is gone
    pub = current(ops.publish_dir)
    parquet = f"select count(*) from '{pub.parquet_dir}/fct_deals.parquet'"
    assert duckdb.connect().execute(parquet).fetchone()[0] == 7
    assert len(list((ops.publish_dir / ".versions").iterdir())) == 2  # new and previous


def test_unwritable_warehouse_path_fails_clearly(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    if os.geteuid() == 0:  # root writes through permissions: use a path no one can create
        warehouse = blocker / "warehouse.duckdb"
    else:
        readonly = tmp_path / "readonly"
        readonly.mkdir(mode=0o555)
        warehouse = readonly / "warehouse.duckdb"
    monkeypatch.setenv("SALESPIPE_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("SALESPIPE_SOURCE_DIR", str(FIXTURES / "small"))
    with pytest.raises(PipelineFailed, match="cannot write next to the warehouse .*writable"):
        run_pipeline()


def test_disk_full_during_publish_keeps_the_previous_publication(ops, tmp_path, monkeypatch):
    published = tmp_path / "published"
    shutil.copytree(ops.publish_dir, published, symlinks=True)
    before = (current(published), (published / "warehouse.duckdb").read_bytes(),
              os.readlink(published / "parquet"))

    def full(path):  # fsync is where a full disk shows up for writes the kernel buffered
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("orchestration.publish.publication._fsync", full)
    con = duckdb.connect(str(ops.warehouse))  # as the publish step has it: read-write
    try:
        with pytest.raises(PublishError, match="No space left on device.*previous publication "
                                               "is untouched"):
            publish(con, published, "2024-03-31", "test")
    finally:
        con.close()
    assert (current(published), (published / "warehouse.duckdb").read_bytes(),
            os.readlink(published / "parquet")) == before
    assert not list(published.glob(".*.tmp"))  # the half-written copy is removed
    parquet = f"select count(*) from '{published}/parquet/fct_deals.parquet'"
    assert duckdb.connect().execute(parquet).fetchone()[0] == 7


def _age(path: Path, hours: float) -> None:
    stamp = time.time() - hours * 3600
    os.utime(path, (stamp, stamp))


def test_nightly_schedule_follows_the_settings(monkeypatch):
    import datetime as dt

    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.operations.definitions import everything
    from orchestration.operations.schedules import nightly_schedule
    from orchestration.settings import OperationsSettings, SettingsError

    monkeypatch.setenv("SALESPIPE_SCHEDULE_CRON", "30 3 * * 1-5")
    monkeypatch.setenv("SALESPIPE_TIMEZONE", "Europe/Berlin")
    schedule = nightly_schedule(everything, OperationsSettings.from_env())
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 3 * * 1-5",
                                                                     "Europe/Berlin")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 11, 24, 3, 30))
    requests = schedule.evaluate_tick(context).run_requests
    assert len(requests) == 1 and schedule.job_name == "everything"
    assert defs().get_schedule_def("nightly").default_status == dg.DefaultScheduleStatus.RUNNING
    monkeypatch.setenv("SALESPIPE_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="SALESPIPE_TIMEZONE"):
        OperationsSettings.from_env()


def test_drop_folder_sensor_runs_once_per_new_or_changed_file(tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.operations.runlock import run_lock

    source = tmp_path / "exports"
    shutil.copytree(FIXTURES / "small" / "hubspot", source / "hubspot")
    for path in (source / "hubspot").iterdir():
        _age(path, 1)
    monkeypatch.setenv("SALESPIPE_SOURCE_DIR", str(source))
    monkeypatch.setenv("SALESPIPE_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    sensor = (definitions := defs()).get_sensor_def("export_drop")

    def tick(cursor):
        with dg.build_sensor_context(cursor=cursor, definitions=definitions) as context:
            result = sensor.evaluate_tick(context)
        return result.run_requests, result.skip_message, result.cursor

    requests, _, cursor = tick(None)
    assert len(requests) == 1 and len(json.loads(cursor)) == 5  # every file is new
    requests, skipped, cursor = tick(cursor)
    assert requests == [] and "no new or changed export" in skipped  # not again

    deals = source / "hubspot" / "deals.csv"
    deals.write_text(deals.read_text() + NEW_DEAL)
    requests, skipped, _ = tick(cursor)
    assert requests == [] and "no new or changed" in skipped  # still being written: wait
    _age(deals, 0.1)
    with run_lock(tmp_path / "warehouse.duckdb"):
        requests, skipped, same = tick(cursor)
    assert requests == [] and "holds the warehouse" in skipped and same in (None, cursor)
    requests, _, moved = tick(cursor)
    assert [r.tags["salespipe/files"] for r in requests] == ["hubspot/deals.csv"]
    assert tick(moved)[0] == []


def test_freshness_check_warns_on_an_old_export(tmp_path):
    import datetime as dt

    import dagster as dg

    from orchestration.operations.freshness import evaluate

    folder = tmp_path / "hubspot"
    shutil.copytree(FIXTURES / "small" / "hubspot", folder)
    now = dt.datetime.now(dt.UTC)
    assert evaluate("hubspot", [folder], None, 36, now).passed
    for path in folder.iterdir():
        _age(path, 48)
    stale = evaluate("hubspot", [folder], None, 36, now)
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
    assert "48.0 h old" in stale.description
    assert evaluate("hubspot", [folder], now - dt.timedelta(hours=2), 36, now).passed  # a load
    assert evaluate("hubspot", [tmp_path / "absent"], None, 36, now).passed  # not in use


def test_freshness_check_warns_when_an_api_sync_stopped(tmp_path):
    """An API-only source (no export folder) whose sync stops, e.g. its credentials gone from
    the environment ("not configured, skipped"), warns once its last snapshot is too old."""
    import datetime as dt

    from orchestration.connectors.paths import snapshot_dir
    from orchestration.definitions import defs
    from orchestration.operations.freshness import evaluate

    checks = {k.name for k in defs().resolve_asset_graph().asset_check_keys}
    assert {"salesforce_export_is_fresh", "pipedrive_sync_is_fresh"} <= checks
    folders = [tmp_path / "source" / "salesforce", snapshot_dir(tmp_path / "data", "salesforce")]
    now = dt.datetime.now(dt.UTC)
    assert evaluate("salesforce", folders, None, 36, now).passed  # never synced: not in use
    folders[1].mkdir(parents=True)
    snapshot = folders[1] / "opportunities.parquet"
    snapshot.write_bytes(b"PAR1")  # written by the last successful sync
    assert evaluate("salesforce", folders, None, 36, now).passed
    _age(snapshot, 50)
    stale = evaluate("salesforce", folders, None, 36, now)
    assert not stale.passed and "salesforce export, sync or load is 50.0 h old" in \
        stale.description

import fcntl
import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from xdist.scheduler import LoadFileScheduling

# pytest-xdist workers run with a bare __main__ (no __file__), which pyspark's Spark Connect
# import check takes for a doctest run and answers with sys.exit(0); Great Expectations imports
# that module whenever pyspark is installed. Give __main__ a file so collection goes on.
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = __file__

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = Path(__file__).parent.parent / "seeds"
DBT_PROJECT = Path(__file__).parent.parent / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")


def make_workspace(tmp: Path, env: pytest.MonkeyPatch) -> "Workspace":
    """A private source folder and warehouse under `tmp`, wired through SALESPIPE_* variables."""
    source = tmp / "exports"
    env.setenv("SALESPIPE_DATA_DIR", str(tmp / "data"))
    env.setenv("SALESPIPE_SOURCE_DIR", str(source))
    env.setenv("SALESPIPE_WAREHOUSE", str(tmp / "data" / "warehouse.duckdb"))
    env.setenv("SALESPIPE_AS_OF", "2024-03-31")
    from orchestration.registry import with_connectors

    for crm in with_connectors():  # a developer's CRM credentials never reach a test run
        for name in crm.api.names:
            env.setenv(name, "")
    return Workspace(source, tmp / "data" / "warehouse.duckdb")


@pytest.fixture
def quick_retries(monkeypatch):
    """dlt's retries for the API tests, shortened: 5xx backoff in hundredths of seconds, four
    attempts (429s still wait their Retry-After)."""
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "4")


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    return make_workspace(tmp_path, monkeypatch)


class Workspace:
    def __init__(self, source: Path, warehouse: Path):
        self.source, self.warehouse = source, warehouse

    def copy_fixture(self, name: str = "small") -> "Workspace":
        shutil.copytree(FIXTURES / name, self.source, dirs_exist_ok=True)
        return self

    def query(self, sql: str, params=None) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def scalar(self, sql: str, params=None):
        return self.query(sql, params)[0][0]


class SeedsBuild:
    """A warehouse built from the bundled samples by `salespipe run`, and what it printed."""

    def __init__(self, warehouse: Path, result: subprocess.CompletedProcess):
        self.warehouse, self.result = warehouse, result

    def copy_to(self, folder: Path) -> Path:
        """A private copy of the warehouse, for tests that build further on it."""
        dest = folder / "data" / "warehouse.duckdb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.warehouse, dest)
        return dest


def dbt_cli(args: list[str], target: Path, env: dict[str, str],
            **run) -> subprocess.CompletedProcess:
    """`dbt <args>` on dbt_project/ in a subprocess with `env`, in its own target folder (the
    project's stays as it is). A new target folder would make dbt parse the whole project
    (~5 s of one core; the suite runs a dozen such commands): it gets the parse state kept for
    the same profile, as a pipeline run does (orchestration/transform/parse_state.py), so dbt
    parses again only what differs (the env vars it reads, changed files), and a command that
    succeeded keeps its state for the next one. `--target` is named as a pipeline run names it
    (dbt's state check compares the command line's target and vars, not only what they
    render), and a command with --vars does neither: dbt parses everything again when vars
    differ, and its state would cost the next pipeline run (whose partial parse
    tests/test_incremental.py asserts) that whole parse."""
    from orchestration.transform.parse_state import keep_parse_state, restore_parse_state

    shared = "--vars" not in args
    if shared:
        with _environ(env):
            restore_parse_state(DBT_PROJECT, target)
    result = subprocess.run(
        [str(DBT), *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
         "--target", "duckdb", "--target-path", str(target)],
        env=env, capture_output=True, text=True, check=False, **run)
    if shared and result.returncode == 0:
        with _environ(env):
            keep_parse_state(DBT_PROJECT, target)
    return result


@contextmanager
def _environ(env: dict[str, str]):
    """os.environ as `env` for the block (the parse state renders dbt's profile from it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def seeds_build(tmp_path_factory, worker_id) -> SeedsBuild:
    """`salespipe run` on seeds/ as of 2026-10-31, once per test run: the CLI test checks the
    run, and the metrics, scoring, Spark and API tests read (copies of) what it built. The
    pytest-xdist workers share it (their base temp folders have one parent): the first to need
    it builds it while the others wait on the lock, instead of each spending ~30 s on its own."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if worker_id != "master" else base) / "seeds_build"
    shared.mkdir(exist_ok=True)
    data, saved = shared / "data", shared / "result.json"
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not saved.exists():
            result = subprocess.run(
                [sys.executable, "-m", "orchestration.cli", "run", "--source-dir", str(SEEDS),
                 "--warehouse", str(data / "warehouse.duckdb"), "--as-of", "2026-10-31"],
                capture_output=True, text=True, timeout=900, check=False,
                env={**os.environ, "SALESPIPE_DATA_DIR": str(data)},
            )
            saved.write_text(json.dumps([result.args, result.returncode, result.stdout,
                                         result.stderr]))
    result = subprocess.CompletedProcess(*json.loads(saved.read_text()))
    return SeedsBuild(data / "warehouse.duckdb", result)


@pytest.fixture(scope="session")
def small_build(tmp_path_factory):
    """`run_pipeline()` on tests/fixtures/small as of 2024-03-31, once per worker, for the
    tests that start from that build (tests/small_build.py: each gets it back in place with
    `small_build.restore(monkeypatch)`)."""
    from small_build import SmallBuild

    return SmallBuild.build(tmp_path_factory.getbasetemp() / "small")


@pytest.fixture
def seeds_run_copy(seeds_build, tmp_path, monkeypatch) -> Path:
    """A copy of the samples' warehouse that this test's runs and `materialize()` use, as of
    the samples' date: for tests that change it before a run."""
    assert seeds_build.result.returncode == 0, seeds_build.result.stderr[-3000:]
    warehouse = seeds_build.copy_to(tmp_path)
    monkeypatch.setenv("SALESPIPE_DATA_DIR", str(warehouse.parent))
    monkeypatch.setenv("SALESPIPE_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("SALESPIPE_AS_OF", "2026-10-31")
    return warehouse


# The longest files first (as measured in a whole run, session 12): xdist hands out one work
# unit at a time (--dist loadfile: a file) in this order, kept by --no-loadscope-reorder
# (pyproject.toml; xdist would otherwise order units by their number of tests), so a long
# file never starts last and runs alone on one worker while the other sits idle.
LONGEST_FIRST = ("test_incremental.py", "test_spark.py", "test_bad_input.py",
                 "test_operations.py", "test_end_to_end.py", "test_api_activecampaign.py",
                 "test_lead_scoring.py", "test_benchmark.py", "test_api_pipedrive.py",
                 "test_alerts.py", "test_api_hubspot.py", "test_metrics.py",
                 "test_null_columns.py", "test_seed_fingerprints.py", "test_expectations.py",
                 "test_dbt_unit.py", "test_export_formats.py", "test_deal_changes.py",
                 "test_api_salesforce.py", "test_run_output.py")
# The files that start from the worker's build of the small fixture (small_build): one work
# unit, so one worker builds it once for the three instead of once per worker they land on.
SMALL_BUILD_FILES = frozenset({"test_bad_input.py", "test_operations.py", "test_end_to_end.py"})


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


class _LoadFileSharingSmallBuild(LoadFileScheduling):
    """--dist loadfile, the SMALL_BUILD_FILES together as one unit."""

    def _split_scope(self, nodeid: str) -> str:
        path = super()._split_scope(nodeid)
        return "small_build" if Path(path).name in SMALL_BUILD_FILES else path


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadfile":
        return _LoadFileSharingSmallBuild(config, log)
    return None  # another --dist given on the command line: xdist's own

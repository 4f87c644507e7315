"""Run the whole pipeline in-process (what `salespipe run` and the tests call) and summarise."""

from __future__ import annotations

import functools
import logging
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.checks.import_ahead import import_ahead_at_run_start
from orchestration.checks.results import CheckRow, check_rows
from orchestration.checks.results import summary_lines as check_summary_lines
from orchestration.engines import mart_reader
from orchestration.operations.runlock import LockPathError, RunLocked, acquire, release
from orchestration.publish.compat import readers
from orchestration.publish.publication import current as current_publication
from orchestration.publish.publication import describe
from orchestration.runlog.capture import LOGGER_KEY, RUN_CONFIG, RUN_LOGGER, run_log, run_logger
from orchestration.runlog.exit import exit_without_collections
from orchestration.runlog.files import RunLog, prune
from orchestration.runlog.instance import ephemeral_instance
from orchestration.settings import RUN_LOGS_KEPT, OperationsSettings, Settings, apply_defaults
from orchestration.sources.hubspot_stages import export_stage_notes

JOB = "salespipe_run"
JOBS_KEPT = 8  # resolved jobs kept per process (one per selection)
# How an error raised as dg.Failure (the steps' user-facing errors) starts: dropped.
_FAILURE = "dagster._core.definitions.events.Failure: "


class PipelineFailed(RuntimeError):
    """A step failed; the message lists each failed step with its error. `failed` holds
    (step, message) pairs, `note` what BI tools read now, `log_path` the run's full log."""

    def __init__(self, message: str, failed: list[tuple[str, str]] | None = None,
                 note: str = "", log_path: Path | None = None):
        super().__init__(message)
        self.failed, self.note, self.log_path = failed or [], note, log_path


@dataclass
class RunSummary:
    warehouse: Path
    as_of: str
    mart_rows: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    flagged_deals: int = 0
    published: str = ""  # what BI tools read now (orchestration/publish/publication.py)
    run_id: str = ""  # the Dagster run (its dbt step's files: dbt_project/target/dbt_models-<id>)
    checks: list[CheckRow] = field(default_factory=list)  # asset-check results of the run
    # {step_key: [started, ended]} (Unix seconds) from the run's event log, for the benchmark
    steps: dict[str, list[float]] = field(default_factory=dict)
    log_path: Path | None = None  # the run's full log: Dagster's events and dbt's lines
    notes: list[str] = field(default_factory=list)  # what the exports could not say

    def lines(self) -> list[str]:
        out = [f"Warehouse: {self.warehouse}", f"As of: {self.as_of}", "Marts (rows):"]
        out += self._mart_lines()
        out.append(f"Quarantined values: {self.quarantined:,} (see marts.data_quarantine)")
        out += self.notes
        out.append(f"Deals flagged for pipeline cleaning: {self.flagged_deals:,}")
        if self.published:
            out.append(f"Published for BI tools: {self.published}")
        if self.checks:
            out += check_summary_lines(self.checks)
        return out


    def _mart_lines(self, columns: int = 2) -> list[str]:
        """The marts and their row counts in `columns` columns read downwards, so a new mart
        does not lengthen the summary by a line each."""
        width = max((len(n) for n in self.mart_rows), default=0)
        cells = [f"marts.{name:<{width}}  {rows:>9,}" for name, rows in self.mart_rows.items()]
        height = -(-len(cells) // columns)
        return ["  " + "    ".join(cells[i::height]) for i in range(height)]


def failed_steps(result: dg.ExecuteInProcessResult) -> list[tuple[str, str]]:
    """(step, message) of each failed step; the message is the innermost error's."""
    failed = []
    for event in result.all_events:
        # a resource that cannot start (the run lock, a Spark cluster that does not answer)
        # fails the run before its first step
        if event.event_type_value in ("STEP_FAILURE", "RESOURCE_INIT_FAILURE"):
            error = event.event_specific_data.error
            text = error.message.strip() if error else "unknown error"
            cause = error.cause if error else None
            while cause is not None:  # the user-facing message is usually the innermost one
                text = cause.message.strip()
                cause = cause.cause
            failed.append((event.step_key or "run start", text.removeprefix(_FAILURE)))
    return failed


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    return [f"{step}: {text}" for step, text in failed_steps(result)]


def assets_and_resources() -> tuple[list, dict]:
    """Every asset and asset check of the definitions, and their resources: what
    `dg.materialize` takes (it runs only the checks it is given). Loaded once per process
    and state of the project (see _job)."""
    from orchestration.definitions import defs

    state = _project_state()
    if _DEFS.get("state") != state:
        definitions = defs()
        _DEFS.update(state=state, assets=[*definitions.assets, *definitions.asset_checks],
                     resources=dict(definitions.resources))
    return list(_DEFS["assets"]), dict(_DEFS["resources"])


def run_pipeline(selection: str | None = None, log_level: str = "INFO", *,
                 stream: bool = True, view: logging.Handler | None = None,
                 log: RunLog | None = None) -> RunSummary:
    """Materialize every asset (or `selection`) with the settings in the environment. The
    run's full log goes to `log.path` (a new file under the data folder by default); it is
    streamed to the terminal at `log_level` too unless `stream` is false; `view` (the live
    view) gets every event."""
    settings = Settings.from_env()
    exit_without_collections()  # the process's exit, seconds shorter (runlog/exit.py)
    log = log or RunLog.new(settings.log_dir)
    try:
        with run_log(log.path, log_level if stream else None, view):
            summary = _run(settings, selection, log.run_id)
    except PipelineFailed as exc:
        exc.log_path = log.path
        raise
    finally:
        prune(settings.log_dir, RUN_LOGS_KEPT)
    summary.log_path = log.path
    return summary


def _run(settings: Settings, selection, run_id: str) -> RunSummary:
    job = _job(selection)
    with _locked(settings), _gx_ahead(selection is None):
        result = job.execute_in_process(run_config=RUN_CONFIG, raise_on_error=False,
                                        instance=(instance := _instance()), run_id=run_id)
        if not result.success:
            failed = failed_steps(result)
            note = describe(OperationsSettings.from_env().publish_dir)
            text = "\n".join(f"{step}: {message}" for step, message in failed) or "the run failed"
            raise PipelineFailed(f"{text}\n{note}", failed, note)
        summary = summarise(settings)
        summary.run_id = result.run_id
        summary.checks = check_rows(result)
        summary.steps = step_times(instance, result.run_id)
    pub = current_publication(OperationsSettings.from_env().publish_dir)
    if pub is not None and pub.run_id == result.run_id:
        summary.published = (f"{pub.database} ({readers(pub.storage_version)} open it; "
                             f"Parquet: {pub.parquet_dir}/)")
    return summary


def _gx_ahead(full_run: bool):
    """A full run validates with GX: its import overlaps the run's steps (import_ahead.py)."""
    return import_ahead_at_run_start(logging.getLogger(RUN_LOGGER)) if full_run else nullcontext()


# Definitions loaded and jobs resolved in this process, for the state of the project they
# were built from: {"state", "assets", "resources"}; {(selection, state): job}.
_DEFS: dict = {}
_JOBS: dict[tuple[str, tuple[int, ...]], dg.JobDefinition] = {}


def _job(selection) -> dg.JobDefinition:
    """The run's job: what `dg.materialize` builds, with the run's own logger in place of the
    console logger (Definitions' loggers, picked in the run config). Loading the definitions
    and resolving their ~500 assets and checks into a job takes seconds, so a process that runs
    the pipeline again (the tests do, dozens of times) reuses the job while the dbt manifest and
    the stored suites are unchanged: the definitions read nothing else, and the settings reach
    the assets and resources when they run (EnvVar, Settings.from_env())."""
    apply_defaults()  # the definitions would apply them; the run reads the environment
    key = (repr(selection), _project_state())
    if key not in _JOBS:
        assets, resources = assets_and_resources()
        defs = dg.Definitions(jobs=[dg.define_asset_job(JOB, selection=selection)],
                              assets=assets, resources=resources,
                              loggers={LOGGER_KEY: run_logger})
        _JOBS.clear() if len(_JOBS) >= JOBS_KEPT else None
        _JOBS[key] = defs.resolve_job_def(JOB)
    return _JOBS[key]


@functools.cache
def _instance() -> dg.DagsterInstance:
    """The process's ephemeral (in-memory) Dagster instance; runs in one process share it
    (setting one up costs ~0.5 s; a run reads only its own events from it). Its event log keeps
    one SQLite connection (orchestration/runlog/instance.py)."""
    return ephemeral_instance()


def _project_state() -> tuple[int, ...]:
    """What the definitions are built from besides code: the dbt manifest (parsed again first
    when the dbt project changed) and the stored GX suites."""
    from orchestration.checks.validate import SUITES_DIR
    from orchestration.transform.assets import dbt_project
    from orchestration.transform.manifest import ensure_manifest

    files = [ensure_manifest(dbt_project()), *SUITES_DIR.glob("*.json")]
    return tuple(sorted(f.stat().st_mtime_ns for f in files))


_END = {"STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"}


def step_times(instance: dg.DagsterInstance, run_id: str) -> dict[str, list[float]]:
    """{step_key: [started, ended]} in Unix seconds, in the order the steps started, from the
    run's event log: the benchmark (benchmarks/run.py) groups them into phases."""
    steps: dict[str, list[float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            steps[event.step_key] = [entry.timestamp, entry.timestamp]
        elif event.event_type_value in _END and event.step_key in steps:
            steps[event.step_key][1] = entry.timestamp
    return steps


@contextmanager
def _locked(settings: Settings):
    """The run lock, its refusals turned into PipelineFailed for the CLI."""
    try:
        acquire(settings.warehouse)
    except (RunLocked, LockPathError) as exc:
        raise PipelineFailed(str(exc), [("run lock", str(exc))]) from None
    try:
        yield
    finally:
        release(settings.warehouse)


def summarise(settings: Settings) -> RunSummary:
    summary = RunSummary(settings.warehouse, settings.as_of.isoformat())
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        # Marts through the engine in use (DuckDB file or Spark); raw stays in the DuckDB file.
        reader = mart_reader(con)
        marts = reader.table_names("marts")
        for name in marts:
            summary.mart_rows[name] = int(reader.query(
                f"select count(*) from marts.{name}").iloc[0, 0])
        summary.quarantined = con.execute("select count(*) from raw._quarantine").fetchall()[0][0]
        summary.notes = export_stage_notes(con)
        if "deal_alerts" in marts:
            summary.flagged_deals = int(reader.query(
                "select count(distinct deal_id) from marts.deal_alerts "
                "where status <> 'resolved'").iloc[0, 0])
    finally:
        con.close()
    return summary

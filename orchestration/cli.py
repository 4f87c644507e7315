"""The `salespipe` command line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from orchestration.runlog.exit import exit_without_collections
from orchestration.settings import Settings, SettingsError, apply_defaults, parse_as_of

app = typer.Typer(help="salespipe: CRM exports in, a DuckDB sales-pipeline warehouse out.",
                  no_args_is_help=True, add_completion=False)


@app.callback()
def _defaults() -> None:
    # Dagster's EnvVar and dbt's profiles.yml read the environment: the defaults that make the
    # demo work go there once, before any command (never overriding what the user set).
    apply_defaults()
    exit_without_collections()


def _fail(message: str) -> None:
    typer.secho(f"salespipe: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


# The commands that read a built warehouse (`changes`, `alerts`) take it and its owner filter
# the same way, and open it through _marts.
ReadWarehouse = Annotated[Path | None, typer.Option(help="DuckDB file to read "
                                                         "[env SALESPIPE_WAREHOUSE]")]


def _owner_option(things: str) -> typer.models.OptionInfo:
    return typer.Option(None, help=f"Only this owner's {things} (name, any case; "
                                   "'(no owner)' for deals without one)")


@contextmanager
def _marts(warehouse: Path | None, names: list[str], what: str) -> Iterator[object]:
    """The marts `names` of the warehouse, read-only, for a command that reads `what`: the
    command ends with a message naming the fix when there is no warehouse or it cannot be read."""
    import duckdb

    from orchestration.engines import local_marts

    path = warehouse or Settings.from_env().warehouse
    if not path.is_file():
        _fail(f"no warehouse at {path}: run `salespipe run` first or pass --warehouse")
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:  # the marts of the engine in use (SALESPIPE_ENGINE): the DuckDB file or Spark
            with local_marts(con, names) as marts:
                yield marts
        finally:
            con.close()
    except duckdb.Error as exc:
        _fail(f"cannot read {what} from {path}: {exc}")


@app.command()
def run(
    source_dir: Path | None = typer.Option(None, help="Folder of CRM exports "
                                              "[env SALESPIPE_SOURCE_DIR, default seeds/]"),
    warehouse: Path | None = typer.Option(None, help="DuckDB file to build "
                                             "[env SALESPIPE_WAREHOUSE]"),
    as_of: str | None = typer.Option(None, help="Measure days in stage and silence against "
                                        "this date, YYYY-MM-DD [env SALESPIPE_AS_OF, "
                                        "default today]"),
    engine: str | None = typer.Option(None, help="Engine that runs the dbt models: duckdb or "
                                      "spark (local Spark, or a cluster set by "
                                      "SALESPIPE_SPARK_*) [env SALESPIPE_ENGINE, default "
                                      "duckdb]"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Stream the full log "
                                 "(Dagster's events, dbt's lines) instead of the live view; "
                                 "it goes to a file under the data folder either way"),
) -> None:
    """Ingest the exports, build every dbt model and check them, in this process."""
    if engine is not None:
        os.environ["SALESPIPE_ENGINE"] = engine
    if source_dir is not None:
        os.environ["SALESPIPE_SOURCE_DIR"] = str(source_dir.resolve())
    if warehouse is not None:
        os.environ["SALESPIPE_WAREHOUSE"] = str(warehouse.resolve())
    try:
        if as_of is not None:
            os.environ["SALESPIPE_AS_OF"] = parse_as_of(as_of).isoformat()
        settings = Settings.from_env()
    except SettingsError as exc:
        _fail(str(exc))
    from orchestration.settings import ReportSettings

    if problem := ReportSettings.from_env().webhook_problem:  # a warning: the run goes on
        typer.secho(f"salespipe: warning: {problem}", fg=typer.colors.YELLOW, err=True)
    if not settings.source_dir.is_dir():
        _fail(f"source folder {settings.source_dir} does not exist: set SALESPIPE_SOURCE_DIR "
              "or pass --source-dir")
    os.environ["SALESPIPE_AS_OF"] = settings.as_of.isoformat()
    _check_engine()
    typer.echo(f"Building {settings.warehouse} from {settings.source_dir} "
               f"as of {settings.as_of} ...")
    from orchestration.connectors.status import api_status_lines

    typer.echo("\n".join(api_status_lines()))  # one line per CRM API: syncing or skipped
    _run(settings, verbose)


def _run(settings: Settings, verbose: bool) -> None:
    """The run: the live view (or the full log with --verbose), then the summary; a failure
    as its failed steps and their messages. The full log's path ends either."""
    from orchestration.pipeline import PipelineFailed, run_pipeline
    from orchestration.runlog.files import RunLog
    from orchestration.runlog.live import LiveView, dbt_nodes
    from orchestration.transform.assets import dbt_project

    log = RunLog.new(settings.log_dir)
    view = None if verbose else LiveView(sys.stdout, lambda: dbt_nodes(dbt_project().manifest_path))
    try:
        summary = run_pipeline(stream=verbose, view=view, log=log)
    except PipelineFailed as exc:
        _fail("\n".join(_failure_lines(exc, log.path)))
    except SettingsError as exc:  # a setting read once the run started
        _fail(f"{exc}\nFull log: {log.path}")
    except Exception as exc:  # noqa: BLE001 - a bug, not bad input: its traceback is in the log
        _fail(f"internal error: {type(exc).__name__}: {exc}\nFull log: {log.path}")
    typer.echo("\n".join([*summary.lines(), f"Full log: {log.path}"]))


def _failure_lines(exc, log_path: Path) -> list[str]:
    from orchestration.runlog.live import phase_of

    if not exc.failed:
        return [f"the run failed: {exc}", f"Full log: {log_path}"]
    lines = ["the run failed:"]
    for step, message in exc.failed:
        where = f"{phase_of(step)} ({step})" if step not in ("run lock", "run start") else step
        lines.append(f"  {where}: " + message.replace("\n", "\n    "))
    return [*lines, *([exc.note] if exc.note else []), f"Full log: {log_path}"]


@app.command()
def prepare() -> None:
    """Parse the dbt project into dbt_project/target/manifest.json once, at install or deploy
    time, so the first `run` does not spend its first seconds on it. Runs and the UI parse by
    themselves whenever the project changed since."""
    from orchestration.transform.assets import dbt_project
    from orchestration.transform.manifest import ensure_manifest

    try:
        manifest = ensure_manifest(dbt_project())
    except RuntimeError as exc:
        _fail(str(exc))
    typer.echo(f"dbt manifest ready: {manifest}")


def _check_engine() -> None:
    """A bad SALESPIPE_ENGINE, Spark without Java 17+, or a Spark cluster whose Connect server
    does not answer stops here, before anything runs."""
    from orchestration.engines.connect import ClusterUnreachable, check_cluster
    from orchestration.engines.java import JavaError, check_java
    from orchestration.settings import EngineSettings

    try:
        engine = EngineSettings.from_env()
        if engine.uses_connect:
            check_cluster(engine)
        elif engine.engine == "spark" and engine.spark_method == "session":
            check_java()
    except (SettingsError, JavaError, ClusterUnreachable) as exc:
        _fail(str(exc))


@app.command()
def generate(
    out: Path = typer.Option(..., help="Folder to write the exports to"),
    deals: int = typer.Option(..., help="Number of deals per format"),
    seed: int = typer.Option(42, help="Random seed; the same seed writes the same files"),
    format: list[str] = typer.Option(["all"], "--format", help="hubspot, activecampaign, "
                                     "generic or all (repeatable); pipedrive and salesforce "
                                     "write API records (not in all)"),
    activity_scale: float = typer.Option(1.0, help="Multiplies the activity volume "
                                         "(1.1 gives about 20 activities per deal)"),
) -> None:
    """Write realistic synthetic CRM exports (a B2B company's pipeline) in the given formats."""
    from orchestration.generate import FORMATS
    from orchestration.generate import generate as write

    formats = list(FORMATS) if "all" in format else format
    try:
        summary = write(out, deals=deals, seed=seed, formats=formats,
                        activity_scale=activity_scale)
    except ValueError as exc:
        _fail(str(exc))
    for fmt, counts in summary.items():
        typer.echo(f"{out / fmt}: " + ", ".join(f"{n:,} {obj}" for obj, n in counts.items()))


@app.command()
def ui(port: int = typer.Option(3000, help="Port of the Dagster UI on 127.0.0.1")) -> None:
    """Open the Dagster UI (dagster dev) on 127.0.0.1 with every asset and its lineage; its
    daemon runs the nightly schedule and the export-folder sensor (DAGSTER_HOME persists in
    the data folder)."""
    settings = Settings.from_env()
    home = settings.data_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    # Runs the daemon launches (schedule, sensor) queue one at a time: one warehouse writer.
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
        "run_coordinator:\n  module: dagster.core.run_coordinator\n"
        "  class: QueuedRunCoordinator\n  config:\n    max_concurrent_runs: 1\n")
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "orchestration.definitions",
           "-h", "127.0.0.1", "-p", str(port)]
    raise typer.Exit(subprocess.call(cmd, env=env))


# --- salespipe changes (issue 25: what moved) ------------------------------------------------
@app.command()
def changes(
    since: str | None = typer.Option(None, help="Changes on or after this day (YYYY-MM-DD); "
                                       "default: the week up to the latest run's as-of date"),
    owner: str | None = _owner_option("deals"),
    warehouse: ReadWarehouse = None,
) -> None:
    """List what changed in the deals (stage, amount, close date, owner, probability), newest
    first, from marts.fct_deal_changes."""
    import datetime as dt

    from orchestration.alerts import deal_changes

    try:
        start = dt.date.fromisoformat(since) if since else None
    except ValueError:
        _fail(f"--since must be a date like 2026-10-31, got {since!r}")
    with _marts(warehouse, deal_changes.MARTS, "the deal changes") as marts:
        start = start or deal_changes.default_since(marts)
        rows = deal_changes.changes(marts, start, owner)
    typer.echo(deal_changes.to_table(rows, start))
# --- end of salespipe changes ------------------------------------------------------------------


@app.command()
def alerts(
    owner: str | None = _owner_option("alerts"),
    type: str | None = typer.Option(
        None, "--type", help="stalled, stale, overdue, incomplete, pushed, amount_dropped, "
                             "moved_backward or single_threaded"),
    format: str = typer.Option("table", "--format", help="table, csv or json"),
    warehouse: ReadWarehouse = None,
) -> None:
    """Print the open deal alerts (new first) from the warehouse, as in the report."""
    from orchestration.alerts import output, queries

    if format not in output.FORMATS:
        _fail(f"--format must be one of {', '.join(output.FORMATS)}, got {format!r}")
    with _marts(warehouse, ["deal_alerts"], "the alerts") as marts:
        rows = queries.alerts(marts, owner=owner, alert_type=type)
    typer.echo(output.render(rows, format))


# --- Inspecting exports before a run: `check` and `mapping suggest` (issue 24) ---------------

mapping_app = typer.Typer(help="Draft a generic mapping.yml from an export file.",
                          no_args_is_help=True)
app.add_typer(mapping_app, name="mapping")


@app.command()
def check(
    folder: Path | None = typer.Argument(None, help="Folder of CRM exports [env "
                                         "SALESPIPE_SOURCE_DIR, default seeds/]"),
    source_dir: Path | None = typer.Option(None, help="The same as FOLDER"),
) -> None:
    """Say what a run would do with an export folder, file by file (format, rows, number and
    date formats, values that would be quarantined, problems and their fix), loading nothing.
    Exits non-zero where a run would stop."""
    from orchestration.sources.folder_check import check_folder

    target = folder or source_dir or Settings.from_env().source_dir
    if not target.is_dir():
        _fail(f"source folder {target} does not exist")
    report = check_folder(target.resolve())
    typer.echo("\n".join(report.lines))
    if report.problems:
        raise typer.Exit(code=1)


@mapping_app.command("suggest")
def mapping_suggest(
    file: Path = typer.Argument(..., help="A deals export (.csv or .xlsx)"),
    out: Path | None = typer.Option(None, help="Write the mapping here instead of printing it"),
) -> None:
    """Draft a generic mapping.yml from a deals file's headers and values, to finish by hand."""
    from orchestration.sources.mapping_suggest import suggest

    if not file.is_file():
        _fail(f"no file {file}")
    try:
        text = suggest(file)
    except ValueError as exc:
        _fail(str(exc))
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.exists():
        _fail(f"{out} exists: pass another --out, or remove it first")
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}: check it, then put it beside the export in generic/")


if __name__ == "__main__":
    app()

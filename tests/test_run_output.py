"""What `salespipe run` prints: a short live view and the summary, the full log in a file
under the data folder, a failure in a few lines with the log's path and no traceback."""

import json
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from expected_warnings import DBT_WARN_LEVEL, SEEDS, fired_in_output
from test_cli import salespipe

from orchestration.pipeline import PipelineFailed, run_pipeline
from orchestration.transform.assets import dbt_project

FIXTURES = Path(__file__).parent / "fixtures"
LOG_LINE = re.compile(r"^Full log: (\S+\.log)$", re.MULTILINE)


def _log(output: str) -> Path:
    match = LOG_LINE.search(output)
    assert match, f"no 'Full log:' line in:\n{output[-2000:]}"
    return Path(match.group(1))


def test_demo_run_prints_at_most_40_lines_and_logs_everything_to_a_file(seeds_build, tmp_path):
    result = seeds_build.result
    assert result.returncode == 0, result.stderr[-3000:]
    printed = (result.stdout + result.stderr).splitlines()
    assert len(printed) <= 40, "\n".join(printed)
    out = result.stdout
    # the live view: one line per phase with its counts, then the summary
    assert re.search(r"^ingest +[\d,]+ rows landed from \d+ file", out, re.MULTILINE)
    assert re.search(r"^dbt build +\d+ models, seeds and snapshots built, \d+ tests passed",
                     out, re.MULTILINE)
    published = re.search(r"^publish +(\d+) marts published", out, re.MULTILINE)
    con = duckdb.connect(str(seeds_build.copy_to(tmp_path)), read_only=True)
    marts = con.execute("select count(*) from information_schema.tables "
                        "where table_schema = 'marts'").fetchone()[0]
    con.close()
    assert published and int(published.group(1)) == marts, (out, marts)
    assert "Deals flagged for pipeline cleaning:" in out
    assert "STEP_SUCCESS" not in out and "START sql table model" not in out
    log = _log(out)
    assert log.parent == seeds_build.warehouse.parent / "logs" and log.is_file()
    text = log.read_text()
    # Dagster's events and dbt's node lines (without colour codes) are in the file
    assert "STEP_SUCCESS" in text and "ASSET_MATERIALIZATION" in text
    assert re.search(r"OK created sql (table|incremental) model marts\.fct_deals", text)
    assert re.search(r"PASS not_null_fct_deals ", text) and "\x1b[" not in text


@pytest.fixture(scope="module")
def broken_export(tmp_path_factory) -> Path:
    """The small fixture with the HubSpot deals' 'Deal Stage' column renamed."""
    source = tmp_path_factory.mktemp("broken") / "exports"
    shutil.copytree(FIXTURES / "small", source)
    deals = source / "hubspot" / "deals.csv"
    header, rest = deals.read_text().split("\n", 1)
    deals.write_text(header.replace("Deal Stage", "Stage Of Deal") + "\n" + rest)
    return source


def _run_broken(source: Path, data: Path, *args: str):
    return salespipe("run", "--source-dir", str(source), "--as-of", "2024-03-31", *args,
                     env={"SALESPIPE_DATA_DIR": str(data),
                          "SALESPIPE_WAREHOUSE": str(data / "warehouse.duckdb")})


def test_on_the_sample_only_the_allowed_warnings_fire(seeds_build):
    """Every warn-level check passes on seeds/ but those tests/expected_warnings.py allows."""
    assert seeds_build.result.returncode == 0, seeds_build.result.stderr[-3000:]
    assert fired_in_output(seeds_build.result.stdout) == set(SEEDS)


def test_every_warn_level_dbt_test_says_why_in_the_allow_list(seeds_build):
    """A dbt test at severity warn lets a run go on: expected_warnings.DBT_WARN_LEVEL says why
    for each, and none is there that is not warn (the demo's build wrote the manifest)."""
    nodes = json.loads(dbt_project().manifest_path.read_text())["nodes"].values()
    warn = {n["name"] for n in nodes
            if n["resource_type"] == "test" and n["config"]["severity"].lower() == "warn"}
    assert warn == set(DBT_WARN_LEVEL), {"not listed": warn - set(DBT_WARN_LEVEL),
                                         "not warn-level": set(DBT_WARN_LEVEL) - warn}


def test_failed_run_names_the_step_and_its_message_and_the_log_no_traceback(
        broken_export, tmp_path):
    result = _run_broken(broken_export, tmp_path / "data")
    assert result.returncode == 1
    printed = result.stdout + result.stderr
    assert "Traceback" not in printed
    assert "ingest (ingest_hubspot_deals): " in result.stderr
    assert "deals.csv: required column 'Deal Stage' is missing" in result.stderr
    assert "dagster._core" not in printed  # the message, not the exception's class
    assert re.search(r"^dbt build +not run", result.stdout, re.MULTILINE)
    assert len(printed.splitlines()) <= 20, printed
    log = _log(result.stderr)
    assert log.parent == tmp_path / "data" / "logs"
    assert "STEP_FAILURE" in log.read_text() and "Traceback" in log.read_text()


def test_verbose_streams_the_full_log(broken_export, tmp_path):
    result = _run_broken(broken_export, tmp_path / "data", "--verbose")
    assert result.returncode == 1
    # Dagster's events as its console logger printed them, and the failure after them
    assert re.search(r"ingest_hubspot_contacts - hubspot contacts: 1 file\(s\) loaded",
                     result.stderr)
    assert "STEP_FAILURE" in result.stderr
    assert "ingest (ingest_hubspot_deals): " in result.stderr
    log = _log(result.stderr)
    assert "hubspot contacts: 1 file(s) loaded" in log.read_text()


def test_failed_dbt_build_names_the_model_and_its_error(seeds_run_copy):
    """A model that cannot build (its raw table lost a column) fails the run with the model
    and dbt's error, not dagster-dbt's "the dbt CLI process failed"."""
    warehouse = seeds_run_copy
    con = duckdb.connect(str(warehouse))
    con.execute("alter table raw.hubspot_owners drop column email")
    con.close()
    owners = dg.AssetSelection.assets(dg.AssetKey(["staging", "stg_hubspot__owners"]))
    with pytest.raises(PipelineFailed) as failed:
        run_pipeline(selection=owners, stream=False)
    (step, message), = failed.value.failed
    assert step == "dbt_models"
    assert message.startswith("dbt build: 1 failed\nmodel stg_hubspot__owners: ")
    assert '"email"' in message and "dbt CLI process" not in message
    assert len(message.splitlines()) <= 3
    assert "Binder Error" in failed.value.log_path.read_text()


def test_only_the_newest_run_logs_are_kept(tmp_path):
    from orchestration.runlog.files import prune

    names = [f"run-20261101-0000{i:02d}-abcdef{i:02d}.log" for i in range(25)]
    for name in names:
        (tmp_path / name).write_text("x")
    (tmp_path / "notes.txt").write_text("kept")
    removed = prune(tmp_path, keep=20)
    assert sorted(p.name for p in removed) == names[:5]
    assert sorted(p.name for p in tmp_path.glob("run-*.log")) == names[5:]
    assert (tmp_path / "notes.txt").exists()

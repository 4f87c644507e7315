"""A run leaves dbt's build out when nothing the build reads changed since the last build in
which every model and test passed (orchestration/transform/unchanged.py), and builds again when
anything did: an export, a raw row edited by hand, the as-of date, a file of the dbt project, a
table the build wrote, or another dbt run on the warehouse."""

import io
import os
import shutil
from pathlib import Path

import duckdb

from orchestration.pipeline import run_pipeline
from orchestration.runlog.live import LiveView
from orchestration.transform import unchanged
from orchestration.transform.manifest import manifest_nodes
from tests.conftest import DBT_PROJECT, dbt_cli

LEFT_OUT = "dbt build  nothing changed since the build of"
BUILT = "models, seeds and snapshots built, 218 tests passed"


def test_a_rerun_leaves_the_build_out_until_a_raw_row_changes(seeds_run_copy):
    warehouse = seeds_run_copy  # built by `salespipe run` as of 2026-10-31, which recorded it
    marts = _marts(warehouse)
    out = _run()
    assert LEFT_OUT in out, out
    assert "90 models, seeds and snapshots kept" in out
    assert "20 marts published" in out  # the steps after dbt ran on the tables as they are
    assert _marts(warehouse) == marts

    with duckdb.connect(str(warehouse)) as con:  # not a load: an edit in place, same row count
        deal, amount = con.execute("""update raw.hubspot_deals set amount = amount + 1000
            where record_id = (select min(record_id) from raw.hubspot_deals)
            returning record_id, amount""").fetchone()
    out = _run()
    assert BUILT in out and LEFT_OUT not in out, out
    assert _scalar(warehouse, "select amount from marts.fct_deals where deal_id = ?",
                   [f"hubspot-{deal}"]) == amount
    assert LEFT_OUT in _run()  # that build was recorded in turn


def test_what_the_record_of_a_clean_build_answers_for(seeds_run_copy, tmp_path, monkeypatch):
    """Each input of the build, changed alone, and each table it wrote, dropped, altered or
    with rows deleted, makes the record not vouch for the tables; reopening the file and
    writing tables the build does not read leave it valid."""
    warehouse = seeds_run_copy
    nodes = manifest_nodes(DBT_PROJECT / "target" / "manifest.json")
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))

    def vouched(project_dir: Path = DBT_PROJECT) -> bool:
        with duckdb.connect(str(warehouse)) as con:
            current = unchanged.inputs(con, project_dir, None)
            return unchanged.vouched(con, current, nodes) is not None

    assert vouched() and vouched(project)  # the copy has the same files
    with duckdb.connect(str(warehouse)) as con:  # what the build neither reads nor writes
        con.execute("create table main.scratch as select * from range(100000)")
        con.execute("checkpoint")
    assert vouched()
    model = project / "models" / "marts" / "fct_deals.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    assert not vouched(project)
    monkeypatch.setenv("SALESPIPE_AS_OF", "2026-11-01")
    assert not vouched()
    monkeypatch.setenv("SALESPIPE_AS_OF", "2026-10-31")
    for edit in [
        "delete from raw._loads where load_id = (select min(load_id) from raw._loads)",
        "delete from marts.dim_owners where owner_id = (select min(owner_id) from marts.dim_owners)",
        "alter table marts.dim_owners add column note varchar",
        "drop table marts.dim_owners",
    ]:
        copy = tmp_path / "copy.duckdb"
        shutil.copy(warehouse, copy)
        with duckdb.connect(str(warehouse)) as con:
            con.execute(edit)
        assert not vouched(), edit
        shutil.copy(copy, warehouse)
    assert vouched()


def test_any_dbt_run_on_the_warehouse_drops_the_record(seeds_run_copy, tmp_path):
    """A user's `dbt seed` (or run, build, --full-refresh) drops it in its on-run-start hook,
    before it writes anything, whether or not the tables it writes end up different; with no
    record, the next run builds (test_a_build_with_a_warning_is_not_vouched_for)."""
    warehouse = seeds_run_copy
    assert _scalar(warehouse, "select count(*) from meta.build_inputs") == 1
    env = {**os.environ, "SALESPIPE_WAREHOUSE": str(warehouse)}
    result = dbt_cli(["seed", "--select", "alert_stale_days"], tmp_path / "target", env)
    assert result.returncode == 0, result.stdout[-3000:]
    assert not _scalar(warehouse, "select count(*) from duckdb_tables() "
                                  "where schema_name = 'meta' and table_name = 'build_inputs'")


def test_a_build_with_a_warning_is_not_vouched_for(seeds_run_copy):
    """So the next run builds and shows the warning again, rather than keeping quiet."""
    with duckdb.connect(str(seeds_run_copy)) as con:
        current = unchanged.inputs(con, DBT_PROJECT, None)
        nodes = manifest_nodes(DBT_PROJECT / "target" / "manifest.json")
        results = {"results": [{"status": "success"}, {"status": "warn"}]}
        unchanged.forget(con)
        assert not unchanged.record(con, current, nodes, results, "run")
        assert unchanged.vouched(con, current, nodes) is None
        assert unchanged.record(con, current, nodes, {"results": [{"status": "pass"}]}, "run")
        assert unchanged.vouched(con, current, nodes) is not None


def _run() -> str:
    out = io.StringIO()
    run_pipeline(stream=False, view=LiveView(out))
    return out.getvalue()


def _marts(warehouse: Path) -> dict[str, tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from duckdb_tables() "
                                           "where schema_name = 'marts' order by 1").fetchall()]
        return {n: con.execute(f"select count(*), sum(hash(t)::hugeint) from marts.{n} t")
                .fetchone() for n in names}


def _scalar(warehouse: Path, sql: str, params=None):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchone()[0]

"""A run keeps the warehouse file open between its steps' connections
(orchestration/resources.py): what one step leaves on the open file must not reach the next."""

import subprocess
import sys

import dagster as dg
import duckdb

from orchestration.resources import DuckDBWarehouse


@dg.asset
def leaves_things_behind(warehouse: DuckDBWarehouse) -> None:
    with warehouse.connect() as con:
        con.execute("create table kept as select 42 as answer")
        # a step that fails between its `set` / `attach` and their undoing leaves them behind
        con.execute("set preserve_insertion_order = false")
        con.execute("set threads = 1")
        con.execute("attach ':memory:' as scratch")
        con.execute("begin transaction")
        try:  # and one that swallows an error leaves a failed transaction open
            con.execute("select 'x'::int")
        except duckdb.ConversionException:
            pass


@dg.asset(deps=[leaves_things_behind])
def finds_the_defaults(warehouse: DuckDBWarehouse) -> dict:
    with warehouse.connect() as con:
        return {
            "answer": con.execute("select answer from kept").fetchone()[0],
            "order": con.execute("select current_setting('preserve_insertion_order')").fetchone()[0],
            "threads": con.execute("select current_setting('threads')").fetchone()[0],
            "databases": sorted(r[0] for r in con.execute(
                "select database_name from duckdb_databases() where not internal").fetchall()),
        }


def test_a_steps_settings_and_attachments_do_not_reach_the_next_step(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESPIPE_ENGINE", "duckdb")
    path = tmp_path / "warehouse.duckdb"
    result = dg.materialize([leaves_things_behind, finds_the_defaults],
                            resources={"warehouse": DuckDBWarehouse(path=str(path), threads="2")},
                            instance=dg.DagsterInstance.ephemeral())
    seen = result.output_for_node("finds_the_defaults")
    assert seen == {"answer": 42, "order": True, "threads": 2, "databases": ["warehouse"]}
    # the run let go of the file: another process (the next run, dbt's) can write it
    subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r}).close()"],
                   check=True, timeout=60)

"""`salespipe changes` on the warehouse `salespipe run` built from the samples (the shared
seeds_build, as of 2026-10-31): what changed, newest first, with stage and owner names.

The changes themselves, the waterfall and the slip alerts are checked by hand-worked dbt unit
tests (models/**/_deal_changes__unit_tests.yml, _changes__unit_tests.yml, _alerts__unit_tests.yml)
and, across two nightly runs, by tests/test_incremental.py (a pushed and cut export deal). The
waterfall's rows equal the SQL it was first written with (test_waterfall_equals_...)."""

import re
import shutil

import duckdb
from test_lead_scoring import dbt
from typer.testing import CliRunner

from benchmarks.waterfall_checks import reference_differences
from orchestration.cli import app


def test_changes_lists_one_owners_changes_since_a_day(seeds_build):
    base = ["changes", "--warehouse", str(seeds_build.warehouse)]
    riley = CliRunner().invoke(app, [*base, "--since", "2026-10-29", "--owner", "riley nash"])
    assert riley.exit_code == 0, riley.output
    lines = riley.output.splitlines()
    rows = [re.split(r"\s{2,}", line) for line in lines[1:-1]]
    # hand-checked in the samples: Riley Nash's three stage moves from Oct 29 on, newest first
    assert rows == [
        ["2026-10-31 14:45", "Falconstone Solutions - Pro Plan", "Riley Nash", "stage",
         "Negotiating -> Contract Sent", "native"],
        ["2026-10-30 16:16", "Primecloud Industries - Starter Plan", "Riley Nash", "stage",
         "Negotiating -> Contract Sent", "native"],
        ["2026-10-29 16:53", "Ironriver Manufacturing - Automatio…", "Riley Nash", "stage",
         "Negotiating -> Contract Sent", "native"],
    ], riley.output
    assert lines[-1] == "3 change(s) since 2026-10-29"
    # without --since: the week up to the run's as-of date (Oct 25 to Oct 31)
    week = CliRunner().invoke(app, [*base, "--owner", "riley nash"])
    assert week.output.splitlines()[-1].endswith("since 2026-10-25"), week.output


def test_changes_refuses_a_bad_date(seeds_build):
    bad = CliRunner().invoke(app, ["changes", "--warehouse", str(seeds_build.warehouse),
                                   "--since", "31/10/2026"])
    assert bad.exit_code == 1
    assert "--since must be a date like 2026-10-31, got '31/10/2026'" in bad.output


def test_waterfall_equals_the_reference_sql(seeds_build):
    """marts.pipeline_waterfall, as `salespipe run` built it, has exactly the rows of the SQL
    issue 25 wrote (benchmarks/pipeline_waterfall_reference.sql) on the same intermediate
    tables: the rewrite for linear cost (one row per deal, not count(distinct)) changed how it
    is computed, not a figure. EXCEPT ALL both ways, so a duplicated or missing row counts."""
    con = duckdb.connect(str(seeds_build.warehouse), read_only=True)
    try:
        only_mart, only_reference, rows = reference_differences(con, "2026-10-31")
    finally:
        con.close()
    assert (only_mart, only_reference) == (0, 0)
    assert rows > 900  # every period, group and pipeline of the samples


def test_waterfall_followed_from_an_earlier_day_equals_the_full_build(seeds_build, tmp_path):
    """int_deal_waterfall built as of Sep 20, then incrementally as of Oct 31: the deals with a
    move in between are recomputed whole, October and Q4 (started since) for every deal, the
    rest kept as built (July, August and Q2 cannot change: they ended before Sep 20). Its rows,
    and the waterfall added up from them, are those of `salespipe run`'s full build as of
    Oct 31 (EXCEPT ALL both ways)."""
    copy = tmp_path / "waterfall.duckdb"
    shutil.copy(seeds_build.warehouse, copy)
    for day, refresh in (("2026-09-20", ["--full-refresh"]), ("2026-10-31", [])):
        result = dbt(copy, tmp_path / "target", "run", "--select", "int_deal_waterfall",
                     "pipeline_waterfall", *refresh, as_of=day)
        assert result.returncode == 0, result.stdout[-3000:]
    con = duckdb.connect(str(seeds_build.warehouse), read_only=True)
    try:
        con.execute(f"attach '{copy}' as inc (read_only)")
        differ = {}
        for table in ("intermediate.int_deal_waterfall", "marts.pipeline_waterfall"):
            a, b = (f"(select * exclude (_built_at) from {db}.{table})"
                    if table.endswith("int_deal_waterfall") else f"{db}.{table}"
                    for db in ("inc", seeds_build.warehouse.stem))
            differ[table] = con.execute(
                f"select (select count(*) from (select * from {a} except all select * from {b})),"
                f" (select count(*) from (select * from {b} except all select * from {a})),"
                f" (select count(*) from {a})").fetchone()
        kept = con.execute("select count(distinct _built_at) "
                           "from inc.intermediate.int_deal_waterfall").fetchone()[0]
    finally:
        con.close()
    assert all(a == b == 0 and rows > 900 for a, b, rows in differ.values()), differ
    assert kept == 2  # rows kept from the build as of Sep 20

"""GX suites (expectations/*.json) as Dagster asset checks, on the hand-worked fixture.

One full pipeline run (the code path of `salespipe run`) on a copy of tests/fixtures/small with
two cleaning problems put in its export files: HubSpot deal 102 with a negative amount and
contact 2 with a malformed email. The later tests change the built warehouse and re-run only
the checks, which takes seconds.
"""

import shutil
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.checks import row_counts, validate
from orchestration.checks.expectations import expectation_checks
from orchestration.checks.results import CheckRow
from orchestration.checks.suites import SUITES_DIR, all_suites, write
from orchestration.pipeline import PipelineFailed, _failures, assets_and_resources, run_pipeline
from tests.conftest import FIXTURES, Workspace

FCT_DEALS = dg.AssetKey(["marts", "fct_deals"])


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="module")
def dq(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dq")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SALESPIPE_DATA_DIR", str(tmp / "data"))
        mp.setenv("SALESPIPE_SOURCE_DIR", str(tmp / "exports"))
        mp.setenv("SALESPIPE_WAREHOUSE", str(tmp / "data" / "warehouse.duckdb"))
        mp.setenv("SALESPIPE_AS_OF", "2024-03-31")
        ws = Workspace(tmp / "exports", tmp / "data" / "warehouse.duckdb")
        shutil.copytree(FIXTURES / "small", ws.source)
        _replace(ws.source / "hubspot" / "deals.csv", "Presentation Scheduled,500,",
                 "Presentation Scheduled,-500,")
        _replace(ws.source / "hubspot" / "contacts.csv", "ben@acme.example", "ben at acme")
        summary = run_pipeline()
        yield ws, summary


def gx_rows(rows: list[CheckRow]) -> dict[tuple[str, str], CheckRow]:
    """The checks that come from GX suites (dbt tests carry no `suite` metadata)."""
    return {(r.asset, r.check): r for r in rows if "suite" in r.metadata}


def sql(ws: Workspace, statement: str) -> None:
    con = duckdb.connect(str(ws.warehouse))
    try:
        con.execute(statement)
    finally:
        con.close()


@contextmanager
def undone(ws: Workspace, *undo: str):
    """Runs `undo` after the block, passed or not: the module's warehouse is shared, and a
    test must not leave its broken rows to the next one (the files run in any order)."""
    try:
        yield
    finally:
        for statement in undo:
            sql(ws, statement)


# Every GX check and nothing else (no dbt build, no other checks): seconds, not a full run.
GX_CHECKS = dg.AssetSelection.checks(*expectation_checks())


def execute(assets, selection) -> dg.ExecuteInProcessResult:
    return dg.materialize([*assets], resources=assets_and_resources()[1], selection=selection,
                          instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def test_warn_checks_fail_with_counts_and_the_run_goes_on(dq):
    _, summary = dq
    gx = gx_rows(summary.checks)
    expected = sum(len(s.expectations) for s in all_suites())
    assert len(gx) == expected == len({(s.name, e.meta["check"])
                                       for s in all_suites() for e in s.expectations})
    failed = {key for key, row in gx.items() if not row.passed}
    assert failed == {
        ("raw/hubspot_deals", "amount_non_negative"),
        ("marts/fct_deals", "amount_non_negative"),
        ("raw/hubspot_contacts", "email_well_formed"),
        ("marts/dim_contacts", "email_well_formed"),
    }
    negative = gx[("raw/hubspot_deals", "amount_non_negative")]
    assert negative.severity == "WARN" and negative.metadata["unexpected_count"] == 1
    sample = negative.metadata["failing_rows_sample"].records[0].data
    assert sample["record_id"] == "102" and sample["amount"] == -500
    email = gx[("marts/dim_contacts", "email_well_formed")]
    assert email.metadata["unexpected_count"] == 1
    assert email.metadata["failing_rows_sample"].records[0].data["email"] == "ben at acme"
    # ERROR checks on the marts' keys passed; dbt tests are asset checks of the same run.
    assert gx[("marts/fct_deals", "deal_id_unique")].severity == "ERROR"
    assert gx[("marts/fct_deals", "deal_id_unique")].passed
    dbt = {(r.asset, r.check) for r in summary.checks if "suite" not in r.metadata}
    assert ("marts/fct_deals", "unique_fct_deals_deal_id") in dbt
    assert any("amount_non_negative" in line for line in summary.lines())


def test_checks_pass_once_the_data_is_fixed(dq):
    ws, _ = dq
    sql(ws, "update raw.hubspot_deals set amount = 500 where record_id = '102'")
    sql(ws, "update marts.fct_deals set amount = 500 where deal_id = 'hubspot-102'")
    sql(ws, "update raw.hubspot_contacts set email = 'ben@acme.example' where record_id = '2'")
    sql(ws, "update marts.dim_contacts set email = 'ben@acme.example' where email = 'ben at acme'")
    summary = run_pipeline(selection=GX_CHECKS)
    gx = gx_rows(summary.checks)
    assert gx and all(r.passed for r in gx.values()), [r.line() for r in gx.values()]
    band = gx[("raw/hubspot_deals", "row_count_within_band")].metadata
    assert band["previous_row_count"] == band["row_count"] == 3


def test_error_check_fails_the_run_names_it_and_blocks_downstream(dq):
    ws, _ = dq
    with undone(ws, DROP_SECOND_101):
        _error_check_fails_and_blocks(ws)


DROP_SECOND_101 = ("delete from marts.fct_deals where rowid = (select max(rowid) from "
                   "marts.fct_deals where deal_id = 'hubspot-101' having count(*) > 1)")


def _error_check_fails_and_blocks(ws):
    sql(ws, "insert into marts.fct_deals select * from marts.fct_deals "
            "where deal_id = 'hubspot-101'")
    ran = []

    @dg.asset(deps=[FCT_DEALS])
    def reads_fct_deals():
        ran.append(True)

    all_assets, _ = assets_and_resources()

    selection = (dg.AssetSelection.checks(dg.AssetCheckKey(FCT_DEALS, "deal_id_unique"))
                 | dg.AssetSelection.assets(reads_fct_deals))
    result = execute([*all_assets, reads_fct_deals], selection)
    assert not result.success and not ran
    evaluation = next(e.event_specific_data for e in result.all_events
                      if e.event_type_value == "ASSET_CHECK_EVALUATION")
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["unexpected_count"].value == 2
    assert "marts/fct_deals: deal_id_unique" in "\n".join(_failures(result))
    # The same checks pass and let the downstream asset run once the duplicate is gone.
    sql(ws, DROP_SECOND_101)
    assert execute([*all_assets, reads_fct_deals], selection).success and ran == [True]
    sql(ws, "insert into marts.fct_deals select * from marts.fct_deals "
            "where deal_id = 'hubspot-101'")
    with pytest.raises(PipelineFailed, match="marts/fct_deals: deal_id_unique"):
        run_pipeline(selection=dg.AssetSelection.checks(
            dg.AssetCheckKey(FCT_DEALS, "deal_id_unique")))


def test_row_count_outside_the_band_of_the_previous_run_is_flagged(dq):
    ws, _ = dq
    assert row_counts.band(100, 0.5) == {"row_count_min": 50, "row_count_max": 150}
    key = dg.AssetKey(["raw", "generic_contacts"])
    before = ws.scalar("select count(*) from raw.generic_contacts")
    sql(ws, "create table main.kept_contacts as select * from raw.generic_contacts")
    with undone(ws, "insert into raw.generic_contacts select * from main.kept_contacts",
                "drop table main.kept_contacts"):
        sql(ws, "delete from raw.generic_contacts")  # an export that came out empty
        summary = run_pipeline(selection=dg.AssetSelection.checks(
            dg.AssetCheckKey(key, "row_count_within_band")))
    band = gx_rows(summary.checks)[("raw/generic_contacts", "row_count_within_band")]
    assert not band.passed and band.severity == "WARN"
    assert band.metadata["previous_row_count"] == before and band.metadata["row_count"] == 0


def test_a_table_larger_than_the_rows_gx_reads_keeps_its_row_count_band(dq, monkeypatch):
    # GX validates at most MAX_ROWS rows of a table; the band must be judged on the whole
    # table's count, or every table above twice MAX_ROWS falls below its own previous count.
    ws, _ = dq
    monkeypatch.setattr(validate, "MAX_ROWS", 1)
    key = dg.AssetKey(["marts", "dim_contacts"])
    count = ws.scalar("select count(*) from marts.dim_contacts")
    assert count >= 4  # floor(count / 2), the band's lower bound, is above MAX_ROWS
    checks = dg.AssetSelection.checks(*[k for c in expectation_checks() for k in c.check_keys
                                        if k.asset_key == key])
    run_pipeline(selection=checks)
    band = gx_rows(run_pipeline(selection=checks).checks)[
        ("marts/dim_contacts", "row_count_within_band")]
    assert band.passed
    assert band.metadata["row_count"] == band.metadata["previous_row_count"] == count
    assert band.metadata["observed_value"] == count
    assert band.metadata["validated_rows"] == "newest 1 rows (by created_at)"


def test_a_large_raw_table_is_validated_newest_load_first(dq, monkeypatch):
    # A raw table beyond MAX_ROWS keeps growing night after night; the rows GX reads must be
    # the newest loads', or a night's bad rows would sit past the limit and never be seen.
    ws, _ = dq
    monkeypatch.setattr(validate, "MAX_ROWS", 1)
    key = dg.AssetKey(["raw", "hubspot_contacts"])
    sql(ws, "insert into raw.hubspot_contacts by name select * replace ("
            "'9001' as record_id, 'night at example' as email, 'contacts-later.csv' as "
            "_source_file, 1 as _line, _loaded_at + interval 1 day as _loaded_at) "
            "from raw.hubspot_contacts where _line = (select min(_line) from raw.hubspot_contacts)")
    with undone(ws, "delete from raw.hubspot_contacts where record_id = '9001'"):
        rows = gx_rows(run_pipeline(selection=dg.AssetSelection.checks(
            dg.AssetCheckKey(key, "email_well_formed"),
            dg.AssetCheckKey(key, "row_count_within_band"))).checks)
    email = rows[("raw/hubspot_contacts", "email_well_formed")]
    assert not email.passed and email.severity == "WARN"
    failing = email.metadata["failing_rows_sample"].records[0].data
    assert (failing["email"], failing["_source_file"]) == ("night at example",
                                                           "contacts-later.csv")
    band = rows[("raw/hubspot_contacts", "row_count_within_band")]
    assert band.metadata["validated_rows"] == "newest 1 rows (by _loaded_at)"


def test_a_large_mart_is_validated_newest_record_first(dq, monkeypatch):
    # fct_deals is rebuilt every night in no particular order: the newest deals come first, so
    # a deal created today is validated however many older deals the mart holds.
    ws, _ = dq
    monkeypatch.setattr(validate, "MAX_ROWS", 1)
    sql(ws, "insert into marts.fct_deals by name select * replace ("
            "'hubspot-9001' as deal_id, -1.0 as amount, (select max(created_at) from "
            "marts.fct_deals) + interval 1 day as created_at) "
            "from marts.fct_deals where deal_id = 'hubspot-101'")
    check = dg.AssetCheckKey(FCT_DEALS, "amount_non_negative")
    with undone(ws, "delete from marts.fct_deals where deal_id = 'hubspot-9001'"):
        row = gx_rows(run_pipeline(selection=dg.AssetSelection.checks(check)).checks)[
            ("marts/fct_deals", "amount_non_negative")]
    assert not row.passed
    assert row.metadata["failing_rows_sample"].records[0].data["deal_id"] == "hubspot-9001"


def test_every_critical_expectation_fails_on_its_own_problem(dq):
    """Each ERROR expectation (a mart's key: not null, unique) is made to fail once: a copy of
    one row with its key set null, another copy as it is; one checks-only run for all."""
    ws, _ = dq
    critical = {(s.name.replace(".", "/"), e.meta["check"]): e.expectation_type
                for s in all_suites() for e in s.expectations if e.severity.value == "critical"}
    assert len(critical) == 6, critical
    keys = {"marts/fct_deals": "deal_id", "marts/dim_contacts": "contact_id",
            "marts/dim_owners": "owner_id"}
    assert {asset for asset, _ in critical} == set(keys)
    undo = []
    for asset, key in keys.items():
        table = asset.replace("/", ".")
        one = f"(select min({key}) from {table})"
        extra_copy = (f"delete from {table} where rowid = (select max(rowid) from {table} "
                      f"where {key} = {one} having count(*) > 1)")
        undo += [f"delete from {table} where {key} is null", extra_copy]
        sql(ws, f"insert into {table} select * replace (null as {key}) from {table} "
                f"where {key} = {one}")
    with undone(ws, *undo):
        for asset, key in keys.items():
            table = asset.replace("/", ".")
            sql(ws, f"insert into {table} select * from {table} "
                    f"where {key} = (select min({key}) from {table})")
        checks = [k for c in expectation_checks() for k in c.check_keys
                  if (k.asset_key.to_user_string(), k.name) in critical]
        result = execute(assets_and_resources()[0], dg.AssetSelection.checks(*checks))
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e for e in (
        ev.event_specific_data for ev in result.all_events
        if ev.event_type_value == "ASSET_CHECK_EVALUATION")}
    assert evaluations.keys() == critical.keys()
    for name, evaluation in evaluations.items():
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR, name
        expected = 1 if critical[name] == "expect_column_values_to_not_be_null" else 2
        assert evaluation.metadata["unexpected_count"].value == expected, name


def test_stored_suites_are_what_the_code_writes(tmp_path):
    for path in write(tmp_path):
        assert path.read_text() == (SUITES_DIR / path.name).read_text(), (
            f"{path.name} is stale: run python -m orchestration.checks.suites")

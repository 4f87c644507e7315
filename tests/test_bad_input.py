"""Bad input gets a clear error naming file, line and column; nothing is lost or duplicated."""

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from orchestration.pipeline import PipelineFailed, run_pipeline
from orchestration.settings import DBT_PROJECT_DIR

# Landing ActiveCampaign deals alone; their checks read other raw tables, so they stay out.
DEALS = dg.AssetSelection.keys("raw/activecampaign_deals").without_checks()
HUBSPOT_DEALS_AND_DOWNSTREAM = dg.AssetSelection.assets(
    dg.AssetKey(["raw", "hubspot_deals"])).required_multi_asset_neighbors().downstream()


def _rewrite(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_bad_values_are_quarantined_and_good_rows_kept(workspace):
    ws = workspace.copy_fixture()
    deals = ws.source / "hubspot" / "deals.csv"
    _rewrite(deals, "2024-04-15 00:00", "15/04/2024")  # malformed date, deal 102
    with deals.open("a") as fh:
        fh.write("104,Truncated row,Sales Pipeline\n")  # too few fields
        stage_dates = "," * 12  # the 12 empty Date entered/exited columns
        fh.write(f",No id deal,Sales Pipeline,Contract Sent,10,USD,,2024-03-01 10:00,,,,"
                 f"{stage_dates}\n")
        fh.write(f"101,Duplicate of 101,Sales Pipeline,Contract Sent,10,USD,,"
                 f"2024-03-01 10:00,,,,{stage_dates}\n")
    _rewrite(deals, ",Presentation Scheduled,", ",Presentation Sceduled,")  # not in pipelines
    generic = ws.source / "generic" / "deals.csv"
    _rewrite(generic, ",Demo,", ",Demoo,")  # unknown stage
    with generic.open("a") as fh:
        fh.write("D3,No stage yet,100,USD,Dee Fox,,03/10/2024 08:00,,,,,,\n")  # no stage
    # dbt's error test lets deals without a stage through only when quarantined (line by line)
    summary = run_pipeline()

    reason = ws.scalar("select reason from marts.data_quarantine where value = 'Demoo'")
    assert "unknown stage" in reason
    assert ws.query("select deal_id, stage_id, outcome from marts.fct_deals where deal_id in "
                    "('pipedrive_export-D1', 'pipedrive_export-D3', 'hubspot-102') "
                    "order by 1") == [("hubspot-102", None, "open"),
                                      ("pipedrive_export-D1", None, "open"),
                                      ("pipedrive_export-D3", None, "open")]

    rows = ws.query("select source_file, line, column_name, value, reason "
                    "from marts.data_quarantine order by line, column_name")
    by_line = {(r[1], r[2]): r for r in rows}
    bad_date = by_line[(3, "Close Date")]
    assert bad_date[0].endswith("hubspot/deals.csv") and bad_date[3] == "15/04/2024"
    assert "expected format" in bad_date[4]
    assert "malformed row" in by_line[(5, "")][4]
    assert "missing id" in by_line[(6, "Record ID")][4]
    assert "duplicate id" in by_line[(7, "Record ID")][4]
    assert by_line[(3, "Deal Stage")][3:] == ("Presentation Sceduled", (
        "stage not in pipeline Sales Pipeline of pipelines.json (renamed or deleted in HubSpot? "
        "save GET /crm/v3/pipelines/deals again): the deal is kept with no stage and counts as "
        "open"))
    no_stage = by_line[(4, "Deal - Stage")]
    assert no_stage[0].endswith("generic/deals.csv") and no_stage[3:] == (
        None, "no stage: the deal is kept with no stage and counts as open")
    assert summary.quarantined == len(rows) >= 4
    # dbt wrote no log file of its own (SALESPIPE_DBT_LOG_FILE unset), only its results
    run_folder, = (DBT_PROJECT_DIR / "target").glob(f"dbt_models-{summary.run_id[:7]}-*")
    assert (run_folder / "run_results.json").exists() and not (run_folder / "dbt.log").exists()

    # deal 102 still enters the marts, with the unparseable value null; 101 is not replaced
    # by its duplicate; the id-less row stays out.
    assert ws.scalar("select expected_close_date from marts.fct_deals "
                     "where deal_id = 'hubspot-102'") is None
    assert ws.scalar("select deal_name from marts.fct_deals where deal_id = 'hubspot-101'") \
        == "Acme renewal"
    assert ws.scalar("select count(*) from marts.fct_deals where source_system = 'hubspot'") == 3


@pytest.fixture
def built(small_build, monkeypatch):
    """The fixture as `run_pipeline()` built it (the worker's build, conftest.small_build, put
    back as its run left it) and that run's summary."""
    return small_build.restore(monkeypatch), small_build.summary


def test_missing_required_column_fails_clearly_and_keeps_loaded_data(built):
    ws, _ = built
    deals = ws.source / "hubspot" / "deals.csv"
    _rewrite(deals, "Deal Stage", "Stage Of Deal")
    with pytest.raises(PipelineFailed) as err:
        run_pipeline()
    message = str(err.value)
    assert "deals.csv" in message and "'Deal Stage'" in message and "missing" in message
    assert ws.scalar("select count(*) from raw.hubspot_deals") == 3  # the earlier load is intact
    assert ws.scalar("select count(*) from marts.fct_deals") == 6


def test_empty_file_fails_clearly(workspace):
    ws = workspace.copy_fixture()
    (ws.source / "hubspot" / "contacts.csv").write_text("")
    with pytest.raises(PipelineFailed) as err:
        run_pipeline()
    assert "contacts.csv" in str(err.value) and "empty" in str(err.value)


def test_malformed_json_fails_clearly(workspace):
    ws = workspace.copy_fixture()
    path = ws.source / "activecampaign" / "deals.json"
    path.write_text(path.read_text()[:-20])  # a truncated download
    with pytest.raises(PipelineFailed) as err:
        run_pipeline()
    assert "deals.json" in str(err.value) and "malformed JSON" in str(err.value)


def test_malformed_page_among_pages_parsed_ahead_is_named_and_pages_before_it_kept(
        workspace, monkeypatch):
    # Two DuckDB threads: later pages are parsed on another thread while one lands
    # (orchestration/ingest/parse_ahead.py); the error must still name the right page.
    monkeypatch.setenv("SALESPIPE_DUCKDB_THREADS", "2")
    ws = workspace.copy_fixture()
    folder = ws.source / "activecampaign"
    good = (folder / "deals.json").read_text()
    # pages land in name order: -1, -2, then deals; each page its own content (the same
    # content twice is one file, landed once), here the same records laid out differently
    (folder / "deals-1.json").write_text(good + "\n")
    (folder / "deals-2.json").write_text(good[:-20])
    with pytest.raises(PipelineFailed) as err:
        run_pipeline(selection=DEALS)
    message = str(err.value)
    assert "deals-2.json" in message and "malformed JSON" in message
    assert "deals-1.json" not in message and "deals.json:" not in message
    landed = ws.query("select distinct _source_file from raw.activecampaign_deals")
    assert [Path(r[0]).name for r in landed] == ["deals-1.json"]

    (folder / "deals-2.json").write_text(good + "\n\n")  # fixed: the remaining pages land
    run_pipeline(selection=DEALS)
    landed = ws.query("select _source_file, count(*) from raw.activecampaign_deals group by 1")
    assert sorted(Path(f).name for f, _ in landed) == ["deals-1.json", "deals-2.json",
                                                       "deals.json"]
    assert len({n for _, n in landed}) == 1  # every page landed whole


def test_json_records_keep_fields_only_some_records_have_and_nested_values_as_json(workspace):
    ws = workspace.copy_fixture()
    folder = ws.source / "activecampaign"
    page = json.loads((folder / "deals.json").read_text())
    first = dict(page["deals"][0], value=1500, links={"notes": "/api/3/deals/7/notes"})
    second = dict(page["deals"][0], id="8", stage_reason="budget")  # a field only it has
    page["deals"] = [first, second]
    (folder / "deals.json").write_text(json.dumps(page))
    run_pipeline(selection=DEALS)
    rows = ws.query("select id, value, links, stage_reason from raw.activecampaign_deals "
                    "order by id")
    assert rows == [("7", 1500.0, '{"notes":"/api/3/deals/7/notes"}', None),
                    ("8", 250000.0, None, "budget")]

    page["deals"] = ["7", "8"]  # not records
    (folder / "deals.json").write_text(json.dumps(page))
    with pytest.raises(PipelineFailed, match=r"deals\.json: 'deals' is not a list of records"):
        run_pipeline(selection=DEALS)


@pytest.mark.parametrize("threads", ["1", "2"])  # the page parsed by the loader, or ahead
def test_json_records_are_numbered_by_their_place_in_the_page(workspace, monkeypatch, threads):
    # A record's `_line` (and its quarantine line) is its position in the page's array, as
    # the records are read (orchestration/ingest/readers.py numbers them while parsing).
    monkeypatch.setenv("SALESPIPE_DUCKDB_THREADS", threads)
    ws = workspace.copy_fixture()
    folder = ws.source / "activecampaign"
    page = json.loads((folder / "deals.json").read_text())
    deal = page["deals"][0]
    page["deals"] = [dict(deal, id=str(n), title=f"deal {n}") for n in range(1, 6)]
    page["deals"][2]["value"] = "lots"  # record 3
    page["deals"][3]["id"] = "2"  # record 4 repeats record 2's id
    (folder / "deals.json").write_text(json.dumps(page))
    second = dict(page, deals=[dict(deal, id="9", cdate="soon")])  # a second page
    (folder / "deals-2.json").write_text(json.dumps(second))
    run_pipeline(selection=DEALS)
    assert ws.query("select title, _line from raw.activecampaign_deals "
                    "where _source_file like '%deals.json' order by _line") == [
        ("deal 1", 1), ("deal 2", 2), ("deal 3", 3), ("deal 4", 4), ("deal 5", 5)]
    assert ws.query("select regexp_extract(source_file, '[^/]+$'), line, column_name, value, "
                    "reason from raw._quarantine order by 1, 2") == [
        ("deals-2.json", 1, "cdate", "soon",
         "not a date/time in the expected format (ISO 8601)"),
        ("deals.json", 3, "value", "lots", "not a number"),
        ("deals.json", 4, "id", "2", "duplicate id: first seen on line 2, which is used")]


def test_a_bad_file_fails_at_once_without_retries(workspace):
    # Ingest steps retry what may pass (RetryPolicy); a malformed file cannot, so its step
    # must fail on the first attempt instead of repeating the same error 15 s later.
    from orchestration.pipeline import assets_and_resources

    all_assets, resources = assets_and_resources()

    ws = workspace.copy_fixture()
    path = ws.source / "activecampaign" / "deals.json"
    path.write_text(path.read_text()[:-20])
    result = dg.materialize(all_assets, resources=resources, selection=DEALS,
                            raise_on_error=False)
    events = [e.event_type_value for e in result.all_events]
    assert not result.success and "STEP_FAILURE" in events
    assert "STEP_UP_FOR_RETRY" not in events


RAW_LANDING = dg.AssetSelection.key_prefixes("raw").without_checks()


def _raw_rows(ws) -> dict[str, int]:
    tables = [r[0] for r in ws.query("select table_name from information_schema.tables where "
                                     "table_schema = 'raw' and table_name not like '\\_%' "
                                     "escape '\\' order by 1")]
    return {t: ws.scalar(f'select count(*) from raw."{t}"') for t in tables}


def test_same_content_lands_once_whatever_its_path_and_a_changed_file_replaces_its_rows(
        built, monkeypatch):
    from orchestration.pipeline import assets_and_resources

    ws, first = built
    landed = _raw_rows(ws)
    # The folder moved, an export renamed, and the same export downloaded again (a browser's
    # " (1)"): nothing lands again, every raw row now names the file where it is.
    moved = ws.source.parent / "exports-moved"
    shutil.move(ws.source, moved)
    monkeypatch.setenv("SALESPIPE_SOURCE_DIR", str(moved))
    (moved / "hubspot" / "deals.csv").rename(moved / "hubspot" / "deals-2024.csv")
    shutil.copy(moved / "hubspot" / "deals-2024.csv", moved / "hubspot" / "deals-2024 (1).csv")
    all_assets, resources = assets_and_resources()
    assert dg.materialize(all_assets, resources=resources, selection=RAW_LANDING).success
    assert _raw_rows(ws) == landed
    assert ws.scalar("select count(*) from raw._loads where source_file not like ?",
                     [f"{moved}/%"]) == 0
    assert ws.query("select distinct _source_file from raw.hubspot_deals") == [
        (str(moved / "hubspot" / "deals-2024.csv"),)]
    assert ws.scalar("select count(*) from raw._quarantine where source_file not like ?",
                     [f"{moved}/%"]) == 0
    # (the runs after the first rebuild what HubSpot's deals feed; nothing else can change)
    second = run_pipeline(selection=HUBSPOT_DEALS_AND_DOWNSTREAM)
    assert second.mart_rows == first.mart_rows
    assert ws.scalar("select count(*) from marts.fct_deals where source_system = 'hubspot'") == 3

    # a changed file replaces the rows it loaded before, and its newer content wins
    (moved / "hubspot" / "deals-2024 (1).csv").unlink()
    _rewrite(moved / "hubspot" / "deals-2024.csv", "Beta expansion", "Beta (renamed)")
    run_pipeline(selection=HUBSPOT_DEALS_AND_DOWNSTREAM)
    assert ws.scalar("select count(*) from raw.hubspot_deals") == 3
    assert ws.scalar("select deal_name from marts.fct_deals where deal_id = 'hubspot-102'") \
        == "Beta (renamed)"


def test_mapping_missing_required_key_names_the_fix(workspace):
    from orchestration.pipeline import assets_and_resources

    all_assets, resources = assets_and_resources()

    ws = workspace.copy_fixture()
    _rewrite(ws.source / "generic" / "mapping.yml", '    stage: "Deal - Stage"\n', "")
    with pytest.raises(PipelineFailed) as err:
        run_pipeline()
    assert "mapping.yml" in str(err.value) and "deals.columns.stage is required" in str(err.value)
    # and at once: a mapping cannot fix itself between retries
    deals = dg.AssetSelection.keys("raw/generic_deals").required_multi_asset_neighbors()
    result = dg.materialize(all_assets, resources=resources, raise_on_error=False,
                            selection=deals.without_checks())
    events = [e.event_type_value for e in result.all_events]
    assert not result.success and "STEP_UP_FOR_RETRY" not in events

"""`salespipe check` and `salespipe mapping suggest`, through the command line, on the export
fixtures of tests/fixtures/formats. Neither builds anything; one test lands the suggested
mapping's deals (ingest assets only) to show the draft loads."""

import shutil
from pathlib import Path

import dagster as dg
import yaml
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.pipeline import run_pipeline

FORMATS = Path(__file__).parent / "fixtures" / "formats"
GENERIC_DEALS = dg.AssetSelection.assets(dg.AssetKey(["raw", "generic_deals"])) \
    .required_multi_asset_neighbors().without_checks()


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_check_reports_each_file_and_exits_non_zero_with_the_fix(workspace):
    ws = workspace
    shutil.copytree(FORMATS / "hubspot_ui", ws.source)
    shutil.copytree(FORMATS / "two_ways" / "generic", ws.source / "generic")
    result = _cli("check", str(ws.source))
    assert result.exit_code == 1, result.output
    out = result.output
    assert "  deals.csv (deals, CSV): 7 rows, 8 columns\n" in out
    assert "    'Amount': numbers written 1,234.56\n" in out
    assert "      without Currency: amounts would have no currency (or " \
        "SALESPIPE_HUBSPOT_CURRENCY's)\n" in out
    assert "  pipelines: no pipelines*.json file: stage order, won and lost would come " in out
    assert "'Negotiation' (Sales Pipeline)" in out  # the note a run's summary would give
    assert "    PROBLEM: " in out and "column 'Amount': numbers such as '1,054' (line 2) " \
        "read two ways" in out
    assert out.endswith("A run would stop: 1 problem(s) above, each with its fix.\n")
    assert not ws.warehouse.exists()  # nothing was loaded

    _rewrite(ws.source / "hubspot" / "deals.csv", "Record ID,", "ID,")
    shutil.rmtree(ws.source / "generic")
    result = _cli("check", "--source-dir", str(ws.source))
    assert result.exit_code == 1
    assert "deals.csv: required column 'Record ID' is missing (found 8 columns: ID, " \
        in result.output

    _rewrite(ws.source / "hubspot" / "deals.csv", "ID,", "Record ID,")
    result = _cli("check", str(ws.source))
    assert result.exit_code == 0, result.output
    assert result.output.endswith("A run would load these files.\n")


def test_mapping_suggest_drafts_a_mapping_the_generic_loader_reads(workspace):
    ws = workspace
    export = FORMATS / "semicolon_bom" / "generic" / "deals.csv"
    (ws.source / "generic").mkdir(parents=True)
    shutil.copy(export, ws.source / "generic" / "deals.csv")
    mapping = ws.source / "generic" / "mapping.yml"
    result = _cli("mapping", "suggest", str(export), "--out", str(mapping))
    assert result.exit_code == 0, result.output
    text = mapping.read_text(encoding="utf-8")
    assert "# 'Betrag': numbers written 1.234,56\n" in text
    drafted = yaml.safe_load(text)
    assert drafted["deals"]["columns"] == {
        "deal_id": "ID", "stage": "Phase", "amount": "Betrag", "currency": "Währung",
        "created_at": "Erstellt am", "deal_name": "Titel"}
    assert drafted["pipelines"] == [{"name": "Sales",
                                     "stages": ["Gewonnen", "Angebot", "Neu", "Verloren"],
                                     "won": ["Gewonnen"], "lost": ["Verloren"]}]
    # the draft loads as it is
    run_pipeline(selection=GENERIC_DEALS)
    assert ws.query("select deal_id, stage, amount from raw.generic_deals order by _line") == [
        ("E1", "Gewonnen", 1054.0), ("E2", "Angebot", 540.0), ("E3", "Neu", 12345.67),
        ("E4", "Verloren", 1000000.5)]
    # an existing mapping is never overwritten
    assert _cli("mapping", "suggest", str(export), "--out", str(mapping)).exit_code == 1


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_check_reads_salesforce_reports_and_refuses_one_without_opportunity_id(workspace):
    """Salesforce's default Opportunities report has no Opportunity ID column: deals are never
    matched by name, so the run would stop naming the fix; the history report still reads."""
    ws = workspace
    shutil.copytree(FORMATS / "salesforce_report", ws.source)
    report = ws.source / "salesforce" / "opportunities.csv"
    text = report.read_text()
    assert text.count(',"Opportunity ID"\n') == 1
    lines = text.split("\n")
    # the default column set: each row without its last field (the added Opportunity ID)
    report.write_text("\n".join(line.rsplit(",", 1)[0]
                                  if line.endswith(('AAA"', 'ID"', ',""')) else line
                                  for line in lines))
    result = _cli("check", str(ws.source))
    assert result.exit_code == 1, result.output
    opportunities, history = result.output.split("salesforce/ (Salesforce)\n")[1] \
        .split("  opportunity_history.csv ")
    assert ("opportunities.csv: has no 'Opportunity ID' column (found: Opportunity Owner, "
            "Account Name, Opportunity Name, Stage, ") in opportunities
    assert ("salespipe never matches deals by name: add Opportunity ID to the report's "
            "columns, then export it again") in opportunities
    # the footer is no data: 11 changes, nothing quarantined
    assert history.startswith("(opportunity_history, CSV): 11 rows")
    assert "would be quarantined" not in history


def test_check_reads_salesforce_xlsx_and_utf16_reports_without_their_footers(workspace):
    """The Opportunities report as Excel Format .xlsx (its footer rows in the sheet) and the
    history report saved as UTF-16: each read like the CSV, the footer no row."""
    ws = workspace
    shutil.copytree(FORMATS / "salesforce_xlsx", ws.source)
    history = (FORMATS / "salesforce_report" / "salesforce" / "opportunity_history.csv")
    (ws.source / "salesforce" / "opportunity_history.csv").write_bytes(
        history.read_text().encode("utf-16"))
    report = ws.source / "salesforce" / "opportunities.xlsx"
    shutil.copy(report, report.with_name("opportunities (1).xlsx"))  # downloaded twice
    result = _cli("check", str(ws.source))
    assert result.exit_code == 0, result.output
    opportunities, history_out = result.output.split("salesforce/ (Salesforce)\n")[1] \
        .split("  opportunity_history.csv ")
    # 8 rows (sheet rows 2-9), the same three values quarantined as in the CSV: no footer row
    assert "  opportunities.xlsx (opportunities, Excel workbook): 8 rows" in opportunities
    assert "    3 value(s) would be quarantined" in opportunities
    assert opportunities.endswith("  opportunities (1).xlsx (opportunities, Excel workbook): "
                                  "same content as opportunities.xlsx, would not load again\n")
    assert ("      line 9, 'Stage': None: no stage: the row is kept in raw but stays out of "
            "the marts; Salesforce always has one, so export the report again") in opportunities
    assert history_out.startswith("(opportunity_history, CSV): 11 rows")
    assert "would be quarantined" not in history_out


def test_check_refuses_a_mapping_listing_a_stage_or_a_pipeline_twice(workspace):
    """Each would give stg_generic__stages two rows for one stage, a dbt error after the run
    landed everything: caught with the mapping, naming it and the fix."""
    ws = workspace
    shutil.copytree(FORMATS / "dollars", ws.source)
    mapping = ws.source / "generic" / "mapping.yml"
    text = mapping.read_text()
    mapping.write_text(text.replace("[Lead In, Qualified, Won, Lost]",
                                    "[Lead In, Qualified, Won, Lost, Qualified]"))
    result = _cli("check", str(ws.source))
    assert result.exit_code == 1, result.output
    assert ("mapping.yml: pipeline 'Sales': stages ['Qualified'] are listed twice: list each "
            "stage once, in the order deals move through") in result.output
    mapping.write_text(text + text[text.index("  - name: Sales"):])
    result = _cli("check", str(ws.source))
    assert result.exit_code == 1, result.output
    assert ("mapping.yml: pipelines ['Sales'] are listed twice: list each pipeline once, with "
            "all its stages") in result.output

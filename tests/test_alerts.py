"""Deal alerts end to end: their lifecycle over three nightly runs, the report, the webhook,
`salespipe alerts`, and the alerts' asset check.

Three runs of the pipeline on copies of tests/fixtures/small (one module-scoped scenario):
  run 1, as of 2024-03-31: generic deal D1 has lost its amount -> D1:incomplete is new.
  run 2, as of 2024-04-16, same files: D1:incomplete is ongoing (flagged 2024-03-31), D1 is now
         stalled in Demo (since 2024-03-03, 44.7 days) -> D1:stalled new; HubSpot
         deal 102 is past its expected close date (2024-04-15) -> overdue, new; and has sat in
         Presentation Scheduled since 2024-03-05 (42 days, over the 30-day fallback) -> stalled.
         The webhook (a local HTTP server) receives the new alerts.
  run 3, as of 2024-04-17: D1's amount is back -> D1:incomplete resolved on 2024-04-17; 102's
         expected close date is pushed a day (2024-04-15 -> 04-16, still overdue): its alerts
         are ongoing, and the report's slipped-deals table lists it; April's waterfall shows
         D1's 300 as an increase.
"""

import csv
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import duckdb
import pytest
from conftest import dbt_cli
from typer.testing import CliRunner
from webhook_receiver import RECEIVED, Hook

from orchestration.alerts import webhook
from orchestration.alerts.assets import deal_alerts_check
from orchestration.alerts.charts import waterfall_figure
from orchestration.alerts.queries import Alert
from orchestration.alerts.report import owner_slug
from orchestration.alerts.what_moved import WATERFALL_COLUMNS, Waterfall
from orchestration.cli import app
from orchestration.pipeline import run_pipeline
from orchestration.resources import DuckDBWarehouse

FIXTURE = Path(__file__).parent / "fixtures" / "small"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def hook_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def set_d1_amount(source: Path, amount: str) -> None:
    path = source / "generic" / "deals.csv"
    text = path.read_text()
    path.write_text(re.sub(r"^D1,Epsilon rollout,[^,]*,", f"D1,Epsilon rollout,{amount},", text,
                           flags=re.MULTILINE))


def set_102_close_date(source: Path, day: str) -> None:
    path = source / "hubspot" / "deals.csv"
    text = path.read_text()
    path.write_text(re.sub(r"^(102,Beta expansion,(?:[^,]*,){4})[^,]*,", rf"\g<1>{day} 00:00,",
                           text, flags=re.MULTILINE))


def alert_rows(warehouse: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select alert_id, status, first_flagged_at, resolved_at "
                           "from marts.deal_alerts order by alert_id").fetchall()
    finally:
        con.close()
    return {r[0]: tuple(str(v) if v is not None else None for v in r[1:]) for r in rows}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, hook_server):
    """The three runs; each run's alerts (alert_id -> (status, first_flagged_at, resolved_at))."""
    tmp = tmp_path_factory.mktemp("alerts")
    source, data = tmp / "exports", tmp / "data"
    shutil.copytree(FIXTURE, source)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SALESPIPE_DATA_DIR", str(data))
        env.setenv("SALESPIPE_SOURCE_DIR", str(source))
        env.setenv("SALESPIPE_WAREHOUSE", str(data / "warehouse.duckdb"))
        env.setenv("SALESPIPE_REPORT_DIR", str(tmp / "reports"))
        # Run 1: nobody listens on this port; the run must not fail because of it.
        env.setenv("SALESPIPE_ALERT_WEBHOOK", "http://127.0.0.1:9/nobody-listens")
        env.setenv("SALESPIPE_ALERT_WEBHOOK_ALLOW_LOCAL_HTTP", "true")  # local servers only
        set_d1_amount(source, "")
        env.setenv("SALESPIPE_AS_OF", "2024-03-31")
        first = run_pipeline()
        states = [alert_rows(data / "warehouse.duckdb")]

        env.setenv("SALESPIPE_ALERT_WEBHOOK", hook_server)
        env.setenv("SALESPIPE_AS_OF", "2024-04-16")
        run_pipeline()
        states.append(alert_rows(data / "warehouse.duckdb"))
        check_after_run2 = deal_alerts_check(
            warehouse=DuckDBWarehouse(path=str(data / "warehouse.duckdb")))
        report_after_run2 = (tmp / "reports" / "alerts_by_owner")
        csvs_after_run2 = {p.name: p.read_text() for p in report_after_run2.glob("*.csv")}

        env.delenv("SALESPIPE_ALERT_WEBHOOK")
        set_d1_amount(source, "300")
        set_102_close_date(source, "2024-04-16")
        env.setenv("SALESPIPE_AS_OF", "2024-04-17")
        third = run_pipeline()
        states.append(alert_rows(data / "warehouse.duckdb"))
        yield {"states": states, "summaries": [first, third], "tmp": tmp,
               "warehouse": data / "warehouse.duckdb", "csvs_after_run2": csvs_after_run2,
               "env": dict(os.environ), "check_after_run2": check_after_run2}


def test_lifecycle_new_ongoing_resolved(runs):
    run1, run2, run3 = runs["states"]
    d1, overdue, stalled = ("pipedrive_export-D1:incomplete", "hubspot-102:overdue",
                            "hubspot-102:stalled")
    assert run1[d1] == ("new", "2024-03-31", None)
    assert overdue not in run1 and stalled not in run1

    assert run2[d1] == ("ongoing", "2024-03-31", None)
    assert run2[overdue] == ("new", "2024-04-16", None)
    assert run2[stalled] == ("new", "2024-04-16", None)

    assert run3[d1] == ("resolved", "2024-03-31", "2024-04-17")
    assert run3[overdue] == ("ongoing", "2024-04-16", None)
    assert run3[stalled] == ("ongoing", "2024-04-16", None)
    # Nothing flagged once is ever dropped.
    assert set(run1) <= set(run2) <= set(run3)


def test_repeated_run_and_full_refresh_keep_the_state(runs, tmp_path):
    """dbt build --full-refresh for the same as-of: the history is neither lost nor changed."""
    env = {**runs["env"], "SALESPIPE_AS_OF": "2024-04-17"}
    # its own target: the shared manifest.json is read by other workers
    result = dbt_cli(["build", "--full-refresh", "--select", "deal_alerts_current deal_alerts"],
                     tmp_path / "target", env, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:]
    assert alert_rows(runs["warehouse"]) == runs["states"][2]


def test_summary_counts_flagged_deals(runs):
    first, third = runs["summaries"]
    assert first.flagged_deals == len({a.split(":")[0] for a, s in runs["states"][0].items()
                                       if s[0] != "resolved"})
    open_deals = {a.split(":")[0] for a, s in runs["states"][2].items() if s[0] != "resolved"}
    assert third.flagged_deals == len(open_deals) and "hubspot-102" in open_deals


def test_webhook_got_the_new_alerts_only(runs):
    # Run 1's webhook could not be reached (the run went on); run 2's got one summary.
    assert len(RECEIVED) == 1
    text = RECEIVED[0]["text"]
    assert "as of 2024-04-16" in text
    assert "Beta expansion" in text and "overdue" in text and "stalled" in text
    # D1 has sat in Demo since 2024-03-03 (44.7 days): newly stalled; its incomplete alert is
    # ongoing, so not in tonight's summary.
    assert "Epsilon rollout (Dee Fox, no amount): stalled" in text
    assert "Missing amount" not in text


def test_webhook_failure_is_reported_not_raised():
    alert = Alert({"alert_type": "stale", "deal_name": "X", "deal_id": "x", "owner_name": None,
                   "amount": 5.0, "currency": "USD", "reason": "quiet"})
    assert webhook.send_summary("http://127.0.0.1:9/", [alert], "2024-01-01").startswith("failed")
    assert webhook.send_summary("http://127.0.0.1:9/", [], "2024-01-01") == "nothing new"


def test_owner_csvs_hold_their_open_alerts(runs):
    csvs = runs["csvs_after_run2"]
    bob = list(csv.DictReader(csvs[owner_slug("Bob Ray") + ".csv"].splitlines()))
    assert {r["alert_id"] for r in bob} >= {"hubspot-102:overdue", "hubspot-102:stalled"}
    assert all(r["owner_name"] == "Bob Ray" and r["status"] in ("new", "ongoing") for r in bob)
    dee = list(csv.DictReader(csvs[owner_slug("Dee Fox") + ".csv"].splitlines()))
    assert any(r["alert_id"] == "pipedrive_export-D1:incomplete" and r["reason"] ==
               "Missing amount" for r in dee)
    # After run 3 D1's alert is resolved: no longer in Dee Fox's open alerts.
    now = runs["tmp"] / "reports" / "alerts_by_owner" / f"{owner_slug('Dee Fox')}.csv"
    assert not now.exists() or "pipedrive_export-D1:incomplete" not in now.read_text()


def test_cli_formats_and_filters(runs):
    cli = CliRunner()
    base = ["alerts", "--warehouse", str(runs["warehouse"])]
    as_json = cli.invoke(app, [*base, "--owner", "bob ray", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.output)
    assert {r["alert_id"] for r in rows} >= {"hubspot-102:overdue", "hubspot-102:stalled"}
    assert {r["owner_name"] for r in rows} == {"Bob Ray"}

    as_csv = cli.invoke(app, [*base, "--type", "stalled", "--format", "csv"])
    parsed = list(csv.DictReader(as_csv.output.splitlines()))
    assert parsed and {r["alert_type"] for r in parsed} == {"stalled"}

    table = cli.invoke(app, base)
    assert table.exit_code == 0
    assert "Beta expansion" in table.output and "Presentation Scheduled for" in table.output
    assert "Missing amount" not in table.output  # resolved alerts are not listed

    bad = cli.invoke(app, [*base, "--format", "xml"])
    assert bad.exit_code == 1


def test_asset_check_warns_with_new_alerts(runs):
    # run 2 (as of 2024-04-16) flags four new alerts: deal 102 overdue (expected to close
    # 04-15), stale and stalled (in its stage since 03-05), and D1 stalled: the check warns
    warned = runs["check_after_run2"]
    assert warned.severity.value == "WARN" and not warned.passed
    assert warned.metadata["new_alerts"].value == 4
    open_after_run2 = [a for a, (status, *_) in runs["states"][1].items() if status != "resolved"]
    assert warned.metadata["open_alerts"].value == len(open_after_run2) == 8
    top = warned.metadata["top_new_alerts"].value
    assert "| deal | owner | alert | amount | reason |" in top
    assert top.count("Beta expansion") == 3 and top.count("Epsilon rollout") == 1
    # run 3 has no new alert (102's are ongoing, D1's resolved): the check passes
    quiet = deal_alerts_check(warehouse=DuckDBWarehouse(path=str(runs["warehouse"])))
    assert quiet.passed and quiet.metadata["new_alerts"].value == 0
    assert quiet.metadata["open_alerts"].value == sum(
        status != "resolved" for status, *_ in runs["states"][2].values())


def plotly_traces(page: str) -> list[dict]:
    """The traces of every chart in a report page, read from plotly's Plotly.newPlot calls."""
    decoder, traces = json.JSONDecoder(), []
    for call in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', page):
        traces += decoder.raw_decode(page, call.end())[0]
    return traces


WATERFALL_STEPS = ["opening", "new", "pulled_in", "increased", "other_in", "pushed_out",
                   "decreased", "won", "lost", "other_out", "closing"]
PIPELINE_NAMES = {"hubspot-default": "Sales Pipeline (hubspot)",
                  "pipedrive_export-Sales": "Sales (pipedrive_export)"}


def test_report_waterfall_is_the_marts_rows(runs):
    """Each bar of the report's waterfall is pipeline_waterfall's figure for that pipeline,
    currency and month (outs drawn down), and each month of it has a chart."""
    page = (runs["tmp"] / "reports" / "pipeline_report.html").read_text()
    drawn = {t["name"]: t for t in plotly_traces(page) if t["type"] == "waterfall"}
    con = duckdb.connect(str(runs["warehouse"]), read_only=True)
    try:
        rows = con.execute(
            "select pipeline_id, currency, strftime(period_start, '%B %Y'), "
            + ", ".join(f"{c}_amount, {c}_count" for c in WATERFALL_STEPS)
            + " from marts.pipeline_waterfall where period_type = 'month' "
            "and group_type = 'all' and period_start in ('2024-03-01', '2024-04-01')").fetchall()
    finally:
        con.close()
    expected = {}
    for pipeline, currency, month, *figures in rows:
        if month == "April 2024":
            month += " (to 17 Apr)"
        signs = [1, 1, 1, 1, 1, -1, -1, -1, -1, -1, 1]
        expected[f"{PIPELINE_NAMES[pipeline]}, {currency}: {month}"] = (
            [s * float(a) for s, a in zip(signs, figures[::2])], figures[1::2])
    assert set(drawn) == set(expected) == {"Sales Pipeline (hubspot), USD: April 2024 (to 17 Apr)",
                                           "Sales (pipedrive_export), USD: April 2024 (to 17 Apr)"}
    for name, (amounts, counts) in expected.items():
        assert drawn[name]["y"] == amounts
        assert [int(h.split()[0]) for h in drawn[name]["hovertext"]] == counts
    # D1's amount came back (300) while it was expected in April: an increase
    assert drawn["Sales (pipedrive_export), USD: April 2024 (to 17 Apr)"]["y"][3] == 300
    assert "Sales Pipeline (hubspot), USD: March 2024 (nothing expected)" in page


def test_report_lists_the_slipped_deals(runs):
    """Deal 102's close date went 2024-04-15 -> 04-16 in run 3 (fct_deal_changes has the
    move): the slipped-deals table shows it with both dates, its amount and owner."""
    page = (runs["tmp"] / "reports" / "pipeline_report.html").read_text()
    con = duckdb.connect(str(runs["warehouse"]), read_only=True)
    try:
        moves = con.execute("select old_date, new_date, changed_at::date from "
                            "marts.fct_deal_changes where field = 'expected_close_date'").fetchall()
    finally:
        con.close()
    assert [tuple(map(str, m)) for m in moves] == [("2024-04-15", "2024-04-16", "2024-04-17")]
    rows = re.findall(r'<tr class="slipped-row" data-deal-id="([^"]+)">(.*?)</tr>', page)
    assert [r[0] for r in rows] == ["hubspot-102"]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", rows[0][1])
    assert cells == ["Beta expansion", "Bob Ray", "Sales Pipeline / Presentation Scheduled",
                     "500 USD", "2024-04-15", "2024-04-16", "1", "1", "2024-04-17"]
    assert "in the 90 days up to 2024-04-17 (pushed_window_days" in page


def test_waterfall_titles_are_plain_text():
    """A pipeline named like a link shows as typed in the waterfall's titles (issue 30)."""
    w = Waterfall("x", "USD", None, None, dict.fromkeys(WATERFALL_COLUMNS, 0),
                  dict.fromkeys(WATERFALL_COLUMNS, 0))
    fig = waterfall_figure([('<a href="https://evil.example">Sales</a>, USD', [None, w])],
                           ("March", "April"))
    titles = [a.text for a in fig.layout.annotations]
    shown = '&lt;a href="https://evil.example"&gt;Sales&lt;/a&gt;, USD'
    assert titles == [f"{shown}: March (nothing expected)", f"{shown}: April"]
    assert fig.data[0].name == titles[1]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_report_renders_in_headless_chromium(runs, tmp_path):
    page = runs["tmp"] / "reports" / "pipeline_report.html"
    html = page.read_text()
    # Offline: no script is loaded from anywhere (plotly.js is inlined).
    assert re.findall(r'<script[^>]*\bsrc=', html) == []
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=600, check=False)
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    # plotly draws each chart as an SVG (class main-svg) only when its JS ran.
    # funnel, win rate, velocity and the waterfall (April's pipelines; March had none)
    assert dom.count('class="plot-container plotly"') == 4
    assert dom.count('class="main-svg"') >= 4
    assert 'data-alert-id="hubspot-102:overdue"' in dom
    assert 'data-alert-id="pipedrive_export-D1:incomplete"' not in dom  # resolved in run 3


def test_report_and_check_are_registered():
    import dagster as dg

    from orchestration.definitions import defs

    graph = defs().resolve_asset_graph()
    alerts_key = dg.AssetKey(["marts", "deal_alerts"])
    assert alerts_key in graph.get(dg.AssetKey(["reports", "pipeline_report"])).parent_keys
    assert dg.AssetCheckKey(alerts_key, "no_new_alerts") in graph.asset_check_keys


def test_owner_csvs_share_a_file_when_names_give_the_same_file_name(tmp_path):
    """Written by DuckDB per owner: open alerts only, new first, then the largest amount; two
    spellings of one owner's name go to one file instead of the later one overwriting it."""
    from orchestration.alerts.report import write_owner_csvs

    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.deal_alerts as select * from (values "
                "('a1', 'd1', 'Bob Ray', 100.0, 'ongoing'), ('a2', 'd2', 'bob ray', 50.0, 'new'), "
                "('a3', 'd3', 'Bob Ray', 900.0, 'ongoing'), ('a4', 'd4', 'Bob Ray', 1.0, 'resolved'), "
                "('a5', 'd5', null, 5.0, 'new')) as t(alert_id, deal_id, owner_name, amount, status)")
    for column in ("deal_name", "team", "pipeline_name", "stage_name", "currency", "alert_type",
                   "reason", "metric_value", "threshold_value", "threshold_basis",
                   "first_flagged_at", "resolved_at"):
        con.execute(f"alter table marts.deal_alerts add column {column} varchar")
    paths = write_owner_csvs(con, tmp_path)
    bob_file = f"{owner_slug('Bob Ray')}.csv"
    assert sorted(p.name for p in paths) == sorted([bob_file, "no-owner.csv"])
    bob = list(csv.DictReader((tmp_path / bob_file).read_text().splitlines()))
    assert [r["alert_id"] for r in bob] == ["a2", "a3", "a1"]
    assert [r["owner_name"] for r in bob] == ["bob ray", "Bob Ray", "Bob Ray"]


def test_page_lists_each_owners_first_alerts_and_counts_them_all(tmp_path, monkeypatch):
    """The page's owner blocks: owners with the most new alerts first, then the most open; in
    each, new first, then by amount (a missing amount as 0, before the negative ones), the first
    MAX_ROWS_PER_OWNER shown and the rest counted; a missing or empty owner is "(no owner)";
    the headline counts every open alert, by type."""
    from orchestration.alerts import report

    monkeypatch.setattr(report, "MAX_ROWS_PER_OWNER", 3)
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.deal_alerts as select *, 'why' as reason, "
                "date '2024-04-16' as first_flagged_at, null::date as resolved_at, "
                "date '2024-04-16' as last_checked_at from (values "
                "('a1', 'Ann', 'ongoing', 500.0, 'stale'), ('a2', 'Ann', 'new', 100.0, 'stalled'), "
                "('a3', 'Ann', 'new', null, 'stalled'), ('a4', 'Ann', 'new', 0.0, 'stale'), "
                "('a5', 'Ann', 'ongoing', -50.0, 'stalled'), ('a6', 'Ann', 'resolved', 900.0, "
                "'stale'), ('a7', 'Ann', 'new', 100.0, 'stalled'), "
                "('b1', 'Bob', 'ongoing', 10.0, 'stale'), ('b2', 'Bob', 'ongoing', 20.0, 'stale'), "
                "('b3', 'Bob', 'ongoing', null, 'stale'), ('b4', 'Bob', 'ongoing', -5.0, 'stale'), "
                "('n1', null, 'new', 5.0, 'stalled'), ('n2', '', 'ongoing', 7.0, 'stalled')) "
                "as t(deal_id, owner_name, status, amount, alert_type)")
    for column in ("deal_name", "team", "pipeline_name", "stage_name", "currency",
                   "threshold_basis"):
        con.execute(f"alter table marts.deal_alerts add column {column} varchar")
    con.execute("alter table marts.deal_alerts add column alert_id varchar")
    con.execute("update marts.deal_alerts set alert_id = deal_id || ':' || alert_type, "
                "team = owner_name || ' team'")
    con.execute("alter table marts.deal_alerts add column metric_value double")
    con.execute("alter table marts.deal_alerts add column threshold_value double")
    con.execute("create table marts.fct_deals (amount double, created_at timestamp, "
                "closed_at timestamp, outcome varchar, days_open double)")
    con.execute("create table marts.dim_pipeline_stages (stage_id varchar, pipeline_id varchar, "
                "pipeline_name varchar, stage_name varchar, stage_order int, is_lost boolean, "
                "source_system varchar)")
    con.execute("create table marts.fct_deal_stage_transitions (deal_id varchar, "
                "pipeline_id varchar, to_stage_id varchar)")
    files = report.write_report(con, tmp_path)
    page = files.html.read_text()
    blocks = re.findall(r'<section class="owner"><h3>(.*?) <small>(.*?)</small></h3>(.*?)'
                        r"</section>", page, flags=re.DOTALL)
    assert [(owner, counts) for owner, counts, _ in blocks] == [
        ("Ann", "Ann team · 6 open, 4 new"), ("(no owner)", " · 2 open, 1 new"),
        ("Bob", "Bob team · 4 open, 0 new")]
    shown = [re.findall(r'data-alert-id="([^"]+)"', body) for _, _, body in blocks]
    assert shown == [["a2:stalled", "a7:stalled", "a4:stale"], ["n1:stalled", "n2:stalled"],
                     ["b2:stale", "b1:stale", "b3:stale"]]
    assert f"3 more in alerts_by_owner/{owner_slug('Ann')}.csv" in blocks[0][2]
    assert f"1 more in alerts_by_owner/{owner_slug('Bob')}.csv" in blocks[2][2]
    assert "more in" not in blocks[1][2]
    assert (files.open_alerts, files.new_alerts) == (12, 5)
    assert '<div class="v">12</div><div class="k">Open alerts</div>' in page
    assert '<div class="v">5</div><div class="k">New tonight</div>' in page
    assert "Open alerts by type: stale 6, stalled 6." in page

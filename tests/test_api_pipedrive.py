"""The Pipedrive connector against a local Pipedrive API (tests/api_servers/pipedrive.py, which
cites the API reference pages it follows: developers.pipedrive.com/docs/api/v1 Deals, Users;
pipedrive.readme.io/docs core-api-concepts-pagination, -authentication, -rate-limiting)
serving the generator's Pipedrive company.

Connector-level syncs into private folders: full then incremental, 429 storm, 500 then success,
401, a malformed page, an interrupted sync resumed. The last test runs the whole pipeline once
with both API sources (Pipedrive and Salesforce) configured and checks the marts against the
generator's model.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from api_servers.pipedrive import PipedriveApi, PipedriveData
from api_servers.salesforce import SalesforceApi, SalesforceData
from api_sync import (
    age_last_sync,
    assert_refused_at_once,
    assert_unique_ids,
    company,
    interrupted,
    landed_rows,
    landing,
    row_counts,
    rows,
    syncing,
)
from conftest import make_workspace

from orchestration.connectors import pipedrive, runner
from orchestration.connectors.errors import (
    ConnectorError,
    ConnectorLimitError,
    ConnectorResponseError,
)
from orchestration.connectors.pipedrive import CONNECTOR
from orchestration.generate import company_model, generate
from orchestration.settings import api_settings

TOKEN = "pd-secret-4f1c9e2b7a"
DEALS, SEED = 40, 11
pytestmark = pytest.mark.usefixtures("quick_retries")
landed = landing(CONNECTOR)
sync = syncing(CONNECTOR, TOKEN)


generated = company("generated", DEALS, SEED, ["pipedrive", "salesforce"])


@pytest.fixture
def api(generated):
    with PipedriveApi(PipedriveData(generated / "pipedrive"), TOKEN) as server:
        yield server



def expected(folder: Path) -> dict[str, int]:
    def count(stem):
        return sum(len(json.loads(p.read_text())) for p in folder.glob(f"{stem}*.json"))
    return {"pipedrive_deals": count("deals"), "pipedrive_deal_changes": count("dealFlow"),
            "pipedrive_persons": count("persons"), "pipedrive_activities": count("activities"),
            "pipedrive_stages": count("stages"), "pipedrive_pipelines": count("pipelines"),
            "pipedrive_users": count("users")}


def counts(con) -> dict[str, int]:
    return row_counts(con, ("pipedrive_deals", "pipedrive_deal_changes", "pipedrive_persons",
                            "pipedrive_activities", "pipedrive_stages", "pipedrive_pipelines",
                            "pipedrive_users"))


def assert_no_duplicates(con) -> None:
    assert_unique_ids(con, ("pipedrive_deals", "pipedrive_deal_changes", "pipedrive_activities"))


def test_full_then_incremental_sync(api, generated, tmp_path, monkeypatch):
    first = sync(api, tmp_path)
    con = landed(tmp_path)
    assert counts(con) == expected(generated / "pipedrive")
    assert first.loaded["deals"] == DEALS
    cursor = max(d["update_time"] for d in api.data.deals.values())

    api.data.move_deal(1, 5)
    value, close = str(api.data.deals[1]["value"]), api.data.deals[1]["expected_close_date"]
    api.data.change_deal(1, value=1500, expected_close_date="2031-05-20")
    api.data.change_deal(1, value=1200)
    api.data.win_deal(3)
    api.data.delete_deal(2)
    api.clear_requests()
    monkeypatch.setattr(pipedrive, "FLOW_PAGE", 2)  # the update logs read 2 items a page
    second = sync(api, tmp_path)
    con.close()
    con = landed(tmp_path)

    # Only changed records were asked for and answered: updated_since = the stored cursor.
    deal_pages = [r for r in api.requests_to("/api/v2/deals")
                  if r.path == "/api/v2/deals" and "status" not in r.query]
    assert [r.query["updated_since"] for r in deal_pages] == [[cursor]]
    assert second.loaded["deals"] == 3  # moved, won, and deleted (via status=deleted)
    assert sorted({r.path for r in api.requests_to("/flow")}) == [
        "/v1/deals/1/flow", "/v1/deals/3/flow"]
    # page by page: start = the previous page's next_start, until no more items
    pages = api.requests_to("/v1/deals/1/flow")
    assert [r.query.get("start", ["0"]) for r in pages] == [
        [str(i)] for i in range(0, 2 * len(pages), 2)]
    assert len(pages) == -(-len(api.data.flow[1]) // 2) > 1
    # Merged on id: one row per deal, the changes applied, the deletion flagged.
    assert counts(con)["pipedrive_deals"] == DEALS
    assert rows(con, "select stage_id, status from raw.pipedrive_deals where id = '1'") == [
        ("5", api.data.deals[1]["status"])]
    assert rows(con, "select status from raw.pipedrive_deals where id = '3'") == [("won",)]
    assert rows(con, "select is_deleted from raw.pipedrive_deals where id = '2'") == [(True,)]
    assert counts(con)["pipedrive_deal_changes"] == expected(generated / "pipedrive")[
        "pipedrive_deal_changes"] + 5
    # value and expected close date changes as Pipedrive logs them (text), oldest first
    assert rows(con, "select field_key, old_value, new_value from raw.pipedrive_deal_changes "
                     "where deal_id = '1' and field_key in ('value', 'expected_close_date') "
                     "order by id") == [
        ("value", value, "1500"), ("expected_close_date", close, "2031-05-20"),
        ("value", "1500", "1200")]
    assert_no_duplicates(con)


def test_a_deal_changed_during_the_sync_is_not_missed(api, tmp_path, monkeypatch):
    # deals read in update_time order: deal A of page 1 changed after page 1 was read, then
    # deal B of page 2. Read in id order, A would be stored as it was, and the cursor (B's
    # later update_time) would hide A's change from the next sync too.
    monkeypatch.setattr(pipedrive, "PAGE", 15)
    changed = {}

    def change_two_after_page_one(name, page):
        if name == "deals" and page and not page[0].get("is_deleted") and not changed:
            later = sorted(set(api.data.deals) - {d["id"] for d in page})
            changed.update(a=page[0]["id"], b=later[0])
            api.data.move_deal(changed["a"], 5)
            api.data.move_deal(changed["b"], 5)

    api.after_page = change_two_after_page_one
    sync(api, tmp_path)
    api.after_page = None
    sync(api, tmp_path)
    con = landed(tmp_path)
    stages = dict(rows(con, "select id, stage_id from raw.pipedrive_deals"))
    assert len(stages) == DEALS and stages[str(changed["a"])] == stages[str(changed["b"])] == "5"
    assert_no_duplicates(con)


def test_archived_deals_are_synced_with_their_history_and_marked(api, generated, tmp_path):
    # /api/v2/deals leaves archived deals out; they come from /api/v2/deals/archived
    api.data.archive_deal(7)  # archived before the first sync
    sync(api, tmp_path)
    api.data.move_deal(9, 5)
    api.data.archive_deal(9)  # moved, then archived, between two syncs
    second = sync(api, tmp_path)
    assert second.loaded["deals"] == 1
    con = landed(tmp_path)
    assert counts(con) == {**expected(generated / "pipedrive"), "pipedrive_deal_changes":
                           expected(generated / "pipedrive")["pipedrive_deal_changes"] + 1}
    archived = rows(con, "select id, stage_id, is_archived, archive_time is not null "
                         "from raw.pipedrive_deals where is_archived order by id")
    assert archived == [("7", str(api.data.deals[7]["stage_id"]), True, True),
                        ("9", "5", True, True)]
    assert rows(con, "select count(*) from raw.pipedrive_deals where not is_archived") == [
        (DEALS - 2,)]
    assert rows(con, "select count(*) from raw.pipedrive_deal_changes where deal_id = '7'"
                ) != [(0,)]  # its history was fetched
    assert_no_duplicates(con)


def test_a_sync_later_than_the_deleted_deals_window_stops(api, tmp_path):
    # status=deleted shows deals deleted in the last 30 days: a later sync would keep the
    # others as open deals for good
    sync(api, tmp_path)
    age_last_sync(tmp_path, CONNECTOR, 40)
    api.clear_requests()
    with pytest.raises(ConnectorError) as err:
        sync(api, tmp_path)
    assert "40 days ago" in str(err.value) and "deleted deals" in str(err.value)
    assert "connectors/pipedrive/" in str(err.value) and api.requests == []


def test_rate_limit_storm_is_waited_out(api, generated, tmp_path):
    api.inject("rate_limit", path="/api/v2/deals", times=3, retry_after=1)
    started = time.monotonic()
    sync(api, tmp_path)
    assert time.monotonic() - started >= 3  # Retry-After: 1, three times
    assert [r.status for r in api.requests_to("/api/v2/deals")].count(429) == 3
    assert counts(landed(tmp_path)) == expected(generated / "pipedrive")


def test_rate_limit_headers_are_honoured(generated, tmp_path):
    """A window of 20 requests: when x-ratelimit-remaining reaches 0 the sync waits the
    x-ratelimit-reset seconds (2) instead of running into 429s."""
    with PipedriveApi(PipedriveData(generated / "pipedrive"), TOKEN, rate_limit=20,
                      reset_seconds=2) as server:
        started = time.monotonic()
        sync(server, tmp_path)
        windows = len(server.requests) // 20
        assert windows >= 2 and time.monotonic() - started >= 2 * windows
        assert [r.status for r in server.requests].count(429) == 0
    assert counts(landed(tmp_path)) == expected(
        generated / "pipedrive")


def test_a_first_sync_out_of_daily_budget_stops_and_the_next_one_continues(
        generated, tmp_path, monkeypatch):
    # Pipedrive's daily token budget: once used up, requests are refused until the next day.
    # The sync stops at once (no retrying for minutes), keeping the lists and the update logs
    # it read (stored 10 deals at a time here), and the next day's sync asks only the rest.
    monkeypatch.setattr(pipedrive, "FLOW_BATCH", 10)
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "1")  # a retrying sync fails fast
    with PipedriveApi(PipedriveData(generated / "pipedrive"), TOKEN,
                      daily_budget=20 * 30) as server:  # 30 list requests
        with pytest.raises(ConnectorLimitError) as err:
            sync(server, tmp_path)
        first = [(r.path, r.status) for r in server.requests]
        server.tokens_used = 0  # the next day
        server.clear_requests()
        sync(server, tmp_path)
        second = [(r.path, r.status) for r in server.requests]
    assert [status for _, status in first].count(429) == 1  # not retried
    message = str(err.value)
    assert "daily API token budget" in message and "continues from there" in message
    assert TOKEN not in message
    flows = [path for path, status in first + second if path.endswith("/flow") and status == 200]
    # every deal's log read, over two days; read twice only those of the batch the budget cut
    assert len(set(flows)) == DEALS and len(flows) - DEALS < 10
    assert 10 <= len([p for p, s in first if p.endswith("/flow") and s == 200]) < DEALS
    assert counts(landed(tmp_path)) == expected(generated / "pipedrive")


def test_server_error_then_success(api, generated, tmp_path):
    api.inject("server_error", path="/v1/deals/7/flow", times=1)
    sync(api, tmp_path)
    statuses = [r.status for r in api.requests_to("/v1/deals/7/flow")]
    assert statuses == [500, 200]
    assert counts(landed(tmp_path)) == expected(generated / "pipedrive")


def test_unauthorized_names_the_variable_and_hides_the_token(api, tmp_path, caplog, capfd):
    assert_refused_at_once(api, lambda: sync(api, tmp_path, token="revoked-" + TOKEN),
                           "SALESPIPE_PIPEDRIVE_TOKEN", TOKEN, caplog, capfd)


def test_not_configured_is_skipped_with_one_line(tmp_path):
    result = runner.sync(CONNECTOR, tmp_path, api_settings("pipedrive", token="", base_url=""))
    assert result.skipped == ("Pipedrive API: not configured (set SALESPIPE_PIPEDRIVE_TOKEN to "
                              "sync it), skipped")
    assert not (tmp_path / "connectors").exists()


def test_malformed_page_stores_nothing_and_the_next_run_recovers(api, generated, tmp_path):
    api.inject("malformed", path="/api/v2/persons", times=1)
    with pytest.raises(ConnectorResponseError, match="not valid JSON"):
        sync(api, tmp_path)
    assert not (tmp_path / "connectors" / "pipedrive" / "snapshot" / "deals.parquet").exists()
    sync(api, tmp_path)
    assert counts(landed(tmp_path)) == expected(generated / "pipedrive")


def test_interrupted_sync_resumes_without_loss_or_duplicates(api, generated, tmp_path):
    stages = "select id, stage_id from raw.pipedrive_deals order by id"
    sync(api, tmp_path)
    before = landed_rows(landed, tmp_path, stages)
    cursor = max(d["update_time"] for d in api.data.deals.values())
    for deal_id in range(10, 16):
        api.data.move_deal(deal_id, 2)
    # The API goes down after 8 answers: the lists are read (and stored), the flows are not.
    interrupted(api, lambda: sync(api, tmp_path), after=8)
    assert landed_rows(landed, tmp_path, stages) == before  # nothing of the failed run reached raw

    api.clear_faults()
    api.clear_requests()
    sync(api, tmp_path)
    # The lists were stored, so the deals are asked from the newer cursor; the update logs
    # not read yet are asked now, and only those.
    deal_pages = [r for r in api.requests_to("/api/v2/deals")
                  if r.path == "/api/v2/deals" and "status" not in r.query]
    assert [r.query["updated_since"] for r in deal_pages] == [
        [max(d["update_time"] for d in api.data.deals.values())]] != [[cursor]]
    assert sorted(r.path for r in api.requests_to("/flow")) == sorted(
        f"/v1/deals/{d}/flow" for d in range(10, 16))
    con = landed(tmp_path)
    assert rows(con, "select count(*) from raw.pipedrive_deals where stage_id = '2' "
                     "and id in ('10','11','12','13','14','15')") == [(6,)]
    want = expected(generated / "pipedrive")
    assert counts(con) == {**want, "pipedrive_deal_changes": want["pipedrive_deal_changes"] + 6}
    assert_no_duplicates(con)


def test_generator_api_formats_are_deterministic_and_pipedrive_is_the_generic_company(tmp_path):
    for out in (tmp_path / "a", tmp_path / "b"):
        generate(out, 30, 5, formats=["pipedrive", "salesforce", "generic"])

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file()}

    assert files(tmp_path / "a") == files(tmp_path / "b")
    folder = tmp_path / "a"
    api_titles = [d["title"] for d in json.loads((folder / "pipedrive" / "deals.json").read_text())]
    with open(folder / "generic" / "deals.csv", newline="") as fh:
        csv_titles = [r["Deal - Title"] for r in csv.DictReader(fh)]
    assert api_titles == csv_titles  # the same company, through the API and as a CSV export


# ------------------------------------------------------------------ marts from the API syncs

def _pipedrive_expected(comp) -> tuple[dict, dict]:
    """deal_id -> (stage name, outcome, amount, currency), deal_id -> stage names entered."""
    deals, paths = {}, {}
    d, h = comp.deal, comp.hist
    for i in range(comp.n_deals):
        pl = comp.prof.pipelines[d["pipe"][i]]
        names = [s.label for s in pl.stages] + ["Won", "Lost"]
        status = ("open", "won", "lost")[d["status"][i]]
        stage = names[d["stage"][i]] if status == "open" else status.capitalize()
        deals[f"pipedrive-{i + 1}"] = (stage, status, float(max(d["amount"][i], 0)),
                                       "EUR" if d["eur"][i] else "USD")
        paths[f"pipedrive-{i + 1}"] = [names[s] for s in h.stage[h.deal == i]]
    return deals, paths


def _salesforce_expected(comp) -> tuple[dict, dict]:
    deals, paths = {}, {}
    d, h = comp.deal, comp.hist
    names = [s.label for s in comp.prof.pipelines[0].all_stages]
    k = len(comp.prof.pipelines[0].stages)
    for i in range(comp.n_deals):
        status = ("open", "won", "lost")[d["status"][i]]
        stage = {"open": d["stage"][i], "won": k, "lost": k + 1}[status]
        amount = float(d["amount"][i]) if d["amount"][i] >= 0 else None
        key = f"salesforce-0065g{i + 1:010d}AAA"
        deals[key] = (names[stage], status, amount, "EUR" if d["eur"][i] else "USD")
        paths[key] = [names[s] for s in h.stage[h.deal == i]]
    return deals, paths


def test_marts_from_api_syncs_match_the_generator(generated, tmp_path_factory):
    """One pipeline run (`salespipe run`'s code path) with only the two APIs as sources."""
    from orchestration.pipeline import run_pipeline

    pd_data = PipedriveData(generated / "pipedrive")
    sf_data = SalesforceData(generated / "salesforce")
    with pytest.MonkeyPatch.context() as env, PipedriveApi(pd_data, TOKEN) as pd_api, \
            SalesforceApi(sf_data, "never-sent", batch_size=100,
                          client=("3MVG9-app", "sf-secret-93ab1"), session_requests=10) as sf_api:
        ws = make_workspace(tmp_path_factory.mktemp("api_marts"), env)
        ws.source.mkdir(parents=True)
        env.setenv("SALESPIPE_AS_OF", "2026-10-31")
        env.setenv("SALESPIPE_PIPEDRIVE_TOKEN", TOKEN)
        env.setenv("SALESPIPE_PIPEDRIVE_BASE_URL", pd_api.url)
        # the client-credentials flow, as a nightly schedule uses it: tokens fetched (and
        # fetched again when a session expires) through the Dagster resource's EnvVars
        env.setenv("SALESPIPE_SALESFORCE_CLIENT_ID", "3MVG9-app")
        env.setenv("SALESPIPE_SALESFORCE_CLIENT_SECRET", "sf-secret-93ab1")
        env.setenv("SALESPIPE_SALESFORCE_INSTANCE_URL", sf_api.url)
        run_pipeline()
        assert len(sf_api.requests_to("/services/oauth2/token")) >= 2

    for source, build in (("pipedrive", _pipedrive_expected), ("salesforce", _salesforce_expected)):
        deals, paths = build(company_model(source, DEALS, SEED))
        got = {r[0]: tuple(r[1:]) for r in ws.query(
            "select deal_id, stage_name, outcome, amount, currency from marts.fct_deals "
            "where source_system = ?", [source])}
        assert got == deals, f"{source}: fct_deals differs from the generator"
        entered: dict[str, list[str]] = {}
        for deal_id, stage in ws.query(
                "select t.deal_id, t.to_stage from marts.fct_deal_stage_transitions as t "
                "inner join marts.fct_deals as d on t.deal_id = d.deal_id "
                "where d.source_system = ? order by t.deal_id, t.entry_number", [source]):
            entered.setdefault(deal_id, []).append(stage)
        assert entered == paths, f"{source}: stage transitions differ from the generator"

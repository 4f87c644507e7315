"""ActiveCampaign API connector (orchestration/connectors/activecampaign.py) against a local
ActiveCampaign v3 API (tests/api_servers/activecampaign.py cites the reference pages it follows:
authentication, pagination, rate limits, contacts, deals, field values, activities, deal
activities) serving the company `salespipe generate` writes as ActiveCampaign exports.

Also the one full pipeline run of the API tests: HubSpot and ActiveCampaign synced from local
APIs serving the bundled sample exports (seeds/) give the same marts as `salespipe run` on
the sample files (the session's `seeds_build`).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time

import duckdb
import pandas as pd
import pytest
from api_servers.activecampaign import ActiveCampaignApi, ActiveCampaignData
from api_servers.hubspot import HubSpotApi, HubSpotData
from api_sync import company, dataset_rows, interrupted, land
from conftest import SEEDS

from orchestration.connectors import activecampaign
from orchestration.connectors.errors import (
    ConnectorAuthError,
    ConnectorResponseError,
)
from orchestration.connectors.runner import sync
from orchestration.generate.profiles import PROFILES
from orchestration.settings import api_settings

TOKEN = "0a1b2c3d4e5f60718293a4b5c6d7e8f9test"
C = activecampaign.CONNECTOR


exports = company("exports", deals=40, seed=13, formats=["activecampaign"],
                  folder="activecampaign")


@pytest.fixture
def server(exports):
    # no rate limit: these syncs run without the connector's spacing, to go fast
    with ActiveCampaignApi(ActiveCampaignData(exports), TOKEN, rate_limit=None) as api:
        yield api


@pytest.fixture(autouse=True)
def quick(monkeypatch, quick_retries):
    monkeypatch.setattr(activecampaign, "PAGE_SIZE", 25)  # several pages per list
    # The 5 requests/s spacing is checked once (test_requests_are_spaced_to_the_rate_limit);
    # elsewhere it would only slow the tests down.
    monkeypatch.setattr(activecampaign, "REQUESTS_PER_SECOND", None)


def creds(server, token=TOKEN):
    return api_settings("activecampaign", token=token, base_url=server.url)


def after(recorded) -> str | None:
    values = recorded.query.get("filters[updated_after]")
    return values[0] if values else None


def test_full_then_incremental_sync_asks_only_for_changes(server, tmp_path):
    data = tmp_path / "data"
    first = sync(C, data, creds(server))
    assert first.rows["deals"] == 40 and first.rows["contacts"] == len(server.data.contacts)
    cursor = max((d["mdate"] for d in server.data.deals.values()),
                 key=activecampaign._instant)

    deal_id = sorted(server.data.deals, key=int)[3]
    server.data.update_deal(deal_id, value="4200000", stage="3")
    server.clear_requests()
    second = sync(C, data, creds(server))

    deal_lists = server.requests_to("/api/3/deals", "GET")
    deal_lists = [r for r in deal_lists if r.path == "/api/3/deals"]
    assert [after(r) for r in deal_lists] == [cursor]
    assert second.loaded["deals"] == 1
    # deal activities asked again only for the deal(s) the list returned, not all 40
    assert 1 <= len(server.requests_to("/dealActivities")) <= 2
    con = land(C, data, tmp_path / "w.duckdb")
    rows = dict(con.execute("select id, value from raw.activecampaign_deals").fetchall())
    assert len(rows) == 40 and rows[deal_id] == 4200000
    assert con.execute("select count(*) - count(distinct id) from "
                       "raw.activecampaign_deal_activities").fetchone()[0] == 0


def test_contacts_page_by_id_so_a_deletion_during_the_sync_hides_no_other(server, tmp_path):
    # by offset, deleting a contact of page 1 after it was served moves the first contact of
    # page 2 onto page 1, and nobody asks for it again
    first_page = []

    def delete_one_after_page_one(key, page):
        if key == "contacts" and not first_page:
            first_page.extend(page)
            del server.data.contacts[page[0]["id"]]

    total = len(server.data.contacts)
    server.after_page = delete_one_after_page_one
    result = sync(C, tmp_path / "data", creds(server))
    assert result.rows["contacts"] == total  # the deleted one was synced before it went
    pages = [r.query for r in server.requests_to("/api/3/contacts") if r.path == "/api/3/contacts"]
    assert len(pages) > 2 and all("offset" not in q and q["orders[id]"] == ["ASC"] for q in pages)
    assert pages[1]["id_greater"] == [first_page[-1]["id"]]


def test_a_deal_deleted_during_the_sync_hides_no_other(server, tmp_path):
    # deals page by offset: when meta.total shows one went, the next page starts one earlier
    deleted = []

    def delete_one_after_page_one(key, page):
        if key == "deals" and not deleted:
            deleted.append(page[0]["id"])
            del server.data.deals[page[0]["id"]]

    server.after_page = delete_one_after_page_one
    result = sync(C, tmp_path / "data", creds(server))
    assert result.rows["deals"] == 40  # the deleted one was synced before it went
    offsets = [r.query["offset"][0] for r in server.requests_to("/api/3/deals")
               if r.path == "/api/3/deals"]
    assert offsets == ["0", "25", "24"]  # page 2 read again from one place earlier


def test_lists_without_meta_and_a_deal_without_an_update_date_sync(server, tmp_path):
    # ActiveCampaign's lists "can" carry meta.total: without it, a page shorter than the
    # limit ends the list; and a deal never changed since it was created has mdate null: the
    # cursor takes its cdate
    server.send_meta = False
    data = tmp_path / "data"
    first = sync(C, data, creds(server))
    assert first.rows["deals"] == 40 and first.rows["contacts"] == len(server.data.contacts)
    offsets = [r.query["offset"][0] for r in server.requests_to("/api/3/deals")
               if r.path == "/api/3/deals"]
    assert offsets == ["0", "25"]  # 25 + 15 deals: the short page was the last

    new = server.data.add_deal(title="Brand new", value="777700")
    second = sync(C, data, creds(server))
    assert second.loaded["deals"] == 1 and second.rows["deals"] == 41
    server.clear_requests()
    third = sync(C, data, creds(server))  # the cursor moved to the new deal's cdate
    deal_lists = [r for r in server.requests_to("/api/3/deals") if r.path == "/api/3/deals"]
    assert [after(r) for r in deal_lists] == [server.data.deals[new]["cdate"]]
    assert third.rows["deals"] == 41
    con = land(C, data, tmp_path / "w.duckdb")
    assert con.execute("select title, mdate from raw.activecampaign_deals where id = ?",
                       [new]).fetchall() == [("Brand new", None)]


def test_a_contact_changed_after_it_was_read_is_asked_again_by_the_next_sync(server, tmp_path):
    # contacts come in id order: A (page 1) changes after it was read, then B (a later page).
    # The highest udate seen (B's) would pass A's change; the cursor stays at the sync's start.
    server.data._clock = dt.datetime.now(dt.UTC).isoformat()  # changes made now, as in life
    changed = {}

    def change_two_after_page_one(key, page):
        if key == "contacts" and not changed:
            later = sorted(set(server.data.contacts) - {c["id"] for c in page}, key=int)
            changed.update(a=page[0]["id"], b=later[0])
            server.data.update_contact(changed["a"], firstName="Changed")
            server.data.update_contact(changed["b"], firstName="Changed")

    data = tmp_path / "data"
    server.after_page = change_two_after_page_one
    sync(C, data, creds(server))
    assert dataset_rows(data, C, "contacts",
                        f"max(first_name) filter (id = '{changed['a']}')") != "Changed"
    server.after_page = None
    sync(C, data, creds(server))
    for contact in changed.values():
        assert dataset_rows(data, C, "contacts",
                            f"max(first_name) filter (id = '{contact}')") == "Changed"


def test_contacts_not_in_id_order_stop_the_sync(server, tmp_path):
    server.ignore_orders = True
    with pytest.raises(ConnectorResponseError, match="ascending id order"):
        sync(C, tmp_path / "data", creds(server))
    assert not dataset_rows(tmp_path / "data", C, "contacts")


def test_a_sync_keeps_to_the_accounts_rate_limit(exports, tmp_path, monkeypatch):
    # 5 requests a second per account, 429 beyond: here 50 a second on both sides (the same
    # rule, ten times faster) for a whole sync of more requests than one second allows.
    # Counts, not times: a busy machine only spaces the requests further apart.
    monkeypatch.setattr(activecampaign, "REQUESTS_PER_SECOND", 50.0)
    with ActiveCampaignApi(ActiveCampaignData(exports), TOKEN, rate_limit=50) as server:
        result = sync(C, tmp_path / "data", creds(server))
    assert len(server.requests) > 2 * 50
    assert [r.status for r in server.requests].count(429) == 0
    assert result.rows["deals"] == 40


def test_a_429_storm_is_waited_out(server, tmp_path):
    server.inject("rate_limit", path="/api/3/deals", times=2, retry_after=1)
    started = time.monotonic()
    result = sync(C, tmp_path / "data", creds(server))
    assert time.monotonic() - started >= 2
    assert [r.status for r in server.requests_to("/api/3/deals")][:3] == [429, 429, 200]
    assert result.rows["deals"] == 40


def test_a_500_is_retried_then_succeeds(server, tmp_path):
    server.inject("server_error", path="/api/3/dealStages", times=1, status=502)
    result = sync(C, tmp_path / "data", creds(server))
    assert [r.status for r in server.requests_to("/api/3/dealStages")][:2] == [502, 200]
    assert result.rows["deal_stages"] == 9


def test_a_401_fails_fast_naming_the_variable_and_never_shows_a_token(server, tmp_path,
                                                                       caplog):
    caplog.set_level(logging.DEBUG)
    sync(C, tmp_path / "ok", creds(server))
    wrong = "ffffeeeeddddccccbbbbaaaa99998888"
    server.clear_requests()
    with pytest.raises(ConnectorAuthError) as failure:
        sync(C, tmp_path / "data", creds(server, token=wrong))
    assert len(server.requests) == 1  # not retried
    message = str(failure.value)
    assert "SALESPIPE_ACTIVECAMPAIGN_TOKEN" in message
    assert wrong not in message and TOKEN not in message
    assert caplog.records and TOKEN not in caplog.text and wrong not in caplog.text


def test_a_malformed_json_page_stops_with_a_clear_error(server, tmp_path):
    server.inject("malformed", path="/api/3/contacts", times=1)
    with pytest.raises(ConnectorResponseError, match="not valid JSON"):
        sync(C, tmp_path / "data", creds(server))
    assert not dataset_rows(tmp_path / "data", C, "contacts")


def test_an_interrupted_sync_resumes_without_loss_or_duplicates(server, tmp_path, monkeypatch):
    data = tmp_path / "data"
    sync(C, data, creds(server))
    cursor = max((d["mdate"] for d in server.data.deals.values()),
                 key=activecampaign._instant)
    changed = sorted(server.data.deals, key=int)[:30]
    for i, deal_id in enumerate(changed):
        server.data.update_deal(deal_id, value=str(700_000 + i))
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "2")
    interrupted(server, lambda: sync(C, data, creds(server)), path="/api/3/deals", match="503")
    assert dataset_rows(data, C, "deals", "count(*) filter (where value like '7_____')") == 0

    server.clear_faults()
    server.clear_requests()
    sync(C, data, creds(server))
    lists = [r for r in server.requests_to("/api/3/deals") if r.path == "/api/3/deals"]
    assert after(lists[0]) == cursor
    con = land(C, data, tmp_path / "w.duckdb")
    values = dict(con.execute("select id, value from raw.activecampaign_deals").fetchall())
    assert len(values) == 40 and all(values[d] == 700_000 + i for i, d in enumerate(changed))
    assert con.execute("select count(*) from raw.activecampaign_deals").fetchone()[0] == 40


# ---------------------------------------------------------------------------------------------
# The one full pipeline run: marts from the APIs equal marts from the files

# Columns that name the file a row came from or the moment of the run, not the data.
# first_flagged_at and resolved_at are as-of dates, the same in both runs: compared.
RUN_COLUMNS = {"source_file", "_source_file", "line", "_line", "_load_id", "_loaded_at",
               "loaded_at", "quarantined_at", "last_flagged_at", "scored_at", "published_at",
               "run_id", "_built_at"}


@pytest.fixture(scope="module")
def api_build(tmp_path_factory):
    """`run_pipeline()` with HubSpot and ActiveCampaign synced from local APIs serving seeds/,
    the generic export from files; as of the sample's date."""
    from conftest import make_workspace

    from orchestration.pipeline import run_pipeline

    tmp = tmp_path_factory.mktemp("api_build")
    hs = HubSpotApi(HubSpotData(SEEDS / "hubspot", PROFILES["hubspot"].tz), "hs-" + TOKEN)
    ac = ActiveCampaignApi(ActiveCampaignData(SEEDS / "activecampaign"), TOKEN, rate_limit=None)
    with pytest.MonkeyPatch.context() as env, hs, ac:
        ws = make_workspace(tmp, env)
        shutil.copytree(SEEDS / "generic", ws.source / "generic")
        env.setenv("SALESPIPE_AS_OF", "2026-10-31")
        env.setenv("SALESPIPE_HUBSPOT_TOKEN", "hs-" + TOKEN)
        env.setenv("SALESPIPE_HUBSPOT_BASE_URL", hs.url)
        env.setenv("SALESPIPE_ACTIVECAMPAIGN_TOKEN", TOKEN)
        env.setenv("SALESPIPE_ACTIVECAMPAIGN_URL", ac.url)
        env.setattr(activecampaign, "REQUESTS_PER_SECOND", None)
        run_pipeline(log_level="WARNING")
        yield ws


def test_the_run_log_holds_no_credentials(api_build):
    """The run's full log (Dagster's events at debug, dbt's lines) names the syncs, never the
    tokens."""
    log, = (api_build.warehouse.parent / "logs").glob("run-*.log")
    text = log.read_text()
    assert "sync_activecampaign_api" in text and "sync_hubspot_api" in text
    assert TOKEN not in text


# change_seq only orders one deal's changes of a field that share a time, and each path numbers
# them its own way: HubSpot's stage changes by stage order from the export's stage dates, by
# position in the dealstage history from the API. Compared as the order it gives: each change's
# rank among its deal's changes of that field (by time, then change_seq).
RANKED = {("fct_deal_changes", "change_seq"):
          "row_number() over (partition by deal_id, field order by changed_at, change_seq)"}


def _mart_tables(con, catalog: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_catalog = ? "
        "and table_schema = 'marts' order by 1", [catalog]).fetchall()]


def test_marts_from_the_apis_equal_marts_from_the_exports(api_build, seeds_build):
    assert seeds_build.result.returncode == 0, seeds_build.result.stderr[-2000:]
    con = duckdb.connect()
    con.execute(f"attach '{seeds_build.warehouse}' as files (read_only)")
    con.execute(f"attach '{api_build.warehouse}' as api (read_only)")
    marts = _mart_tables(con, "files")
    assert marts and marts == _mart_tables(con, "api")
    for table in marts:
        cols = [(c, t) for c, t in con.execute(
            "select column_name, data_type from information_schema.columns where "
            "table_catalog = 'files' and table_schema = 'marts' and table_name = ? "
            "order by ordinal_position", [table]).fetchall() if c not in RUN_COLUMNS]
        # Sums and means over rows landed in another order differ in the last bits, so float
        # columns are compared with a relative tolerance (rounding would flip at a boundary).
        floats = [c for c, t in cols if t in ("DOUBLE", "FLOAT")]
        exact = [c for c, _ in cols if c not in floats]
        select = ", ".join(RANKED.get((table, c), f'"{c}"') + f' as "{c}"' for c, _ in cols)
        order = ", ".join(f'"{c}"' for c in exact + floats)
        left, right = (con.execute(f"select * from (select {select} from {db}.marts.{table}) "
                                   f"order by {order}").df() for db in ("files", "api"))
        assert len(left) == len(right), f"marts.{table}: {len(left)} vs {len(right)} rows"
        pd.testing.assert_frame_equal(left[exact], right[exact], obj=f"marts.{table}")
        pd.testing.assert_frame_equal(left[floats], right[floats], check_exact=False,
                                      rtol=1e-9, atol=1e-9, obj=f"marts.{table}")
    # and the API path really was used: no HubSpot/ActiveCampaign export files in that run
    assert not (api_build.source / "hubspot").exists()
    assert con.execute("select count(*) from api.raw._loads where source_file like "
                       "'%/connectors/hubspot/snapshot/%'").fetchone()[0] == 6

"""The Salesforce connector against a local Salesforce REST API (tests/api_servers/salesforce.py,
which cites the REST API Developer Guide pages it follows: resources_query, resources_queryall,
dome_query, errorcodes, headers_api_usage, and the SOQL date formats) serving the generator's
Salesforce org.

Connector-level syncs into private folders: full then incremental (SystemModstamp in the SOQL,
deletes through queryAll), the org's used-up allocation (403 REQUEST_LIMIT_EXCEEDED, which
Salesforce sends instead of 429s) and the Recycle Bin's 15-day window, 500 then success, 401, a malformed page, an interrupted
sync resumed, and the org's API allocation (Sforce-Limit-Info) respected. The marts built from
a Salesforce sync are checked against the generator in test_api_pipedrive.py (one pipeline run
for both API sources).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
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

from orchestration.connectors import runner
from orchestration.connectors.errors import (
    ConnectorAuthError,
    ConnectorError,
    ConnectorLimitError,
    ConnectorResponseError,
)
from orchestration.connectors.salesforce import CONNECTOR, soql_datetime
from orchestration.settings import api_settings

TOKEN = "00D5g-sf-secret-8c2e71"
DEALS, SEED = 40, 11
TABLES = {"salesforce_opportunities": "Opportunity",
          "salesforce_opportunity_history": "OpportunityHistory",
          "salesforce_opportunity_stages": "OpportunityStage", "salesforce_contacts": "Contact",
          "salesforce_leads": "Lead", "salesforce_tasks": "Task", "salesforce_events": "Event",
          "salesforce_users": "User"}
pytestmark = pytest.mark.usefixtures("quick_retries")
landed = landing(CONNECTOR)
sync = syncing(CONNECTOR, TOKEN)


generated = company("generated", DEALS, SEED, ["salesforce"], folder="salesforce")


@pytest.fixture
def api(generated):
    # small batches, so every object pages through nextRecordsUrl
    with SalesforceApi(SalesforceData(generated), TOKEN, batch_size=60) as server:
        yield server



def expected(folder: Path) -> dict[str, int]:
    def count(obj):
        return sum(len(json.loads(p.read_text())) for p in folder.glob(f"{obj}*.json")
                   if re.fullmatch(rf"{obj}(-\d+)?\.json", p.name))
    return {table: count(obj) for table, obj in TABLES.items()}


def counts(con) -> dict[str, int]:
    return row_counts(con, TABLES)


def assert_no_duplicates(con) -> None:
    assert_unique_ids(con, TABLES)


def soql(recorded) -> str:
    return recorded.query["q"][0]


def test_full_then_incremental_sync(api, generated, tmp_path):
    sync(api, tmp_path)
    con = landed(tmp_path)
    assert counts(con) == expected(generated)
    assert len(api.requests_to("/query/")) > 0  # nextRecordsUrl pages were followed
    cursor = max(r["SystemModstamp"] for r in api.data.records["Opportunity"])

    opps = [r["Id"] for r in api.data.records["Opportunity"]]
    api.data.move_opportunity(opps[0], "Negotiation/Review")
    api.data.move_opportunity(opps[1], "Closed Won", closed=True, won=True)
    api.data.delete_opportunity(opps[2])
    api.clear_requests()
    sync(api, tmp_path)
    con.close()
    con = landed(tmp_path)

    # Only records changed since the stored cursor were asked for (SystemModstamp in the SOQL)
    # and answered; deleted ones come through queryAll.
    opp_query = next(r for r in api.requests_to("/queryAll") if "FROM Opportunity " in soql(r))
    assert f"WHERE SystemModstamp >= {soql_datetime(cursor)}" in soql(opp_query)
    answered = [r for r in api.requests_to("/queryAll") if "FROM Opportunity " in soql(r)]
    assert len(answered) == 1 and answered[0].status == 200
    assert rows(con, f"select stage_name from raw.salesforce_opportunities where id = '{opps[0]}'"
                ) == [("Negotiation/Review",)]
    assert rows(con, f"select is_won, is_closed from raw.salesforce_opportunities "
                     f"where id = '{opps[1]}'") == [(True, True)]
    assert rows(con, f"select is_deleted from raw.salesforce_opportunities where id = '{opps[2]}'"
                ) == [(True,)]
    want = expected(generated)
    assert counts(con) == {**want, "salesforce_opportunity_history":
                           want["salesforce_opportunity_history"] + 2}
    assert_no_duplicates(con)


def test_a_used_up_api_allocation_is_reported_as_the_limit_not_as_credentials(api, tmp_path):
    # Salesforce answers an exhausted allocation with 403 REQUEST_LIMIT_EXCEEDED (no 429)
    api.inject("rate_limit", path="/queryAll", times=1)
    with pytest.raises(ConnectorLimitError) as err:
        sync(api, tmp_path)
    message = str(err.value)
    assert "REQUEST_LIMIT_EXCEEDED" in message and "API request limit" in message
    assert "credentials are fine" in message and TOKEN not in message
    assert [r.status for r in api.requests] == [403]  # not retried: it would not recover


def test_a_sync_later_than_the_recycle_bin_keeps_deletes_stops(api, tmp_path):
    # queryAll sees deleted records only while they are in the Recycle Bin (15 days): a sync
    # later than that would keep a record deleted and purged meanwhile as a live one
    sync(api, tmp_path)
    opp = api.data.records["Opportunity"][0]["Id"]
    api.data.delete_opportunity(opp)
    api.data.purge_recycle_bin()
    age_last_sync(tmp_path, CONNECTOR, 16)
    api.clear_requests()
    with pytest.raises(ConnectorError) as err:
        sync(api, tmp_path)
    message = str(err.value)
    assert "16 days ago" in message and "last 15 days of deleted records" in message
    assert "connectors/salesforce/" in message and api.requests == []


def test_server_error_then_success(api, generated, tmp_path):
    api.inject("server_error", path="/query/", times=1, status=503)
    sync(api, tmp_path)
    assert [r.status for r in api.requests_to("/query/")].count(503) == 1
    assert counts(landed(tmp_path)) == expected(generated)


def test_unauthorized_names_the_variable_and_hides_the_token(api, tmp_path, caplog, capfd):
    assert_refused_at_once(api, lambda: sync(api, tmp_path, token="expired-" + TOKEN),
                           "SALESPIPE_SALESFORCE_TOKEN", TOKEN, caplog, capfd)


def test_not_configured_is_skipped_with_one_line(tmp_path):
    result = runner.sync(CONNECTOR, tmp_path, api_settings("salesforce", token="", base_url=""))
    assert result.skipped == (
        "Salesforce API: not configured (set SALESPIPE_SALESFORCE_CLIENT_ID and "
        "SALESPIPE_SALESFORCE_CLIENT_SECRET (or SALESPIPE_SALESFORCE_TOKEN) and "
        "SALESPIPE_SALESFORCE_INSTANCE_URL to sync it), skipped")
    assert not (tmp_path / "connectors").exists()


def test_client_credentials_get_a_token_and_a_new_one_when_the_session_expires(
        generated, tmp_path, caplog, capfd):
    # what a nightly schedule needs: no access token to paste before each run
    caplog.set_level(logging.DEBUG)
    client = ("3MVG9-connected-app-id", "sf-client-secret-5b7e")
    with SalesforceApi(SalesforceData(generated), TOKEN, batch_size=60, client=client,
                       session_requests=4) as server:
        result = runner.sync(CONNECTOR, tmp_path, api_settings(
            "salesforce", token="", base_url=server.url, client=(client[0], client[1])))
        issued = len(server.requests_to("/services/oauth2/token"))
        expired = [r for r in server.requests if r.status == 401]
    assert not result.skipped and counts(landed(tmp_path)) == expected(generated)
    assert len(expired) >= 2 and issued == len(expired) + 1  # each expiry: one new token
    out, errors = capfd.readouterr()
    for text in (caplog.text, out, errors):
        assert client[1] not in text and "00D5g000000!" not in text
    for path in tmp_path.rglob("*"):  # dlt's state and trace, the dataset, the snapshots
        if path.is_file():
            data = path.read_bytes()
            assert client[1].encode() not in data and b"00D5g000000!" not in data, path


def test_wrong_client_secret_names_the_variables_and_hides_the_secret(generated, tmp_path):
    with SalesforceApi(SalesforceData(generated), TOKEN, client=("app", "right-secret")) as api, \
            pytest.raises(ConnectorAuthError) as err:
        runner.sync(CONNECTOR, tmp_path, api_settings(
            "salesforce", token="", base_url=api.url, client=("app", "wrong-secret")))
    message = str(err.value)
    assert "SALESPIPE_SALESFORCE_CLIENT_ID and SALESPIPE_SALESFORCE_CLIENT_SECRET" in message
    assert "invalid client credentials" in message and "wrong-secret" not in message
    assert {r.path for r in api.requests} == {"/services/oauth2/token"}  # nothing queried


def test_an_expired_access_token_suggests_client_credentials(api, tmp_path):
    with pytest.raises(ConnectorAuthError) as err:
        sync(api, tmp_path, token="expired-" + TOKEN)
    assert "SALESPIPE_SALESFORCE_CLIENT_SECRET" in str(err.value)


def test_malformed_page_stores_nothing_and_the_next_run_recovers(api, generated, tmp_path):
    api.inject("malformed", path="/query/", times=1)
    with pytest.raises(ConnectorResponseError, match="not valid JSON"):
        sync(api, tmp_path)
    snapshot = tmp_path / "connectors" / "salesforce" / "snapshot" / "opportunities.parquet"
    assert not snapshot.exists()
    sync(api, tmp_path)
    assert counts(landed(tmp_path)) == expected(generated)


def test_interrupted_sync_resumes_without_loss_or_duplicates(api, generated, tmp_path):
    stages = "select id, stage_name from raw.salesforce_opportunities order by id"
    sync(api, tmp_path)
    before = landed_rows(landed, tmp_path, stages)
    cursor = max(r["SystemModstamp"] for r in api.data.records["Opportunity"])
    opps = [r["Id"] for r in api.data.records["Opportunity"]][:5]
    for opp in opps:
        api.data.move_opportunity(opp, "Perception Analysis")
    interrupted(api, lambda: sync(api, tmp_path), after=3)  # down after three answers
    assert landed_rows(landed, tmp_path, stages) == before  # nothing of the failed run reached raw

    api.clear_faults()
    api.clear_requests()
    sync(api, tmp_path)
    opp_query = next(r for r in api.requests_to("/queryAll") if "FROM Opportunity " in soql(r))
    assert f">= {soql_datetime(cursor)}" in soql(opp_query)  # the cursor had not moved
    con = landed(tmp_path)
    ids = ", ".join(f"'{o}'" for o in opps)
    assert rows(con, f"select count(*) from raw.salesforce_opportunities where id in ({ids}) "
                     "and stage_name = 'Perception Analysis'") == [(5,)]
    want = expected(generated)
    assert counts(con) == {**want, "salesforce_opportunity_history":
                           want["salesforce_opportunity_history"] + 5}
    assert_no_duplicates(con)


def test_sync_stops_before_the_org_api_allocation_is_used_up(generated, tmp_path):
    with SalesforceApi(SalesforceData(generated), TOKEN, daily_limit=100) as server:
        server.used = 96  # 96 of 100 used: the next answer reports 97% (Sforce-Limit-Info)
        with pytest.raises(ConnectorError, match="daily API requests"):
            sync(server, tmp_path)
        assert len(server.requests) == 1


def test_single_currency_org(generated, tmp_path, monkeypatch):
    """A single-currency org has no CurrencyIsoCode: without SALESPIPE_SALESFORCE_CURRENCY the
    query fails with Salesforce's INVALID_FIELD; with it, every opportunity is in that currency."""
    with SalesforceApi(SalesforceData(generated, multi_currency=False), TOKEN) as server:
        with pytest.raises(ConnectorError, match="400 .*No such column 'CurrencyIsoCode'"):
            sync(server, tmp_path)
        monkeypatch.setenv("SALESPIPE_SALESFORCE_CURRENCY", "usd")
        sync(server, tmp_path)
    con = landed(tmp_path)
    assert rows(con, "select currency_iso_code, count(*) from raw.salesforce_opportunities "
                     "group by all") == [("USD", DEALS)]


def test_soql_datetime_literal():
    assert soql_datetime("2024-01-04T10:44:00.000+0000") == "2024-01-04T10:44:00Z"
    assert soql_datetime("1970-01-01T00:00:00.000+0000") == "1970-01-01T00:00:00Z"

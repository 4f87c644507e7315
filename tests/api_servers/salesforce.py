"""A local Salesforce REST API serving the generator's Salesforce org (`salespipe generate
--format salesforce`).

Shapes follow the REST API Developer Guide
(https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/):
- authentication: `Authorization: Bearer <access token>`; otherwise 401
  `[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]`
  (errorcodes.htm);
- `GET /services/data/vXX.X/query?q=<SOQL>` and `/queryAll` (also deleted records, IsDeleted
  true) answer `{"totalSize", "done", "nextRecordsUrl"?, "records"}`, each record with
  `attributes` {type, url} and the selected fields; while `done` is false,
  `GET <nextRecordsUrl>` (`/services/data/vXX.X/query/<locator>-<offset>`) gives the next
  batch (resources_query.htm, resources_queryall.htm, dome_query.htm); a batch is 2,000
  records by default (smaller here so paging is exercised);
- the SOQL this org understands: `SELECT <fields> FROM <object> [WHERE SystemModstamp >= |
  > <dateTime literal>] [ORDER BY SystemModstamp ASC]`; anything else is 400
  `MALFORMED_QUERY`, an unknown field 400 `INVALID_FIELD`
  (sforce_api_calls_soql_select_dateformats.htm for the literal);
- every answer carries `Sforce-Limit-Info: api-usage=<used>/<limit>` (headers_api_usage.htm);
- limits: Salesforce answers 403 `REQUEST_LIMIT_EXCEEDED` ("TotalRequests Limit exceeded.")
  once the org's rolling 24-hour request allocation is used up, and the same code for too many
  concurrent long-running requests (developer.salesforce.com, "API Request Limits and
  Allocations"; errorcodes.htm). It sends no 429, so the `rate_limit` fault answers that 403
  here;
- deleted records stay in the Recycle Bin, and in `queryAll`, for 15 days (Apex Developer
  Guide, "Restoring Deleted Records"); `SalesforceData.purge_recycle_bin` empties it, as the
  org does after 15 days;
- the OAuth 2.0 client-credentials flow (help.salesforce.com, "OAuth 2.0 Client Credentials
  Flow for Server-to-Server Integration"): `POST /services/oauth2/token`, form-encoded
  `grant_type=client_credentials&client_id=...&client_secret=...`, answers `{"access_token",
  "instance_url", "id", "token_type": "Bearer", "issued_at", "signature"}` (no expiry), and
  bad credentials 400 `{"error": "invalid_client", "error_description": "invalid client
  credentials"}`. An issued token dies after `session_requests` API requests, standing in for
  the org's session timeout (then 401 INVALID_SESSION_ID, like an expired session).

Data: the generator's `salesforce/` records, loaded once; tests change them through
`SalesforceData` (a stage change with its OpportunityHistory row, a deletion).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs

from .common import MockApi, Reply, Request

OBJECTS = ("Opportunity", "OpportunityHistory", "OpportunityStage", "Contact", "Lead", "Task",
           "Event", "User")
SOQL = re.compile(
    r"^SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+SystemModstamp\s*(?P<op>>=|>)\s*(?P<since>\S+))?"
    r"(?:\s+ORDER\s+BY\s+SystemModstamp(?:\s+ASC)?)?\s*$", re.IGNORECASE | re.DOTALL)


def _instant(value: str) -> dt.datetime:
    """A Salesforce datetime (`...T10:44:00.000+0000`) or SOQL literal (`...T10:44:00Z`)."""
    text = value.replace("Z", "+00:00")
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    return dt.datetime.fromisoformat(text)


def _stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class SalesforceData:
    """The org's records, loaded from one generated `salesforce/` folder."""

    def __init__(self, folder: Path, multi_currency: bool = True):
        self.records: dict[str, list[dict]] = {}
        for obj in OBJECTS:
            rows: list[dict] = []
            for path in sorted(folder.glob(f"{obj}*.json")):
                if re.fullmatch(rf"{obj}(-\d+)?\.json", path.name):
                    rows += json.loads(path.read_text())
            self.records[obj] = rows
        if not multi_currency:  # a single-currency org has no CurrencyIsoCode field
            for row in self.records["Opportunity"]:
                row.pop("CurrencyIsoCode", None)
        self._clock = max(_instant(r["SystemModstamp"]) for r in self.records["Opportunity"])
        self._history_n = len(self.records["OpportunityHistory"])

    def opportunity(self, opp_id: str) -> dict:
        return next(r for r in self.records["Opportunity"] if r["Id"] == opp_id)

    def tick(self) -> str:
        self._clock += dt.timedelta(minutes=1)
        return _stamp(self._clock)

    def move_opportunity(self, opp_id: str, stage: str, closed: bool = False,
                         won: bool = False) -> None:
        """A stage change: the Opportunity and a new OpportunityHistory row."""
        opp, now = self.opportunity(opp_id), self.tick()
        opp.update(StageName=stage, IsClosed=closed, IsWon=won, LastModifiedDate=now,
                   SystemModstamp=now)
        self._history_n += 1
        hid = f"0085g{self._history_n + 1000000:010d}AAA"
        self.records["OpportunityHistory"].append({
            "attributes": {"type": "OpportunityHistory",
                           "url": f"/services/data/v62.0/sobjects/OpportunityHistory/{hid}"},
            "Id": hid, "OpportunityId": opp_id, "StageName": stage, "Amount": opp["Amount"],
            "Probability": opp["Probability"], "CloseDate": opp["CloseDate"],
            "CreatedDate": now, "CreatedById": opp["OwnerId"], "SystemModstamp": now,
            "IsDeleted": False})

    def delete_opportunity(self, opp_id: str) -> None:
        """Moved to the Recycle Bin: only queryAll still returns it, with IsDeleted true."""
        now = self.tick()
        self.opportunity(opp_id).update(IsDeleted=True, SystemModstamp=now)

    def purge_recycle_bin(self) -> None:
        """What the org does 15 days after a deletion: the record is gone, even for queryAll."""
        self.records = {obj: [r for r in rows if not r.get("IsDeleted")]
                        for obj, rows in self.records.items()}


def _errors(status: int, message: str) -> list[dict]:
    codes = {401: "INVALID_SESSION_ID", 404: "NOT_FOUND", 429: "REQUEST_LIMIT_EXCEEDED",
             400: "MALFORMED_QUERY"}
    if status == 401:
        message = "Session expired or invalid"
    return [{"message": message, "errorCode": codes.get(status, "UNKNOWN_EXCEPTION")}]


LIMIT_EXCEEDED = [{"message": "TotalRequests Limit exceeded.",
                   "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def _authorised(req: Request, token: str) -> bool:
    sent = {k.lower(): v for k, v in req.headers.items()}.get("authorization", "")
    return sent == f"Bearer {token}"


class SalesforceApi(MockApi):
    """`with SalesforceApi(data, token) as api:` ... configure `api.url` as the instance URL."""

    def __init__(self, data: SalesforceData, token: str, batch_size: int = 2000,
                 daily_limit: int = 15000, client: tuple[str, str] | None = None,
                 session_requests: int = 1_000_000):
        super().__init__(check_auth=self._check_auth, error_body=_errors)
        self.data, self.batch_size, self.daily_limit = data, batch_size, daily_limit
        self.token, self.client, self.session_requests = token, client, session_requests
        self.sessions: dict[str, int] = {}  # issued access token -> requests it has left
        self.used = 0
        self._cursors: dict[str, list[dict]] = {}
        self.route("POST", r"/services/oauth2/token", self._issue_token)
        self.route("GET", r"/services/data/v(\d+\.\d)/(query|queryAll)", self._query)
        self.route("GET", r"/services/data/v(\d+\.\d)/query/([\w-]+)-(\d+)", self._more)

    def _check_auth(self, req: Request) -> bool:
        if req.path == "/services/oauth2/token":
            return True  # the client authenticates with the credentials in the body
        if _authorised(req, self.token):
            return True
        sent = {k.lower(): v for k, v in req.headers.items()}.get("authorization", "")
        token = sent.removeprefix("Bearer ")
        with self._lock:
            if self.sessions.get(token, 0) <= 0:
                return False
            self.sessions[token] -= 1
        return True

    def _issue_token(self, req: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        wanted = ("client_credentials", *self.client) if self.client else None
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != wanted:
            return Reply(400, {"error": "invalid_client",
                               "error_description": "invalid client credentials"})
        token = "00D5g000000!" + uuid.uuid4().hex
        with self._lock:
            self.sessions[token] = self.session_requests
        return Reply(200, {"access_token": token, "instance_url": self.url,
                           "id": f"{self.url}/id/00D5g000000/0055g000000", "token_type": "Bearer",
                           "issued_at": str(int(dt.datetime.now(dt.UTC).timestamp() * 1000)),
                           "signature": "c2lnbmF0dXJl"})

    def _fault_reply(self, fault) -> Reply:
        if fault.kind == "rate_limit":  # Salesforce's limit answer is a 403, not a 429
            return Reply(403, LIMIT_EXCEEDED)
        return super()._fault_reply(fault)

    def _reply(self, status: int, body) -> Reply:
        if self.used >= self.daily_limit:  # the allocation is used up: refused, not counted
            status, body = 403, LIMIT_EXCEEDED
        else:
            self.used += 1
        return Reply(status, body, {"Sforce-Limit-Info": f"api-usage={self.used}/"
                                                         f"{self.daily_limit}"})

    def _query(self, req: Request) -> Reply:
        match = SOQL.match((req.arg("q") or "").strip())
        if not match or match.group("object") not in self.data.records:
            return self._reply(400, _errors(400, "unexpected token in the SOQL query"))
        fields = [f.strip() for f in match.group("fields").split(",")]
        rows = self.data.records[match.group("object")]
        unknown = [f for f in fields if rows and f not in rows[0]]
        if unknown:
            return self._reply(400, [{"message": f"No such column '{unknown[0]}'",
                                      "errorCode": "INVALID_FIELD"}])
        if req.match.group(2) == "query":
            rows = [r for r in rows if not r.get("IsDeleted")]
        if match.group("since"):
            since = _instant(match.group("since"))
            after = (lambda t: t > since) if match.group("op") == ">" else (lambda t: t >= since)
            rows = [r for r in rows if after(_instant(r["SystemModstamp"]))]
            rows = sorted(rows, key=lambda r: (_instant(r["SystemModstamp"]), r["Id"]))
        selected = [{"attributes": r["attributes"], **{f: r.get(f) for f in fields}}
                    for r in rows]
        locator = "01g" + uuid.uuid4().hex[:15]
        self._cursors[locator] = selected
        return self._batch(req.match.group(1), locator, 0)

    def _more(self, req: Request) -> Reply:
        version, locator, offset = req.match.groups()
        if locator not in self._cursors:
            return self._reply(400, [{"message": "invalid query locator",
                                      "errorCode": "INVALID_QUERY_LOCATOR"}])
        return self._batch(version, locator, int(offset))

    def _batch(self, version: str, locator: str, offset: int) -> Reply:
        rows = self._cursors[locator]
        end = offset + self.batch_size
        body = {"totalSize": len(rows), "done": end >= len(rows), "records": rows[offset:end]}
        if end < len(rows):
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        return self._reply(200, body)

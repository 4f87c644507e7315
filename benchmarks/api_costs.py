"""What a sync costs against the CRMs' documented limits (issue 29), measured on the local API
servers of the tests (tests/api_servers), which follow the vendors' documentation.

`python -m benchmarks.api_costs`:
- HubSpot: the characters of a deals search body (HubSpot refuses bodies over 3,000) as the
  number of pipeline stages grows, asking every stage's two date properties in the search (as
  before) and asking them by batch read (as now), with the batch read's body beside it;
- Pipedrive: the requests of a first sync of a generated company, by endpoint, scaled to a
  10,000-deal account, and its tokens against the daily budget (30,000 x plan multiplier x
  seats; 20 tokens a list request, the figure tests/api_servers/pipedrive.py explains).
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def hubspot_bodies() -> None:
    from orchestration.connectors import hubspot

    print("HubSpot deals search body (characters; HubSpot's limit: 3,000)")
    print(f"{'stages':>7} {'before: search':>15} {'now: search':>12} {'now: batch read':>16}")
    cursor = "2026-10-31T17:42:00.000000Z"
    for stages in (6, 13, 26, 39, 40, 80, 200):
        # HubSpot's own stage ids are words; stages added in the UI get 9-10 digit ids
        ids = [f"{1_200_000_000 + k}" for k in range(stages)]
        stage_props = hubspot._stage_properties(ids)

        def body(props: list[str]) -> int:
            json_ = hubspot._search("deals", "hs_lastmodifieddate", props)["endpoint"]["json"]
            json_ = {**json_, "after": "9800"}
            json_["filterGroups"][0]["filters"][0]["value"] = cursor
            return len(json.dumps(json_))

        before = body(list(hubspot.DEAL_PROPERTIES) + stage_props)
        now = body(list(hubspot.DEAL_PROPERTIES))
        read = len(json.dumps({"properties": stage_props, "inputs": [
            {"id": str(40_000_000_000 + i)} for i in range(hubspot.BATCH_READ)]}))
        print(f"{stages:>7} {before:>15,} {now:>12,} {read:>16,}")


def pipedrive_first_sync(deals: int = 300, account: int = 10_000) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from api_servers.pipedrive import LIST_COST, PipedriveApi, PipedriveData

    from orchestration.connectors import runner
    from orchestration.connectors.pipedrive import CONNECTOR
    from orchestration.generate import generate
    from orchestration.settings import api_settings

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder / "company", deals, 7, formats=["pipedrive"])
        data = PipedriveData(folder / "company" / "pipedrive")
        with PipedriveApi(data, "token", rate_limit=10_000) as server:
            runner.sync(CONNECTOR, folder / "data",
                        api_settings("pipedrive", token="token", base_url=server.url))
            paths = [r.path for r in server.requests]
    kinds = Counter("/v1/deals/{id}/flow" if p.endswith("/flow") else p for p in paths)
    per_deal = kinds["/v1/deals/{id}/flow"] / deals
    print(f"\nPipedrive first sync of {deals} generated deals: {len(paths)} requests")
    for path, n in kinds.most_common():
        print(f"  {n:>6}  {path}")
    lists = len(paths) - kinds["/v1/deals/{id}/flow"]
    scaled_flows = round(per_deal * account)
    scaled_lists = round(lists * account / deals)  # pages grow with the records, at most
    scaled = scaled_flows + scaled_lists
    tokens = scaled * LIST_COST
    print(f"A {account:,}-deal account: about {scaled:,} requests ({scaled_flows:,} update "
          f"logs, one per deal; at most {scaled_lists:,} list pages), {tokens:,} tokens at "
          f"{LIST_COST} a request.")
    for plan, multiplier in (("multiplier 1", 1), ("multiplier 4", 4), ("multiplier 7", 7)):
        for seats in (3, 10):
            budget = 30_000 * multiplier * seats
            print(f"  budget {budget:>9,} ({plan}, {seats:>2} seats): "
                  f"{tokens / budget:5.1f} days of budget")


if __name__ == "__main__":
    hubspot_bodies()
    pipedrive_first_sync()

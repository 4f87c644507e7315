"""HubSpot export writer (`hubspot/`).

Shapes per docs/export-formats.md: UI "Export all properties" CSVs for contacts, deals and
activities (property labels as headers, dates `YYYY-MM-DD HH:MM` in the account time zone,
multi-value associations joined with `;`), plus saved responses of
`GET /crm/v3/pipelines/deals` and `GET /crm/v3/owners` (HubSpot CRM API reference).
Won and lost are closed stages with probability 1.0 / 0.0; the default pipeline is "default"
with HubSpot's built-in stage ids. Per-stage `Date entered`/`Date exited` keep only the latest
visit, exactly like HubSpot's calculated stage properties.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import render
from .activities import Chunk, Stats
from .company import Company, stage_table
from .render import FormatWriter, cat

DEAL_BASE = 14_500_000_001  # HubSpot record ids are large and grow over time
CONTACT_BASE = 1_001
ACTIVITY_BASE = 41_000_000_001
OWNER_BASE = 61_000_101
USER_BASE = 9_100_201
PAGE_ROWS = 500_000
# Canonical activity type code -> HubSpot engagement type (vocab.ACTIVITY_TYPES order).
TYPES = ("EMAIL", "EMAIL_OPEN", "EMAIL_CLICK", "CALL", "MEETING", "FORM_SUBMISSION",
         "PAGE_VIEW", "NOTE", "TASK")
PATTERNS = ("contacts*.csv", "deals*.csv", "activities*.csv", "pipelines.json", "owners.json")

CONTACT_COLUMNS = f"""
    {CONTACT_BASE} + i AS "Record ID", first AS "First Name", last AS "Last Name",
    {render.EMAIL_SQL} AS "Email", {render.PHONE_SQL} AS "Phone Number", title AS "Job Title",
    {render.COMPANY_SQL} AS "Company Name", industry AS "Industry",
    employees AS "Number of Employees", country AS "Country/Region",
    source AS "Original Source", lifecycle AS "Lifecycle Stage", owner AS "Contact owner",
    hs_ts(created) AS "Create Date", hs_ts(last_sales) AS "Last Activity Date",
    budget AS "Budget Range", dm AS "Decision Maker", need AS "Need Identified",
    timeline AS "Purchase Timeline", ids AS "Associated Deal IDs"
"""


class HubSpotWriter(FormatWriter):
    def __init__(self, folder, comp: Company):
        super().__init__(folder, comp, PATTERNS)
        self.n_act = 0

    def activities(self, ch: Chunk, i: int, n: int) -> None:
        frame = pd.DataFrame({
            "id": ACTIVITY_BASE + self.n_act + np.arange(len(ch)),
            "kind": cat(ch.kind, TYPES),
            "t": self.w.local(ch.t),
            "owner": cat(ch.owner, render.owner_names(self.c)),
            "contact": CONTACT_BASE + ch.contact.astype(np.int64),
            "deal": np.where(ch.deal >= 0, DEAL_BASE + ch.deal.astype(np.int64), -1),
        })
        self.n_act += len(ch)
        self.w.copy(render.page_name("activities", "csv", i, n), frame, """
            SELECT id AS "Record ID", kind AS "Activity Type", hs_ts(t) AS "Activity Date",
                   owner AS "Activity assigned to", contact AS "Associated Contact IDs",
                   opt_str(deal) AS "Associated Deal IDs" FROM t""")

    def finish(self, stats: Stats) -> dict:
        self._links()
        self._deals(stats)
        self._contacts(stats)
        self.w.small_json("pipelines.json", pipelines_json(self.c))
        self.w.small_json("owners.json", owners_json(self.c))
        self.w.close()
        return {}

    def _links(self) -> None:
        """Association id lists (`;`-joined) for both directions, as DuckDB tables."""
        dc = pd.DataFrame({"deal": self.c.dc_deal.astype(np.int64) + DEAL_BASE,
                           "contact": self.c.dc_contact.astype(np.int64) + CONTACT_BASE})
        db = self.w.db
        db.register("dc", dc)
        db.execute("""CREATE TABLE deal_ids AS SELECT deal, string_agg(CAST(contact AS VARCHAR),
                      ';' ORDER BY contact) AS ids FROM dc GROUP BY deal""")
        db.execute("""CREATE TABLE contact_ids AS SELECT contact, string_agg(CAST(deal AS VARCHAR),
                      ';' ORDER BY deal) AS ids FROM dc GROUP BY contact""")
        db.unregister("dc")

    def _deals(self, stats: Stats) -> None:
        c, w, d = self.c, self.w, self.c.deal
        stages = stage_table(c.prof)
        date_cols = []
        for g, row in enumerate(stages):
            name = f'{row["stage"].label} ({c.prof.pipelines[row["pipe"]].label})'
            q = name.replace('"', '""')
            date_cols.append(f'hs_ts(e{g}) AS "Date entered ""{q}"""')
            date_cols.append(f'hs_ts(x{g}) AS "Date exited ""{q}"""')
        for page, lo, hi in render.paged("deals", c.n_deals, PAGE_ROWS, ext="csv"):
            sl = slice(lo, hi)
            closed = d["closed_at"][sl] >= 0
            # Close Date: when it closed, or the expected close date while open.
            close = np.where(closed, w.local(d["closed_at"][sl]),
                             w.day_start(d["expected_day"][sl]))
            cols = {
                "i": DEAL_BASE + np.arange(lo, hi),
                "pipeline": cat(d["pipe"][sl], [pl.label for pl in c.prof.pipelines]),
                "stage": cat(render.global_stage(c, lo, hi), [r["stage"].label for r in stages]),
                "amount": d["amount"][sl],
                "currency": cat(d["eur"][sl].astype(np.int64), ["USD", "EUR"]),
                "close": close, "created": w.local(d["created"][sl]),
                "owner": cat(d["owner"][sl], render.owner_names(c)),
                "dtype": cat(d["pipe"][sl], [pl.deal_type for pl in c.prof.pipelines]),
                "last_sales": w.local(stats.deal_sales[sl]),
            }
            cols.update(render.deal_name_columns(c, lo, hi))
            entered, exited = render.latest_visits(c, lo, hi)
            for g in range(len(stages)):
                cols[f"e{g}"] = w.local(entered[:, g])
                cols[f"x{g}"] = w.local(exited[:, g])
            w.copy(page, pd.DataFrame(cols), f"""
                SELECT i AS "Record ID", {render.DEAL_NAME_SQL} AS "Deal Name",
                    pipeline AS "Pipeline", stage AS "Deal Stage", opt_str(amount) AS "Amount",
                    currency AS "Currency", hs_ts(close) AS "Close Date",
                    hs_ts(created) AS "Create Date", owner AS "Deal owner",
                    dtype AS "Deal Type", deal_ids.ids AS "Associated Contact IDs",
                    hs_ts(last_sales) AS "Last Activity Date", {", ".join(date_cols)}
                FROM t LEFT JOIN deal_ids ON deal_ids.deal = t.i ORDER BY t.i""")

    def _contacts(self, stats: Stats) -> None:
        for page, lo, hi in render.paged("contacts", self.c.n_contacts, PAGE_ROWS, ext="csv"):
            frame = render.contacts_frame(self.w, self.c, lo, hi, stats)
            self.w.copy(page, frame, f"""
                SELECT {CONTACT_COLUMNS} FROM t
                LEFT JOIN contact_ids ON contact_ids.contact = {CONTACT_BASE} + t.i
                ORDER BY t.i""")


def pipelines_json(c: Company) -> dict:
    """Saved `GET /crm/v3/pipelines/deals` (only the fields the contract names)."""
    results = []
    for p, pl in enumerate(c.prof.pipelines):
        stages = []
        for i, st in enumerate(pl.all_stages):
            closed = i >= len(pl.stages)
            stages.append({
                "id": st.ext_id, "label": st.label, "displayOrder": i, "archived": False,
                "metadata": {"isClosed": "true" if closed else "false",
                             "probability": str(float(st.probability))},
            })
        results.append({"id": pl.ext_id, "label": pl.label, "displayOrder": p,
                        "archived": False, "stages": stages})
    return {"results": results}


def owners_json(c: Company) -> dict:
    """Saved `GET /crm/v3/owners`: owner id (string), user id (number), primary team."""
    results = []
    for i, (first, last, t) in enumerate(c.prof.owners):
        team = c.prof.teams[t]
        results.append({
            "id": str(OWNER_BASE + i * 37), "email": render.owner_email(c, i),
            "firstName": first, "lastName": last, "userId": USER_BASE + i * 13,
            "archived": False, "teams": [{"id": team.ext_id, "name": team.name, "primary": True}],
        })
    return {"results": results}

"""Generic CSV writer (`generic/`): a Pipedrive-style export plus its `mapping.yml`.

The mapping follows the schema in docs/export-formats.md exactly (source_name
`pipedrive_export`, US date formats, per-pipeline stage order with won/lost stages).
Pipedrive exports name columns "<Object> - <Field>"; unmapped extra columns (status, lost
reason, phone, BANT answers...) are kept on purpose: the loaders keep unmapped headers in the
raw tables. `Deal - Entered <stage>` columns hold the latest entry into each open stage and
`Deal - Close time` the moment the deal was won or lost. `Person - Company size` is the
employee count (the loader reads company_size as a whole number).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from . import render, vocab
from .activities import Chunk, Stats
from .company import LOST_REASONS, Company, stage_table
from .render import FormatWriter, cat

PAGE_ROWS = 500_000
DATE_FORMATS = ["%m/%d/%Y %H:%M", "%m/%d/%Y"]
# vocab.ACTIVITY_TYPES -> Pipedrive-style activity type label.
TYPES = ("Email", "Email opened", "Email clicked", "Call", "Meeting", "Form submitted",
         "Website visit", "Note", "Task")
PATTERNS = ("deals*.csv", "contacts*.csv", "activities*.csv", "owners*.csv", "mapping.yml")

DEAL_COLUMNS = {
    "deal_id": "Deal - ID", "stage": "Deal - Stage", "created_at": "Deal - Deal created",
    "deal_name": "Deal - Title", "amount": "Deal - Value", "currency": "Deal - Currency",
    "owner": "Deal - Owner", "pipeline": "Deal - Pipeline",
    "close_date": "Deal - Expected close date", "closed_at": "Deal - Close time",
    "contact_id": "Deal - Contact person ID",
}
CONTACT_COLUMNS = {
    "contact_id": "Person - ID", "email": "Person - Email", "first_name": "Person - First name",
    "last_name": "Person - Last name", "company": "Person - Organization",
    "title": "Person - Job title", "industry": "Person - Industry",
    "company_size": "Person - Company size", "country": "Person - Country",
    "lead_source": "Person - Lead source", "created_at": "Person - Created",
    "owner": "Person - Owner",
}
ACTIVITY_COLUMNS = {
    "activity_id": "Activity - ID", "activity_type": "Activity - Type",
    "occurred_at": "Activity - Done time", "contact_id": "Activity - Person ID",
    "deal_id": "Activity - Deal ID", "owner": "Activity - Assigned to user",
}
OWNER_COLUMNS = {"owner": "User - Name", "email": "User - Email", "team": "User - Team"}


def entered_header(stage: str) -> str:
    return f"Deal - Entered {stage}"


def mapping(c: Company) -> dict:
    """The mapping.yml content for this company (schema: docs/export-formats.md)."""
    open_stages = [s.label for pl in c.prof.pipelines for s in pl.stages]
    return {
        "source_name": "pipedrive_export",
        "date_formats": DATE_FORMATS,
        "default_pipeline": c.prof.pipelines[0].label,
        "deals": {"file": "deals*.csv", "columns": dict(DEAL_COLUMNS),
                  "stage_entered_columns": {s: entered_header(s) for s in open_stages}},
        "pipelines": [{
            "name": pl.label,
            "stages": [s.label for s in pl.all_stages],
            "won": [pl.won.label], "lost": [pl.lost.label],
            "probabilities": {s.label: s.probability for s in pl.all_stages},
        } for pl in c.prof.pipelines],
        "contacts": {"file": "contacts*.csv", "columns": dict(CONTACT_COLUMNS)},
        "activities": {"file": "activities*.csv", "columns": dict(ACTIVITY_COLUMNS),
                       "types": dict(zip(TYPES, vocab.ACTIVITY_TYPES, strict=True))},
        "owners": {"file": "owners*.csv", "columns": dict(OWNER_COLUMNS)},
    }


class _Dumper(yaml.SafeDumper):
    """Block-style YAML like the contract's example, with short scalar lists inline
    (`stages: [Lead In, Qualified, ...]`)."""


def _list(dumper: yaml.SafeDumper, data: list):
    flow = all(not isinstance(x, (list, dict)) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _list)


def _q(header: str) -> str:
    return '"' + header.replace('"', '""') + '"'


class GenericWriter(FormatWriter):
    def __init__(self, folder, comp: Company):
        super().__init__(folder, comp, PATTERNS)
        self.n_act = 0

    def activities(self, ch: Chunk, i: int, n: int) -> None:
        a = ACTIVITY_COLUMNS
        frame = pd.DataFrame({
            "id": self.n_act + 1 + np.arange(len(ch)),
            "kind": cat(ch.kind, TYPES), "t": self.w.local(ch.t),
            "contact": ch.contact.astype(np.int64) + 1,
            "deal": np.where(ch.deal >= 0, ch.deal.astype(np.int64) + 1, -1),
            "owner": cat(ch.owner, render.owner_names(self.c)),
        })
        self.n_act += len(ch)
        self.w.copy(render.page_name("activities", "csv", i, n), frame, f"""
            SELECT id AS {_q(a["activity_id"])}, kind AS {_q(a["activity_type"])},
                us_ts(t) AS {_q(a["occurred_at"])}, contact AS {_q(a["contact_id"])},
                opt_str(deal) AS {_q(a["deal_id"])}, owner AS {_q(a["owner"])} FROM t""")

    def finish(self, stats: Stats) -> dict:
        self._deals(stats)
        self._contacts(stats)
        self._owners()
        text = yaml.dump(mapping(self.c), Dumper=_Dumper, sort_keys=False, width=1000,
                         allow_unicode=True)
        header = (f"# Column mapping for the {self.c.prof.company} Pipedrive export "
                  "(schema: docs/export-formats.md).\n")
        (self.w.folder / "mapping.yml").write_text(header + text, encoding="utf-8")
        self.w.close()
        return {}

    def _deals(self, stats: Stats) -> None:
        c, w, d, m = self.c, self.w, self.c.deal, DEAL_COLUMNS
        stages = stage_table(c.prof)
        entered_sql = [f"us_ts(e{g}) AS {_q(entered_header(r['stage'].label))}"
                       for g, r in enumerate(stages) if r["kind"] == "open"]
        for page, lo, hi in render.paged("deals", c.n_deals, PAGE_ROWS, ext="csv"):
            sl = slice(lo, hi)
            cols = {
                "i": np.arange(lo, hi) + 1,
                "amount": d["amount"][sl],
                "currency": cat(d["eur"][sl].astype(np.int64), ["USD", "EUR"]),
                "owner": cat(d["owner"][sl], render.owner_names(c)),
                "pipeline": cat(d["pipe"][sl], [pl.label for pl in c.prof.pipelines]),
                "stage": cat(render.global_stage(c, lo, hi), [r["stage"].label for r in stages]),
                "status": cat(d["status"][sl], ["open", "won", "lost"]),
                "created": w.local(d["created"][sl]),
                "expected": w.day_start(d["expected_day"][sl]),
                "closed": w.local(d["closed_at"][sl]),
                "contact": d["primary"][sl] + 1,
                "reason": cat(d["lost_reason"][sl], LOST_REASONS),
                "last_act": w.local(stats.deal_sales[sl]),
            }
            cols.update(render.deal_name_columns(c, lo, hi))
            entered, _ = render.latest_visits(c, lo, hi)
            for g, r in enumerate(stages):
                if r["kind"] == "open":
                    cols[f"e{g}"] = w.local(entered[:, g])
            w.copy(page, pd.DataFrame(cols), f"""
                SELECT i AS {_q(m["deal_id"])}, {render.DEAL_NAME_SQL} AS {_q(m["deal_name"])},
                    opt_str(amount) AS {_q(m["amount"])}, currency AS {_q(m["currency"])},
                    {render.COMPANY_SQL} AS "Deal - Organization",
                    contact AS {_q(m["contact_id"])}, owner AS {_q(m["owner"])},
                    pipeline AS {_q(m["pipeline"])}, stage AS {_q(m["stage"])},
                    status AS "Deal - Status", us_ts(created) AS {_q(m["created_at"])},
                    us_date(expected) AS {_q(m["close_date"])},
                    us_ts(closed) AS {_q(m["closed_at"])}, reason AS "Deal - Lost reason",
                    us_date(last_act) AS "Deal - Last activity date", {", ".join(entered_sql)}
                FROM t""")

    def _contacts(self, stats: Stats) -> None:
        c, m = self.c, CONTACT_COLUMNS
        for page, lo, hi in render.paged("contacts", c.n_contacts, PAGE_ROWS, ext="csv"):
            f = render.contacts_frame(self.w, c, lo, hi, stats)
            self.w.copy(page, f, f"""
                SELECT i + 1 AS {_q(m["contact_id"])}, first AS {_q(m["first_name"])},
                    last AS {_q(m["last_name"])}, {render.EMAIL_SQL} AS {_q(m["email"])},
                    {render.PHONE_SQL} AS "Person - Phone",
                    {render.COMPANY_SQL} AS {_q(m["company"])}, title AS {_q(m["title"])},
                    industry AS {_q(m["industry"])}, employees AS {_q(m["company_size"])},
                    country AS {_q(m["country"])}, source AS {_q(m["lead_source"])},
                    owner AS {_q(m["owner"])}, us_ts(created) AS {_q(m["created_at"])},
                    budget AS "Person - Budget Range", dm AS "Person - Decision Maker",
                    need AS "Person - Need Identified", timeline AS "Person - Purchase Timeline"
                FROM t""")

    def _owners(self) -> None:
        c, m = self.c, OWNER_COLUMNS
        frame = pd.DataFrame({
            "name": render.owner_names(c),
            "email": [render.owner_email(c, i) for i in range(len(c.prof.owners))],
            "team": [c.prof.teams[t].name for _, _, t in c.prof.owners],
        })
        self.w.copy("owners.csv", frame, f"""SELECT name AS {_q(m["owner"])},
            email AS {_q(m["email"])}, team AS {_q(m["team"])} FROM t""")

"""Salesforce writer (`salesforce/`): sObject records as the REST query API returns them.

One JSON array of records per sObject (`Opportunity*.json`, `OpportunityHistory*.json`,
`OpportunityStage.json`, `Contact*.json`, `Lead*.json`, `Task*.json`, `Event*.json`,
`User.json`), each record with its `attributes` {type, url} as in a `query` response
(developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm). Ids are
18-character ids with the sObject's key prefix (006 Opportunity, 008 OpportunityHistory, 003
Contact, 00Q Lead, 00T Task, 00U Event, 005 User, 01J OpportunityStage); datetimes
`2024-01-04T10:44:00.000+0000` (UTC), dates `2024-01-04`.
- Opportunity history is OpportunityHistory: one row per change of stage, with the stage the
  opportunity entered (Closed Won / Closed Lost are stages; a reopen is a row back to an open
  stage after Closed Lost).
- People with a deal are Contacts (the opportunity's ContactId, its primary contact role);
  people without one are Leads, with their company and firmographics on the Lead.
- E-mails, calls and tasks are Tasks (TaskSubtype Email / Call / Task), meetings are Events;
  opens, clicks, form fills and site visits are not Salesforce activities.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import activities as act
from . import render
from .activities import Chunk, Stats, chunk_history
from .company import LOST_REASONS, Company
from .paths import WON
from .render import FormatWriter, cat

API_VERSION = "v62.0"
PAGE_ROWS = 100_000
PATTERNS = ("Opportunity*.json", "Contact*.json", "Lead*.json", "Task*.json", "Event*.json",
            "User.json")
PREFIX = {"Opportunity": "006", "OpportunityHistory": "008", "Contact": "003", "Lead": "00Q",
          "Task": "00T", "Event": "00U", "User": "005", "OpportunityStage": "01J",
          "Account": "001"}
# vocab.ACTIVITY_TYPES -> (sObject, TaskSubtype); None: not a Salesforce activity.
KINDS = (("Task", "Email"), None, None, ("Task", "Call"), ("Event", None), None, None, None,
         ("Task", "Task"))
TASK_KIND = np.array([k is not None and k[0] == "Task" for k in KINDS])
EVENT_KIND = np.array([k is not None and k[0] == "Event" for k in KINDS])
SUBTYPES = tuple(k[1] if k and k[0] == "Task" else "" for k in KINDS)


def checksum(prefix: str) -> str:
    """The 3-character suffix of an 18-character id whose 15-character form is prefix + '5g'
    + ten digits: one character per 5-character chunk, a bit per upper-case letter."""
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    chunk = (prefix + "5g")[:5]
    bits = sum(1 << i for i, ch in enumerate(chunk) if ch.isupper())
    return chars[bits] + "AA"


def id_sql(obj: str, col: str) -> str:
    """SQL for the 18-character id of record number `col` (0-based; NULL when < 0)."""
    p = PREFIX[obj]
    return (f"CASE WHEN {col} IS NULL OR {col} < 0 THEN NULL ELSE '{p}5g' || "
            f"lpad(CAST({col} + 1 AS VARCHAR), 10, '0') || '{checksum(p)}' END")


def attributes_sql(obj: str, id_expr: str) -> str:
    return (f"{{'type': '{obj}', 'url': '/services/data/{API_VERSION}/sobjects/{obj}/' || "
            f"{id_expr}}} AS attributes")


def attributes(obj: str, record_id: str) -> dict:
    """A record's `attributes` as a query response gives them (Python side)."""
    return {"type": obj, "url": f"/services/data/{API_VERSION}/sobjects/{obj}/{record_id}"}


MACROS = """
CREATE MACRO sf_ts(m) AS ts_fmt(m, '%Y-%m-%dT%H:%M:%S.000+0000');
CREATE MACRO sf_day(m) AS ts_fmt(m, '%Y-%m-%d');
"""


class SalesforceWriter(FormatWriter):
    def __init__(self, folder, comp: Company):
        super().__init__(folder, comp, PATTERNS, MACROS)
        self.n_task = self.n_event = self.n_hist = 0
        # People with a deal are Contacts, the others Leads; each numbered in creation order.
        has_deal = np.bincount(comp.dc_contact, minlength=comp.n_contacts) > 0
        self.is_contact = has_deal
        self.number = np.where(has_deal, np.cumsum(has_deal) - 1, np.cumsum(~has_deal) - 1)

    def _who(self, person: np.ndarray) -> dict[str, np.ndarray]:
        """WhoId parts for contact indices: Contact number or Lead number (-1 for the other)."""
        person = np.asarray(person, np.int64)
        num = self.number[person]
        contact = self.is_contact[person]
        return {"who_c": np.where(contact, num, -1), "who_l": np.where(contact, -1, num)}

    def activities(self, ch: Chunk, i: int, n: int) -> None:
        owned = ch.owner >= 0  # OwnerId is required on Tasks and Events
        for obj, mask in (("Task", TASK_KIND[ch.kind] & owned),
                          ("Event", EVENT_KIND[ch.kind] & owned)):
            base = self.n_task if obj == "Task" else self.n_event
            frame = pd.DataFrame({
                "n": base + np.arange(int(mask.sum())), "t": ch.t[mask],
                "deal": ch.deal[mask].astype(np.int64), "owner": ch.owner[mask].astype(np.int64),
                "subtype": cat(ch.kind[mask], SUBTYPES), **self._who(ch.contact[mask]),
            })
            if obj == "Task":
                self.n_task += len(frame)
            else:
                self.n_event += len(frame)
            self.w.copy(render.page_name(obj, "json", i, n), frame, self._activity_sql(obj),
                        fmt="json")
        self._history(i, n)

    def _activity_sql(self, obj: str) -> str:
        who = f"coalesce({id_sql('Contact', 'who_c')}, {id_sql('Lead', 'who_l')})"
        common = (f"{attributes_sql(obj, id_sql(obj, 'n'))}, {id_sql(obj, 'n')} AS Id, "
                  f"{who} AS WhoId, {id_sql('Opportunity', 'deal')} AS WhatId, "
                  f"{id_sql('User', 'owner')} AS OwnerId, sf_ts(t) AS CreatedDate, "
                  "sf_ts(t) AS LastModifiedDate, sf_ts(t) AS SystemModstamp, "
                  "false AS IsDeleted")
        if obj == "Task":
            return (f"SELECT {common}, CAST(subtype AS VARCHAR) AS Subject, "
                    "CAST(subtype AS VARCHAR) AS TaskSubtype, 'Completed' AS Status, "
                    "true AS IsClosed, sf_day(t) AS ActivityDate, "
                    "sf_ts(t) AS CompletedDateTime FROM t")
        return (f"SELECT {common}, 'Meeting' AS Subject, sf_ts(t) AS ActivityDateTime, "
                "sf_ts(t) AS StartDateTime, sf_ts(t + 30) AS EndDateTime, "
                "30 AS DurationInMinutes FROM t")

    def _history(self, i: int, n: int) -> None:
        """OpportunityHistory of the chunk's deals: one row per stage entered."""
        c = self.c
        deal, stage, t = chunk_history(c, i)
        labels = [s.label for s in c.prof.pipelines[0].all_stages]
        prob = np.array([s.probability for s in c.prof.pipelines[0].all_stages])
        frame = pd.DataFrame({
            "n": self.n_hist + np.arange(len(deal)), "deal": deal, "t": t,
            "stage": cat(stage, labels), "prob": np.round(prob[stage] * 100),
            "amount": c.deal["amount"][deal], "close": self.w.day_start(
                c.deal["expected_day"][deal]), "owner": c.deal["owner"][deal],
        })
        self.n_hist += len(frame)
        self.w.copy(render.page_name("OpportunityHistory", "json", i, n), frame, f"""
            SELECT {attributes_sql('OpportunityHistory', id_sql('OpportunityHistory', 'n'))},
                {id_sql('OpportunityHistory', 'n')} AS Id,
                {id_sql('Opportunity', 'deal')} AS OpportunityId,
                CAST(stage AS VARCHAR) AS StageName,
                CASE WHEN amount < 0 THEN NULL ELSE CAST(amount AS DOUBLE) END AS Amount,
                CAST(prob AS DOUBLE) AS Probability, sf_day(close) AS CloseDate,
                sf_ts(t) AS CreatedDate, {id_sql('User', 'owner')} AS CreatedById,
                sf_ts(t) AS SystemModstamp, false AS IsDeleted FROM t""", fmt="json")

    def finish(self, stats: Stats) -> dict:
        self._opportunities(stats)
        self._people(stats)
        self._static()
        self.w.close()
        return {"opportunity_history": self.n_hist, "tasks": self.n_task,
                "events": self.n_event}

    def _opportunities(self, stats: Stats) -> None:
        c, d = self.c, self.c.deal
        if len(c.prof.pipelines) != 1:
            raise ValueError("the salesforce writer renders one sales process")
        modified = act.last_changed(c, stats.deal_sales)
        pl = c.prof.pipelines[0]
        labels = [s.label for s in pl.all_stages]
        prob = np.array([s.probability for s in pl.all_stages])
        for page, lo, hi in render.paged("Opportunity", c.n_deals, PAGE_ROWS):
            sl = slice(lo, hi)
            st = d["status"][sl]
            stage = render.global_stage(c, lo, hi)  # one pipeline: global = local
            cols = {
                "n": np.arange(lo, hi), "amount": d["amount"][sl],
                "currency": cat(d["eur"][sl].astype(np.int64), ["USD", "EUR"]),
                "stage": cat(stage, labels), "prob": np.round(prob[stage] * 100),
                "closed": st != 0, "won": st == WON, "owner": d["owner"][sl],
                "contact": self.number[d["primary"][sl]], "account": d["account"][sl],
                "created": d["created"][sl], "modified": modified[sl],
                "close": self.w.day_start(d["expected_day"][sl]),
                "reason": cat(d["lost_reason"][sl], LOST_REASONS),
            }
            cols.update(render.deal_name_columns(c, lo, hi))
            self.w.copy(page, pd.DataFrame(cols), f"""
                SELECT {attributes_sql('Opportunity', id_sql('Opportunity', 'n'))},
                    {id_sql('Opportunity', 'n')} AS Id, {render.DEAL_NAME_SQL} AS Name,
                    {id_sql('Account', 'account')} AS AccountId,
                    {id_sql('Contact', 'contact')} AS ContactId,
                    CASE WHEN amount < 0 THEN NULL ELSE CAST(amount AS DOUBLE) END AS Amount,
                    CAST(currency AS VARCHAR) AS CurrencyIsoCode,
                    CAST(stage AS VARCHAR) AS StageName, CAST(prob AS DOUBLE) AS Probability,
                    sf_day(close) AS CloseDate, closed AS IsClosed, won AS IsWon,
                    'New Customer' AS Type, CAST(reason AS VARCHAR) AS Loss_Reason__c,
                    {id_sql('User', 'owner')} AS OwnerId, sf_ts(created) AS CreatedDate,
                    sf_ts(modified) AS LastModifiedDate, sf_ts(modified) AS SystemModstamp,
                    false AS IsDeleted FROM t""", fmt="json")

    def _people(self, stats: Stats) -> None:
        c = self.c
        for page, lo, hi in render.paged("Contact", c.n_contacts, PAGE_ROWS):
            f = render.contacts_frame(self.w, c, lo, hi, stats)
            f["upd"] = np.maximum(f["created_utc"].to_numpy(), f["last_any_utc"].to_numpy())
            f["num"] = self.number[lo:hi]
            f["is_contact"] = self.is_contact[lo:hi]
            f["account"] = c.con["account"][lo:hi]
            person = (f"CAST(first AS VARCHAR) AS FirstName, CAST(last AS VARCHAR) AS LastName, "
                      f"{render.EMAIL_SQL} AS Email, {render.PHONE_SQL} AS Phone, "
                      "CAST(title AS VARCHAR) AS Title, CAST(source AS VARCHAR) AS LeadSource, "
                      f"{id_sql('User', 'owner_i')} AS OwnerId, sf_ts(created_utc) AS CreatedDate, "
                      "sf_ts(upd) AS LastModifiedDate, sf_ts(upd) AS SystemModstamp, "
                      "false AS IsDeleted")
            self.w.copy(page, f, f"""
                SELECT {attributes_sql('Contact', id_sql('Contact', 'num'))},
                    {id_sql('Contact', 'num')} AS Id, {person},
                    {id_sql('Account', 'account')} AS AccountId,
                    CAST(country AS VARCHAR) AS MailingCountry FROM t WHERE is_contact""",
                        fmt="json")
            self.w.copy(page.replace("Contact", "Lead", 1), f, f"""
                SELECT {attributes_sql('Lead', id_sql('Lead', 'num'))},
                    {id_sql('Lead', 'num')} AS Id, {person},
                    {render.COMPANY_SQL} AS Company, CAST(industry AS VARCHAR) AS Industry,
                    employees AS NumberOfEmployees, CAST(country AS VARCHAR) AS Country,
                    'Working - Contacted' AS Status, false AS IsConverted
                FROM t WHERE NOT is_contact""", fmt="json")

    def _static(self) -> None:
        """The Opportunity stage picklist (OpportunityStage) and the users."""
        c = self.c
        pl = c.prof.pipelines[0]
        stamp = f"{c.as_of.year - 4}-03-02T17:30:00.000+0000"
        stages = []
        for i, st in enumerate(pl.all_stages):
            sid = f"01J5g{i + 1:010d}{checksum('01J')}"
            closed, won = i >= len(pl.stages), st is pl.won
            stages.append({
                "attributes": attributes("OpportunityStage", sid),
                "Id": sid, "MasterLabel": st.label, "ApiName": st.label, "SortOrder": i + 1,
                "IsActive": True, "IsClosed": closed, "IsWon": won,
                "DefaultProbability": round(st.probability * 100),
                "ForecastCategoryName": "Closed" if won else ("Omitted" if closed else "Pipeline"),
                "SystemModstamp": stamp})
        self.w.small_json("OpportunityStage.json", stages)
        users = []
        for i, (first, last, t) in enumerate(c.prof.owners):
            uid = f"0055g{i + 1:010d}{checksum('005')}"
            users.append({
                "attributes": attributes("User", uid),
                "Id": uid, "Name": f"{first} {last}", "FirstName": first, "LastName": last,
                "Email": render.owner_email(c, i), "IsActive": True,
                "Department": c.prof.teams[t].name, "CreatedDate": stamp,
                "SystemModstamp": stamp})
        self.w.small_json("User.json", users)

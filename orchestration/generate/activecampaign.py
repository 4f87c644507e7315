"""ActiveCampaign writer (`activecampaign/`): saved responses of the v3 API.

Per docs/export-formats.md (and the ActiveCampaign v3 API reference): one JSON object per
file, pages as `deals-1.json`, `deals-2.json`, ...; ids are strings; dates ISO 8601 with the
account's UTC offset; deal `value` in cents and `currency` lower case; `meta.total` a string.
Won and lost are a deal *status* ("1"/"2"), not a stage: a won deal keeps its last stage.
The stage history is the `dealActivities` log: `deal`/`create`, `d_stageid` changes,
`status` changes (`2 -> 0` is a reopen) and `owner` changes; notes and tasks also live in
that log (dataType `note`/`task`), so they are written there rather than in the contact
activity log, whose types are only sent/open/click/form/visit/call/meeting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from . import activities as act
from . import render, vocab
from .activities import Chunk, Stats
from .company import Company
from .paths import LOST, WON
from .render import FormatWriter, cat

PAGE_ROWS = 100_000
# vocab.ACTIVITY_TYPES -> contact activity log type (None: written to dealActivities).
TYPES = ("sent", "open", "click", "call", "meeting", "form", "visit", None, None)
IN_LOG = np.array([t is not None for t in TYPES])
FIELDS = (  # (title, type, perstag): the custom contact fields, ids "1".."9"
    ("Industry", "dropdown", "INDUSTRY"), ("Company Size", "dropdown", "COMPANY_SIZE"),
    ("Job Title", "text", "JOB_TITLE"), ("Country", "dropdown", "COUNTRY"),
    ("Lead Source", "dropdown", "LEAD_SOURCE"), ("Budget Range", "dropdown", "BUDGET_RANGE"),
    ("Decision Maker", "radio", "DECISION_MAKER"), ("Need Identified", "radio", "NEED_IDENTIFIED"),
    ("Purchase Timeline", "dropdown", "PURCHASE_TIMELINE"),
)
NOTES = ("Discovery call: pain points confirmed", "Pricing discussed", "Waiting on legal review",
         "Sent case study", "Champion asked for a trial extension", "Follow-up scheduled")
TASKS = ("Follow up call", "Send proposal", "Book demo", "Check in after trial",
         "Confirm decision date")
PATTERNS = ("contacts*.json", "fields*.json", "deals*.json", "dealGroups*.json",
            "dealStages*.json", "dealActivities*.json", "users*.json", "groups*.json",
            "activities*.json")


def iso(col: str) -> str:
    return f"iso_ts({col}, {col}_off)"


class ActiveCampaignWriter(FormatWriter):
    def __init__(self, folder, comp: Company):
        super().__init__(folder, comp, PATTERNS)
        self.n_act = self.n_deal_act = 0
        # Stage ids: open stages numbered across pipelines ("1".."9"); no won/lost stages.
        sizes = [len(pl.stages) for pl in comp.prof.pipelines]
        self.stage_base = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    def _ts(self, utc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.w.local(utc), self.w.clock.offsets(utc)

    def activities(self, ch: Chunk, i: int, n: int) -> None:
        keep = IN_LOG[ch.kind]
        loc, off = self._ts(ch.t[keep])
        frame = pd.DataFrame({
            "id": self.n_act + 1 + np.arange(int(keep.sum())),
            "contact": ch.contact[keep].astype(np.int64) + 1,
            "deal": np.where(ch.deal[keep] >= 0, ch.deal[keep].astype(np.int64) + 1, -1),
            "user": np.where(ch.owner[keep] >= 0, ch.owner[keep].astype(np.int64) + 1, -1),
            "m": loc, "m_off": off,
            "kind": cat(ch.kind[keep], [t or "" for t in TYPES]),
        })
        self.n_act += len(frame)
        self._paged("activities", i, n, frame,
            f"""SELECT CAST(id AS VARCHAR) AS id, CAST(contact AS VARCHAR) AS contact,
                opt_str(deal) AS deal, opt_str("user") AS userid, {iso("m")} AS tstamp,
                CAST(kind AS VARCHAR) AS type FROM t""")
        self._deal_log(ch, i, n)

    def _paged(self, key: str, i: int, n: int, frame: pd.DataFrame, select: str) -> None:
        """A chunk's records as responses of at most PAGE_ROWS records (`key-<chunk>.<page>`
        when split), the way the API pages them: one response of millions of records would be
        a single JSON object that DuckDB parses on one thread and holds whole in memory."""
        parts = render.pages(len(frame), PAGE_ROWS)
        name = render.page_name(key, "json", i, n)
        for p, (lo, hi) in enumerate(parts):
            page = name if len(parts) == 1 else name.replace(".json", f".{p + 1}.json")
            self.w.json_object(page, [(key, frame.iloc[lo:hi], select)])

    def _stage_id(self, deal: np.ndarray, local_stage: np.ndarray) -> np.ndarray:
        return self.stage_base[self.c.deal["pipe"][deal]] + local_stage + 1

    def _stage_at(self, deal: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Stage id a deal was in at time t (its last open-stage entry at or before t)."""
        h = self.c.hist
        k = np.array([len(pl.stages) for pl in self.c.prof.pipelines])[self.c.deal["pipe"]]
        is_open = h.stage < k[h.deal]
        od, ot, ost = h.deal[is_open].astype(np.int64), h.t[is_open], h.stage[is_open]
        t0 = self.c.cutoff - (1 << 26)
        keys = od * (1 << 27) + (ot - t0)
        idx = np.searchsorted(keys, deal.astype(np.int64) * (1 << 27) + (t - t0), side="right") - 1
        first = np.searchsorted(od, deal)  # before the first entry: the creation stage
        idx = np.where((idx >= 0) & (od[np.maximum(idx, 0)] == deal), idx, first)
        return self._stage_id(deal, ost[idx])

    def _deal_log(self, ch: Chunk, i: int, n: int) -> None:
        """dealActivities for the chunk's deals: stage history, owner changes, notes/tasks."""
        c = self.c
        d0, d1 = act.chunk_deals(c, i)
        deal, stage, t = act.chunk_history(c, i)
        k, first, prev = act.stage_steps(c, deal, stage)
        prev_open_id = self._stage_id(deal, np.where(first, stage, np.minimum(prev, k - 1)))
        # Row kind: 0 create, 1 stage change, 2 status change.
        is_status = (stage >= k) | (~first & (prev == k + 1))
        kind = np.where(first, 0, np.where(is_status, 2, 1))
        old_status = np.where(stage >= k, "0", "2")
        new_status = np.where(stage == k, "1", np.where(stage == k + 1, "2", "0"))
        cur_id = np.where(stage < k, self._stage_id(deal, np.minimum(stage, k - 1)), prev_open_id)
        owner = c.deal["owner"][deal]
        hist = pd.DataFrame({
            "deal": deal, "t": t, "order": np.zeros(len(deal), np.int8),
            "stage": cur_id, "user": owner,
            "dtype": cat(kind, ["deal", "d_stageid", "status"]),
            "action": cat(np.where(kind == 0, 0, 1), ["create", "update"]),
            "old": np.where(kind == 1, prev_open_id.astype(str),
                            np.where(kind == 2, old_status, None)),
            "new": np.where(kind == 1, cur_id.astype(str), np.where(kind == 2, new_status, None)),
        })
        frames = [hist, self._owner_rows(d0, d1), self._note_rows(ch)]
        log = pd.concat(frames, ignore_index=True)
        log = log.sort_values(["deal", "t", "order"], kind="stable", ignore_index=True)
        loc, off = self._ts(log["t"].to_numpy())
        log["m"], log["m_off"] = loc, off
        log["id"] = self.n_deal_act + 1 + np.arange(len(log))
        self.n_deal_act += len(log)
        self._paged("dealActivities", i, n, log,
            f"""SELECT CAST(id AS VARCHAR) AS id, CAST(deal + 1 AS VARCHAR) AS d_id,
                CAST(stage AS VARCHAR) AS d_stageid, id_str("user") AS userid,
                {iso("m")} AS cdate, CAST(dtype AS VARCHAR) AS dataType,
                CAST(action AS VARCHAR) AS dataAction, old AS dataOldval, new AS dataNewval
                FROM t""")

    def _owner_rows(self, d0: int, d1: int) -> pd.DataFrame:
        ch = self.c.owner_changes
        m = (ch["deal"] >= d0) & (ch["deal"] < d1)
        deal, t = ch["deal"][m].astype(np.int64), ch["at"][m]
        return pd.DataFrame({
            "deal": deal, "t": t, "order": np.ones(len(deal), np.int8),
            "stage": self._stage_at(deal, t), "user": ch["new"][m],
            "dtype": cat(np.zeros(len(deal), np.int64), ["owner"]),
            "action": cat(np.zeros(len(deal), np.int64), ["update"]),
            "old": (ch["old"][m] + 1).astype(str), "new": (ch["new"][m] + 1).astype(str),
        })

    def _note_rows(self, ch: Chunk) -> pd.DataFrame:
        m = (~IN_LOG[ch.kind]) & (ch.deal >= 0)
        deal, t, kind = ch.deal[m].astype(np.int64), ch.t[m], ch.kind[m]
        is_note = kind == vocab.ACTIVITY_TYPES.index("note")
        j = np.arange(len(deal))
        text = np.where(is_note, np.asarray(NOTES, object)[j % len(NOTES)],
                        np.asarray(TASKS, object)[j % len(TASKS)])
        return pd.DataFrame({
            "deal": deal, "t": t, "order": np.full(len(deal), 2, np.int8),
            "stage": self._stage_at(deal, t), "user": ch.owner[m].astype(np.int64),
            "dtype": cat(np.where(is_note, 0, 1), ["note", "task"]),
            "action": cat(np.zeros(len(deal), np.int64), ["create"]),
            "old": np.full(len(deal), None, object), "new": text,
        })

    def finish(self, stats: Stats) -> dict:
        self._contacts(stats)
        self._deals(stats)
        self._static()
        self.w.close()
        return {"deal_activities": self.n_deal_act,
                "contact_activities": self.n_act, "field_values": self.n_fv}

    def _contacts(self, stats: Stats) -> None:
        c = self.c
        self.n_fv = 0
        for page, lo, hi in render.paged("contacts", c.n_contacts, PAGE_ROWS):
            f = render.contacts_frame(self.w, c, lo, hi, stats)
            udate = np.maximum(f["created_utc"].to_numpy(), f["last_any_utc"].to_numpy())
            f["udate"], f["udate_off"] = self._ts(udate)
            f["cdate"], f["cdate_off"] = f["created"], f["created_off"]
            fv = self._field_values(lo, hi)
            self.w.json_object(page, [
                ("contacts", f, f"""SELECT CAST(i + 1 AS VARCHAR) AS id,
                    {render.EMAIL_SQL} AS email, CAST(first AS VARCHAR) AS firstName,
                    CAST(last AS VARCHAR) AS lastName, coalesce({render.PHONE_SQL}, '') AS phone,
                    {render.COMPANY_SQL} AS orgname, {iso("cdate")} AS cdate,
                    {iso("udate")} AS udate FROM t"""),
                ("fieldValues", fv, """SELECT CAST(id AS VARCHAR) AS id,
                    CAST(contact AS VARCHAR) AS contact, CAST(field AS VARCHAR) AS field,
                    CAST(value AS VARCHAR) AS value FROM t"""),
            ], meta={"total": str(c.n_contacts)})
            self.n_fv += len(fv)

    def _field_values(self, lo: int, hi: int) -> pd.DataFrame:
        """Non-empty custom field values of contacts [lo, hi), contact by contact and field
        by field (already in order: no sort needed at millions of rows)."""
        c, p = self.c.con, self.c.prof
        acc = self.c.acc
        a = c["account"][lo:hi]
        sources = [  # (codes, labels) in FIELDS order
            (acc["industry"][a], vocab.INDUSTRIES),
            (acc["band"][a], [b[0] for b in vocab.SIZE_BANDS]),
            (c["title"][lo:hi], [t for t, _ in vocab.JOB_TITLES]),
            (acc["country"][a], [x[0] for x in vocab.COUNTRIES]),
            (c["source"][lo:hi], [s for s, _, _ in p.lead_sources]),
            (c["budget"][lo:hi], p.budget_labels), (c["dm"][lo:hi], vocab.DECISION_MAKER),
            (c["need"][lo:hi], vocab.NEED_IDENTIFIED),
            (c["timeline"][lo:hi], vocab.PURCHASE_TIMELINES),
        ]
        sizes = [len(labels) for _, labels in sources]
        offset = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        codes = np.stack([np.asarray(x, np.int64) for x, _ in sources], axis=1)
        keep = (codes >= 0).ravel()
        flat = (codes + offset).ravel()[keep]
        labels = [x for _, lab in sources for x in lab]
        n = int(keep.sum())
        return pd.DataFrame({
            "id": self.n_fv + 1 + np.arange(n),
            "contact": np.repeat(np.arange(lo, hi) + 1, len(sources))[keep],
            "field": np.tile(np.arange(1, len(sources) + 1), hi - lo)[keep],
            "value": cat(flat, labels),
        })

    def _deals(self, stats: Stats) -> None:
        c, d = self.c, self.c.deal
        mdate = act.last_changed(c, stats.deal_any)
        for page, lo, hi in render.paged("deals", c.n_deals, PAGE_ROWS):
            sl = slice(lo, hi)
            st = d["status"][sl]
            pct = np.where(st == WON, 100, np.where(st == LOST, 0, act.stage_percent(c, sl)))
            # A deal's edate is a date picked in the UI: local midnight of that day.
            edate_loc = self.w.day_start(d["expected_day"][sl])
            cols = {
                "i": np.arange(lo, hi),
                "value": np.where(d["amount"][sl] >= 0, d["amount"][sl] * 100, 0),
                "currency": cat(d["eur"][sl].astype(np.int64), ["usd", "eur"]),
                "grp": cat(d["pipe"][sl], [pl.ext_id for pl in c.prof.pipelines]),
                "stage": self._stage_id(np.arange(lo, hi), d["stage"][sl].astype(np.int64)),
                "owner": d["owner"][sl], "contact": d["primary"][sl] + 1,
                "status": st.astype(np.int64), "pct": pct,
                "e": edate_loc, "e_off": self.w.clock.offsets(edate_loc - c.std_off),
            }
            cols["c"], cols["c_off"] = self._ts(d["created"][sl])
            cols["m"], cols["m_off"] = self._ts(mdate[sl])
            cols.update(render.deal_name_columns(c, lo, hi))
            self.w.json_object(page, [(
                "deals", pd.DataFrame(cols), f"""SELECT CAST(i + 1 AS VARCHAR) AS id,
                    {render.DEAL_NAME_SQL} AS title, CAST(value AS VARCHAR) AS value,
                    CAST(currency AS VARCHAR) AS currency, CAST(grp AS VARCHAR) AS "group",
                    CAST(stage AS VARCHAR) AS stage, id_str(owner) AS owner,
                    CAST(contact AS VARCHAR) AS contact, CAST(status AS VARCHAR) AS status,
                    CAST(pct AS VARCHAR) AS percent, {iso("c")} AS cdate, {iso("m")} AS mdate,
                    {iso("e")} AS edate FROM t""")], meta={"total": str(c.n_deals)})

    def _static(self) -> None:
        """Small lookups: custom fields, pipelines, stages, users, groups."""
        c = self.c
        tz = ZoneInfo(c.prof.tz)
        setup = datetime(c.as_of.year - 4, 3, 2, 10, 30, tzinfo=tz)  # account set up then

        def stamp(days: int) -> str:
            return (setup + timedelta(days=days)).isoformat()

        self.w.small_json("fields.json", {"fields": [
            {"id": str(i + 1), "title": t, "type": ty, "perstag": tag}
            for i, (t, ty, tag) in enumerate(FIELDS)]})
        groups, stages = [], []
        for p, pl in enumerate(c.prof.pipelines):
            ids = [str(self.stage_base[p] + s + 1) for s in range(len(pl.stages))]
            groups.append({"id": pl.ext_id, "title": pl.label, "currency": "usd", "stages": ids,
                           "cdate": stamp(7 * p), "udate": stamp(200 + 7 * p)})
            stages += [{"id": sid, "title": s.label, "group": pl.ext_id, "order": str(o + 1),
                        "cdate": stamp(7 * p), "udate": stamp(200 + 7 * p)}
                       for o, (sid, s) in enumerate(zip(ids, pl.stages, strict=True))]
        self.w.small_json("dealGroups.json", {"dealGroups": groups})
        self.w.small_json("dealStages.json", {"dealStages": stages})
        users = []
        for i, (first, last, t) in enumerate(c.prof.owners):
            users.append({"id": str(i + 1), "username": render.slug(first[0] + last),
                          "firstName": first, "lastName": last,
                          "email": render.owner_email(c, i), "group": c.prof.teams[t].ext_id})
        self.w.small_json("users.json", {"users": users})
        self.w.small_json("groups.json", {"groups": [
            {"id": t.ext_id, "title": t.name} for t in c.prof.teams]})

"""Pipedrive writer (`pipedrive/`): records as the Pipedrive REST API returns them.

One JSON array of records per object, in the shapes of (developers.pipedrive.com/docs/api/v1):
- `deals*.json`: GET /api/v2/deals items (ids are integers; times RFC 3339 UTC
  `2024-01-04T10:44:11Z`; `status` open/won/lost; a won or lost deal keeps its last stage;
  `value` 0 when no value was entered, as Pipedrive stores it);
- `persons*.json`, `activities*.json`, `pipelines.json`, `stages.json`: the v2 list items;
- `users.json`: GET /v1/users items (v1 times `2024-01-04 10:44:11`, UTC);
- `dealFlow*.json`: the `dealChange` updates of GET /v1/deals/{id}/flow, all deals together
  (the mock API answers each deal's flow from it): `field_key` `stage_id` (a stage change,
  old/new stage ids), `status` (open -> won/lost, lost -> open is a reopen) and `user_id`
  (owner change).
Only what a rep logs in Pipedrive becomes an activity: e-mails, calls, meetings and tasks
(opens, clicks, form fills and site visits are not Pipedrive activities; notes are Notes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import activities as act
from . import render
from .activities import Chunk, Stats
from .company import LOST_REASONS, Company
from .paths import LOST, WON
from .render import FormatWriter, cat

PAGE_ROWS = 100_000
# vocab.ACTIVITY_TYPES -> Pipedrive activity type key (None: not a Pipedrive activity).
TYPES = ("email", None, None, "call", "meeting", None, None, None, "task")
KEEP = np.array([t is not None for t in TYPES])
PATTERNS = ("deals*.json", "persons*.json", "activities*.json", "pipelines.json", "stages.json",
            "users.json", "dealFlow*.json")
MACROS = """
CREATE MACRO pd_v2(m) AS ts_fmt(m, '%Y-%m-%dT%H:%M:%SZ');
CREATE MACRO pd_v1(m) AS ts_fmt(m, '%Y-%m-%d %H:%M:%S');
CREATE MACRO pd_day(m) AS ts_fmt(m, '%Y-%m-%d');
CREATE MACRO pd_id(x) AS CASE WHEN x IS NULL OR x < 0 THEN NULL ELSE x + 1 END;
"""


class PipedriveWriter(FormatWriter):
    def __init__(self, folder, comp: Company):
        super().__init__(folder, comp, PATTERNS, MACROS)
        self.n_act = self.n_flow = 0
        sizes = [len(pl.stages) for pl in comp.prof.pipelines]
        self.stage_base = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    def _stage_id(self, deal: np.ndarray, local_stage: np.ndarray) -> np.ndarray:
        return self.stage_base[self.c.deal["pipe"][deal]] + local_stage + 1

    def activities(self, ch: Chunk, i: int, n: int) -> None:
        keep = KEEP[ch.kind] & (ch.owner >= 0)  # a Pipedrive activity always has an owner
        frame = pd.DataFrame({
            "id": self.n_act + 1 + np.arange(int(keep.sum())),
            "kind": cat(ch.kind[keep], [t or "" for t in TYPES]),
            "t": ch.t[keep], "person": ch.contact[keep].astype(np.int64),
            "deal": ch.deal[keep].astype(np.int64), "owner": ch.owner[keep].astype(np.int64),
        })
        self.n_act += len(frame)
        self.w.copy(render.page_name("activities", "json", i, n), frame, """
            SELECT id, CAST(kind AS VARCHAR) AS type,
                upper(substr(CAST(kind AS VARCHAR), 1, 1)) || substr(CAST(kind AS VARCHAR), 2)
                    AS subject,
                pd_id(owner) AS owner_id, pd_id(deal) AS deal_id, pd_id(person) AS person_id,
                [{'person_id': pd_id(person), 'primary': true}] AS participants,
                true AS done, pd_day(t) AS due_date, strftime(make_timestamp(t * 60000000),
                '%H:%M') AS due_time, pd_v2(t) AS add_time, pd_v2(t) AS update_time,
                pd_v2(t) AS marked_as_done_time, false AS is_deleted FROM t""", fmt="json")
        self._flow(i, n)

    def _flow(self, i: int, n: int) -> None:
        """dealChange updates of the chunk's deals: stage, status and owner changes."""
        c = self.c
        d0, d1 = act.chunk_deals(c, i)
        deal, stage, t = act.chunk_history(c, i)
        k, first, prev = act.stage_steps(c, deal, stage)
        is_status = (stage >= k) | (prev == k + 1)
        # Row kind: 0 stage change, 1 status change (the creation is the deal's add_time).
        kind = np.where(is_status, 1, 0)[~first]
        deal, t, stage, prev, k = deal[~first], t[~first], stage[~first], prev[~first], k[~first]
        status_names = np.array(["open", "won", "lost"], object)
        old_status = np.where(prev == k + 1, LOST, 0)
        new_status = np.where(stage == k, WON, np.where(stage == k + 1, LOST, 0))
        old_stage = self._stage_id(deal, np.minimum(prev, k - 1)).astype(str)
        new_stage = self._stage_id(deal, np.minimum(stage, k - 1)).astype(str)
        changes = pd.DataFrame({
            "deal": deal, "t": t, "order": np.zeros(len(deal), np.int8),
            "user": c.deal["owner"][deal],
            "field": cat(kind, ["stage_id", "status"]),
            "old": np.where(kind == 0, old_stage, status_names[old_status]),
            "new": np.where(kind == 0, new_stage, status_names[new_status]),
        })
        oc = c.owner_changes
        m = (oc["deal"] >= d0) & (oc["deal"] < d1)
        owners = pd.DataFrame({
            "deal": oc["deal"][m].astype(np.int64), "t": oc["at"][m],
            "order": np.ones(int(m.sum()), np.int8), "user": oc["new"][m],
            "field": cat(np.zeros(int(m.sum()), np.int64), ["user_id"]),
            "old": (oc["old"][m] + 1).astype(str), "new": (oc["new"][m] + 1).astype(str),
        })
        log = pd.concat([changes, owners], ignore_index=True)
        log = log.sort_values(["deal", "t", "order"], kind="stable", ignore_index=True)
        log["id"] = self.n_flow + 1 + np.arange(len(log))
        self.n_flow += len(log)
        self.w.copy(render.page_name("dealFlow", "json", i, n), log, """
            SELECT 'dealChange' AS object, pd_v1(t) AS timestamp,
                {'id': id, 'item_id': deal + 1, 'user_id': pd_id("user"),
                 'field_key': CAST(field AS VARCHAR), 'old_value': old, 'new_value': new,
                 'is_bulk_update_flag': NULL, 'log_time': pd_v1(t), 'change_source': 'app'}
                AS data FROM t""", fmt="json")

    def finish(self, stats: Stats) -> dict:
        self._deals(stats)
        self._persons(stats)
        self._static()
        self.w.close()
        return {"deal_changes": self.n_flow, "pipedrive_activities": self.n_act}

    def _deals(self, stats: Stats) -> None:
        c, d = self.c, self.c.deal
        update = act.last_changed(c, stats.deal_sales)
        for page, lo, hi in render.paged("deals", c.n_deals, PAGE_ROWS):
            sl = slice(lo, hi)
            st = d["status"][sl]
            cols = {
                "i": np.arange(lo, hi), "value": np.maximum(d["amount"][sl], 0),
                "currency": cat(d["eur"][sl].astype(np.int64), ["USD", "EUR"]),
                "pipe": d["pipe"][sl].astype(np.int64) + 1,
                "stage": self._stage_id(np.arange(lo, hi), d["stage"][sl].astype(np.int64)),
                "owner": d["owner"][sl], "person": d["primary"][sl],
                "status": cat(st, ["open", "won", "lost"]),
                "prob": act.stage_percent(c, sl),
                "add": d["created"][sl], "upd": update[sl], "stage_change": d["entered"][sl],
                "closed": d["closed_at"][sl], "won": np.where(st == WON, d["closed_at"][sl], -1),
                "lost": np.where(st == LOST, d["closed_at"][sl], -1),
                # expected close date: a day picked in the UI (local midnight of that day)
                "expected": self.w.day_start(d["expected_day"][sl]),
                "reason": cat(d["lost_reason"][sl], LOST_REASONS),
            }
            cols.update(render.deal_name_columns(c, lo, hi))
            self.w.copy(page, pd.DataFrame(cols), f"""
                SELECT i + 1 AS id, {render.DEAL_NAME_SQL} AS title,
                    pd_id(owner) AS creator_user_id, pd_id(owner) AS owner_id,
                    CAST(value AS DOUBLE) AS value, CAST(currency AS VARCHAR) AS currency,
                    pd_id(person) AS person_id, NULL AS org_id, pipe AS pipeline_id,
                    stage AS stage_id, CAST(status AS VARCHAR) AS status,
                    CASE WHEN CAST(status AS VARCHAR) = 'open' THEN prob END AS probability,
                    pd_v2(add) AS add_time, pd_v2(upd) AS update_time,
                    pd_v2(stage_change) AS stage_change_time, pd_v2(closed) AS close_time,
                    pd_v2(won) AS won_time, pd_v2(lost) AS lost_time,
                    CAST(reason AS VARCHAR) AS lost_reason,
                    pd_day(expected) AS expected_close_date, false AS is_deleted,
                    3 AS visible_to FROM t""", fmt="json")

    def _persons(self, stats: Stats) -> None:
        c = self.c
        for page, lo, hi in render.paged("persons", c.n_contacts, PAGE_ROWS):
            f = render.contacts_frame(self.w, c, lo, hi, stats)
            f["upd"] = np.maximum(f["created_utc"].to_numpy(), f["last_any_utc"].to_numpy())
            self.w.copy(page, f, f"""
                SELECT i + 1 AS id, CAST(first AS VARCHAR) || ' ' || CAST(last AS VARCHAR)
                    AS name, CAST(first AS VARCHAR) AS first_name,
                    CAST(last AS VARCHAR) AS last_name, pd_id(owner_i) AS owner_id,
                    NULL AS org_id,
                    [{{'value': {render.EMAIL_SQL}, 'primary': true, 'label': 'work'}}]
                        AS emails,
                    CASE WHEN phone < 0 THEN [] ELSE [{{'value': {render.PHONE_SQL},
                        'primary': true, 'label': 'work'}}] END AS phones,
                    pd_v2(created_utc) AS add_time, pd_v2(upd) AS update_time,
                    false AS is_deleted, 3 AS visible_to FROM t""", fmt="json")

    def _static(self) -> None:
        """Pipelines, their open stages (ids across pipelines) and users."""
        c = self.c
        stamp = f"{c.as_of.year - 4}-03-02T17:30:00Z"
        pipelines, stages = [], []
        for p, pl in enumerate(c.prof.pipelines):
            pipelines.append({"id": p + 1, "name": pl.label, "order_nr": p + 1,
                              "is_deleted": False, "is_deal_probability_enabled": True,
                              "add_time": stamp, "update_time": stamp})
            stages += [{"id": int(self.stage_base[p]) + s + 1, "order_nr": s + 1,
                        "name": st.label, "is_deleted": False,
                        "deal_probability": round(st.probability * 100), "pipeline_id": p + 1,
                        "is_deal_rot_enabled": False, "days_to_rotten": None,
                        "add_time": stamp, "update_time": stamp}
                       for s, st in enumerate(pl.stages)]
        self.w.small_json("pipelines.json", pipelines)
        self.w.small_json("stages.json", stages)
        v1 = stamp.replace("T", " ").rstrip("Z")
        self.w.small_json("users.json", [
            {"id": i + 1, "name": f"{first} {last}", "email": render.owner_email(c, i),
             "active_flag": True, "is_admin": 0, "created": v1, "modified": v1,
             "timezone_name": c.prof.tz}
            for i, (first, last, _) in enumerate(c.prof.owners)])


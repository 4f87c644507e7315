"""Engagement: e-mails, opens, clicks, calls, meetings, form fills, site visits, notes, tasks.

Generated in chunks of deals (plus a matching slice of deal-less contacts) so memory stays
bounded at millions of deals; each chunk has its own RNG stream derived from
(seed, format, chunk number), so output does not depend on anything but the inputs.
Volume and recency follow the outcome, which is what an engagement score should detect:
won deals' contacts engage most and keep engaging after the sale, lost deals' contacts go
quiet well before the loss, stale open deals have had no activity for 30+ days.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from . import vocab
from .company import Company
from .paths import LOST, OPEN, WON
from .timeutil import DAY, working_hours

CHUNK_DEALS = 100_000
SALES = np.array(vocab.SALES_ACTIVITY)
CONTACT_LEVEL = np.array([t in ("form_fill", "site_visit") for t in vocab.ACTIVITY_TYPES])
ON_DEAL_ONLY = np.array([t in ("note", "task") for t in vocab.ACTIVITY_TYPES])

# Type mix per phase; order follows vocab.ACTIVITY_TYPES
# (sent, opened, clicked, call, meeting, form, visit, note, task).
MIX = {
    "won": (0.20, 0.17, 0.07, 0.14, 0.12, 0.03, 0.12, 0.09, 0.06),
    "lost": (0.34, 0.12, 0.03, 0.13, 0.05, 0.03, 0.13, 0.10, 0.07),
    "open": (0.26, 0.15, 0.05, 0.14, 0.08, 0.03, 0.12, 0.10, 0.07),
    "customer": (0.15, 0.28, 0.08, 0.09, 0.12, 0.0, 0.28, 0.0, 0.0),
    "nurture": (0.7, 0.3, 0, 0, 0, 0, 0, 0, 0),
    "lead": (0.38, 0.24, 0.06, 0.02, 0.01, 0.05, 0.24, 0, 0),
}
PHASES = tuple(MIX)
RATE = {WON: 0.30, LOST: 0.16, OPEN: 0.22}  # activities per day^0.8 while the deal runs
SKEW = {WON: 0.7, LOST: 1.6, OPEN: 1.0}  # <1: bunched late (recent), >1: bunched early


@dataclass
class Chunk:
    contact: np.ndarray  # int32 contact index
    deal: np.ndarray  # int32 deal index, -1 for contact-level activity
    t: np.ndarray  # int64 UTC minutes
    kind: np.ndarray  # int8 code into vocab.ACTIVITY_TYPES
    owner: np.ndarray  # int32 owner index, -1 when nobody on the sales team did it

    def __len__(self) -> int:
        return len(self.t)


@dataclass
class _Spans:
    """Per (deal, contact) or per contact: when and how much it engages."""

    contact: np.ndarray
    deal: np.ndarray
    owner: np.ndarray
    start: np.ndarray
    end: np.ndarray
    deal_created: np.ndarray  # activity before this is not (yet) on the deal
    lam: np.ndarray
    skew: np.ndarray
    phase: np.ndarray  # index into PHASES


def chunk_deals(c: Company, i: int) -> tuple[int, int]:
    """The range of deal numbers in chunk i: [d0, d1)."""
    return i * CHUNK_DEALS, min(c.n_deals, (i + 1) * CHUNK_DEALS)


def chunk_history(c: Company, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stage-history rows of chunk i's deals: deal, stage index, time (sorted by deal)."""
    h = c.hist
    d0, d1 = chunk_deals(c, i)
    a, b = np.searchsorted(h.deal, [d0, d1])
    return h.deal[a:b].astype(np.int64), h.stage[a:b].astype(np.int64), h.t[a:b]


def stage_steps(c: Company, deal: np.ndarray, stage: np.ndarray):
    """Per history row: its pipeline's open-stage count k, whether it is the deal's first
    row, and the stage of the row before (0 for the first)."""
    k = np.array([len(pl.stages) for pl in c.prof.pipelines])[c.deal["pipe"][deal]]
    first = np.ones(len(deal), bool)
    first[1:] = deal[1:] != deal[:-1]
    prev = np.concatenate([[0], stage[:-1]])
    return k, first, prev


def last_changed(c: Company, floor: np.ndarray) -> np.ndarray:
    """Per deal: when it last changed (its last stage move or owner change), at least `floor`
    (e.g. its last activity)."""
    h = c.hist
    last_row = np.searchsorted(h.deal, np.arange(c.n_deals), side="right") - 1
    changed = np.maximum(h.t[last_row], floor)
    np.maximum.at(changed, c.owner_changes["deal"], c.owner_changes["at"])
    return changed


def stage_probabilities(c: Company) -> np.ndarray:
    """[pipeline, open stage] -> the stage's win probability (0 past a pipeline's stages)."""
    k = [len(pl.stages) for pl in c.prof.pipelines]
    prob = np.zeros((len(k), max(k)))
    for p, pl in enumerate(c.prof.pipelines):
        prob[p, : len(pl.stages)] = [s.probability for s in pl.stages]
    return prob


def stage_percent(c: Company, sl: slice) -> np.ndarray:
    """The deals in `sl`: their stage's win probability in whole percent (0 past a pipeline's
    open stages)."""
    d = c.deal
    return np.round(stage_probabilities(c)[d["pipe"][sl], d["stage"][sl]] * 100).astype(np.int64)


def n_chunks(c: Company) -> int:
    return max(1, -(-c.n_deals // CHUNK_DEALS))


def iter_chunks(c: Company, seed: int, fmt_key: int) -> Iterator[Chunk]:
    dealless = np.flatnonzero(np.bincount(c.dc_contact, minlength=c.n_contacts) == 0)
    k = n_chunks(c)
    for i in range(k):
        rng = np.random.default_rng([seed, fmt_key, 1, i])
        d0, d1 = chunk_deals(c, i)
        lo, hi = np.searchsorted(c.dc_deal, [d0, d1])
        leads = dealless[len(dealless) * i // k: len(dealless) * (i + 1) // k]
        spans = _deal_spans(rng, c, lo, hi) + _after_close(c, lo, hi) + [_lead_spans(rng, c, leads)]
        yield _draw(rng, c, spans)


def _deal_spans(rng, c: Company, lo: int, hi: int) -> list[_Spans]:
    d, con = c.dc_deal[lo:hi].astype(np.int64), c.dc_contact[lo:hi].astype(np.int64)
    deal = c.deal
    st = deal["status"][d]
    created, closed = deal["created"][d], deal["closed_at"][d]
    start = np.maximum(c.con["created"][con], created - 14 * DAY)
    quiet = (closed - created) * rng.uniform(0.2, 0.5, len(d))  # lost: silence before the loss
    end = np.where(st == WON, closed, closed - quiet.astype(np.int64))
    silent = deal["silent_from"][d]
    end = np.where(st == OPEN, np.where(silent >= 0, silent, c.cutoff), end)
    end = np.maximum(end, start)
    primary = deal["primary"][d] == con
    rate = np.select([st == WON, st == LOST], [RATE[WON], RATE[LOST]], RATE[OPEN])
    dur = (end - start) / DAY
    lam = (rate * dur ** 0.8 + np.where(primary, 1.0, 0.3)) * np.where(primary, 1.0, 0.5)
    skew = np.select([st == WON, st == LOST], [SKEW[WON], SKEW[LOST]], SKEW[OPEN])
    phase = np.select([st == WON, st == LOST], [PHASES.index("won"), PHASES.index("lost")],
                      PHASES.index("open"))
    return [_Spans(con, d, deal["owner"][d], start, end, created, lam * c.prof.activity_scale,
                   skew, phase)]


def _after_close(c: Company, lo: int, hi: int) -> list[_Spans]:
    """Customers keep engaging after a win (QBRs, product e-mails); lost contacts only get
    the odd nurture e-mail."""
    d, con = c.dc_deal[lo:hi].astype(np.int64), c.dc_contact[lo:hi].astype(np.int64)
    st, closed = c.deal["status"][d], c.deal["closed_at"][d]
    days = np.maximum(c.cutoff - closed, 0) / DAY
    primary = c.deal["primary"][d] == con
    won_lam = np.minimum(0.025 * days, 25) * np.where(primary, 1.0, 0.6)
    lam = np.where(st == WON, won_lam, np.where(st == LOST, 0.003 * days, 0.0))
    phase = np.where(st == WON, PHASES.index("customer"), PHASES.index("nurture"))
    owner = np.where(st == WON, c.deal["owner"][d], -1)
    keep = st != OPEN
    n = int(keep.sum())
    return [_Spans(con[keep], np.full(n, -1), owner[keep], closed[keep], np.full(n, c.cutoff),
                   closed[keep], lam[keep] * c.prof.activity_scale, np.ones(n), phase[keep])]


def _lead_spans(rng, c: Company, idx: np.ndarray) -> _Spans:
    """Contacts without deals: a few hot leads, many lukewarm, some gone cold."""
    created = c.con["created"][idx]
    cold = rng.random(len(idx)) < 0.3
    end = np.where(cold, created + ((c.cutoff - created) * rng.uniform(0, 0.3, len(idx)))
                   .astype(np.int64), c.cutoff)
    dur = (end - created) / DAY
    lam = 0.12 * np.exp(0.9 * rng.standard_normal(len(idx))) * dur ** 0.6 + 0.5
    return _Spans(idx, np.full(len(idx), -1), c.con["owner"][idx], created, end, created,
                  lam * c.prof.activity_scale, np.full(len(idx), 0.8),
                  np.full(len(idx), PHASES.index("lead")))


def _draw(rng, c: Company, spans: list[_Spans]) -> Chunk:
    s = _Spans(*(np.concatenate([getattr(x, f) for x in spans])
                 for f in _Spans.__dataclass_fields__))
    k = np.minimum(rng.poisson(s.lam), 80)
    row = np.repeat(np.arange(len(k)), k)
    u = rng.random(len(row)) ** s.skew[row]
    t = s.start[row] + ((s.end[row] - s.start[row]) * u).astype(np.int64)
    kind = np.empty(len(row), np.int8)
    ph = s.phase[row]
    for p, name in enumerate(PHASES):
        m = ph == p
        w = np.array(MIX[name], dtype=float)
        kind[m] = rng.choice(len(w), int(m.sum()), p=w / w.sum())
    sales = SALES[kind]
    t = np.where(sales, working_hours(t, c.std_off, 8, 18), working_hours(t, c.std_off, 6, 23))
    t = np.clip(t, s.start[row], c.cutoff)
    # Notes and tasks are logged on the deal, so never before it exists; other activity
    # before the deal was created belongs to the contact only.
    on_deal_only = ON_DEAL_ONLY[kind]
    t = np.where(on_deal_only, np.maximum(t, s.deal_created[row]), t)
    deal = np.where(CONTACT_LEVEL[kind] | (t < s.deal_created[row]), -1, s.deal[row])
    owner = np.where(sales, s.owner[row], -1)
    o = np.argsort(t, kind="stable")  # exports list activities in time order
    return Chunk(s.contact[row][o].astype(np.int32), deal[o].astype(np.int32), t[o], kind[o],
                 owner[o].astype(np.int32))


class Stats:
    """Latest activity per deal and contact, accumulated over chunks: HubSpot's "Last
    Activity Date" counts only sales activities (calls, e-mails sent, meetings, notes,
    tasks), not opens or page views; ActiveCampaign's udate/mdate count any update."""

    def __init__(self, c: Company):
        self.deal_sales = np.full(c.n_deals, -1, np.int64)
        self.deal_any = np.full(c.n_deals, -1, np.int64)
        self.contact_sales = np.full(c.n_contacts, -1, np.int64)
        self.contact_any = np.full(c.n_contacts, -1, np.int64)
        self.count = 0

    def update(self, ch: Chunk) -> None:
        self.count += len(ch)
        on_deal = ch.deal >= 0
        # Marketing sends (no rep, no deal) are not sales activity.
        sales = SALES[ch.kind] & ((ch.owner >= 0) | on_deal)
        np.maximum.at(self.deal_any, ch.deal[on_deal], ch.t[on_deal])
        np.maximum.at(self.deal_sales, ch.deal[on_deal & sales], ch.t[on_deal & sales])
        np.maximum.at(self.contact_any, ch.contact, ch.t)
        np.maximum.at(self.contact_sales, ch.contact[sales], ch.t[sales])

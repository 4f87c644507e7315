"""The format-independent model of one synthetic company: owners, accounts, contacts, deals,
deal-contact links and every deal's full stage history.

Writers (hubspot.py, activecampaign.py, generic.py) only *render* this model the way their
CRM exports it; activities are streamed separately (activities.py) to bound memory.
Ids are assigned in creation order, like CRM record ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from . import paths, people, vocab
from .paths import LOST, OPEN, WON, History
from .profiles import Profile
from .timeutil import DAY, export_moment, std_offset, working_hours

WINDOW_DAYS = 730  # deals span about two years before as_of
CONTACTS_PER_DEAL = 3.0
P_OTHER_ON_DEAL = 0.6  # a non-primary contact of the account is associated with the deal
LOST_REASONS = ("Price too high", "Went with competitor", "No budget", "No decision / went dark",
                "Timing", "Not a fit")
LOST_REASON_P = (0.22, 0.24, 0.14, 0.22, 0.1, 0.08)


@dataclass
class Company:
    prof: Profile
    as_of: date
    cutoff: int  # export moment, UTC minutes: nothing happens after it
    window_start: int
    std_off: int
    acc: dict[str, np.ndarray]
    con: dict[str, np.ndarray]  # per contact, in id order
    deal: dict[str, np.ndarray]  # per deal, in id order
    dc_deal: np.ndarray  # deal-contact links, sorted by deal then contact
    dc_contact: np.ndarray
    hist: History  # stage entries sorted by (deal, time)
    owner_changes: dict[str, np.ndarray]

    @property
    def n_deals(self) -> int:
        return len(self.deal["pipe"])

    @property
    def n_contacts(self) -> int:
        return len(self.con["first"])


def stage_table(prof: Profile) -> list[dict]:
    """Every stage of every pipeline: global index = position in this list."""
    rows = []
    for p, pl in enumerate(prof.pipelines):
        for i, st in enumerate(pl.all_stages):
            kind = "open" if i < len(pl.stages) else ("won" if st is pl.won else "lost")
            rows.append({"pipe": p, "local": i, "stage": st, "kind": kind})
    return rows


def stage_offsets(prof: Profile) -> np.ndarray:
    """Global index of each pipeline's first stage (add the pipeline-local stage)."""
    sizes = [len(pl.stages) + 2 for pl in prof.pipelines]
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def _amounts(rng, prof: Profile, pipe: np.ndarray) -> np.ndarray:
    med = np.array([pl.amount_median for pl in prof.pipelines])[pipe]
    sig = np.array([pl.amount_sigma for pl in prof.pipelines])[pipe]
    return med * np.exp(sig * rng.standard_normal(len(pipe)))


def _round_price(x: np.ndarray) -> np.ndarray:
    """Quote-like amounts: three significant digits (18,345 -> 18,300; 4,234 -> 4,230)."""
    step = 10.0 ** np.maximum(np.floor(np.log10(np.maximum(x, 1))) - 2, 0)
    return (np.round(x / step) * step).astype(np.int64)


def _status(rng, prof: Profile, pipe: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Open share at random; among closed deals the best-scoring ones are won, so the
    won/lost mix is exact and winning follows customer fit."""
    status = np.full(len(pipe), LOST, np.int8)
    for p, pl in enumerate(prof.pipelines):
        idx = np.flatnonzero(pipe == p)
        is_open = rng.random(len(idx)) < pl.p_open
        status[idx[is_open]] = OPEN
        closed = idx[~is_open]
        n_won = round(len(closed) * pl.p_won_closed)
        best = closed[np.argsort(-score[closed], kind="stable")[:n_won]]
        status[best] = WON
    return status


class _Book:
    """Accumulates accounts and their contacts block by block (global indices)."""

    def __init__(self, rng, prof: Profile):
        self.rng, self.prof = rng, prof
        self.acc_parts, self.con_parts = [], []
        self.n_acc = self.n_con = 0
        self.primary, self.other_start, self.other_n, self.role = [], [], [], []

    def add(self, n_acc: int, mean_others: float, kind: int) -> np.ndarray:
        """n_acc new accounts of a kind (0 new business, 1 pre-window customer, 2 marketing
        lead), each with a primary contact and Poisson(mean_others) other contacts."""
        rng, prof = self.rng, self.prof
        lead = kind == 2
        accs = people.accounts(rng, prof, n_acc)
        accs["kind"] = np.full(n_acc, kind, np.int8)
        self.acc_parts.append(accs)
        mix_p = people.SENIORITY_LEAD if lead else people.SENIORITY_PRIMARY
        prim = people.contacts(rng, prof, n_acc, mix_p, 0.2 if lead else 0.95)
        n_oth = np.minimum(rng.poisson(mean_others, n_acc), 5)
        oth = people.contacts(rng, prof, int(n_oth.sum()), people.SENIORITY_OTHER, 0.5)
        acc_ids = self.n_acc + np.arange(n_acc)
        prim["account"] = acc_ids
        oth["account"] = np.repeat(acc_ids, n_oth)
        self.con_parts += [prim, oth]
        self.primary.append(self.n_con + np.arange(n_acc))
        self.other_start.append(self.n_con + n_acc + np.cumsum(n_oth) - n_oth)
        self.other_n.append(n_oth)
        self.role += [np.full(n_acc, 2 if lead else 0, np.int8),
                      np.full(int(n_oth.sum()), 1, np.int8)]
        self.n_con += n_acc + int(n_oth.sum())
        self.n_acc += n_acc
        return acc_ids

    def finish(self):
        acc = people.concat(self.acc_parts)
        acc["primary"] = np.concatenate(self.primary)
        acc["other_start"] = np.concatenate(self.other_start)
        acc["other_n"] = np.concatenate(self.other_n)
        con = people.concat(self.con_parts)
        con["role"] = np.concatenate(self.role)  # 0 primary, 1 other, 2 lead-only
        return acc, con


def _links(rng, acc, deals: np.ndarray, accts: np.ndarray):
    """Deal-contact links: the account's primary contact, plus each other contact at 60%."""
    n_oth = acc["other_n"][accts]
    d_rep = np.repeat(deals, n_oth)
    pos = np.arange(int(n_oth.sum())) - np.repeat(np.cumsum(n_oth) - n_oth, n_oth)
    c_rep = np.repeat(acc["other_start"][accts], n_oth) + pos
    keep = rng.random(len(d_rep)) < P_OTHER_ON_DEAL
    return (np.concatenate([deals, d_rep[keep]]),
            np.concatenate([acc["primary"][accts], c_rep[keep]]))


def build(prof: Profile, n: int, rng: np.random.Generator, as_of: date) -> Company:
    std_off = std_offset(prof.tz, as_of)
    cutoff = export_moment(prof.tz, as_of)
    window_start = cutoff - WINDOW_DAYS * DAY
    shares = np.array([pl.share for pl in prof.pipelines])
    pipe = rng.choice(len(shares), n, p=shares / shares.sum()).astype(np.int8)
    is_nb = np.array([pl.deal_type == "newbusiness" for pl in prof.pipelines])[pipe]
    amount = _amounts(rng, prof, pipe)

    # New business: one fresh account per deal; its fit decides who wins.
    book = _Book(rng, prof)
    nb = np.flatnonzero(is_nb)
    d_acc = np.full(n, -1, np.int64)
    d_acc[nb] = book.add(len(nb), 1.2, kind=0)
    acc_tmp, con_tmp = people.concat(book.acc_parts), people.concat(book.con_parts)
    prim = np.arange(len(nb))  # primaries of the first block are contacts 0..len(nb)-1
    fit = people.account_fit(prof, acc_tmp, d_acc[nb]) + people.contact_fit(prof, con_tmp, prim)
    budget = people.budget_band(prof, amount[nb], np.exp(0.45 * rng.standard_normal(len(nb))))
    need_band = np.searchsorted(np.array(prof.budget_bounds), amount[nb])
    fit += np.where(budget >= need_band, 0.4, -0.2)
    score = rng.logistic(0, 0.8, n)
    score[nb] += fit
    status = _status(rng, prof, pipe, score)
    hist = paths.simulate(rng, prof, pipe, status, window_start, cutoff, std_off)

    d_acc, amount = _link_renewals(rng, book, hist, pipe, is_nb, status, d_acc, amount)
    n_con = book.n_con
    book.add(max(0, round(CONTACTS_PER_DEAL * n) - n_con), 0.0, kind=2)
    acc, con = book.finish()
    _budgets(rng, prof, con, prim, budget)
    dc_deal, dc_contact = _links(rng, acc, np.arange(n), d_acc)
    con["created"] = _contact_created(rng, prof, acc, con, d_acc, hist.created, window_start,
                                      cutoff, std_off)
    deal = _deal_fields(rng, prof, acc, pipe, status, hist, d_acc, amount, cutoff, std_off)
    changes = _owner_changes(rng, prof, deal, hist, cutoff, std_off)
    comp = Company(prof, as_of, cutoff, window_start, std_off, acc, con, deal, dc_deal,
                   dc_contact, hist, changes)
    _reorder(comp)
    _contact_status(rng, comp)
    return comp


def _budgets(rng, prof: Profile, con, prim: np.ndarray, budget: np.ndarray) -> None:
    """Budget Range for everyone who answered the BANT questions: a new-business deal's
    primary contact states a budget around that deal's amount (drawn before the outcome),
    other respondents one around a typical deal."""
    con["budget"][prim] = budget
    rest = np.flatnonzero(con["budget"] < 0)
    typical = prof.pipelines[0].amount_median * np.exp(0.9 * rng.standard_normal(len(rest)))
    con["budget"][rest] = people.budget_band(prof, typical, np.ones(len(rest)))
    con["budget"][con["dm"] < 0] = -1  # no BANT answers at all


def _link_renewals(rng, book: _Book, hist, pipe, is_nb, status, d_acc, amount):
    """Renewals belong to customers won at least a month earlier (same account, similar
    amount); renewals older than any such win are pre-window customers (new accounts)."""
    ren = np.flatnonzero(~is_nb)
    won = np.flatnonzero(is_nb & (status == WON))
    won = won[np.argsort(hist.closed_at[won], kind="stable")]
    n_before = np.searchsorted(hist.closed_at[won], hist.created[ren] - 30 * DAY)
    linked = n_before > 0
    src = won[(rng.random(int(linked.sum())) * n_before[linked]).astype(np.int64)]
    d_acc[ren[linked]] = d_acc[src]
    amount[ren[linked]] = amount[src] * rng.uniform(0.95, 1.3, len(src))
    legacy = ren[~linked]
    d_acc[legacy] = book.add(len(legacy), 1.0, kind=1)
    return d_acc, amount


def _contact_created(rng, prof, acc, con, d_acc, d_created, window_start, cutoff, std_off):
    """Leads arrive before their deal; colleagues join around it; customers from before the
    window (legacy renewals) were created long ago; marketing leads arrive all the time."""
    anchor = np.full(len(acc["name"]), np.iinfo(np.int64).max)
    np.minimum.at(anchor, d_acc, d_created)  # the account's first deal
    a = con["account"]
    t = anchor[a].astype(np.float64)
    role = con["role"]
    t = np.where(role == 0, t - 25 * DAY * np.exp(0.8 * rng.standard_normal(len(t))), t)
    t = np.where(role == 1, t + rng.uniform(-20, 20, len(t)) * DAY, t)
    old = acc["kind"][a] == 1
    t = np.where(old, anchor[a] - rng.uniform(200, 900, len(t)) * DAY, t)
    span = cutoff - window_start + 120 * DAY
    lead_t = cutoff - span + rng.beta(1.5, 1.0, len(t)) * span
    t = np.where(role == 2, lead_t, t)
    t = np.minimum(t, cutoff - 60)
    return working_hours(t.astype(np.int64), std_off, 6, 22)


def _owner_pools(prof: Profile):
    """Owner indices per responsibility ("smb", "enterprise", "renewal")."""
    pools: dict[str, list[int]] = {"smb": [], "enterprise": [], "renewal": []}
    for i, (_, _, t) in enumerate(prof.owners):
        pools[prof.teams[t].handles].append(i)
    return {k: np.array(v) for k, v in pools.items()}


def _assign(rng, pool: np.ndarray, n: int) -> np.ndarray:
    # Uneven books: a few reps carry more deals than others (weights fixed per company).
    w = np.random.default_rng(len(pool) * 7919).dirichlet(np.full(len(pool), 4.0))
    return pool[rng.choice(len(pool), n, p=w)]


def _deal_fields(rng, prof, acc, pipe, status, hist, d_acc, amount, cutoff, std_off):
    n = len(pipe)
    is_nb = np.array([pl.deal_type == "newbusiness" for pl in prof.pipelines])[pipe]
    band = acc["band"][d_acc]
    pools = _owner_pools(prof)
    role = np.where(~is_nb, 2, np.where(band >= prof.enterprise_min_size, 1, 0))
    owner = np.empty(n, np.int64)
    for r, key in enumerate(("smb", "enterprise", "renewal")):
        m = role == r
        owner[m] = _assign(rng, pools[key], int(m.sum()))
    is_open = status == OPEN
    owner[rng.random(n) < np.where(is_open, 0.05, 0.004)] = -1  # unassigned: pipeline hygiene

    country = acc["country"][d_acc]
    euro = np.array([c[3] for c in vocab.COUNTRIES])[country]
    eur = euro & (rng.random(n) < prof.eur_share_in_euro_area)
    amount = np.where(is_nb & (status == LOST), amount * 1.15, amount)
    amount = _round_price(np.where(eur, amount * 0.92, amount))
    no_amount = np.where(is_open & (hist.last_open_stage == 0), 0.35, 0.015)
    amount[rng.random(n) < no_amount] = -1

    today = (cutoff + std_off) // DAY
    created_day = (hist.created + std_off) // DAY
    planned = today + rng.integers(7, 120, n)
    overdue = np.maximum(today - rng.integers(3, 90, n), created_day)
    expected = np.where(rng.random(n) < 0.12, overdue, planned)
    closed_day = (hist.closed_at + std_off) // DAY
    expected = np.where(is_open, expected, closed_day)

    age = (cutoff - hist.created) / DAY
    silent = is_open & (age > 40) & (rng.random(n) < np.where(hist.stuck, 0.6, 0.2))
    quiet = rng.uniform(30, np.maximum(31, np.minimum(age - 5, 150)))
    return {
        "pipe": pipe, "status": status, "stage": hist.last_open_stage,
        "created": hist.created, "closed_at": hist.closed_at, "entered": hist.entered_last_open,
        "amount": amount, "eur": eur, "owner": owner, "account": d_acc,
        "product": rng.integers(0, len(prof.products), n).astype(np.int8),
        "lost_reason": np.where(status == LOST, rng.choice(len(LOST_REASONS), n, p=LOST_REASON_P),
                                -1).astype(np.int8),
        "expected_day": expected.astype(np.int64), "stuck": hist.stuck,
        # Open deals with no activity for 30+ days (stale): activity stops at silent_from.
        "silent_from": np.where(silent, cutoff - (quiet * DAY).astype(np.int64), -1),
    }


def _owner_changes(rng, prof, deal, hist, cutoff, std_off) -> dict[str, np.ndarray]:
    """About 5% of deals were reassigned once (rep left, territory change)."""
    team = np.array([t for _, _, t in prof.owners])
    size = np.bincount(team)
    start = np.cumsum(size) - size  # owners are listed team by team
    owner = deal["owner"]
    idx = np.flatnonzero((owner >= 0) & (rng.random(len(owner)) < 0.05))
    t = team[owner[idx]]
    pos = owner[idx] - start[t]
    shift = 1 + rng.integers(0, 1 << 30, len(idx)) % np.maximum(size[t] - 1, 1)
    prev = start[t] + (pos + shift) % size[t]  # a teammate (never the owner themself)
    keep = prev != owner[idx]
    idx, prev = idx[keep], prev[keep]
    end = np.where(deal["closed_at"][idx] >= 0, deal["closed_at"][idx], cutoff)
    start = deal["created"][idx]
    at = start + (rng.random(len(idx)) * (end - start)).astype(np.int64)
    at = np.clip(working_hours(at, std_off, 8, 18), start, end)
    return {"deal": idx, "old": prev, "new": owner[idx], "at": at}


def _perm(arrays: dict[str, np.ndarray], order: np.ndarray) -> None:
    for k, v in arrays.items():
        arrays[k] = v[order]


def _inverse(order: np.ndarray) -> np.ndarray:
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    return inv


def _reorder(c: Company) -> None:
    """Renumber deals and contacts in creation order (CRM ids grow over time) and remap
    every reference to them."""
    d_order = np.argsort(c.deal["created"], kind="stable")
    d_inv = _inverse(d_order)
    _perm(c.deal, d_order)
    h = c.hist
    for k in ("created", "closed_at", "last_open_stage", "entered_last_open", "stuck"):
        setattr(h, k, getattr(h, k)[d_order])
    new = d_inv[h.deal]
    o = np.argsort(new, kind="stable")  # keeps each deal's rows in time order
    h.deal, h.stage, h.t = new[o].astype(np.int32), h.stage[o], h.t[o]
    c.owner_changes["deal"] = d_inv[c.owner_changes["deal"]]
    _perm(c.owner_changes, np.argsort(c.owner_changes["deal"], kind="stable"))

    c_order = np.argsort(c.con["created"], kind="stable")
    c_inv = _inverse(c_order)
    _perm(c.con, c_order)
    c.acc["primary"] = c_inv[c.acc["primary"]]
    del c.acc["other_start"]  # contacts of an account are no longer contiguous
    dd, cc = d_inv[c.dc_deal], c_inv[c.dc_contact]
    o = np.lexsort((cc, dd))
    c.dc_deal, c.dc_contact = dd[o].astype(np.int32), cc[o].astype(np.int32)
    c.deal["primary"] = c.acc["primary"][c.deal["account"]]


def _contact_status(rng, c: Company) -> None:
    """HubSpot-style lifecycle stage, contact owner and e-mail de-duplication number."""
    n = c.n_contacts
    won = np.bincount(c.dc_contact, weights=c.deal["status"][c.dc_deal] == WON, minlength=n) > 0
    has_deal = np.bincount(c.dc_contact, minlength=n) > 0
    lead_stage = rng.choice(3, n, p=(0.35, 0.45, 0.2))  # subscriber / lead / MQL
    sql = (c.con["dm"] >= 0) & (rng.random(n) < 0.3)
    life = np.where(won, 5, np.where(has_deal, 4, np.where(sql, 3, lead_stage)))
    c.con["lifecycle"] = life.astype(np.int8)
    last = np.full(n, -1, np.int64)
    np.maximum.at(last, c.dc_contact, c.dc_deal)  # latest deal (ids follow creation)
    owner = np.where(last >= 0, c.deal["owner"][np.maximum(last, 0)], -1)
    pool = _owner_pools(c.prof)["smb"]
    lead_owner = np.where(rng.random(n) < 0.35, pool[rng.integers(0, len(pool), n)], -1)
    c.con["owner"] = np.where(has_deal, owner, lead_owner)
    # Two people with the same name at one company get john.smith@ and john.smith2@.
    key = (c.con["account"].astype(np.int64) * len(vocab.FIRST_NAMES) + c.con["first"]) \
        * len(vocab.LAST_NAMES) + c.con["last"]
    c.con["email_n"] = people.occurrence(key)
    c.acc["domain_n"] = people.occurrence(c.acc["name"].astype(np.int64))

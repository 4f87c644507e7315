"""Stage histories: every deal's full, timestamped walk through its pipeline.

Built in long format (one row per stage entry) with array operations only:
forward visits from a start to an end stage with random skips, then optional back-moves
(j -> previous -> j) and lost-then-reopened episodes inserted by sort key, then a terminal
won/lost row for closed deals. Durations are log-normal per stage; the whole walk is then
placed in time *backwards* from its outcome: closed deals end somewhere in the two-year
window, open deals end "now" (as_of), so nothing can land after as_of and the open share is
exactly what the profile asks for. Open deals are thus the recent ones, as in a real CRM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .profiles import Profile
from .timeutil import DAY, working_hours

OPEN, WON, LOST = 0, 1, 2  # deal status codes used across the model

P_START_LATER = (0.12, 0.03)  # deals created directly in the 2nd / 3rd stage (inbound)
P_SKIP = 0.10  # an intermediate stage is skipped
P_BACK = 0.08  # the deal moves back one visited stage and forward again
P_REOPEN = 0.05  # the deal is marked lost, then reopened in the same stage
P_STUCK = 0.10  # open deal far longer than normal in its current stage
MAX_LIFE_DAYS = 690  # keeps every walk inside the ~2-year window


@dataclass
class History:
    """Stage entries sorted by (deal, time). `stage` is pipeline-local: 0..K-1 open stages,
    K = won, K+1 = lost (the reopened episodes are lost rows that are not the last row)."""

    deal: np.ndarray  # int32
    stage: np.ndarray  # int16
    t: np.ndarray  # int64 minutes UTC
    created: np.ndarray  # per deal
    closed_at: np.ndarray  # per deal, -1 while open
    last_open_stage: np.ndarray  # per deal: current stage, or the stage it was won/lost in
    entered_last_open: np.ndarray  # per deal
    stuck: np.ndarray  # per deal bool


def _pick(rng: np.random.Generator, weights: tuple[float, ...], n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def _bounds(rng, prof: Profile, pipe: np.ndarray, status: np.ndarray, k: np.ndarray):
    """Start stage and last open stage of the forward walk, per deal."""
    n = len(pipe)
    r = rng.random(n)
    start = np.where(r < P_START_LATER[0] + P_START_LATER[1], 1, 0)
    start[r < P_START_LATER[1]] = 2
    start[k <= 3] = 0  # renewals always start at their first stage
    end = np.where(rng.random(n) < 0.85, k - 1, k - 2)  # won: usually via the last stage
    for p, pl in enumerate(prof.pipelines):
        for st, weights in ((LOST, pl.lost_at), (OPEN, pl.open_at)):
            m = (pipe == p) & (status == st)
            end[m] = _pick(rng, weights, int(m.sum()))
    end = np.maximum(end, start)
    return start, end


def _forward(rng, start: np.ndarray, end: np.ndarray):
    """All stages from start to end, dropping some intermediate ones."""
    length = end - start + 1
    deal = np.repeat(np.arange(len(start), dtype=np.int64), length)
    pos = np.arange(len(deal)) - np.repeat(np.cumsum(length) - length, length)
    stage = start[deal] + pos
    inner = (stage > start[deal]) & (stage < end[deal])
    keep = ~(inner & (rng.random(len(deal)) < P_SKIP))
    return deal[keep], stage[keep]


def _detours(rng, deal, stage, n: int, k: np.ndarray, status: np.ndarray):
    """Extra rows (deal, stage, sort key) for back-moves and lost-then-reopened episodes."""
    count = np.bincount(deal, minlength=n)
    first = np.cumsum(count) - count
    rows = []
    back = np.flatnonzero((count >= 2) & (rng.random(n) < P_BACK))
    i = 1 + (rng.random(len(back)) * (count[back] - 1)).astype(np.int64)
    j, prev = stage[first[back] + i], stage[first[back] + i - 1]
    rows += [(back, prev, 10 * j + 1), (back, j, 10 * j + 2)]
    reopen = np.flatnonzero(rng.random(n) < P_REOPEN)
    i = (rng.random(len(reopen)) * count[reopen]).astype(np.int64)
    j = stage[first[reopen] + i]
    rows += [(reopen, k[reopen] + 1, 10 * j + 5), (reopen, j, 10 * j + 6)]
    closed = np.flatnonzero(status != OPEN)
    final = np.where(status[closed] == WON, k[closed], k[closed] + 1)
    rows.append((closed, final, np.full(len(closed), 100_000)))
    return rows


def _durations(rng, prof: Profile, pipe, deal, stage, k, status, is_last):
    """Minutes spent in each row's stage (0 for the terminal row)."""
    medians = np.zeros((len(prof.pipelines), int(k.max()) + 2))
    for p, pl in enumerate(prof.pipelines):
        medians[p, : len(pl.stages)] = [s.median_days for s in pl.stages]
        medians[p, len(pl.stages) + 1] = 40.0  # time spent lost before a reopen
    med = medians[pipe[deal], stage] * prof.dwell_scale
    dur = med * np.exp(0.75 * rng.standard_normal(len(deal)))
    st = status[deal]
    # Open deals: the last row is the time spent so far in the current stage.
    dur = np.where(is_last & (st == OPEN), med * 0.7 * np.exp(0.8 * rng.standard_normal(len(deal))),
                   dur)
    # Lost deals linger in the stage they die in.
    before_end = np.zeros(len(deal), bool)
    before_end[:-1] = is_last[1:] & (st[1:] == LOST)
    dur = np.where(before_end, dur * 1.6, dur)
    dur = np.where(is_last & (st != OPEN), 0.0, dur)
    return dur * DAY


def simulate(rng, prof: Profile, pipe: np.ndarray, status: np.ndarray, window_start: int,
             cutoff: int, std_off: int) -> History:
    n = len(pipe)
    k = np.array([len(pl.stages) for pl in prof.pipelines])[pipe]
    start, end = _bounds(rng, prof, pipe, status, k)
    fdeal, fstage = _forward(rng, start, end)
    parts = [(fdeal, fstage, 10 * fstage), *_detours(rng, fdeal, fstage, n, k, status)]
    deal = np.concatenate([p[0] for p in parts]).astype(np.int64)
    stage = np.concatenate([p[1] for p in parts]).astype(np.int64)
    key = np.concatenate([p[2] for p in parts]).astype(np.int64)
    order = np.argsort(deal * 1_000_000 + key, kind="stable")
    deal, stage = deal[order], stage[order]

    count = np.bincount(deal, minlength=n)
    first = np.cumsum(count) - count
    last = first + count - 1
    is_last = np.zeros(len(deal), bool)
    is_last[last] = True

    stuck = (status == OPEN) & (rng.random(n) < P_STUCK)
    dur = _durations(rng, prof, pipe, deal, stage, k, status, is_last)
    # Stuck deals: months in the current stage, far beyond its normal 1-3 weeks.
    dur[last[stuck]] = rng.uniform(60, 200, int(stuck.sum())) * DAY * prof.dwell_scale
    life = np.bincount(deal, weights=dur, minlength=n)
    scale = np.minimum(1.0, MAX_LIFE_DAYS * DAY / np.maximum(life, 1.0))
    dur *= scale[deal]
    life *= scale

    span = cutoff - window_start
    growth = rng.beta(1.6, 1.0, n)  # more deals in recent months: the business grows
    created = np.where(status == OPEN, cutoff - life, window_start + growth * (span - life))
    csum = np.cumsum(dur)
    before = csum - dur
    t = created[deal] + before - before[first][deal]
    t = working_hours(np.floor(t).astype(np.int64), std_off, 8, 18)
    t = np.minimum(t, cutoff)

    lo = np.where(status == OPEN, last, last - 1)  # last open-stage row
    return History(
        deal=deal.astype(np.int32), stage=stage.astype(np.int16), t=t,
        created=t[first],
        closed_at=np.where(status == OPEN, -1, t[last]),
        last_open_stage=stage[lo].astype(np.int16),
        entered_last_open=t[lo],
        stuck=stuck,
    )

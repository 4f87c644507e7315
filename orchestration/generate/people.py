"""Accounts (companies) and contacts: firmographics, roles and BANT answers.

All draws are vectorised; text stays as integer codes into `vocab` lists until a writer
renders it. Customer fit (industry, size, role, source) drives the chance that a deal is won,
so a lead-scoring model trained on this data has a real signal to find.
"""

from __future__ import annotations

import numpy as np

from . import vocab
from .profiles import Profile

N_NAMES = len(vocab.COMPANY_PREFIXES) * len(vocab.COMPANY_CORES) * len(vocab.COMPANY_SUFFIXES)

# Seniority mix (C-level, VP, director, manager, individual) by contact role.
SENIORITY_PRIMARY = (0.1, 0.2, 0.3, 0.3, 0.1)
SENIORITY_OTHER = (0.05, 0.1, 0.2, 0.35, 0.3)
SENIORITY_LEAD = (0.05, 0.08, 0.17, 0.3, 0.4)
TIMELINE_WEIGHTS = (0.3, 0.3, 0.2, 0.1, 0.1)
TIMELINE_FIT = (0.5, 0.2, -0.1, -0.5, -0.3)


def occurrence(codes: np.ndarray) -> np.ndarray:
    """0 for the first row with a given code, 1 for the second, ... (in row order)."""
    order = np.argsort(codes, kind="stable")
    srt = codes[order]
    new = np.ones(len(srt), bool)
    new[1:] = srt[1:] != srt[:-1]
    start = np.maximum.accumulate(np.where(new, np.arange(len(srt)), 0))
    out = np.empty(len(codes), np.int64)
    out[order] = np.arange(len(srt)) - start
    return out


def accounts(rng: np.random.Generator, prof: Profile, n: int) -> dict[str, np.ndarray]:
    """n companies with name code, industry, size band, employee count and country."""
    names = list(prof.industries)
    ind_w = np.array([prof.industries[x][0] for x in names])
    # Distinct names while they last (a permutation), then random repeats at scale.
    perm = rng.permutation(N_NAMES)
    name = np.where(np.arange(n) < N_NAMES, perm[np.arange(n) % N_NAMES],
                    rng.integers(0, N_NAMES, n))
    size_w = np.array(prof.size_weights)
    band = rng.choice(len(vocab.SIZE_BANDS), n, p=size_w / size_w.sum())
    lo = np.array([b[1] for b in vocab.SIZE_BANDS])[band]
    hi = np.array([b[2] for b in vocab.SIZE_BANDS])[band]
    # Log-uniform inside the band: a 51-200 company is more often ~80 than ~190 people.
    employees = np.exp(rng.uniform(np.log(lo), np.log(hi + 1))).astype(np.int64)
    ind = rng.choice(len(names), n, p=ind_w / ind_w.sum())
    ind_code = np.array([vocab.INDUSTRIES.index(x) for x in names])[ind]
    cw = np.array(vocab.COUNTRY_WEIGHTS)
    return {
        "name": name.astype(np.int32),
        "industry": ind_code.astype(np.int16),
        "band": band.astype(np.int8),
        "employees": np.minimum(employees, hi),
        "country": rng.choice(len(cw), n, p=cw / cw.sum()).astype(np.int8),
    }


def account_fit(prof: Profile, acc: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    ind_fit = np.array([prof.industries[x][1] for x in vocab.INDUSTRIES])
    return ind_fit[acc["industry"][idx]] + np.array(prof.size_fit)[acc["band"][idx]]


def _titles_for(rng, seniority: np.ndarray) -> np.ndarray:
    """A random job title of the given seniority code."""
    sen = np.array([s for _, s in vocab.JOB_TITLES])
    groups = [np.flatnonzero(sen == s) for s in range(5)]
    out = np.empty(len(seniority), np.int16)
    for s, g in enumerate(groups):
        m = seniority == s
        out[m] = g[rng.integers(0, len(g), int(m.sum()))]
    return out


def contacts(rng, prof: Profile, n: int, mix: tuple[float, ...], p_bant: float):
    """n people: names, title, lead source, phone and (maybe blank, -1) BANT answers."""
    seniority = rng.choice(5, n, p=mix)
    src_w = np.array([w for _, w, _ in prof.lead_sources])
    filled = rng.random(n) < p_bant
    dm = np.where(rng.random(n) < np.array(vocab.DECISION_MAKER_P)[seniority], 0, 1)
    need = np.where(rng.random(n) < 0.65, 0, 1)
    timeline = rng.choice(5, n, p=TIMELINE_WEIGHTS)
    phone = rng.integers(2_000_000_000, 9_999_999_999, n)
    return {
        "first": rng.integers(0, len(vocab.FIRST_NAMES), n).astype(np.int16),
        "last": rng.integers(0, len(vocab.LAST_NAMES), n).astype(np.int16),
        "seniority": seniority.astype(np.int8),
        "title": _titles_for(rng, seniority),
        "source": rng.choice(len(src_w), n, p=src_w / src_w.sum()).astype(np.int8),
        "phone": np.where(rng.random(n) < 0.1, -1, phone),
        "dm": np.where(filled, dm, -1).astype(np.int8),
        "need": np.where(filled, need, -1).astype(np.int8),
        "timeline": np.where(filled, timeline, -1).astype(np.int8),
        "budget": np.full(n, -1, np.int8),  # set from the deal amount once known
    }


def contact_fit(prof: Profile, con: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    """Role, source and BANT answers of the given contacts as a fit effect."""
    src_fit = np.array([f for _, _, f in prof.lead_sources])
    fit = np.array(prof.seniority_fit)[con["seniority"][idx]] + src_fit[con["source"][idx]]
    fit += np.where(con["dm"][idx] == 0, 0.5, 0.0) + np.where(con["need"][idx] == 0, 0.6, 0.0)
    tl = con["timeline"][idx]
    fit += np.where(tl >= 0, np.array(TIMELINE_FIT)[np.maximum(tl, 0)], 0.0)
    return fit


def budget_band(prof: Profile, amount: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """The budget range a contact states: around the deal amount, give or take."""
    return np.searchsorted(np.array(prof.budget_bounds), amount * noise).astype(np.int8)


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

"""Deterministic synthetic CRM exports (`salespipe generate`).

`generate(out_dir, deals, seed)` writes one folder per export format following
docs/export-formats.md. Each format is its own business unit (profiles.py) whose random
stream is derived from (seed, format), so adding or dropping a format never changes another
format's files, and the same inputs always give byte-identical files.

Pipeline: company.build (owners, accounts, contacts, deals, full stage histories; vectorised)
-> activities streamed in chunks of deals (bounded memory) -> the format's writer renders
everything with DuckDB.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from orchestration.registry import CRMS

from . import activities, company
from .activecampaign import ActiveCampaignWriter
from .api_profiles import API_PROFILES, SEED_FORMAT
from .generic import GenericWriter
from .hubspot import HubSpotWriter
from .pipedrive import PipedriveWriter
from .profiles import PROFILES
from .salesforce import SalesforceWriter

# The formats of `all` (export files), and the API formats: records as the CRM's REST API
# returns them (api_profiles.py), written on request only, so the default output and seeds/
# stay as they are. Both come from the registry of CRMs.
FORMATS = tuple(c.generator for c in CRMS if c.generator and c.generated_by_default)
API_FORMATS = tuple(c.generator for c in CRMS if c.generator and not c.generated_by_default)
WRITERS = {"hubspot": HubSpotWriter, "activecampaign": ActiveCampaignWriter,
           "generic": GenericWriter, "pipedrive": PipedriveWriter,
           "salesforce": SalesforceWriter}

__all__ = ["FORMATS", "generate"]


def _format_key(fmt: str) -> int:
    """Stable per-format number for seeding (Python's hash() is salted per process)."""
    return zlib.crc32(fmt.encode("utf-8"))


def _check(out_dir, deals: int, seed: int, formats: Sequence[str], as_of: date) -> list[str]:
    if isinstance(formats, str):
        formats = [formats]
    unknown = [f for f in formats if f not in FORMATS + API_FORMATS]
    if unknown:
        raise ValueError(f"unknown format(s) {unknown}; choose from {list(FORMATS + API_FORMATS)}")
    if not formats:
        raise ValueError(f"no format given; choose from {list(FORMATS)}")
    if isinstance(deals, bool) or not isinstance(deals, (int, np.integer)) or deals < 1:
        raise ValueError(f"deals must be an integer >= 1, got {deals!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(as_of, date):
        raise TypeError(f"as_of must be a datetime.date, got {as_of!r}")
    return list(dict.fromkeys(formats))  # keep order, drop repeats


def generate(out_dir: Path, deals: int, seed: int = 42,
             formats: Sequence[str] = FORMATS, as_of: date = date(2026, 10, 31),
             activity_scale: float = 1.0) -> dict:
    """Write synthetic exports under out_dir/<format>/ and return counts per format, e.g.
    {"hubspot": {"deals": 150, "contacts": 450, "activities": 2983, ...}, ...} (all ints).

    `activity_scale` multiplies every format's activity volume (1.0: the profiles' own rates;
    the benchmark uses it to reach 20 activities per deal).
    Raises ValueError for an unknown format, deals < 1, a negative seed or activity_scale <= 0.
    """
    formats = _check(out_dir, deals, seed, formats, as_of)
    if not activity_scale > 0:
        raise ValueError(f"activity_scale must be > 0, got {activity_scale!r}")
    out_dir = Path(out_dir)
    return {fmt: _one_format(out_dir / fmt, fmt, int(deals), int(seed), as_of, activity_scale)
            for fmt in formats}


def company_model(fmt: str, deals: int, seed: int = 42,
                  as_of: date = date(2026, 10, 31)) -> company.Company:
    """The company model `generate` renders for `fmt` with these arguments (activity scale 1):
    tests compare what the warehouse built from the files or APIs with it."""
    key = _format_key(SEED_FORMAT.get(fmt, fmt))
    prof = PROFILES[fmt] if fmt in PROFILES else API_PROFILES[fmt]
    return company.build(prof, int(deals), np.random.default_rng([seed, key, 0]), as_of)


def _one_format(folder: Path, fmt: str, deals: int, seed: int, as_of: date,
                activity_scale: float = 1.0) -> dict:
    key = _format_key(SEED_FORMAT.get(fmt, fmt))
    prof = PROFILES[fmt] if fmt in PROFILES else API_PROFILES[fmt]
    if activity_scale != 1.0:
        prof = dataclasses.replace(prof, activity_scale=prof.activity_scale * activity_scale)
    comp = company.build(prof, deals, np.random.default_rng([seed, key, 0]), as_of)
    writer = WRITERS[fmt](folder, comp)
    stats = activities.Stats(comp)
    n = activities.n_chunks(comp)
    for i, chunk in enumerate(activities.iter_chunks(comp, seed, key)):
        stats.update(chunk)
        writer.activities(chunk, i, n)
    extra = writer.finish(stats)
    summary = {
        "deals": comp.n_deals,
        "contacts": comp.n_contacts,
        "activities": stats.count,
        "owners": len(comp.prof.owners),
        "teams": len(comp.prof.teams),
        "pipelines": len(comp.prof.pipelines),
        "stage_changes": int(len(comp.hist.deal) - comp.n_deals),
        "deal_contact_links": len(comp.dc_deal),
        "won": int((comp.deal["status"] == 1).sum()),
        "lost": int((comp.deal["status"] == 2).sum()),
        "open": int((comp.deal["status"] == 0).sum()),
    }
    summary.update(extra)
    return summary

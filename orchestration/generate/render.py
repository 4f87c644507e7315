"""Shared rendering: DuckDB output (CSV / JSON pages) and model -> text frames.

Text is produced inside DuckDB from integer codes (pandas categoricals become ENUMs), and
DuckDB formats dates and writes files; that is what keeps 20M activity rows fast. Output
order is fixed by the input frame order (DuckDB preserves insertion order for projections)
or by an explicit ORDER BY, so the files are byte-identical run to run.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from . import vocab
from .company import Company, stage_offsets
from .paths import LOST, WON
from .timeutil import DAY, LocalClock

# Date styles per format (docs/export-formats.md).
MACROS = """
CREATE MACRO ts_fmt(m, f) AS CASE WHEN m IS NULL OR m < 0 THEN NULL
    ELSE strftime(make_timestamp(CAST(m AS BIGINT) * 60000000), f) END;
CREATE MACRO hs_ts(m) AS ts_fmt(m, '%Y-%m-%d %H:%M');
CREATE MACRO us_ts(m) AS ts_fmt(m, '%m/%d/%Y %H:%M');
CREATE MACRO us_date(m) AS ts_fmt(m, '%m/%d/%Y');
CREATE MACRO iso_ts(m, off) AS CASE WHEN m IS NULL OR m < 0 THEN NULL
    ELSE ts_fmt(m, '%Y-%m-%dT%H:%M:%S') || CASE WHEN off < 0 THEN '-' ELSE '+' END
         || lpad(CAST(abs(off) // 60 AS VARCHAR), 2, '0') || ':'
         || lpad(CAST(abs(off) % 60 AS VARCHAR), 2, '0') END;
CREATE MACRO opt_str(x) AS CASE WHEN x IS NULL OR x < 0 THEN NULL ELSE CAST(x AS VARCHAR) END;
CREATE MACRO id_str(x) AS CASE WHEN x IS NULL OR x < 0 THEN NULL ELSE CAST(x + 1 AS VARCHAR) END;
"""

# SQL for composite text over a contacts frame (see contacts_frame).
COMPANY_SQL = "pre || core || ' ' || suf"
DOMAIN_SQL = ("pre_l || core || suf_l || CASE WHEN dom_n > 0 THEN CAST(dom_n + 1 AS VARCHAR) "
              "ELSE '' END || '.' || tld")
EMAIL_SQL = ("f_l || '.' || l_l || CASE WHEN email_n > 0 THEN CAST(email_n + 1 AS VARCHAR) "
             "ELSE '' END || '@' || " + DOMAIN_SQL)
PHONE_SQL = ("CASE WHEN phone < 0 THEN NULL ELSE cc || ' ' || substr(CAST(phone AS VARCHAR), 1, 3)"
             " || '-' || substr(CAST(phone AS VARCHAR), 4, 3) || '-' "
             "|| substr(CAST(phone AS VARCHAR), 7, 4) END")


def slug(s: str) -> str:
    """Lower-case letters and digits only: safe in an e-mail local part or domain."""
    return re.sub(r"[^a-z0-9]", "", s.lower())


def cat(codes: np.ndarray, labels) -> pd.Categorical:
    """Codes -> labels; -1 becomes NULL (an empty CSV cell, a JSON null). Repeated labels
    (e.g. "Won" in two pipelines) are merged, as categories must be unique."""
    codes = np.asarray(codes, dtype=np.int64)
    labels = list(labels)
    uniq = list(dict.fromkeys(labels))
    if len(uniq) != len(labels):
        remap = np.array([uniq.index(x) for x in labels])
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return pd.Categorical.from_codes(codes, uniq)


def page_name(stem: str, ext: str, i: int, n: int) -> str:
    """`deals.csv` when there is one page, else `deals-1.csv`, `deals-2.csv`, ... (the
    contract's loaders read every file matching `deals*.csv`)."""
    return f"{stem}.{ext}" if n == 1 else f"{stem}-{i + 1}.{ext}"


def pages(n: int, size: int) -> list[tuple[int, int]]:
    k = max(1, -(-n // size))
    return [(n * i // k, n * (i + 1) // k) for i in range(k)]


def paged(stem: str, n: int, size: int, ext: str = "json") -> Iterator[tuple[str, int, int]]:
    """n rows written `size` at most a file: each page's file name and its rows [lo, hi)."""
    parts = pages(n, size)
    for i, (lo, hi) in enumerate(parts):
        yield page_name(stem, ext, i, len(parts)), lo, hi


class Writer:
    """One output folder plus a DuckDB connection that renders into it."""

    def __init__(self, folder: Path, comp: Company):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.db = duckdb.connect()
        self.db.execute("SET preserve_insertion_order = true")
        self.db.execute("SET enable_progress_bar = false")
        self.db.execute(MACROS)
        first = comp.as_of.year - 8
        self.clock = LocalClock(comp.prof.tz, first, comp.as_of.year + 1)

    def clear(self, patterns: tuple[str, ...]) -> None:
        """Remove this format's files from an earlier run: a stale `deals-3.csv` next to a
        fresh `deals.csv` would be loaded too."""
        for pat in patterns:
            for p in sorted(self.folder.glob(pat)):
                p.unlink()

    def local(self, utc_min: np.ndarray) -> np.ndarray:
        return self.clock.local(utc_min)

    def day_start(self, day: np.ndarray) -> np.ndarray:
        """Local day number -> that day's local midnight in local minutes."""
        return np.asarray(day, dtype=np.int64) * DAY

    def copy(self, name: str, frame: pd.DataFrame, select: str, fmt: str = "csv") -> Path:
        """COPY (select over `frame` registered as t) to a file in the folder."""
        path = self.folder / name
        self.db.register("t", frame)
        opts = "(HEADER)" if fmt == "csv" else "(FORMAT json, ARRAY true)"
        self.db.execute(f"COPY ({select}) TO '{path}' {opts}")
        self.db.unregister("t")
        return path

    def json_object(self, name: str, arrays: list[tuple[str, pd.DataFrame, str]],
                    meta: dict | None = None) -> None:
        """Write {"key": [...], ..., "meta": {...}} with each array streamed by DuckDB
        (API responses are one JSON object, not newline-delimited records)."""
        path = self.folder / name
        with open(path, "wb") as out:  # bytes: DuckDB already wrote UTF-8
            out.write(b"{")
            for i, (key, frame, select) in enumerate(arrays):
                tmp = self.copy(f".{name}.{key}.tmp", frame, select, fmt="json")
                out.write((("," if i else "") + json.dumps(key) + ":").encode())
                with open(tmp, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 22)
                tmp.unlink()
            if meta is not None:
                out.write((',"meta":' + json.dumps(meta, separators=(",", ":"))).encode())
            out.write(b"}\n")

    def small_json(self, name: str, obj) -> None:
        with open(self.folder / name, "w", encoding="utf-8", newline="\n") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")

    def close(self) -> None:
        self.db.close()


def owner_names(comp: Company) -> list[str]:
    return [f"{first} {last}" for first, last, _ in comp.prof.owners]


def owner_email(comp: Company, i: int) -> str:
    first, last, _ = comp.prof.owners[i]
    return f"{slug(first)}.{slug(last)}@{comp.prof.email_domain}"


def company_columns(comp: Company, acc_idx: np.ndarray) -> dict[str, object]:
    """Columns from which COMPANY_SQL / DOMAIN_SQL build company names and web domains."""
    name = comp.acc["name"][acc_idx].astype(np.int64)
    n_core, n_suf = len(vocab.COMPANY_CORES), len(vocab.COMPANY_SUFFIXES)
    pre, core, suf = name // (n_core * n_suf), (name // n_suf) % n_core, name % n_suf
    country = comp.acc["country"][acc_idx]
    return {
        "pre": cat(pre, vocab.COMPANY_PREFIXES),
        "pre_l": cat(pre, [slug(x) for x in vocab.COMPANY_PREFIXES]),
        "core": cat(core, vocab.COMPANY_CORES),
        "suf": cat(suf, vocab.COMPANY_SUFFIXES),
        "suf_l": cat(suf, [slug(x) for x in vocab.COMPANY_SUFFIXES]),
        "dom_n": comp.acc["domain_n"][acc_idx],
        "tld": cat(country, [c[2] for c in vocab.COUNTRIES]),
    }


def contacts_frame(w: Writer, comp: Company, lo: int, hi: int, stats) -> pd.DataFrame:
    """Contacts [lo, hi) with every attribute any format needs, as codes/categoricals."""
    c, p = comp.con, comp.prof
    sl = slice(lo, hi)
    acc = c["account"][sl]
    a = comp.acc
    cols = {
        "i": np.arange(lo, hi),
        "first": cat(c["first"][sl], vocab.FIRST_NAMES),
        "last": cat(c["last"][sl], vocab.LAST_NAMES),
        "f_l": cat(c["first"][sl], [slug(x) for x in vocab.FIRST_NAMES]),
        "l_l": cat(c["last"][sl], [slug(x) for x in vocab.LAST_NAMES]),
        "email_n": c["email_n"][sl],
        "phone": c["phone"][sl],
        "cc": cat(a["country"][acc], [x[1] for x in vocab.COUNTRIES]),
        "title": cat(c["title"][sl], [t for t, _ in vocab.JOB_TITLES]),
        "industry": cat(a["industry"][acc], vocab.INDUSTRIES),
        "employees": a["employees"][acc],
        "size_band": cat(a["band"][acc], [b[0] for b in vocab.SIZE_BANDS]),
        "country": cat(a["country"][acc], [x[0] for x in vocab.COUNTRIES]),
        "source": cat(c["source"][sl], [s for s, _, _ in p.lead_sources]),
        "lifecycle": cat(c["lifecycle"][sl], vocab.HUBSPOT_LIFECYCLE),
        "owner": cat(c["owner"][sl], owner_names(comp)),
        "owner_i": c["owner"][sl],
        "budget": cat(c["budget"][sl], p.budget_labels),
        "dm": cat(c["dm"][sl], vocab.DECISION_MAKER),
        "need": cat(c["need"][sl], vocab.NEED_IDENTIFIED),
        "timeline": cat(c["timeline"][sl], vocab.PURCHASE_TIMELINES),
        "created_utc": c["created"][sl],
        "created": w.local(c["created"][sl]),
        "created_off": w.clock.offsets(c["created"][sl]),
        "last_sales": w.local(stats.contact_sales[sl]),
        "last_any_utc": stats.contact_any[sl],
    }
    cols.update(company_columns(comp, acc))
    return pd.DataFrame(cols)


def deal_name_columns(comp: Company, lo: int, hi: int) -> dict[str, object]:
    """Deal names: "<Company> - <Product>" or "<Company> - Renewal <year>"."""
    d = comp.deal
    sl = slice(lo, hi)
    renewal = np.array([pl.deal_type != "newbusiness" for pl in comp.prof.pipelines])[d["pipe"][sl]]
    # A renewal is named after the contract year it renews into.
    year = year_of(d["created"][sl] + 90 * DAY)
    y0 = comp.as_of.year - 4
    products = list(comp.prof.products)
    labels = products + [f"Renewal {y}" for y in range(y0, comp.as_of.year + 3)]
    code = np.where(renewal, len(products) + np.clip(year - y0, 0, 6), d["product"][sl])
    cols = company_columns(comp, d["account"][sl])
    cols["what"] = cat(code, labels)
    return cols


def year_of(utc_min: np.ndarray) -> np.ndarray:
    m = np.asarray(utc_min, dtype=np.int64).astype("datetime64[m]")
    return m.astype("datetime64[Y]").astype(np.int64) + 1970


DEAL_NAME_SQL = COMPANY_SQL + " || ' - ' || what"


def global_stage(comp: Company, lo: int, hi: int) -> np.ndarray:
    """Each deal's current stage as a global stage index (won/lost stages when closed)."""
    d = comp.deal
    sl = slice(lo, hi)
    k = np.array([len(pl.stages) for pl in comp.prof.pipelines])[d["pipe"][sl]]
    local = np.where(d["status"][sl] == WON, k, np.where(d["status"][sl] == LOST, k + 1,
                                                         d["stage"][sl]))
    return stage_offsets(comp.prof)[d["pipe"][sl]] + local


def latest_visits(comp: Company, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Per deal in [lo, hi) and global stage: UTC minutes of the *latest* entry into the
    stage and of leaving that visit (-1: never / not yet). This is all HubSpot's
    `Date entered`/`Date exited` properties keep (docs/export-formats.md)."""
    h = comp.hist
    a, b = np.searchsorted(h.deal, [lo, hi])
    deal = h.deal[a:b].astype(np.int64) - lo
    n_st = int(sum(len(pl.stages) + 2 for pl in comp.prof.pipelines))
    gst = stage_offsets(comp.prof)[comp.deal["pipe"][lo:hi][deal]] + h.stage[a:b]
    t = h.t[a:b]
    exit_t = np.full(len(t), -1, np.int64)
    same = deal[1:] == deal[:-1]
    exit_t[:-1] = np.where(same, t[1:], -1)
    key = deal * n_st + gst
    _, first_rev = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - first_rev  # last (latest) row of each (deal, stage)
    entered = np.full((hi - lo, n_st), -1, np.int64)
    exited = np.full((hi - lo, n_st), -1, np.int64)
    entered.flat[key[last]] = t[last]
    exited.flat[key[last]] = exit_t[last]
    return entered, exited


class FormatWriter:
    """What every format's writer starts from: its company, and a Writer on its folder with the
    format's earlier files removed (`patterns`), so a rerun leaves no stale page behind."""

    def __init__(self, folder, comp, patterns, macros: str = ""):
        self.c = comp
        self.w = Writer(folder, comp)
        self.w.clear(patterns)
        if macros:
            self.w.db.execute(macros)

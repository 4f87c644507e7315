"""A mart's Parquet published as one file per value of a column, e.g. one per scoring date.

A mart that only grows (`lead_score_history`: each night's changes of grades) would otherwise
be rewritten whole each night, a cost that grows with every night kept. Here a night writes the
partitions that changed and hard-links the others from the previous version.

Layout (Hive-style; every file also holds the column itself):

    <mart>/<column>=<value>/data.parquet      read with read_parquet('<mart>/*/*.parquet')
    <mart>/_partitions.json                   each partition's row count and newest _built_at

A partition is unchanged when its row count and newest `_built_at` (when the dbt run that
wrote a row started) equal the previous version's: the same contract as delta.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote as url_quote

import duckdb

from orchestration.ingest.spec import literal, quote
from orchestration.publish.delta import BUILT_AT

FILE = "data.parquet"
SIGNATURES = "_partitions.json"
NULL_VALUE = "__HIVE_DEFAULT_PARTITION__"  # Hive's name for the partition of nulls


def write(con: duckdb.DuckDBPyConnection, source: str, target: Path, column: str,
          previous: Path | None) -> dict[str, int]:
    """Write `source` (a table name) into the folder `target`, one file per value of `column`;
    partitions unchanged since `previous` (the previous version's folder of this mart, None to
    write everything) are linked. Returns how many partitions were written and linked."""
    target.mkdir()
    signatures = _signatures(con, source, column)
    before = _read_signatures(previous)
    counts = {"written": 0, "linked": 0}
    for value, signature in signatures.items():
        folder = target / _folder_name(column, value)
        folder.mkdir()
        old = previous / folder.name / FILE if previous else None
        if old and signature[1] is not None and before.get(value) == signature \
                and _link(old, folder / FILE):
            counts["linked"] += 1
            continue
        key = quote(column)
        where = f"{key} is null" if value is None else f"{key} = {literal(value)}"
        con.execute(f"copy (select * from {source} where {where}) to "
                    f"{literal(str(folder / FILE))} (format parquet)")
        counts["written"] += 1
    (target / SIGNATURES).write_text(json.dumps(
        [[value, *signature] for value, signature in signatures.items()]))
    return counts


def _signatures(con, source: str, column: str) -> dict[str | None, list]:
    """Row count and newest `_built_at` (None if the mart has no such column) per value."""
    columns = {r[0] for r in con.execute(f"describe {source}").fetchall()}
    newest = f"cast(max({BUILT_AT}) as varchar)" if BUILT_AT in columns else "null"
    rows = con.execute(f"select cast({quote(column)} as varchar), count(*), {newest} "
                       f"from {source} group by 1 order by 1").fetchall()
    return {value: [count, built] for value, count, built in rows}


def _read_signatures(previous: Path | None) -> dict[str | None, list]:
    try:
        rows = json.loads((previous / SIGNATURES).read_text()) if previous else []
    except (OSError, ValueError):
        return {}  # no partitions before (or unreadable): write them all
    return {value: [count, built] for value, count, built in rows}


def _folder_name(column: str, value: str | None) -> str:
    return f"{column}={NULL_VALUE if value is None else url_quote(value, safe='')}"


def _link(old: Path, new: Path) -> bool:
    try:
        os.link(old, new)
        return True
    except OSError:
        return False  # gone, another file system, or links not allowed: write it

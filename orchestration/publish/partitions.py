"""A mart's Parquet published as one file per date or per month, e.g. one per scoring date.

A large mart (`fct_activities`, `fct_deal_stage_transitions`, `lead_score_history`) would
otherwise be rewritten whole each night, a cost that grows with every month kept. Here a night
writes the partitions whose rows changed and hard-links the others from the previous version.

A model chooses its partitions in its dbt config, `meta: publish_partition_by`:

    'scored_as_of'                                   one partition per value of a date column
    {'month_of': 'occurred_at', 'as': 'activity_month'}   one per month ('2026-10') of a date or
                                                     timestamp column, in a column added to the
                                                     files (the mart itself is unchanged);
                                                     only when SALESPIPE_PUBLISH_FACTS_BY_MONTH
                                                     is true, else one file (`chosen`)

Layout (Hive-style; every file also holds the partition column, as Hive readers expect it from
the folder name; the rows whose date is null are in `<column>=__HIVE_DEFAULT_PARTITION__`):

    <mart>/<column>=<value>/data.parquet      read with read_parquet('<mart>/*/*.parquet')
    <mart>/_partitions.json                   each partition's row count and content fingerprint

A partition is unchanged when its row count and content fingerprint (the sum of a hash of each
row's values, `_built_at` and `loaded_at` left out) equal the previous version's, and the mart's
columns are the same. Not `_built_at`: an incremental model rewrites every row of a changed deal
(new `_built_at`, new `loaded_at`), so months whose rows a night rewrote with the same values
would be written again. So in a linked partition a row's `_built_at` and `loaded_at` can be
older than the warehouse's (a later run rewrote it with the same values); every other column is
equal. A row deleted lowers its partition's count, so that partition is written again
without it; a partition left without rows is not published. Since the fingerprint is the
content, the weekly rebuild of the DuckDB file (delta.py) links unchanged partitions too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote as url_quote

import duckdb

from orchestration.ingest.spec import literal, quote
from orchestration.publish.delta import BUILT_AT

FILE = "data.parquet"
SIGNATURES = "_partitions.json"
NULL_VALUE = "__HIVE_DEFAULT_PARTITION__"  # Hive's name for the partition of nulls
SETTING = "meta publish_partition_by"
# When a row was built (`_built_at`) and when its source record landed (`loaded_at`, the facts'
# incremental watermark): bookkeeping that a rebuild of a changed deal renews on rows whose
# values stay the same, so it is left out of the fingerprint
WATERMARKS = (BUILT_AT, "loaded_at")
DATE_TYPES = ("DATE",)
MONTH_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE")


@dataclass(frozen=True)
class Partitioning:
    """How a mart is split: the partition column's name, the SQL giving a row's partition value
    (text), and whether that column is added to the files (not one of the mart's own); for a
    split by month, the date or timestamp column it is the month of."""

    column: str
    value: str
    added: bool
    month_of: str = ""


def partitioning(mart: str, spec: str | dict, columns: dict[str, str]) -> Partitioning:
    """The partitioning `spec` (the model's meta) describes for `mart`, whose columns and types
    are `columns`; ValueError naming the model's setting when it cannot be used."""
    if isinstance(spec, str):
        column, types = spec, DATE_TYPES
        split = Partitioning(spec, f"cast({quote(spec)} as varchar)", added=False)
    elif isinstance(spec, dict) and set(spec) == {"month_of", "as"} and spec["as"] not in columns:
        column, types = spec["month_of"], MONTH_TYPES
        split = Partitioning(spec["as"], _month(quote(column)), added=True, month_of=column)
    else:
        raise ValueError(
            f"{mart}: {SETTING} is {spec!r}; give a date column ('scored_as_of') or "
            "{'month_of': <date or timestamp column>, 'as': <a new column name>}")
    if columns.get(column) not in types:
        raise ValueError(f"{mart}: {SETTING} names {column!r}, which is "
                         f"{columns.get(column, 'no column of the mart')}; it must be "
                         f"{' or '.join(types)}")
    return split


def _month(expression: str) -> str:
    """SQL: the month ('2026-10') of a date or timestamp, as a partition value."""
    return f"strftime({expression}, '%Y-%m')"


def chosen(partitions: dict[str, str | dict], by_month: bool) -> dict[str, str | dict]:
    """The splits to publish: the models' `publish_partition_by`, less the monthly ones unless
    `by_month` (SALESPIPE_PUBLISH_FACTS_BY_MONTH); those marts are then one file each."""
    return {mart: spec for mart, spec in partitions.items()
            if by_month or not isinstance(spec, dict)}


def write(con: duckdb.DuckDBPyConnection, source: str, target: Path, split: Partitioning,
          previous: Path | None) -> dict:
    """Write `source` (a table name) into the folder `target`, one folder per partition;
    partitions unchanged since `previous` (the previous version's folder of this mart, None to
    write everything) are linked. Returns how many partitions were written and linked, the
    rows written, and which partitions were written."""
    target.mkdir()
    columns = con.execute(f"select column_name, column_type from (describe {source})").fetchall()
    signatures = _signatures(con, source, split, [name for name, _ in columns])
    state = {"value": split.value, "columns": [list(c) for c in columns]}
    before = _read_signatures(previous, state)
    written = []
    for value, signature in signatures.items():
        name = _folder_name(split.column, value)
        old = previous / name if previous else None
        if not (old and before.get(value) == signature and _link(old, target / name)):
            written.append(value)
    if written:
        _write_partitions(con, source, target, split, written)
    (target / SIGNATURES).write_text(json.dumps({
        **state, "partitions": [[value, *signature] for value, signature in signatures.items()]}))
    return {"written": len(written), "linked": len(signatures) - len(written),
            "written_rows": sum(signatures[v][0] for v in written),
            "written_partitions": [_folder_name(split.column, v) for v in written]}


def _write_partitions(con, source: str, target: Path, split: Partitioning,
                      values: list[str | None]) -> None:
    """One pass over `source` for every partition to write (a `COPY` per partition scans the
    mart each time: 10-20% more CPU at M): DuckDB writes them under a staging folder, then each
    moves into `target`."""
    staging = target.with_name(f".{target.name}.written")
    known = [literal(v) for v in values if v is not None]
    where = [f"{split.value} in ({', '.join(known)})"] if known else []
    if None in values:
        where.append(f"{split.value} is null")
    added = f", {split.value} as {quote(split.column)}" if split.added else ""
    con.execute(f"copy (select *{added} from {source} where {_months_range(split, values)}"
                f"({' or '.join(where)})) "
                f"to {literal(str(staging))} (format parquet, "
                f"partition_by ({quote(split.column)}), write_partition_columns true)")
    for value in values:
        name = _folder_name(split.column, value)
        files = sorted((staging / name).glob("*.parquet"))
        if not files:  # DuckDB named the folder otherwise: refuse rather than publish a gap
            raise duckdb.IOException(f"partition {name} of {target.name} was not written")
        (target / name).mkdir()
        for i, file in enumerate(files):  # one file per partition unless DuckDB split it
            os.replace(file, target / name / (FILE if len(files) == 1 else f"data_{i}.parquet"))
    shutil.rmtree(staging)


def _months_range(split: Partitioning, values: list[str | None]) -> str:
    """For a split by month, a condition on the date column itself that every row of the
    months `values` meets (a day's margin either side, whatever the time zone), followed by
    `and`: DuckDB checks it against each row group's min/max and skips the other months'
    groups, where the exact test formats every row's date (at L ~1.7 s for one month of
    21M activities). "" when there is nothing to narrow (or a value is no `yyyy-mm`)."""
    months = [v for v in values if v is not None]
    if not split.month_of or not months or not all(re.fullmatch(r"\d{4}-\d{2}", v)
                                                   for v in months):
        return ""
    try:
        first = dt.date.fromisoformat(f"{min(months)}-01") - dt.timedelta(days=1)
        after = dt.date.fromisoformat(f"{max(months)}-01") + dt.timedelta(days=33)
    except (ValueError, OverflowError):  # month 00, year 0 or 9999: Python's dates end there
        return ""
    column = quote(split.month_of)
    dated = f"{column} >= date '{first}' and {column} < date '{after}'"
    return f"({dated}{f' or {column} is null' if None in values else ''}) and "


def _signatures(con, source: str, split: Partitioning,
                columns: list[str]) -> dict[str | None, list]:
    """Row count and content fingerprint per partition, in one pass: the sum (a HUGEINT, so
    the order of rows does not matter and nothing overflows) of a hash of each row's values but
    the WATERMARKS; as text, for JSON. A split by month groups by the month's first day and
    formats only those: formatting every row's date cost more than the hashing (L, 21M rows)."""
    values = ", ".join(quote(c) for c in columns if c not in WATERMARKS)
    bucket, value = split.value, "bucket"
    if split.month_of:
        bucket, value = f"date_trunc('month', {quote(split.month_of)})", _month("bucket")
    rows = con.execute(f"select {value}, cast(sum(n) as bigint), cast(sum(f) as varchar) from "
                       f"(select {bucket} as bucket, count(*) as n, sum(hash({values})) as f "
                       f"from {source} group by 1) group by 1 order by 1").fetchall()
    return {value: [count, fingerprint] for value, count, fingerprint in rows}


def _read_signatures(previous: Path | None, state: dict) -> dict[str | None, list]:
    """The previous version's signatures, if it was split the same way from the same columns
    (else, or written before fingerprints, none: every partition is written once)."""
    try:
        stored = json.loads((previous / SIGNATURES).read_text()) if previous else {}
    except (OSError, ValueError):
        return {}  # no partitions before (or unreadable): write them all
    if not isinstance(stored, dict) or any(stored.get(k) != v for k, v in state.items()):
        return {}
    return {value: [count, fingerprint] for value, count, fingerprint in stored["partitions"]}


def _folder_name(column: str, value: str | None) -> str:
    return f"{column}={NULL_VALUE if value is None else url_quote(value, safe='')}"


def _link(old: Path, new: Path) -> bool:
    """Hard-link every file of the partition folder `old` into `new`."""
    files = sorted(old.glob("*.parquet"))
    if not files:
        return False
    try:
        new.mkdir()
        for file in files:
            os.link(file, new / file.name)
        return True
    except OSError:  # gone, another file system, or links not allowed: write it
        shutil.rmtree(new, ignore_errors=True)
        return False

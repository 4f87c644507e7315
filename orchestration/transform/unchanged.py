"""A dbt build left out when nothing it reads changed since the last build that passed.

A re-run with the same exports, the same project and the same as-of date would rebuild every
model to the same rows and re-run every test on them: ~300 dbt nodes of fixed cost for no
change (the demo's warm run: 12.7 of its 20 s). The build's inputs are fingerprinted:

- `project`: every file of the dbt project (models, macros, tests, seeds, snapshots, the
  project and profile YAML), byte for byte, and the dbt, dbt-duckdb and DuckDB versions;
- `raw`: each raw table's columns, row count and storage layout (its segments' blocks, counts,
  statistics and pending updates: DuckDB's `storage_info`, metadata only). A load, a deleted
  row or an UPDATE made by hand changes them, while reopening the file or writing other schemas
  does not (checked in tests/test_unchanged_inputs.py);
- `as_of`: the date the figures are measured against.

After a whole build (not a Dagster subset) in which every node passed without a warning, the
fingerprint is kept IN the warehouse (`meta.build_inputs`), so a replaced or restored warehouse
file carries its own. The next build is left out only if the fingerprint is the same and every
model, seed and snapshot table is still there with the definition and row count the build left
(`built`). Any dbt invocation on the warehouse, salespipe's or a user's (`dbt build
--full-refresh`, `dbt run -s ...`), first drops the record (the project's on-run-start hook
`forget_build_inputs`), and so does this module before each build.
DuckDB only, like the seeds' fingerprints (seeds.py). SALESPIPE_DBT_SKIP_UNCHANGED=false turns
it off.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import duckdb

TABLE = "meta.build_inputs"
# dbt writes these itself (compiled SQL, logs, partial-parse state): not inputs
_NOT_INPUTS = {"target", "logs", ".user.yml"}
_VERSIONS = ("dbt-core", "dbt-duckdb", "duckdb")
# A build whose nodes all ended so (no warning, no failure, no skipped node) is vouched for.
_CLEAN = {"success", "pass"}


@dataclass(frozen=True)
class Inputs:
    project: str
    raw: str
    as_of: str


@dataclass(frozen=True)
class Vouched:
    """The build the warehouse's tables are from: when, in which Dagster run."""
    built_at: dt.datetime
    run_id: str


def as_of() -> str:
    """The as-of date dbt measures against (macros/as_of.sql): SALESPIPE_AS_OF, else the UTC
    date. Read before dbt starts: if midnight passes in between, the record names the earlier
    day and the next run rebuilds, which costs time but never a wrong figure."""
    return os.environ.get("SALESPIPE_AS_OF") or dt.datetime.now(dt.UTC).date().isoformat()


def inputs(con: duckdb.DuckDBPyConnection, project_dir: Path, extra_vars: dict | None) -> Inputs:
    return Inputs(project=_project(project_dir, extra_vars), raw=_raw(con), as_of=as_of())


def _project(project_dir: Path, extra_vars: dict | None) -> str:
    digest = hashlib.sha256()
    for path in sorted(_project_files(project_dir)):
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    versions = {name: metadata.version(name) for name in _VERSIONS}
    digest.update(json.dumps([versions, extra_vars or {}], sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _project_files(project_dir: Path):
    for path in project_dir.iterdir():
        if path.name in _NOT_INPUTS:
            continue
        if path.is_dir():
            yield from (p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def _raw(con: duckdb.DuckDBPyConnection) -> str:
    # Rows still in the write-ahead log have no blocks yet, and get them when dbt's process
    # checkpoints the file: written to the file first, they keep the layout read here.
    con.execute("checkpoint")
    tables = [r[0] for r in con.execute("select table_name from duckdb_tables() "
                                        "where schema_name = 'raw' order by 1").fetchall()]
    return _digest([_columns(con, "raw")] + [_layout(con, "raw", t) for t in tables])


def built(con: duckdb.DuckDBPyConnection, nodes: list[dict]) -> str:
    """The tables and views the build wrote (its models, seeds and snapshots): each table's
    definition and row count, each view's SQL. One dropped, altered, or with rows added or
    deleted since (by hand, or by a run this record does not describe) no longer matches the
    record, and the next build runs. Their storage layout is left out: reading it costs ~4.5 s
    a build at L (raw's ~1 s), so a value of a mart edited in place by hand is not noticed."""
    relations = sorted({(n["schema"], n["alias"]) for n in nodes
                        if n["resource_type"] in ("model", "seed", "snapshot")
                        and n["config"].get("materialized") != "ephemeral"})
    views = {(s, v): sql for s, v, sql in con.execute(
        "select schema_name, view_name, sql from duckdb_views() where not internal").fetchall()}
    tables = {(s, t): sql for s, t, sql in con.execute(
        "select schema_name, table_name, sql from duckdb_tables()").fetchall()}
    return _digest([(r, tables[r], _count(con, *r)) if r in tables else views.get(r, "missing")
                    for r in relations])


def _count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    return con.execute(f"select count(*) from {_name(schema, table)}").fetchone()[0]


def _name(schema: str, table: str) -> str:
    quoted = table.replace('"', '""')
    return f'{schema}."{quoted}"'


def _digest(parts: list) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _columns(con: duckdb.DuckDBPyConnection, schema: str) -> list:
    return con.execute("select table_name, column_name, data_type from information_schema.columns "
                       "where table_schema = ? order by all", [schema]).fetchall()


def _layout(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list:
    """A table's row count and storage: its segments' blocks, row counts, statistics and
    pending updates (DuckDB's storage_info). A write to the table (a load, a delete, an
    UPDATE in place) changes them; reopening the file or writing other tables does not.
    Metadata only: no row is read."""
    return [table, _count(con, schema, table),
            con.execute("select * from pragma_storage_info(?)", [_name(schema, table)]).fetchall()]


def vouched(con: duckdb.DuckDBPyConnection, current: Inputs, nodes: list[dict]) -> Vouched | None:
    """The last clean build, if it read the same inputs and its tables are still as it left
    them (built)."""
    try:
        row = con.execute(f"select project, raw, as_of, built, built_at, run_id "
                          f"from {TABLE}").fetchone()
    # no clean build recorded, a dbt run dropped it since, or an older salespipe's record
    except (duckdb.CatalogException, duckdb.BinderException):
        return None
    if row is None or Inputs(*row[:3]) != current or row[3] != built(con, nodes):
        return None
    return Vouched(built_at=row[4], run_id=row[5])


def forget(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"drop table if exists {TABLE}")


def record(con: duckdb.DuckDBPyConnection, current: Inputs, nodes: list[dict],
           results: dict | None, run_id: str) -> bool:
    """Keep `current` as the inputs of the build that just ended, with the tables it left, if
    every node of it passed cleanly. A build with a warning is not vouched for, so the next
    run shows the warning again."""
    statuses = [r["status"] for r in (results or {}).get("results", [])]
    if not statuses or any(s not in _CLEAN for s in statuses):
        return False
    con.execute("create schema if not exists meta")
    con.execute(f"create or replace table {TABLE} (project varchar, raw varchar, as_of varchar, "
                "built varchar, built_at timestamp, run_id varchar)")
    con.execute(f"insert into {TABLE} values (?, ?, ?, ?, ?, ?)",
                [current.project, current.raw, current.as_of, built(con, nodes),
                 dt.datetime.now(dt.UTC).replace(tzinfo=None), run_id])
    return True

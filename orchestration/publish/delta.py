"""How each mart gets into a new publication file: copied whole, or brought up to date from the
previous publication.

Copying every mart whole costs the same each night however little changed, and the marts that
only grow (activities, stage transitions, score history) are most of it. So a new publication
file starts as a byte copy of the previous one, and a mart with a `_built_at` column (when the
dbt run that last wrote the row started) and a dbt unique key is brought up to date with what
dbt wrote since:

1. rows whose `_built_at` the previous publication does not hold were written since it;
2. the copy's rows with those rows' unique keys go and the new rows come in, as dbt's
   delete+insert did in the warehouse;
3. if the row counts then differ, the warehouse also deleted rows (a post-hook): rows whose
   key the warehouse no longer has go too;
4. counts that still differ, other columns, or a delta of half the mart or more (a full
   refresh): the mart is copied whole.

Every other mart is copied whole. The file is rebuilt from nothing when the previous one cannot
be used (missing, a `.wal` beside it, over a quarter of it free blocks, its last full build
older than `REBUILD_AFTER`, or written in another storage format than the one asked for now),
which keeps its size and any drift bounded.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

BUILT_AT = "_built_at"
REBUILD_AFTER = dt.timedelta(days=7)
MAX_FREE_SHARE, MIN_FREE_BYTES = 0.25, 64 * 2**20  # the byte floor spares small files
COPIED, DELTA, UNCHANGED = "copied", "delta", "unchanged"


def start_from(previous: Path, tmp_db: Path, now: dt.datetime,
               storage_version: str) -> dt.datetime | None:
    """Copy the previous publication to `tmp_db` if it can be brought up to date and is in the
    storage format `storage_version` (DuckDB keeps a file's format: a copy in another one would
    stay in it); returns the time of its last full build (carried on), or None when the new
    file starts empty."""
    if not previous.is_file() or previous.with_name(previous.name + ".wal").exists():
        return None
    try:
        con = duckdb.connect(str(previous), read_only=True)
        try:
            built, stored = con.execute("select max(full_build_at), max(storage_version) "
                                        "from meta.publication").fetchone()
            size, free, total = con.execute(
                "select block_size, free_blocks, total_blocks from pragma_database_size()"
            ).fetchone()
        finally:
            con.close()
    except duckdb.Error:  # unreadable, or published before full_build_at/storage_version
        return None
    wasted = free > MAX_FREE_SHARE * total and free * size > MIN_FREE_BYTES
    if built is None or now - built > REBUILD_AFTER or wasted or stored != storage_version:
        return None
    shutil.copyfile(previous, tmp_db)
    return built


def make_room(con: duckdb.DuckDBPyConnection, schema: str, into: str,
              keys: dict[str, list[str]]) -> None:
    """Drop from the copy the marts that will be copied whole, and checkpoint it: their new
    copies then reuse the old ones' blocks instead of growing the file by their size."""
    growing = {name for name in keys if BUILT_AT in dict(_columns(con, into, schema, name))}
    for (name,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = ? "
            "and table_schema = ?", [into, schema]).fetchall():
        if name not in growing:
            con.execute(f'drop table {into}.{schema}."{name}"')
    con.execute(f"checkpoint {into}")


def sync(con: duckdb.DuckDBPyConnection, schema: str, name: str, into: str,
         key: list[str] | None, reuse: bool) -> str:
    """Make table `into`.`schema`.`name` hold exactly the rows of `schema`.`name` in the
    current database; returns how."""
    source, target = f'{schema}."{name}"', f'{into}.{schema}."{name}"'
    columns = _columns(con, None, schema, name)
    if not (reuse and key and BUILT_AT in dict(columns)
            and _columns(con, into, schema, name) == columns):
        con.execute(f"create or replace table {target} as select * from {source}")
        return COPIED
    published = {r[0] for r in con.execute(
        f"select distinct {BUILT_AT} from {target}").fetchall()}
    written = {r[0] for r in con.execute(
        f"select distinct {BUILT_AT} from {source}").fetchall()}
    new = _is_in(sorted(written - published, key=str), dict(columns)[BUILT_AT])
    total = _count(con, source)
    delta = _count(con, source, new) if new else 0
    if 2 * delta >= total > 0:
        con.execute(f"create or replace table {target} as select * from {source}")
        return COPIED
    if delta:
        on = " and ".join(f't."{k}" = d."{k}"' for k in key)
        keys = ", ".join(f'"{k}"' for k in key)
        con.execute(f"delete from {target} as t using (select distinct {keys} from {source} "
                    f"where {new}) as d where {on}")
        con.execute(f"insert into {target} select * from {source} where {new}")
    deleted = _count(con, target) != total
    if deleted:
        on = " and ".join(f's."{k}" is not distinct from t."{k}"' for k in key)
        con.execute(f"delete from {target} as t where not exists "
                    f"(select 1 from {source} as s where {on})")
        if _count(con, target) != total:
            con.execute(f"create or replace table {target} as select * from {source}")
            return COPIED
    return DELTA if delta or deleted else UNCHANGED


def _columns(con, catalog: str | None, schema: str, name: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = coalesce(?, current_database()) and table_schema = ? "
        "and table_name = ? order by ordinal_position", [catalog, schema, name]).fetchall()]


def _count(con, table: str, where: str = "true") -> int:
    return con.execute(f"select count(*) from {table} where {where}").fetchone()[0]


def _is_in(stamps: list, type_: str) -> str:
    """A filter on the given `_built_at` values as constants, so DuckDB skips the row groups of
    other runs by their min/max instead of reading them."""
    literals = [f"cast('{s.isoformat(sep=' ')}' as {type_})" for s in stamps if s is not None]
    parts = [f"{BUILT_AT} in ({', '.join(literals)})"] if literals else []
    if None in stamps:
        parts.append(f"{BUILT_AT} is null")
    return f"({' or '.join(parts)})" if parts else ""

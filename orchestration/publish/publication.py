"""Publish the marts for BI tools: a DuckDB file and Parquet files, each replaced atomically.

BI tools cannot read the working warehouse while a run writes it (DuckDB allows one writer and
locks readers out), so a run builds there and then publishes a copy:

    <publish dir>/warehouse.duckdb    every mart (the dbt models of schema `marts`, with their
                                      descriptions as comments), plus meta.publication /
                                      meta.tables; in the storage format of
                                      SALESPIPE_PUBLISH_STORAGE_VERSION (compat.py)
    <publish dir>/parquet/<mart>.parquet   (a symlink to .versions/<version>/)
    <publish dir>/parquet/<mart>/<column>=<value>/data.parquet   a partitioned mart: a folder
                                      per date or month (orchestration/publish/partitions.py)
    <publish dir>/publication.json    what is published, when, from which run

The copy is read in one transaction on the working database while the run lock is held, so it
is one consistent state. The new DuckDB file starts as a copy of the previous one, and the
marts that only grow get only the rows written since (`orchestration/publish/delta.py`). It is
written to temporary names first, synced to disk, then swapped in with `os.replace` (atomic
on POSIX): a reader sees the old or the new publication, never a mix, and a crash before the
swap leaves the old one. The working database is only read.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from orchestration.publish import comments, compat, delta
from orchestration.publish import partitions as parquet_partitions
from orchestration.settings import PUBLISH_STORAGE_VERSION

DB_NAME = "warehouse.duckdb"
PARQUET_LINK = "parquet"
VERSIONS = ".versions"
MANIFEST = "publication.json"
SCHEMA = "marts"


class PublishError(RuntimeError):
    """Publishing failed; the previous publication is untouched."""


@dataclass
class Publication:
    version: str
    published_at: str
    as_of: str
    run_id: str
    database: str
    parquet_dir: str
    tables: dict[str, int]
    # how each mart got into the file: copied, delta (rows written since) or unchanged
    methods: dict[str, str] = field(default_factory=dict)
    full_build_at: str = ""  # when the DuckDB file was last built from nothing
    # partitioned marts' Parquet partitions: how many were written and linked, which written
    partitions: dict[str, dict] = field(default_factory=dict)
    # the DuckDB storage format the file is written in (SALESPIPE_PUBLISH_STORAGE_VERSION)
    storage_version: str = ""
    # tables in the warehouse's `marts` schema that are no dbt mart (left out); columns described
    left_out: list[str] = field(default_factory=list)
    described_columns: int = 0
    # seconds each mart took: into the DuckDB file, into Parquet
    seconds: dict[str, list[float]] = field(default_factory=dict)


def _relations(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = coalesce(?, current_database()) and table_schema = ? "
        "order by table_name", [catalog, SCHEMA]).fetchall()]


def _write_parquet(con, source: str, target: Path, unchanged_in: Path | None) -> None:
    """A mart that did not change keeps its previous Parquet file (a hard link: no copy, and
    the previous version's directory can still be removed later)."""
    if unchanged_in is not None and (unchanged_in / target.name).is_file():
        try:
            os.link(unchanged_in / target.name, target)
            return
        except OSError:
            pass  # another file system, or links not allowed: write it
    con.execute(f"copy (select * from {source}) to {_literal(target)} (format parquet)")


def _literal(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _marts(con, docs: dict[str, comments.MartDoc] | None, pub: Publication) -> list[str]:
    """The marts to publish: the tables of `marts` that dbt's manifest names (`docs`), or every
    one when not given. Anything else there (a helper, a crashed build's leftover) stays out."""
    names = _relations(con)
    if docs is None:
        return names
    pub.left_out = [name for name in names if name not in docs]
    return [name for name in names if name in docs]


def _attach(con, tmp_db: Path, storage_version: str) -> None:
    try:
        con.execute(f"attach {_literal(tmp_db)} as pub "
                    f"(storage_version {_literal(storage_version)})")
    except duckdb.InvalidInputException as exc:  # a version this DuckDB does not know
        raise PublishError(compat.unknown_version(storage_version, exc)) from None


def _copy(con, tmp_db: Path, parquet_dir: Path, pub: Publication, keys: dict[str, list[str]],
          partitions: dict[str, parquet_partitions.Partitioning], reuse: bool,
          previous_parquet: Path | None, names: list[str], docs: dict[str, comments.MartDoc] | None) -> None:
    """Bring every mart into the file (views become tables: the published file has no upstream
    schemas), comment it, and write its Parquet file."""
    _attach(con, tmp_db, pub.storage_version)
    # Rows of a table have no order to keep, and keeping it makes Parquet writes ~25% slower.
    con.execute("set preserve_insertion_order = false")
    began = False  # a failure before `begin` has no transaction to roll back
    try:
        if reuse:
            delta.make_room(con, SCHEMA, "pub", keys)
        con.execute("begin transaction")  # one snapshot for the file and the Parquet files
        began = True
        con.execute(f"create schema if not exists pub.{SCHEMA}")
        for stale in set(_relations(con, "pub")) - set(names):
            con.execute(f'drop table pub.{SCHEMA}."{stale}"')
        for name in names:
            pub.seconds[name] = _mart(con, name, pub, keys.get(name), partitions.get(name),
                                      docs[name] if docs is not None else None, reuse,
                                      parquet_dir, previous_parquet)
        con.execute("drop schema if exists pub.meta cascade")
        con.execute("create schema pub.meta")
        con.execute("create table pub.meta.publication as select ? as version, "
                    "?::timestamp as published_at, ? as as_of, ? as run_id, "
                    "?::timestamp as full_build_at, ? as storage_version",
                    [pub.version, pub.published_at, pub.as_of, pub.run_id, pub.full_build_at,
                     pub.storage_version])
        con.execute("create table pub.meta.tables (table_name varchar, row_count bigint)")
        con.executemany("insert into pub.meta.tables values (?, ?)", list(pub.tables.items()))
        con.execute("commit")
    except BaseException:
        if began:
            con.execute("rollback")
        raise
    finally:
        con.execute("reset preserve_insertion_order")
        con.execute("detach pub")  # checkpoints: the file is complete, no .wal beside it


def _mart(con, name: str, pub: Publication, key: list[str] | None,
          split: parquet_partitions.Partitioning | None, doc: comments.MartDoc | None,
          reuse: bool, parquet_dir: Path, previous_parquet: Path | None) -> list[float]:
    """Bring one mart into the file (`pub` attached) and write its Parquet; returns the seconds
    each took. A partitioned mart links its unchanged partitions from `previous_parquet` even
    when the file is rebuilt (their fingerprints are their content); another mart keeps its
    file only when the file's copy of it is unchanged."""
    started = time.perf_counter()
    how = delta.sync(con, SCHEMA, name, "pub", key, reuse)
    pub.methods[name] = how
    pub.tables[name] = con.execute(f'select count(*) from pub.{SCHEMA}."{name}"').fetchone()[0]
    if doc is not None:
        pub.described_columns += comments.write(con, "pub", SCHEMA, name, doc)
    in_file = time.perf_counter()
    source = f'{SCHEMA}."{name}"'
    if split is not None:
        pub.partitions[name] = parquet_partitions.write(
            con, source, parquet_dir / name, split,
            previous_parquet / name if previous_parquet else None)
    else:
        _write_parquet(con, source, parquet_dir / f"{name}.parquet",
                       previous_parquet if how == delta.UNCHANGED else None)
    return [round(in_file - started, 3), round(time.perf_counter() - in_file, 3)]


def _swap(publish_dir: Path, tmp_db: Path, version: str, pub: Publication) -> None:
    link_tmp = publish_dir / f".{PARQUET_LINK}.{version}.tmp"
    link_tmp.symlink_to(Path(VERSIONS) / version)
    os.replace(link_tmp, publish_dir / PARQUET_LINK)
    # a .wal beside the published file is someone's write to the old one (not supported): DuckDB
    # would replay it onto the new file
    (publish_dir / f"{DB_NAME}.wal").unlink(missing_ok=True)
    os.replace(tmp_db, publish_dir / DB_NAME)
    manifest_tmp = publish_dir / f".{MANIFEST}.{version}.tmp"
    manifest_tmp.write_text(json.dumps(asdict(pub), indent=2))
    os.replace(manifest_tmp, publish_dir / MANIFEST)
    _fsync(publish_dir)


def _clean(publish_dir: Path, keep: set[str]) -> None:
    """Drop temporaries of crashed publishes and every Parquet version but `keep` (the new one
    and the previous one, kept so a reader that resolved the old link a moment ago still finds
    its files)."""
    for path in publish_dir.glob(".*.tmp"):
        path.unlink(missing_ok=True)
    for path in (publish_dir / VERSIONS).iterdir():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def _linked_version(publish_dir: Path) -> str:
    link = publish_dir / PARQUET_LINK
    return Path(os.readlink(link)).name if link.is_symlink() else ""


def _partitionings(con, partitions: dict[str, str | dict],
                   names: list[str]) -> dict[str, parquet_partitions.Partitioning]:
    """Each partitioned mart's split, checked against its columns before anything is written."""
    splits = {}
    for name in names:
        if name in partitions:
            columns = dict(con.execute(
                "select column_name, data_type from information_schema.columns where "
                "table_catalog = current_database() and table_schema = ? and table_name = ?",
                [SCHEMA, name]).fetchall())
            try:
                splits[name] = parquet_partitions.partitioning(name, partitions[name], columns)
            except ValueError as exc:
                raise PublishError(f"not published: {exc}. The previous publication is "
                                   "untouched.") from None
    return splits


def publish(con: duckdb.DuckDBPyConnection, publish_dir: Path, as_of: str, run_id: str,
            pause=lambda phase: None, keys: dict[str, list[str]] | None = None,
            partitions: dict[str, str | dict] | None = None,
            storage_version: str = PUBLISH_STORAGE_VERSION,
            docs: dict[str, comments.MartDoc] | None = None) -> Publication:
    """Publish the `marts` schema of the database `con` is connected to. `keys`: the unique
    key of each incremental mart, whose new rows alone are copied (delta.py);
    `partitions`: how each partitioned mart's Parquet is split (its model's meta
    `publish_partition_by`, partitions.py); `storage_version`:
    the oldest DuckDB the file is for; `docs`: every mart with its descriptions (dbt's
    manifest), None to publish every table in `marts` without comments."""
    version = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:6]}"
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    pub = Publication(version, now.isoformat(sep=" "), as_of, run_id,
                      str(publish_dir / DB_NAME), str(publish_dir / PARQUET_LINK), {},
                      storage_version=storage_version)
    names = _marts(con, docs, pub)
    too_new = compat.too_new(con, SCHEMA, names, storage_version)
    if too_new:  # before anything is written: the previous publication stays as it is
        raise PublishError(f"not published for DuckDB {storage_version}: "
                           + "; ".join(too_new) + ". The previous publication is untouched.")
    splits = _partitionings(con, partitions or {}, names)
    tmp_db = publish_dir / f".{DB_NAME}.{version}.tmp"
    parquet_dir = publish_dir / VERSIONS / version
    try:
        parquet_dir.mkdir(parents=True)
        previous = _linked_version(publish_dir)
        _clean(publish_dir, keep={previous, version})
        built = delta.start_from(publish_dir / DB_NAME, tmp_db, now, storage_version)
        pub.full_build_at = (built or now).isoformat(sep=" ")
        _copy(con, tmp_db, parquet_dir, pub, keys or {}, splits,
              reuse=built is not None,
              previous_parquet=publish_dir / VERSIONS / previous if previous else None,
              names=names, docs=docs)
        for path in [tmp_db, *parquet_dir.rglob("*"), parquet_dir]:
            _fsync(path)
        pause("publish")
        _swap(publish_dir, tmp_db, version, pub)
    except (OSError, duckdb.Error, PublishError) as exc:
        tmp_db.unlink(missing_ok=True)
        shutil.rmtree(parquet_dir, ignore_errors=True)
        if isinstance(exc, PublishError):
            raise
        raise PublishError(
            f"publishing to {publish_dir} failed: {exc}. The previous publication is untouched; "
            "check SALESPIPE_PUBLISH_DIR is writable and has free space.") from None
    _clean(publish_dir, keep={previous, version})
    return pub


def current(publish_dir: Path) -> Publication | None:
    """The publication BI tools see now, or None if nothing was published yet."""
    try:
        return Publication(**json.loads((publish_dir / MANIFEST).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def describe(publish_dir: Path) -> str:
    pub = current(publish_dir)
    if pub is None:
        return f"Nothing has been published to {publish_dir} yet."
    return (f"The last good publication is untouched: {pub.database} "
            f"(published {pub.published_at} UTC, as of {pub.as_of}).")

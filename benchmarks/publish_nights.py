"""Publication cost night after night: `python -m benchmarks.publish_nights --warehouse W`.

Publishes the marts of a built warehouse (e.g. the L benchmark's, read only) into a scratch
folder several times. Before each night after the first, the rows of the newest dbt run are
removed from the published copy of every growing mart (`_built_at`), so that night brings them
back as a delta, as after a real nightly run (the Parquet partitions of the warehouse do not
change, so they are linked). With `--restamp`, a scratch copy of the warehouse is published
instead and each night gives the newest run's rows a new `_built_at`: the night then writes
the same rows and Parquet partitions the real last night wrote. `--single-file MART` publishes
a partitioned mart as one Parquet file (the layout before decision 4), to compare;
`--older-copies K` (with --restamp) adds K copies of the facts' ended history further back (each
60 months earlier, new keys, written by the full run): more history, the same nights. Prints per
night the publish time, how each growing mart went and its seconds (into the file, into
Parquet), the file's size and free blocks, and the process's peak memory.

`--before VERSION` measures one real night instead: VERSION is a Parquet version folder a
publication of this warehouse kept (`published/.versions/<version>`: the marts as the night
before). A scratch warehouse holding those marts is published (the full publish), then the
warehouse itself (the night: the rows and contents that night really changed), then the same
again with the DuckDB file built from nothing (the weekly rebuild). Each publish
runs in its own process, so its CPU seconds and peak memory are its own. `--keep-full DIR` keeps
the full publish (the night before) in DIR; `--from-full DIR` starts from a hard-linked copy of
such a DIR instead (no scratch warehouse, no full publish) and `--rounds N` publishes the night
N times, each from a fresh copy: nights of two code versions can then be timed alternately,
each from a night before its own code published.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import time
from pathlib import Path

import duckdb

from orchestration.publish import delta
from orchestration.publish.delta import BUILT_AT
from orchestration.publish.partitions import NULL_VALUE
from orchestration.publish.publication import DB_NAME, publish
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.transform.manifest import incremental_keys, published_partitions


def _forget_newest_run(published: Path, marts: list[str]) -> None:
    con = duckdb.connect(str(published))
    try:
        for mart in marts:
            con.execute(f"delete from marts.{mart} where {BUILT_AT} = "
                        f"(select max({BUILT_AT}) from marts.{mart})")
    finally:
        con.close()


def _restamp_newest_run(con: duckdb.DuckDBPyConnection, marts: list[str], night: int) -> None:
    for mart in marts:
        con.execute(f"update marts.{mart} set {BUILT_AT} = {BUILT_AT} + to_seconds({night}) "
                    f"where {BUILT_AT} = (select max({BUILT_AT}) from marts.{mart})")


# the facts' history copied back in time: key, date columns, which rows (ended ones only: a
# copied current stay would join the partition every night rewrites)
OLDER = {"fct_activities": ("activity_id", ["occurred_at"], "true"),
         "fct_deal_stage_transitions": ("transition_id", ["entered_at", "exited_at"],
                                        "exited_at is not null")}


def _add_older_history(con: duckdb.DuckDBPyConnection, copies: int) -> None:
    for mart, (key, dates, rows) in OLDER.items():
        first_run = f"(select min({BUILT_AT}) from marts.{mart})"
        for k in range(1, copies + 1):
            shifted = ", ".join(f"{d} - interval {60 * k} month as {d}" for d in dates)
            con.execute(f"insert into marts.{mart} by name select * replace ({key} || '-old{k}' "
                        f"as {key}, {shifted}, {first_run} as {BUILT_AT}) "
                        f"from marts.{mart} where {rows} and {key} not like '%-old%'")


def _cpu() -> float:
    """CPU seconds of this process, all threads: steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _file(published: Path) -> str:
    con = duckdb.connect(str(published), read_only=True)
    try:
        used, free = con.execute(
            "select used_blocks, free_blocks from pragma_database_size()").fetchone()
    finally:
        con.close()
    return f"{os.path.getsize(published) / 2**30:.2f} GB, {free / (used + free):.0%} free"


def _the_night_before(warehouse: Path, version: Path, target: Path) -> str:
    """A scratch warehouse whose marts hold the rows of the Parquet version folder `version`,
    in the warehouse's column types."""
    con = duckdb.connect(str(target))
    try:
        con.execute(f"attach '{warehouse}' as w (read_only)")
        con.execute("create schema marts")
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'w' "
            "and table_schema = 'marts' order by 1").fetchall()]
        for mart in marts:
            file = version / f"{mart}.parquet"
            files = file if file.exists() else version / mart / "*" / "*.parquet"
            columns = ", ".join(f'"{c}"' for c, in con.execute(
                "select column_name from information_schema.columns where table_catalog = 'w' "
                "and table_schema = 'marts' and table_name = ? order by ordinal_position",
                [mart]).fetchall())
            con.execute(f"create table marts.{mart} as from w.marts.{mart} limit 0")
            con.execute(f"insert into marts.{mart} select {columns} "
                        f"from read_parquet('{files}', hive_partitioning = false)")
        return f"{len(marts)} marts from {version}"
    finally:
        con.close()


def _publish_step(warehouse: Path, out: Path, opts, keys, partitions, name: str,
                  rebuild: bool = False) -> str:
    if rebuild:  # in the child process only: the weekly rebuild of the file, now
        delta.REBUILD_AFTER = dt.timedelta(0)
    con = duckdb.connect(config={"memory_limit": opts.memory_limit})
    try:
        con.execute(f"attach '{warehouse}' as w (read_only)")
        con.execute("use w")
        pub = publish(con, out, "benchmark", name, keys=keys, partitions=partitions)
    finally:
        con.close()
    facts = sorted(set(pub.partitions) | {m for m in pub.methods if m.startswith("fct_")})
    how = "; ".join(f"{m} {pub.methods[m]} ({pub.tables[m]:,} rows; file / Parquet s "
                    f"{pub.seconds[m]})" + (
                        f", partitions written {p['written']} linked {p['linked']}, rows "
                        f"written {p.get('written_rows', _rows(out, m, p)):,}"
                        if (p := pub.partitions.get(m)) else "") for m in facts)
    return f"{how}; file {_file(out / DB_NAME)}"


def _rows(out: Path, mart: str, how: dict) -> int:
    """Rows in the partitions written (for a publication that does not count them)."""
    stored = json.loads((out / "parquet" / mart / "_partitions.json").read_text())
    counts = {f"={NULL_VALUE if v is None else v}": n for v, n, *_ in stored["partitions"]}
    return sum(n for folder in how["written_partitions"] for suffix, n in counts.items()
               if folder.endswith(suffix))


def _measured(label: str, step) -> None:
    """Run `step` in a child process; print its result with its wall and CPU seconds and
    peak memory (its own: a process's peak never goes down)."""
    started = time.perf_counter()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no DuckDB open in the parent at this point
        os.close(read)
        try:
            line = step()
        except BaseException as exc:  # noqa: BLE001 - reported by the parent
            line = f"FAILED: {exc}"
        os.write(write, line.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        line = pipe.read()
    _, _, usage = os.wait4(pid, 0)
    print(f"{label}: {time.perf_counter() - started:.1f} s, "
          f"{usage.ru_utime + usage.ru_stime:.1f} s CPU, peak {usage.ru_maxrss / 1024:.0f} MB; "
          f"{line}", flush=True)


def _real_night(opts, keys, partitions) -> None:
    if opts.from_full:
        for round_ in range(1, opts.rounds + 1):
            _copy_publication(opts.from_full, opts.out)
            _measured(f"the night, round {round_}", lambda: _publish_step(
                opts.warehouse, opts.out, opts, keys, partitions, "night"))
        return
    before = opts.out.with_name(opts.out.name + "-before.duckdb")
    before.unlink(missing_ok=True)
    _measured("the night before", lambda: _the_night_before(opts.warehouse, opts.before, before))
    _measured("full publish", lambda: _publish_step(before, opts.out, opts, keys, partitions,
                                                    "full"))
    if opts.keep_full:
        _copy_publication(opts.out, opts.keep_full)
    _measured("the night", lambda: _publish_step(opts.warehouse, opts.out, opts, keys,
                                                 partitions, "night"))
    _measured("a weekly rebuild after it", lambda: _publish_step(
        opts.warehouse, opts.out, opts, keys, partitions, "rebuild", rebuild=True))
    before.unlink()


def _copy_publication(source: Path, target: Path) -> None:
    """A copy of a publish folder by hard links: a publish replaces files, never writes into
    them, so the copy's publishes leave `source` as it was."""
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(["cp", "-al", str(source), str(target)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True, help="a built warehouse")
    parser.add_argument("--out", type=Path, default=Path("/tmp/salespipe-publish-nights"))
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--restamp", action="store_true",
                        help="publish a scratch copy whose newest run is written again each night")
    parser.add_argument("--single-file", action="append", default=[], metavar="MART")
    parser.add_argument("--older-copies", type=int, default=0, metavar="K")
    parser.add_argument("--before", type=Path, metavar="VERSION",
                        help="a Parquet version folder of the night before: one real night")
    parser.add_argument("--keep-full", type=Path, metavar="DIR",
                        help="with --before: keep the full publish (the night before) in DIR")
    parser.add_argument("--from-full", type=Path, metavar="DIR",
                        help="with --before: the night from a copy of DIR (a --keep-full)")
    parser.add_argument("--rounds", type=int, default=1, help="with --from-full")
    opts = parser.parse_args()
    shutil.rmtree(opts.out, ignore_errors=True)
    opts.out.mkdir(parents=True)
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    keys = incremental_keys(manifest, "marts")
    partitions = {mart: split for mart, split in published_partitions(manifest, "marts").items()
                  if mart not in opts.single_file}
    if opts.before:
        _real_night(opts, keys, partitions)
        return
    warehouse = opts.warehouse
    if opts.restamp:
        warehouse = opts.out.with_name(opts.out.name + "-warehouse.duckdb")
        shutil.copyfile(opts.warehouse, warehouse)
    con = duckdb.connect(config={"memory_limit": opts.memory_limit})
    con.execute(f"attach '{warehouse}' as w{'' if opts.restamp else ' (read_only)'}")
    con.execute("use w")
    if opts.restamp and opts.older_copies:
        _add_older_history(con, opts.older_copies)
    growing = [m for m, _ in con.execute(
        "select table_name, 1 from information_schema.columns where table_catalog = 'w' "
        "and table_schema = 'marts' and column_name = ?", [BUILT_AT]).fetchall()]
    for night in range(1, opts.nights + 1):
        if night > 1 and opts.restamp:
            _restamp_newest_run(con, growing, night)
        elif night > 1:
            _forget_newest_run(opts.out / DB_NAME, growing)
        started, cpu = time.perf_counter(), _cpu()
        pub = publish(con, opts.out, "benchmark", f"night-{night}", keys=keys,
                      partitions=partitions)
        seconds, cpu = time.perf_counter() - started, _cpu() - cpu
        how = ", ".join(f"{m} {pub.methods[m]} {pub.seconds[m]}" for m in sorted(growing))
        written = {m: {k: v for k, v in p.items() if k != "written_partitions"}
                   for m, p in pub.partitions.items()}
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"night {night}: publish {seconds:.1f} s, {cpu:.1f} s CPU ({how}); Parquet partitions "
              f"{written}; file {_file(opts.out / DB_NAME)}; peak {peak:.0f} MB",
              flush=True)


if __name__ == "__main__":
    main()

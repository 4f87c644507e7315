"""Publication cost night after night: `python -m benchmarks.publish_nights --warehouse W`.

Publishes the marts of a built warehouse (e.g. the L benchmark's, read only) into a scratch
folder several times. Before each night after the first, the rows of the newest dbt run are
removed from the published copy of every growing mart (`_built_at`), so that night brings them
back as a delta, as after a real nightly run (the Parquet partitions of the warehouse do not
change, so they are linked). Prints per night the publish time, how each growing mart went,
the file's size and free blocks, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from pathlib import Path

import duckdb

from orchestration.publish.delta import BUILT_AT
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


def _file(published: Path) -> str:
    con = duckdb.connect(str(published), read_only=True)
    try:
        used, free = con.execute(
            "select used_blocks, free_blocks from pragma_database_size()").fetchone()
    finally:
        con.close()
    return f"{os.path.getsize(published) / 2**30:.2f} GB, {free / (used + free):.0%} free"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True, help="a built warehouse")
    parser.add_argument("--out", type=Path, default=Path("/tmp/salespipe-publish-nights"))
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--memory-limit", default="2GB")
    opts = parser.parse_args()
    shutil.rmtree(opts.out, ignore_errors=True)
    opts.out.mkdir(parents=True)
    con = duckdb.connect(config={"memory_limit": opts.memory_limit})
    con.execute(f"attach '{opts.warehouse}' as w (read_only)")
    con.execute("use w")
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    keys = incremental_keys(manifest, "marts")
    partitions = published_partitions(manifest, "marts")
    growing = [m for m, _ in con.execute(
        "select table_name, 1 from information_schema.columns where table_catalog = 'w' "
        "and table_schema = 'marts' and column_name = ?", [BUILT_AT]).fetchall()]
    for night in range(1, opts.nights + 1):
        if night > 1:
            _forget_newest_run(opts.out / DB_NAME, growing)
        started = time.perf_counter()
        pub = publish(con, opts.out, "benchmark", f"night-{night}", keys=keys,
                      partitions=partitions)
        seconds = time.perf_counter() - started
        how = ", ".join(f"{m} {pub.methods[m]}" for m in sorted(growing))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"night {night}: publish {seconds:.1f} s ({how}); Parquet partitions "
              f"{pub.partitions}; file {_file(opts.out / DB_NAME)}; peak {peak:.0f} MB",
              flush=True)


if __name__ == "__main__":
    main()

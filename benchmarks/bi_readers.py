"""Which DuckDB releases open the published file in which storage format:
`python -m benchmarks.bi_readers --published data/published/warehouse.duckdb`.

Copies the published file (marts, comments, meta) into one file per storage version, written
by this DuckDB, then opens each read-only with each older DuckDB release (its own virtualenv,
benchmarks/duckdb_releases.py) and reads every mart whole. Prints the matrix the README's
"Which tools and DuckDB versions open it" states, and each file's size.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import duckdb

from benchmarks.duckdb_releases import duckdb_python

STORAGE = ["v1.0.0", "v1.2.0", "v1.3.0", "v1.4.0", "v1.5.0", "latest"]
RELEASES = ["0.10.3", "1.0.0", "1.1.3", "1.2.2", "1.3.2", "1.4.5", "1.5.6"]
READ = r"""
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
marts = [r[0] for r in con.execute(
    "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()]
rows = sum(len(con.execute(f'select * from marts."{t}"').fetchall()) for t in marts)
comments = con.execute("select count(comment) from duckdb_columns() "
                       "where schema_name = 'marts'").fetchone()[0]
print(f"{len(marts)} marts, {rows} rows, {comments} column comments")
"""


def _write(published: Path, storage: str, target: Path) -> int:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{published}' as src (read_only)")
        con.execute(f"attach '{target}' as dst (storage_version '{storage}')")
        con.execute("copy from database src to dst")
        con.execute("detach dst")
    finally:
        con.close()
    return target.stat().st_size


def _read(python: Path, path: Path) -> str:
    out = subprocess.run([str(python), "-c", READ, str(path)], check=False, capture_output=True,
                         text=True, timeout=300)
    if out.returncode:
        lines = out.stderr.strip().splitlines() or ["?"]
        return "no: " + next((line for line in lines if "Error:" in line), lines[-1])[:110]
    return "yes: " + out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--published", type=Path, required=True)
    parser.add_argument("--storage", nargs="+", default=STORAGE)
    parser.add_argument("--releases", nargs="+", default=RELEASES)
    args = parser.parse_args()
    pythons = {release: duckdb_python(release) for release in args.releases}
    with tempfile.TemporaryDirectory() as scratch:
        for storage in args.storage:
            path = Path(scratch) / f"{storage}.duckdb"
            size = _write(args.published.resolve(), storage, path)
            print(f"{storage} ({size / 2**20:.1f} MiB, written by DuckDB {duckdb.__version__})")
            for release, python in pythons.items():
                print(f"  DuckDB {release}: {_read(python, path)}")


if __name__ == "__main__":
    main()

"""Memory and time of landing one wide export file (issue 30: a CSV with thousands of columns).

`python -m benchmarks.wide_files --columns 2000 --kb 2048` writes a HubSpot deals export with
that many columns (about that many kilobytes) to a temporary folder and lands it after a
narrow export of `--existing-rows` deals (so the new columns join a table with rows), in a
child process with the settings in the environment (SALESPIPE_DUCKDB_MEMORY_LIMIT, default
2GB; SALESPIPE_MAX_COLUMNS_PER_FILE), twice: the first load adds every column to the raw
table, the second replaces the rows of a changed file. It prints the peak resident memory of
the child (MB) and the seconds of each load. Results: benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REQUIRED = ["Record ID", "Pipeline", "Deal Stage", "Create Date"]


def write_export(path: Path, columns: int, kb: int, rows: int | None = None) -> int:
    """A deals CSV of `columns` columns in all (the required ones, then custom properties),
    about `kb` kilobytes (or `rows` rows); its row count."""
    extra = max(0, columns - len(REQUIRED))
    header = REQUIRED + [f"Custom property {i}" for i in range(extra)]
    rows = rows or max(1, kb * 1024 // (extra * 4 + 60))
    with path.open("w") as fh:
        fh.write(",".join(f'"{h}"' for h in header) + "\n")
        for r in range(rows):
            fh.write(",".join([str(r + 1), "Sales Pipeline", "Closed Won", "2024-01-01 09:00"]
                              + [str((r + i) % 997) for i in range(extra)]) + "\n")
    return rows


def child(folder: str, out: str) -> None:
    import duckdb

    from orchestration.settings import Settings
    from orchestration.sources.hubspot import OBJECTS

    settings = Settings.from_env()
    deals = next(o for o in OBJECTS if o.name == "deals")
    con = duckdb.connect(str(Path(folder) / "warehouse.duckdb"))
    con.execute("set memory_limit = ?", [settings.duckdb_memory_limit or "2GB"])
    times = []
    for attempt in range(2):
        if attempt:  # a changed file: its rows are replaced
            path = Path(folder) / "hubspot" / "deals.csv"
            path.write_text(path.read_text().replace("Closed Won", "Closed Lost"))
        started = time.perf_counter()
        deals.load(con, Path(folder) / "hubspot")
        times.append(round(time.perf_counter() - started, 2))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    Path(out).write_text(json.dumps({"seconds": times, "peak_mb": peak_mb,
                                     "memory_limit": settings.duckdb_memory_limit}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=2000)
    parser.add_argument("--kb", type=int, default=2048)
    parser.add_argument("--existing-rows", type=int, default=100_000,
                        help="rows of a narrow deals export landed before the wide one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="salespipe-wide-") as tmp:
        folder = Path(tmp) / "hubspot"
        folder.mkdir()
        rows = write_export(folder / "deals.csv", args.columns, args.kb)
        if args.existing_rows:  # deals landed before from a usual export, already in the table
            write_export(folder / "deals-earlier.csv", len(REQUIRED), 0, args.existing_rows)
        size_kb = (folder / "deals.csv").stat().st_size // 1024
        out = Path(tmp) / "out.json"
        run = subprocess.run([sys.executable, "-m", "benchmarks.wide_files", "--child", tmp,
                              str(out)], check=False, capture_output=True, text=True)
        if run.returncode:
            print(run.stderr[-2000:])
            sys.exit(run.returncode)
        result = json.loads(out.read_text())
    print(f"{args.columns} columns, {rows} rows, {size_kb} KB after {args.existing_rows} "
          f"narrow rows: peak {result['peak_mb']} MB "
          f"(memory limit {result['memory_limit']}), loads {result['seconds']} s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:4])
    else:
        main()

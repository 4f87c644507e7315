"""Which library reads `.xlsx` exports: `python -m benchmarks.xlsx_readers [--rows 50000]`.

Writes a deals sheet shaped like a CRM export (ids, names, stages, amounts as number cells,
dates as date cells, a few text columns) with openpyxl, then reads it back with
python-calamine and with openpyxl (read-only mode, values only), each in a fresh process, and
prints the read time and the peak resident memory of that process (its own import included,
and the same process reading nothing, for reference). The figures are in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADERS = ["Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Owner",
           "Deal - Pipeline", "Deal - Stage", "Deal - Deal created", "Deal - Expected close date",
           "Deal - Close time", "Deal - Contact person ID", "Deal - Lost reason"]
STAGES = ["Lead In", "Qualified", "Demo Scheduled", "Proposal Made", "Negotiation", "Won", "Lost"]


def write_sheet(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Deals")
    sheet.append(HEADERS)
    start = dt.datetime(2024, 1, 1, 9, 0)
    for i in range(rows):
        created = start + dt.timedelta(hours=7 * i)
        sheet.append([i + 1, f"Company {i % 997} - Deal {i}", round(1000 + (i * 37.5) % 90000, 2),
                      "USD", f"Owner {i % 23}", "Sales", STAGES[i % len(STAGES)], created,
                      created.date() + dt.timedelta(days=60), created + dt.timedelta(days=45)
                      if i % 3 else None, i % 4000, "Timing" if i % 7 == 0 else None])
    book.save(path)


def read(library: str, path: Path) -> int:
    """Every cell of the first sheet as Python values; the number of rows read."""
    if library == "calamine":
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        return len(book.get_sheet_by_index(0).to_python(skip_empty_area=False))
    if library == "openpyxl":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        count = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
        book.close()
        return count
    return 0  # "none": the process reading nothing, for the memory baseline


def child(library: str, path: Path) -> None:
    began = time.perf_counter()
    rows = read(library, path)
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{library:<9} {rows:>7} rows  {seconds:6.2f} s  peak {peak_mb:6.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--child", nargs=2, metavar=("LIBRARY", "PATH"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deals.xlsx"
        write_sheet(path, args.rows)
        print(f"{path.name}: {args.rows} deals, {path.stat().st_size / 1e6:.1f} MB")
        for library in ("none", "calamine", "openpyxl"):
            subprocess.run([sys.executable, "-m", "benchmarks.xlsx_readers", "--child",
                            library, str(path)], check=True)


if __name__ == "__main__":
    main()

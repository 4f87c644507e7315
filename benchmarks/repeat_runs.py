"""What a `run_pipeline()` call costs when the process ran the pipeline before (the tests call
it dozens of times per worker): `python -m benchmarks.repeat_runs [--runs 3]`.

Lands the `dollars` test fixture (generic deals only, ingest-only selection, as
tests/test_export_formats.py does) in a fresh temp folder `--runs` times in one process and
prints each call's wall seconds; the first call includes loading the definitions. The figures
are in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "formats" / "dollars"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    tmp = Path(tempfile.mkdtemp(prefix="salespipe-repeat-"))
    shutil.copytree(FIXTURE, tmp / "exports")
    os.environ.update(SALESPIPE_DATA_DIR=str(tmp / "data"),
                      SALESPIPE_SOURCE_DIR=str(tmp / "exports"),
                      SALESPIPE_WAREHOUSE=str(tmp / "data" / "warehouse.duckdb"),
                      SALESPIPE_AS_OF="2024-03-31")
    import dagster as dg

    from orchestration.pipeline import run_pipeline

    selection = dg.AssetSelection.assets(dg.AssetKey(["raw", "generic_deals"])) \
        .required_multi_asset_neighbors().without_checks()
    try:
        for i in range(runs):
            start = time.perf_counter()
            run_pipeline(selection=selection, stream=False)
            print(f"run {i + 1}: {time.perf_counter() - start:.2f} s", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""One measured process of the benchmark (benchmarks/run.py starts it and samples its memory).

`python -m benchmarks.child pipeline OUT.json`: run_pipeline() with the settings in the
environment; writes the run's step timings (from Dagster's event log), the seconds of each dbt
node (from the dbt step's run_results.json) and mart row counts.
`python -m benchmarks.child reference OUT.json EXPORT_DIR AS_OF DB`: the plain DuckDB script
benchmarks/reference.sql on the same exports.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

REFERENCE_SQL = Path(__file__).with_name("reference.sql")


def pipeline(out: Path) -> None:
    started = time.time()
    from benchmarks.dbt_times import node_times, run_folder
    from orchestration.pipeline import run_pipeline

    summary = run_pipeline(log_level="WARNING")
    ended = time.time()
    folder = run_folder(summary.run_id)
    out.write_text(json.dumps({
        "started": started, "ended": ended, "steps": summary.steps,
        "dbt_nodes": node_times(folder) if folder else {},
        "mart_rows": summary.mart_rows, "checks_failed": [
            f"{c.asset} {c.check}" for c in summary.checks if not c.passed],
    }))


def reference(out: Path, export_dir: str, as_of: str, db: str) -> None:
    import duckdb

    started = time.time()
    sql = REFERENCE_SQL.read_text().replace("{export}", export_dir).replace("{as_of}", as_of)
    con = duckdb.connect(db)
    result = None
    for statement in (s for s in sql.split(";\n") if s.strip()):
        result = con.execute(statement)
    row = result.fetchone()
    cols = [d[0] for d in result.description]
    con.close()
    out.write_text(json.dumps({"started": started, "ended": time.time(),
                               "counts": dict(zip(cols, row))}))


if __name__ == "__main__":
    kind, target, *rest = sys.argv[1:]
    {"pipeline": pipeline, "reference": reference}[kind](Path(target), *rest)

"""Run one stored GX suite against the warehouse and turn each expectation into an outcome.

GX's SQL datasource does not work on DuckDB here (it closes the connection before fetching), so
the suite runs on a pandas DataFrame. The DataFrame holds only the columns the suite's SELECT
names, at most MAX_ROWS of them, newest first (the suite's `order_by`: a raw table's newest
loads, a mart's newest records), so what a night adds is validated however large the table
grows. The row-count band is judged
here, on the whole table's count in SQL, not by GX on the DataFrame.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration.checks import row_counts
from orchestration.checks.gx_import import import_gx
from orchestration.settings import PROJECT_ROOT

SUITES_DIR = PROJECT_ROOT / "expectations"  # the stored suites, the ones that run
SAMPLE_ROWS = 5  # failing rows shown in a check's metadata
# GX validates a pandas DataFrame; a table larger than this is validated on MAX_ROWS of its rows
# (the newest loads' for raw tables; a portable ORDER BY / LIMIT, no full table in memory at a
# million deals). The row-count band is counted in SQL on the whole table, and the full-table
# key tests are dbt's unique/not_null.
MAX_ROWS = 250_000
ROW_COUNT = "expect_table_row_count_to_be_between"


@dataclass
class Outcome:
    check: str
    expectation: str
    passed: bool
    error: bool  # GX severity "critical"
    counts: dict[str, Any] = field(default_factory=dict)
    sample: list[dict[str, Any]] = field(default_factory=list)


def load_suite(path: Path) -> dict:
    return json.loads(path.read_text())


def _context():
    # Imported here: GX takes seconds to import, and loading the definitions should not wait.
    import_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    # In memory, no analytics, no progress bars: nothing written or sent per run.
    config = DataContextConfig(
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _parameters(con, suite: dict, run_id: str, read) -> tuple[dict, dict]:
    meta = suite["meta"]
    params = {name: read(sql).iloc[:, 0].tolist()  # one-column value sets
              for name, sql in meta.get("parameters", {}).items()}
    band = next((e["meta"]["band"] for e in suite["expectations"]
                 if e["type"] == ROW_COUNT), None)
    if band is None:  # the row-count check is not selected in this run
        return params, {}
    key = "/".join(meta["asset_key"])
    count = int(read(f"select count(*) from ({meta['select']}) as counted").iloc[0, 0])
    prev = row_counts.previous(con, key, run_id)
    params.update(row_counts.band(prev, band))
    row_counts.record(con, key, run_id, count)
    return params, {"previous_row_count": prev, "row_count": count}


def _sample(df, indexes: list) -> list[dict[str, Any]]:
    rows = df.loc[indexes[:SAMPLE_ROWS]].to_dict(orient="records")
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    """A value Dagster metadata can hold: numbers and booleans as they are, the rest as text."""
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return None
    return value if isinstance(value, (int, float, bool)) else str(value)


def _outcome(result, df, checks: dict[str, dict]) -> Outcome:
    config = result.expectation_config
    spec = checks[config.meta["check"]]
    res = result.result or {}
    counts = {k: res[k] for k in ("element_count", "unexpected_count", "unexpected_percent",
                                  "missing_count", "observed_value") if k in res}
    if result.exception_info.get("raised_exception"):
        counts["exception"] = result.exception_info.get("exception_message")
    return Outcome(config.meta["check"], config.type, bool(result.success),
                   spec["severity"] == "critical", counts,
                   _sample(df, res.get("partial_unexpected_index_list") or []))


def validate(con: duckdb.DuckDBPyConnection, suite: dict, run_id: str,
             read=None) -> list[Outcome]:
    """Every expectation of `suite` on the rows its SELECT returns, in the suite's order.

    `read(sql) -> DataFrame` runs the suite's SQL (the engine's reader for marts, see
    orchestration/engines); by default `con`. Row-count history stays in `con` (the warehouse)."""
    read = read or (lambda sql: con.execute(sql).df())
    params, extra = _parameters(con, suite, run_id, read)
    on_rows = [e for e in suite["expectations"] if e["type"] != ROW_COUNT]
    outcomes = _run_gx(suite, on_rows, params, extra, read) if on_rows else {}
    outcomes.update({e["meta"]["check"]: _row_count_outcome(e, params, extra)
                     for e in suite["expectations"] if e["type"] == ROW_COUNT})
    return [outcomes[e["meta"]["check"]] for e in suite["expectations"]]


def _run_gx(suite: dict, expectations: list[dict], params: dict, extra: dict,
            read) -> dict[str, Outcome]:
    """The expectations on rows, run by GX on (at most MAX_ROWS of) the suite's SELECT."""
    import_gx()
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite

    order = suite["meta"].get("order_by")
    df = read(f"select * from ({suite['meta']['select']}) as checked"
              + (f" order by {order}" if order else "") + f" limit {MAX_ROWS}")
    if len(df) == MAX_ROWS:
        extra["validated_rows"] = (f"newest {MAX_ROWS:,} rows (by {order.split()[0]})" if order
                                   else f"first {MAX_ROWS:,} rows")
    ctx = _context()
    batch = (ctx.data_sources.add_pandas("warehouse").add_dataframe_asset(suite["name"])
             .add_batch_definition_whole_dataframe("all_rows"))
    definition = gx.ValidationDefinition(name=suite["name"], data=batch, suite=ctx.suites.add(
        ExpectationSuite(**{**suite, "expectations": expectations})))
    run = definition.run(batch_parameters={"dataframe": df}, expectation_parameters=params,
                         result_format={"result_format": "SUMMARY",
                                        "partial_unexpected_count": SAMPLE_ROWS})
    checks = {e["meta"]["check"]: e for e in expectations}
    return {o.check: o for o in (_outcome(r, df, checks) for r in run.results)}


def _row_count_outcome(expectation: dict, params: dict, extra: dict) -> Outcome:
    """The row-count band, judged on the table's count in SQL. GX would count the DataFrame,
    which holds at most MAX_ROWS rows: every table larger than twice that would fall below the
    band of its own previous run, night after night."""
    count, low, high = extra["row_count"], params["row_count_min"], params["row_count_max"]
    passed = (low is None or count >= low) and (high is None or count <= high)
    return Outcome(expectation["meta"]["check"], ROW_COUNT, passed,
                   expectation.get("severity") == "critical",
                   {"observed_value": count, **extra})

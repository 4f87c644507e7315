"""Which columns a failed `not_null_columns` test found null, and in how many rows.

The dbt test (dbt_project/tests/generic/not_null_columns.sql) checks all of a model's not-null
columns in one query whose rows are (column_name, null_rows); dbt reports only their sum. While
dbt builds, it holds the DuckDB file, so these checks' results are held back until the build
ends; then the test's compiled SQL (from run_results.json) is run again on the warehouse and
each failing column, with its row count, goes into the check's metadata and the run's error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg

TEST = "not_null_columns"


def _is_test(unique_id: str, manifest: dict) -> bool:
    node = manifest["nodes"].get(unique_id, {})
    return node.get("test_metadata", {}).get("name") == TEST


def is_null_columns_check(event: Any, manifest: dict) -> bool:
    """A failed check of a `not_null_columns` test."""
    return (isinstance(event, dg.AssetCheckResult) and not event.passed
            and _is_test(_unique_id(event), manifest))


def _unique_id(event: dg.AssetCheckResult) -> str:
    value = event.metadata.get("unique_id")
    return str(getattr(value, "value", value or ""))


def null_counts(run_results: dict | None, manifest: dict,
                query: Callable[[str], Any]) -> dict[str, dict]:
    """{test unique_id: {column: null rows}} for every failed not_null_columns test, found by
    running its compiled SQL with `query` (a mart reader's: SQL in, DataFrame out)."""
    counts = {}
    for result in (run_results or {}).get("results", []):
        uid, sql = result.get("unique_id", ""), result.get("compiled_code")
        if result.get("status") in {"fail", "warn"} and sql and _is_test(uid, manifest):
            rows = query(sql)
            counts[uid] = {str(c): int(n) for c, n in zip(rows["column_name"], rows["null_rows"])}
    return counts


def describe(columns: dict[str, int]) -> str:
    """"deal_id: 3 null rows, team: 1 null row"."""
    return ", ".join(f"{column}: {rows} null row{'' if rows == 1 else 's'}"
                     for column, rows in columns.items())


def with_counts(event: dg.AssetCheckResult, counts: dict[str, dict]) -> dg.AssetCheckResult:
    """The check result with its failing columns in the metadata."""
    columns = counts.get(_unique_id(event))
    if not columns:
        return event
    return dg.AssetCheckResult(
        asset_key=event.asset_key, check_name=event.check_name, passed=event.passed,
        severity=event.severity, description=event.description,
        metadata={**event.metadata, "null_rows_by_column": columns,
                  "failing_columns": describe(columns)})

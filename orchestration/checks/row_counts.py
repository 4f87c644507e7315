"""Row counts of earlier runs, kept in the warehouse (`dq.row_count_history`).

Why the warehouse and not Dagster's previous materialization metadata: `salespipe run` runs on an
ephemeral Dagster instance (nothing survives the process), while the warehouse file is the state
every run shares, whether it comes from the CLI, the tests or the Dagster UI. One row per asset
and run; the band is measured against the latest run that is not this one, so retrying a step
of the same run does not compare the run with itself.
"""

from __future__ import annotations

import math

import duckdb

TABLE = "dq.row_count_history"


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists dq")
    con.execute(f"create table if not exists {TABLE} (asset_key varchar, run_id varchar, "
                "row_count bigint, counted_at timestamp)")


def previous(con: duckdb.DuckDBPyConnection, asset_key: str, run_id: str) -> int | None:
    _ensure(con)
    row = con.execute(
        f"select row_count from {TABLE} where asset_key = ? and run_id <> ? "
        "order by counted_at desc limit 1", [asset_key, run_id]).fetchone()
    return None if row is None else row[0]


def record(con: duckdb.DuckDBPyConnection, asset_key: str, run_id: str, count: int) -> None:
    _ensure(con)
    con.execute(f"delete from {TABLE} where asset_key = ? and run_id = ?", [asset_key, run_id])
    con.execute(f"insert into {TABLE} values (?, ?, ?, current_timestamp)",
                [asset_key, run_id, count])


def band(previous_count: int | None, fraction: float) -> dict[str, int | None]:
    """Bounds for this run; open-ended when there is nothing (or nothing but zero) to compare."""
    if not previous_count:
        return {"row_count_min": 0, "row_count_max": None}
    return {"row_count_min": math.floor(previous_count * (1 - fraction)),
            "row_count_max": math.ceil(previous_count * (1 + fraction))}

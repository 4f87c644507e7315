"""marts.pipeline_metrics and marts.pipeline_metrics_by_owner against the SQL they were computed
with before session 9 (benchmarks/<mart>_reference.sql, run on the same marts as of the same
day): every row on both sides, every column but the floats equal, the floats within 1e-9
relative. Averages and float sums are added up in another order now (per base group first), so
their last bits may differ, as they already did between two runs of the former SQL on several
threads. Read only; exit status 1 if a mart differs.

    python -m benchmarks.metrics_checks WAREHOUSE
"""

import sys
from pathlib import Path

import duckdb

MARTS = ("pipeline_metrics", "pipeline_metrics_by_owner")
RELATIVE = 1e-9


def as_of_day(con) -> str:
    """The as-of day the marts were built for: the 'all' period ends at the end of it."""
    return con.execute("select cast(max(period_end) - interval 1 day as date)::varchar "
                       "from marts.pipeline_metrics where period = 'all'").fetchone()[0]


def reference_differences(con, mart: str, as_of: str) -> dict:
    """Rows only in the mart, rows only in the reference, rows whose floats differ by more than
    RELATIVE, and the mart's row count. Rows are matched on every column that is not a float
    (a mart's grain is among them)."""
    sql = Path(__file__).with_name(f"{mart}_reference.sql").read_text()
    con.execute(f"create or replace temp table {mart}_reference as "
                f"{sql.replace('{as_of}', as_of)}")
    columns = con.execute(f"describe marts.{mart}").fetchall()
    floats = [c for c, t, *_ in columns if t in ("DOUBLE", "FLOAT")]
    on = " and ".join(f'm."{c}" is not distinct from r."{c}"'
                      for c, *_ in columns if c not in floats)
    off = " or ".join(f'not coalesce(m."{c}" is not distinct from r."{c}" or abs(m."{c}" - r."{c}") '
                      f'<= {RELATIVE} * greatest(abs(m."{c}"), abs(r."{c}")), false)' for c in floats)
    counts = con.execute(f"""
        select count(*) filter (where r._side is null),
               count(*) filter (where m._side is null),
               count(*) filter (where m._side and r._side and ({off or 'false'})),
               (select count(*) from marts.{mart})
        from (select *, true as _side from marts.{mart}) as m
        full join (select *, true as _side from {mart}_reference) as r on {on}""").fetchone()
    return dict(zip(("only_mart", "only_reference", "floats_off", "rows"), counts))


def main(warehouse: str) -> int:
    con = duckdb.connect(warehouse, read_only=True)
    con.execute("set TimeZone = 'UTC'")
    as_of = as_of_day(con)
    failed = 0
    for mart in MARTS:
        found = reference_differences(con, mart, as_of)
        print(f"{mart} as of {as_of} against the former SQL: {found}")
        failed += found["only_mart"] + found["only_reference"] + found["floats_off"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""Checks of the lead-scoring tables on a built warehouse (e.g. a benchmark's, after some
nights): engagement read from the sums against the direct decay, and lead_score_history as change
points. The checks are tests/scoring_reference.py's, which the tests run on the samples.

    python -m benchmarks.scoring_checks WAREHOUSE
"""

import sys
from pathlib import Path

import duckdb

TESTS = Path(__file__).resolve().parent.parent / "tests"
REPEATS = """
    select count(*) from (
        select *, lag(grade) over w as g0, lag(is_sales_ready) over w as r0,
               lag(change_type) over w as c0
        from marts.lead_score_history window w as (partition by contact_id order by scored_as_of))
    where c0 is not null and change_type <> 'removed' and c0 <> 'removed'
      and g0 = grade and r0 = is_sales_ready"""


def main(warehouse: str) -> None:
    sys.path.insert(0, str(TESTS))  # the checks the tests run, not a copy of them
    from scoring_reference import engagement_errors, state_on

    con = duckdb.connect(warehouse, read_only=True)
    as_of = con.execute("select max(scored_as_of)::varchar from marts.lead_scores").fetchone()[0]
    print("as of", as_of)
    print("engagement (rows in one only, count/age differ, worst relative error, rows):",
          engagement_errors(con, as_of))
    print("sums rows by epoch and last written:", con.execute(
        "select epoch_day::varchar, covered_through::varchar, count(*) from "
        "intermediate.int_lead_engagement_sums group by all order by all").fetchall())
    print("history rows by date and change:", con.execute(
        "select scored_as_of::varchar, change_type, count(*) from marts.lead_score_history "
        "group by all order by all").fetchall())
    print("consecutive rows of a contact with the same grade and readiness:",
          con.execute(REPEATS).fetchone()[0])
    now = {c: (g, r) for c, g, r in con.execute(
        "select contact_id, grade, is_sales_ready from marts.lead_scores").fetchall()}
    print(f"{len(now)} contacts; their state on {as_of} read from the history equals lead_scores:",
          state_on(con, as_of) == now)


if __name__ == "__main__":
    main(sys.argv[1])

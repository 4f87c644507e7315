"""marts.lead_scores against the SQL it was computed with before int_lead_score_parts
(benchmarks/lead_scores_reference.sql, run on the same intermediate tables: every fit match and
engagement row ranked with one window), and the view intermediate.int_lead_engagement against
the table SQL it replaced (benchmarks/lead_engagement_reference.sql, which the first reads):
the same rows, EXCEPT ALL both ways. Read only; exit status 1 when they differ. The as-of date
is the one the mart was scored for.

    python -m benchmarks.lead_scores_checks WAREHOUSE
"""

import sys
from pathlib import Path

import duckdb

REFERENCE_SQL = Path(__file__).with_name("lead_scores_reference.sql")
ENGAGEMENT_SQL = Path(__file__).with_name("lead_engagement_reference.sql")


def _except_all(con, a: str, b: str) -> tuple[int, int, int]:
    """Rows only in `a`, rows only in `b`, and the rows of `a`."""
    return con.execute(f"""
        select (select count(*) from (select * from {a} except all select * from {b})),
               (select count(*) from (select * from {b} except all select * from {a})),
               (select count(*) from {a})""").fetchone()


def _scored_as_of(con) -> str:
    return con.execute("select cast(max(scored_as_of) as varchar) from marts.lead_scores"
                       ).fetchone()[0]


def _make_engagement_reference(con, as_of: str) -> None:
    con.execute("create or replace temp table lead_engagement_reference as "
                + ENGAGEMENT_SQL.read_text().replace("{as_of}", as_of))


def engagement_differences(con) -> tuple[int, int, int]:
    """Rows only in the view intermediate.int_lead_engagement, rows only in its old table SQL,
    and the view's row count. Points to 9 decimals, as lead_scores reads them (macro
    score_round): the view decays a contact's summed undecayed points, the old SQL summed each
    holder row's decayed points, so a contact holding a type twice (its own activities and a
    deal's) can differ in the last bit (15.805856442774738 against ...736)."""
    _make_engagement_reference(con, _scored_as_of(con))
    rounded = ("(select contact_id, activity_type, activity_count, newest_age_days, "
               "round(points, 9) as points from {})")
    return _except_all(con, rounded.format("intermediate.int_lead_engagement"),
                       rounded.format("lead_engagement_reference"))


def reference_differences(con) -> tuple[int, int, int]:
    """Rows only in marts.lead_scores, rows only in the reference SQL's result (as of the
    mart's scored_as_of), and the mart's row count."""
    as_of = _scored_as_of(con)
    _make_engagement_reference(con, as_of)
    reference = REFERENCE_SQL.read_text().replace("{as_of}", as_of)
    con.execute(f"create or replace temp table lead_scores_reference as {reference}")
    return _except_all(con, "marts.lead_scores", "lead_scores_reference")


def main(argv: list[str]) -> int:
    con = duckdb.connect(argv[0], read_only=True)
    try:
        only_model, only_reference, rows = reference_differences(con)
        only_view, only_old, engaged = engagement_differences(con)
    finally:
        con.close()
    print(f"lead_scores vs reference: {only_model} rows only in the mart, {only_reference} only "
          f"in the reference, of {rows}")
    print(f"int_lead_engagement vs its old SQL: {only_view} rows only in the view, {only_old} "
          f"only in the old SQL, of {engaged}")
    return 1 if only_model or only_reference or rows == 0 or only_view or only_old else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""marts.lead_scores against the SQL it was computed with before int_lead_score_parts
(benchmarks/lead_scores_reference.sql, run on the same intermediate tables: every fit match and
engagement row ranked with one window): the same rows, EXCEPT ALL both ways. Read only; exit
status 1 when they differ. The as-of date is the one the mart was scored for.

    python -m benchmarks.lead_scores_checks WAREHOUSE
"""

import sys
from pathlib import Path

import duckdb

REFERENCE_SQL = Path(__file__).with_name("lead_scores_reference.sql")


def reference_differences(con) -> tuple[int, int, int]:
    """Rows only in marts.lead_scores, rows only in the reference SQL's result (as of the
    mart's scored_as_of), and the mart's row count."""
    as_of = con.execute("select cast(max(scored_as_of) as varchar) from marts.lead_scores"
                        ).fetchone()[0]
    reference = REFERENCE_SQL.read_text().replace("{as_of}", as_of)
    con.execute(f"create or replace temp table lead_scores_reference as {reference}")
    return con.execute("""
        select (select count(*) from (select * from marts.lead_scores
                                      except all select * from lead_scores_reference)),
               (select count(*) from (select * from lead_scores_reference
                                      except all select * from marts.lead_scores)),
               (select count(*) from marts.lead_scores)""").fetchone()


def main(argv: list[str]) -> int:
    con = duckdb.connect(argv[0], read_only=True)
    try:
        only_model, only_reference, rows = reference_differences(con)
    finally:
        con.close()
    print(f"lead_scores vs reference: {only_model} rows only in the mart, {only_reference} only "
          f"in the reference, of {rows}")
    return 1 if only_model or only_reference or rows == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Old against new engagement on one warehouse, back to back (same load): the old
int_lead_engagement (every activity decayed from scratch), a night's update of
int_lead_engagement_sums (its compiled SQL from that night's dbt target folder) and the new
int_lead_engagement (compiled). Run it on a copy: it writes temporary tables only.

    python -m benchmarks.engagement_ab WAREHOUSE SUMS_SQL READ_SQL AS_OF [HALF_LIFE]
"""

import sys
import time
from pathlib import Path

import duckdb

OLD = """
select a.contact_id, a.activity_type, count(*) as activity_count,
    min(date_diff('day', cast(a.occurred_at as date), date '{as_of}')) as newest_age_days,
    sum(p.points * power(0.5, date_diff('day', cast(a.occurred_at as date), date '{as_of}')
        / cast({half_life} as double))) as points
from intermediate.int_activities as a
join config.lead_score_engagement_points as p on a.activity_type = p.activity_type
where a.contact_id is not null and p.points <> 0
    and a.occurred_at < date '{as_of}' + interval 1 day
group by a.contact_id, a.activity_type"""


def main(warehouse, sums_sql, read_sql, as_of, half_life="30") -> None:
    con = duckdb.connect(warehouse)
    steps = [("old int_lead_engagement", OLD.format(as_of=as_of, half_life=half_life)),
             ("night's sums update", Path(sums_sql).read_text()),
             ("new read", Path(read_sql).read_text())]
    for _round in range(2):
        for name, sql in steps:
            start = time.perf_counter()
            con.execute(f"create or replace temp table timed as {sql}")
            rows = con.execute("select count(*) from timed").fetchone()[0]
            print(f"{name:26s} {time.perf_counter() - start:6.2f} s  {rows} rows")


if __name__ == "__main__":
    main(*sys.argv[1:])

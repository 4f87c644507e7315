"""Checks of the what-moved tables on a built warehouse (e.g. a benchmark's, after some nights):
marts.pipeline_waterfall's reconciliation identity on every row, its opening and closing against
the deals' states read directly (intermediate.int_deal_states), the owner and team rows adding up
to the 'all' rows, and marts.fct_deal_changes' consistency (one change per key, one source per
deal and field, each change starting where the one before ended, the latest change ending at the
deal's current value). Read only. Prints one line per check; exit status 1 if the identity or a
consistency check fails. With --reference, also that marts.pipeline_waterfall has the same rows
as the SQL issue 25 wrote (benchmarks/pipeline_waterfall_reference.sql, run on the same
intermediate tables; EXCEPT ALL both ways): the rewrite changed how it is computed, not what.

    python -m benchmarks.waterfall_checks WAREHOUSE [--reference]
"""

import sys
from pathlib import Path

import duckdb

IDENTITY = """
    select count(*), count(*) filter (where opening_amount + new_amount + pulled_in_amount
        + increased_amount + other_in_amount - pushed_out_amount - decreased_amount
        - won_amount - lost_amount - other_out_amount <> closing_amount)
    from marts.pipeline_waterfall"""

# opening (closing): the deals open, created and expected in the period at its start (end),
# read from the states valid at that moment; against the 'all' rows
AT_MOMENT = """
    with periods as (
        select period_type, period_start, period_end, pipeline_id, currency,
            {moment} as moment, {column} as amount
        from marts.pipeline_waterfall where group_type = 'all'),
    direct as (
        select p.period_type, p.period_start, p.pipeline_id, p.currency,
            sum(coalesce(s.amount, 0)) as amount
        from periods p join intermediate.int_deal_states s
            on s.is_created and s.outcome = 'open' and s.pipeline_id = p.pipeline_id
            and s.currency is not distinct from p.currency
            and s.expected_close_date between p.period_start
                and {period_last_day}
            and s.valid_from < p.moment and (s.valid_to is null or s.valid_to >= p.moment)
        group by all)
    select count(*), count(*) filter (where abs(p.amount - coalesce(d.amount, 0)) > 0.005)
    from periods p left join direct d using (period_type, period_start, pipeline_id, currency)
"""
PERIOD_LAST_DAY = ("case when p.period_type = 'month' then last_day(p.period_start) "
                   "else cast(p.period_start + interval 3 month - interval 1 day as date) end")

# a deal is in one owner's and one team's pipeline at a moment: their openings and closings
# add up to the 'all' row
GROUPS_ADD_UP = """
    with sums as (
        select period_type, period_start, pipeline_id, currency, group_type,
            sum(opening_amount) as opening, sum(closing_amount) as closing
        from marts.pipeline_waterfall group by all)
    select count(*), count(*) filter (where abs(g.opening - a.opening) > 0.005
                                      or abs(g.closing - a.closing) > 0.005)
    from sums g join sums a using (period_type, period_start, pipeline_id, currency)
    where a.group_type = 'all' and g.group_type in ('owner', 'team')"""

REFERENCE_SQL = Path(__file__).with_name("pipeline_waterfall_reference.sql")


def reference_differences(con, as_of: str) -> tuple[int, int, int]:
    """Rows only in marts.pipeline_waterfall, rows only in the reference SQL's result (as of
    `as_of`), and the mart's row count."""
    reference = REFERENCE_SQL.read_text().replace("{as_of}", as_of)
    con.execute(f"create temp table waterfall_reference as {reference}")
    return con.execute("""
        select (select count(*) from (select * from marts.pipeline_waterfall
                                      except all select * from waterfall_reference)),
               (select count(*) from (select * from waterfall_reference
                                      except all select * from marts.pipeline_waterfall)),
               (select count(*) from marts.pipeline_waterfall)""").fetchone()


CHANGES = {
    "rows by field and source": """
        select field, source, count(*) from marts.fct_deal_changes group by all order by all""",
    "duplicate (deal, field, changed_at, change_seq)": """
        select count(*) - count(distinct (deal_id, field, changed_at, change_seq))
        from marts.fct_deal_changes""",
    "(deal, field) with both native and snapshot changes": """
        select count(*) from (select deal_id, field from marts.fct_deal_changes
                              group by all having count(distinct source) > 1)""",
    "changes of deals not in fct_deals": """
        select count(*) from marts.fct_deal_changes c
        where not exists (select 1 from marts.fct_deals d where d.deal_id = c.deal_id)""",
}
# a change that does not start where the one before it ended, by source system and field
CHAIN = """
    select source_system, field, count(*) filter (where prev_new is distinct from old_value),
        count(*)
    from (select *, lag(new_value) over (partition by deal_id, field
                                         order by changed_at, change_seq) as prev_new,
                 row_number() over (partition by deal_id, field
                                    order by changed_at, change_seq) as n
          from marts.fct_deal_changes) where n > 1
    group by all order by all"""
# the latest change of each field ends at the deal's current value
LATEST = """
    with latest as (
        select * from marts.fct_deal_changes
        qualify row_number() over (partition by deal_id, field
                                   order by changed_at desc, change_seq desc) = 1),
    current as (
        select deal_id, stage_id, cast(cast(amount as decimal(38, 2)) as varchar) as amount,
            cast(cast(expected_close_date as date) as varchar) as expected_close_date, owner_id
        from intermediate.int_deals)
    select l.source_system, l.field,
        count(*) filter (where l.new_value is distinct from case l.field
            when 'stage' then c.stage_id when 'amount' then c.amount
            when 'expected_close_date' then c.expected_close_date
            when 'owner' then c.owner_id end),
        count(*)
    from latest l join current c using (deal_id)
    where l.field <> 'probability'
    group by all order by all"""


def main(warehouse: str, reference: bool = False) -> int:
    con = duckdb.connect(warehouse, read_only=True)
    con.execute("set TimeZone = 'UTC'")
    failed = 0
    as_of = con.execute("select max(period_end)::varchar from marts.pipeline_waterfall").fetchone()
    print("waterfall rows by period type and group:", con.execute(
        "select period_type, group_type, count(*) from marts.pipeline_waterfall "
        "group by all order by all").fetchall(), "latest period end", as_of[0])
    rows, broken = con.execute(IDENTITY).fetchone()
    print(f"reconciliation identity: {broken} of {rows} rows break it")
    failed += broken
    for name, moment, column in [("opening", "cast(period_start as timestamp)", "opening_amount"),
                                 ("closing", "cast(period_end + 1 as timestamp)",
                                  "closing_amount")]:
        sql = AT_MOMENT.format(moment=moment, column=column, period_last_day=PERIOD_LAST_DAY)
        rows, off = con.execute(sql).fetchone()
        print(f"{name} against the states at that moment: {off} of {rows} 'all' rows differ")
        failed += off
    rows, off = con.execute(GROUPS_ADD_UP).fetchone()
    print(f"owner and team rows add up to 'all' (opening, closing): {off} of {rows} differ")
    failed += off
    if reference:
        only_mart, only_ref, rows = reference_differences(con, as_of[0])
        print(f"same rows as the reference SQL: {only_mart} of {rows} rows only in the mart, "
              f"{only_ref} only in the reference")
        failed += only_mart + only_ref
    for name, sql in CHANGES.items():
        found = con.execute(sql).fetchall()
        print(f"fct_deal_changes, {name}:", found if len(found) > 1 else found[0][0])
        if name != "rows by field and source":
            failed += found[0][0]
    print("fct_deal_changes, a change not starting where the one before ended "
          "(system, field, breaks, changes after a first):", con.execute(CHAIN).fetchall())
    print("fct_deal_changes, the latest change not ending at the current value "
          "(system, field, differ, deals):", con.execute(LATEST).fetchall())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], reference="--reference" in sys.argv[2:]))

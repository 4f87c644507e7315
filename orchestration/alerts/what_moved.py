"""Reads for the report's "What moved" section: the month's pipeline waterfall per pipeline and
currency (marts.pipeline_waterfall) and the deals whose expected close date was pushed lately
(marts.fct_deal_changes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import duckdb

# The waterfall's steps, in the order the chart walks them: (column prefix, label, sign).
STEPS = [
    ("new", "New", 1), ("pulled_in", "Pulled in", 1), ("increased", "Increased", 1),
    ("other_in", "Other in", 1), ("pushed_out", "Pushed out", -1),
    ("decreased", "Decreased", -1), ("won", "Won", -1), ("lost", "Lost", -1),
    ("other_out", "Other out", -1),
]
WATERFALL_COLUMNS = ["opening"] + [s[0] for s in STEPS] + ["closing"]
SLIP_WINDOW_SETTING = "pushed_window_days"


@dataclass(frozen=True)
class Waterfall:
    """One month of one pipeline and currency: amounts and deal counts by WATERFALL_COLUMNS."""
    pipeline: str
    currency: str
    period_start: dt.date
    period_end: dt.date
    amounts: dict[str, Decimal]
    counts: dict[str, int]


def missing_tables(con: duckdb.DuckDBPyConnection, *names: str) -> list[str]:
    """Which of `names` ("schema.table") this warehouse lacks: one built before the changes
    marts existed, or by a run that stopped before them."""
    present = {f"{s}.{n}" for s, n in con.execute(
        "select table_schema, table_name from information_schema.tables").fetchall()}
    return [n for n in names if n not in present]


def months_shown(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The last complete month and the current one (up to the as-of day), as first days."""
    current = as_of.replace(day=1)
    return (current - dt.timedelta(days=1)).replace(day=1), current


def waterfalls(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[Waterfall]:
    """pipeline_waterfall's rows over all owners for the months shown, pipelines with the most
    open pipeline this month first. A pipeline is named as in the funnel: "name (source)"."""
    columns = ", ".join(f"w.{c}_amount, w.{c}_count" for c in WATERFALL_COLUMNS)
    rows = con.execute(f"""
        with names as (
            select distinct pipeline_id, pipeline_name || ' (' || source_system || ')' as name
            from marts.dim_pipeline_stages
        )
        select coalesce(n.name, w.pipeline_id), coalesce(w.currency, 'unknown'),
               w.period_start, w.period_end, {columns}
        from marts.pipeline_waterfall as w
        left join names as n on w.pipeline_id = n.pipeline_id
        where w.period_type = 'month' and w.group_type = 'all'
            and w.period_start in (?, ?)
        order by max(greatest(w.opening_amount, w.closing_amount))
                     filter (where w.period_start = ?)
                     over (partition by w.pipeline_id, w.currency) desc nulls last,
                 1, 2, w.period_start
    """, [*months_shown(as_of), months_shown(as_of)[1]]).fetchall()
    return [Waterfall(r[0], r[1], r[2], r[3],
                      dict(zip(WATERFALL_COLUMNS, r[4::2])), dict(zip(WATERFALL_COLUMNS, r[5::2])))
            for r in rows]


def slip_window_days(con: duckdb.DuckDBPyConnection) -> int:
    """The pushed alert's window (seed alert_change_thresholds), which the table shares."""
    row = con.execute("select value from config.alert_change_thresholds where setting = ?",
                      [SLIP_WINDOW_SETTING]).fetchone()
    if row is None or row[0] is None:
        raise ValueError(f"dbt_project/seeds/alert_change_thresholds.csv has no "
                         f"{SLIP_WINDOW_SETTING} row: add one (e.g. {SLIP_WINDOW_SETTING},90)")
    return int(row[0])


SLIPPED_COLUMNS = ["deal_id", "deal_name", "owner_name", "pipeline_name", "stage_name",
                   "amount", "currency", "date_before", "date_now", "times_pushed",
                   "days_later", "last_pushed_on"]


def slipped_deals(con: duckdb.DuckDBPyConnection, as_of: dt.date, days: int) -> list[dict]:
    """Deals whose expected close date moved later at least once in the `days` days up to the
    as-of day (the window the pushed alert uses): the date before the first move of the window,
    the date after its last, how many moves were pushes and by how many days in all. The latest
    pushed first, then the largest amount."""
    rows = con.execute("""
        with moves as (
            select deal_id, changed_at, change_seq, old_date, new_date,
                   new_date > old_date as is_push
            from marts.fct_deal_changes
            where field = 'expected_close_date'
                and changed_at < ?::date + 1 and date_diff('day', changed_at::date, ?::date) < ?
        ),
        per_deal as (
            select deal_id,
                   arg_min(old_date, (changed_at, change_seq)) as date_before,
                   arg_max(new_date, (changed_at, change_seq)) as date_now,
                   count(*) filter (where is_push) as times_pushed,
                   sum(date_diff('day', old_date, new_date)) filter (where is_push) as days_later,
                   max(changed_at::date) filter (where is_push) as last_pushed_on
            from moves
            group by deal_id
            having count(*) filter (where is_push) > 0
        )
        select d.deal_id, d.deal_name, d.owner_name, d.pipeline_name, d.stage_name, d.amount,
               d.currency, p.date_before, p.date_now, p.times_pushed, p.days_later,
               p.last_pushed_on
        from per_deal as p
        join marts.fct_deals as d on p.deal_id = d.deal_id
        order by p.last_pushed_on desc, d.amount desc nulls last, d.deal_id
    """, [as_of, as_of, days]).fetchall()
    return [dict(zip(SLIPPED_COLUMNS, r)) for r in rows]

"""Reads of marts.deal_alerts and the pipeline-health figures, shared by report, CLI and check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

ALERT_COLUMNS = [
    "alert_id", "deal_id", "deal_name", "owner_name", "team", "pipeline_name", "stage_name",
    "amount", "currency", "alert_type", "status", "reason", "metric_value", "threshold_value",
    "threshold_basis", "first_flagged_at", "resolved_at",
]
NO_OWNER = "(no owner)"
_STATUS_RANK = "case status when 'new' then 0 when 'ongoing' then 1 else 2 end"


@dataclass(frozen=True)
class Alert:
    values: dict

    def __getitem__(self, key: str):
        return self.values[key]

    @property
    def owner(self) -> str:
        return self.values["owner_name"] or NO_OWNER


def alerts(con: duckdb.DuckDBPyConnection, owner: str | None = None,
           alert_type: str | None = None, include_resolved: bool = False,
           status: str | None = None) -> list[Alert]:
    """Alerts, new first, then by owner and amount (largest first); `status`: only those."""
    where, params = [], []
    if not include_resolved:
        where.append("status <> 'resolved'")
    if status:
        where.append("status = ?")
        params.append(status)
    if owner:
        # "(no owner)" selects the alerts without one, as the report and CSVs name them.
        where.append("coalesce(owner_name, ?) ilike ?")
        params += [NO_OWNER, owner]
    if alert_type:
        where.append("alert_type = ?")
        params.append(alert_type)
    sql = (f"select {', '.join(ALERT_COLUMNS)} from marts.deal_alerts "
           f"{'where ' + ' and '.join(where) if where else ''} "
           f"order by {_STATUS_RANK}, "
           "coalesce(owner_name, '~'), amount desc nulls last, deal_id, alert_type")
    rows = con.execute(sql, params).fetchall()
    return [Alert(dict(zip(ALERT_COLUMNS, row))) for row in rows]


@dataclass(frozen=True)
class OwnerAlerts:
    """One owner's open alerts: how many, how many new, and the first `shown` of them (new
    first, then by amount, largest first)."""

    owner: str
    open: int
    new: int
    shown: list[Alert]


def open_by_owner(con: duckdb.DuckDBPyConnection, per_owner: int) -> list[OwnerAlerts]:
    """Each owner's open alerts (owners as `Alert.owner` names them), the first `per_owner` of
    them read: at L 190,000 open alerts, which the report needs only counted."""
    rows = con.execute(f"""
        select {', '.join(ALERT_COLUMNS)}, owner, open, new from (
            select *, count(*) over owners as open,
                   count(*) filter (where status = 'new') over owners as new,
                   row_number() over (owners order by
                       {_STATUS_RANK}, coalesce(amount, 0) desc, coalesce(owner_name, '~'),
                       amount desc nulls last, deal_id, alert_type) as place
            from (select *, coalesce(nullif(owner_name, ''), ?) as owner
                  from marts.deal_alerts where status <> 'resolved')
            window owners as (partition by owner))
        where place <= ? order by owner, place""", [NO_OWNER, per_owner]).fetchall()
    owners: dict[str, OwnerAlerts] = {}
    width = len(ALERT_COLUMNS)
    for row in rows:
        owner, open_, new = row[width:]
        if owner not in owners:
            owners[owner] = OwnerAlerts(owner, open_, new, [])
        owners[owner].shown.append(Alert(dict(zip(ALERT_COLUMNS, row[:width]))))
    return list(owners.values())


def open_by_type(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("select alert_type, count(*) from marts.deal_alerts "
                            "where status <> 'resolved' group by 1").fetchall())


def open_count(con: duckdb.DuckDBPyConnection) -> int:
    """How many alerts are open (what `alerts` lists without filters)."""
    return con.execute("select count(*) from marts.deal_alerts "
                       "where status <> 'resolved'").fetchone()[0]


def as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The as-of date of the latest run that built the alerts."""
    return con.execute("select max(last_checked_at) from marts.deal_alerts").fetchone()[0]


def funnel(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, int]]:
    """(pipeline, stage, stage_order, deals that ever reached the stage or a later open/won one).

    A deal that skipped a stage still passed it, so each stage counts deals whose furthest
    non-lost stage is at or beyond it."""
    return con.execute("""
        with furthest as (
            select t.deal_id, t.pipeline_id, max(s.stage_order) as max_order
            from marts.fct_deal_stage_transitions as t
            join marts.dim_pipeline_stages as s on t.to_stage_id = s.stage_id
            where not s.is_lost
            group by all
        )
        select s.pipeline_name || ' (' || s.source_system || ')', s.stage_name, s.stage_order,
               count(f.deal_id)
        from marts.dim_pipeline_stages as s
        left join furthest as f on f.pipeline_id = s.pipeline_id and f.max_order >= s.stage_order
        where not s.is_lost
        group by all
        order by 1, 3
    """).fetchall()


def monthly_health(con: duckdb.DuckDBPyConnection, as_of_date: dt.date, months: int = 12):
    """Per month end (the last capped at the as-of date): open deals and open amount then, and
    over the trailing 180 days win rate, average won amount, sales cycle and pipeline velocity
    (open deals x win rate x average deal size / cycle days = expected revenue per day).
    Amounts are summed across currencies as the CRMs give them."""
    return con.execute("""
        with points as (
            select least(last_day(m), ?::date) as point
            from generate_series(date_trunc('month', ?::date) - to_months(? - 1),
                                 date_trunc('month', ?::date), interval 1 month) as g(m)
        ),
        figures as (
            select
                p.point,
                count(*) filter (where d.created_at < p.point + 1
                    and (d.closed_at is null or d.closed_at >= p.point + 1)) as open_deals,
                sum(d.amount) filter (where d.created_at < p.point + 1
                    and (d.closed_at is null or d.closed_at >= p.point + 1)) as open_amount,
                count(*) filter (where d.outcome = 'won' and d.closed_at < p.point + 1
                    and d.closed_at >= p.point - 179) as won,
                count(*) filter (where d.outcome = 'lost' and d.closed_at < p.point + 1
                    and d.closed_at >= p.point - 179) as lost,
                avg(d.amount) filter (where d.outcome = 'won' and d.closed_at < p.point + 1
                    and d.closed_at >= p.point - 179) as avg_won,
                avg(d.days_open) filter (where d.outcome = 'won' and d.closed_at < p.point + 1
                    and d.closed_at >= p.point - 179) as cycle_days
            from points as p cross join marts.fct_deals as d
            group by p.point
        )
        select point, open_deals, coalesce(open_amount, 0), won, lost,
               won / nullif(won + lost, 0) as win_rate, avg_won, cycle_days,
               open_deals * (won / nullif(won + lost, 0)) * avg_won / nullif(cycle_days, 0)
                   as velocity
        from figures order by point
    """, [as_of_date, as_of_date, months, as_of_date]).fetchall()

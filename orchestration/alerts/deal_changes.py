"""`salespipe changes`: what changed in the deals (marts.fct_deal_changes), newest first, with
stage and owner names instead of ids."""

from __future__ import annotations

import datetime as dt

import duckdb

MARTS = ["fct_deal_changes", "fct_deals", "dim_pipeline_stages", "dim_owners", "deal_alerts"]
DEFAULT_DAYS = 7
NO_OWNER = "(no owner)"

# A value as a person reads it: stage and owner names, amounts with the deal's currency,
# probabilities in percent.
_VALUE = """case c.field
        when 'stage' then coalesce({side}s.stage_name, c.{side}_value)
        when 'owner' then coalesce({side}o.owner_name, c.{side}_value)
        when 'amount' then format('{{:,.2f}}', c.{side}_amount) || ' ' || coalesce(d.currency, '')
        when 'probability' then cast(round(cast(c.{side}_value as double) * 100) as integer) || '%'
        else c.{side}_value
    end"""

_SQL = f"""
select
    c.changed_at, d.deal_name, c.deal_id, coalesce(d.owner_name, '{NO_OWNER}') as owner_name,
    c.field, {_VALUE.format(side='old')} as old_value, {_VALUE.format(side='new')} as new_value,
    c.source
from marts.fct_deal_changes as c
join marts.fct_deals as d on c.deal_id = d.deal_id
left join marts.dim_pipeline_stages as olds on c.field = 'stage' and c.old_value = olds.stage_id
left join marts.dim_pipeline_stages as news on c.field = 'stage' and c.new_value = news.stage_id
left join marts.dim_owners as oldo on c.field = 'owner' and c.old_value = oldo.owner_id
left join marts.dim_owners as newo on c.field = 'owner' and c.new_value = newo.owner_id
where c.changed_at >= ? and (? is null or coalesce(d.owner_name, '{NO_OWNER}') ilike ?)
order by c.changed_at desc, c.deal_id, c.field
"""


def default_since(con: duckdb.DuckDBPyConnection) -> dt.date:
    """A week before the as-of date of the latest run (the newest change when there is none)."""
    as_of = con.execute("select max(last_checked_at) from marts.deal_alerts").fetchone()[0] \
        or con.execute("select cast(max(changed_at) as date) from marts.fct_deal_changes"
                       ).fetchone()[0] or dt.date.today()
    return as_of - dt.timedelta(days=DEFAULT_DAYS - 1)


def changes(con: duckdb.DuckDBPyConnection, since: dt.date, owner: str | None) -> list[tuple]:
    return con.execute(_SQL, [since, owner, owner]).fetchall()


def to_table(rows: list[tuple], since: dt.date) -> str:
    if not rows:
        return f"No deal changed since {since}."
    header = ("changed", "deal", "owner", "field", "from -> to", "source")
    lines = [(str(r[0])[:16], _clip(r[1] or r[2], 36), _clip(r[3], 24), r[4],
              f"{r[5] or '-'} -> {r[6] or '-'}", r[7]) for r in rows]
    widths = [max(len(x[i]) for x in [header, *lines]) for i in range(len(header))]
    out = ["  ".join(v.ljust(w) for v, w in zip(x, widths)).rstrip() for x in [header, *lines]]
    out.append(f"{len(rows)} change(s) since {since}")
    return "\n".join(out)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"

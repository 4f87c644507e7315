-- marts.pipeline_metrics as written before session 9 (dbt compiled, refs as schema.table, the as-of day
-- as {as_of}): every deal copied into each group it counts in before counting. The oracle of
-- benchmarks/metrics_checks.py: the rewrite changed how the mart is computed, not what.
-- One row per pipeline, currency and calendar month, plus period = 'all' (everything up to the
-- end of the as-of day), and the same rows over all pipelines (pipeline_id = 'all'). Amounts are
-- never summed across currencies: currency is part of the grain. Definitions: the .yml.
with recursive
deal_rows as (
    select
        deal_id,
        pipeline_id,
        coalesce(currency, 'unknown') as currency,
        amount,
        created_at,
        closed_at,
        outcome
    from marts.fct_deals
    where created_at is not null or outcome = 'open'
),

-- each deal once in its pipeline and once in the total over all pipelines
deals as (
    select * from deal_rows
    union all
    select deal_id, 'all', currency, amount, created_at, closed_at, outcome from deal_rows
),

stays as (
    select
        d.pipeline_id, d.currency,
        t.deal_id, d.amount, t.entered_at, t.exited_at, false as undated
    from marts.fct_deal_stage_transitions as t
    inner join marts.dim_pipeline_stages as s on t.to_stage_id = s.stage_id
    inner join deals as d on t.deal_id = d.deal_id
    where not s.is_closed
    union all
    select
        d.pipeline_id, d.currency,
        d.deal_id, d.amount,
        date_trunc('month', cast('{as_of}' as timestamp)),
        cast(null as timestamp), true
    from deals as d
    where
        d.created_at is null
        and d.outcome = 'open'
        and not exists (
            select 1 from marts.fct_deal_stage_transitions as t where t.deal_id = d.deal_id
        )
),

months (period_start) as (
    select date_trunc('month', (select min(created_at) from deals))
    union all
    select 

    (period_start + cast(1 as bigint) * interval 1 month)
    from months
    where 

    (period_start + cast(1 as bigint) * interval 1 month) < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
),

group_start as (
    select pipeline_id, currency, date_trunc('month', min(created_at)) as first_month
    from deals
    group by pipeline_id, currency
),

-- each group's calendar months from its first deal to the as-of month, plus its 'all' period
periods as (
    select
        gs.pipeline_id, gs.currency,
        coalesce(substring(cast(m.period_start as TEXT), 1, 7), 'all') as period,
        cast(m.period_start as timestamp) as period_start,
        case
            when 

    (m.period_start + cast(1 as bigint) * interval 1 month) < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
                then cast(

    (m.period_start + cast(1 as bigint) * interval 1 month) as timestamp)
            else 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
        end as period_end
    from group_start as gs
    inner join months as m on m.period_start >= gs.first_month
    union all
    select
        pipeline_id, currency,
        'all' as period,
        cast(null as timestamp) as period_start,
        

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day) as period_end
    from group_start
),

-- deals created per group and month, and per group in all (the grouping-sets total); a month
-- ends at the end of the as-of day at the latest, so later deals count nowhere
created_by_period as (
    select pipeline_id, currency, coalesce(substring(cast(month_start as TEXT), 1, 7), 'all') as period, count(*) as deals_created
    from (
        select pipeline_id, currency, date_trunc('month', created_at) as month_start
        from deals
        where created_at < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
    ) as d
    group by grouping sets ((pipeline_id, currency, month_start), (pipeline_id, currency))
),

-- deals closed per group and month and in all: a close counts in the month the deal's current
-- (latest) close falls in, with its current outcome
closed_by_period as (
    select
        pipeline_id, currency,
        coalesce(substring(cast(month_start as TEXT), 1, 7), 'all') as period,
        count(case when outcome = 'won' then 1 end) as deals_won,
        count(case when outcome = 'lost' then 1 end) as deals_lost,
        sum(case when outcome = 'won' then amount end) as won_amount,
        avg(case when outcome = 'won' then amount end) as avg_won_deal_size,
        avg(case when outcome = 'won' then lifetime_days end) as avg_sales_cycle_days,
        avg(lifetime_days) as avg_deal_lifetime_days
    from (
        select
            pipeline_id, currency,
            outcome,
            amount,
            date_trunc('month', closed_at) as month_start,
            (
        (date_diff('second', created_at::timestamp, closed_at::timestamp ))
     / 3600.0) / 24.0 as lifetime_days
        from deals
        where outcome in ('won', 'lost') and closed_at < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
    ) as d
    group by grouping sets ((pipeline_id, currency, month_start), (pipeline_id, currency))
),

-- every period gets a row, with zeros (counts) and nulls (sums, averages) where nothing happened
-- (closes dated before a group's first month fall in no month, only in 'all')
flows as (
    select
        p.pipeline_id, p.currency,
        p.period,
        p.period_start,
        p.period_end,
        coalesce(c.deals_created, 0) as deals_created,
        coalesce(x.deals_won, 0) as deals_won,
        coalesce(x.deals_lost, 0) as deals_lost,
        x.won_amount,
        x.avg_won_deal_size,
        x.avg_sales_cycle_days,
        x.avg_deal_lifetime_days
    from periods as p
    left join created_by_period as c
        on p.pipeline_id = c.pipeline_id and p.currency = c.currency and p.period = c.period
    left join closed_by_period as x
        on p.pipeline_id = x.pipeline_id and p.currency = x.currency and p.period = x.period
),

-- a stay is open at a period end T when entered_at < T <= exited_at: it adds 1 from the month it
-- starts and takes it off from the month it ends (only what happens before the end of the as-of
-- day counts; empty or inverted stays are never open). A deal's stays do not overlap (each ends
-- where the next begins, fct_deal_stage_transitions), so open stays = open deals. Stays are
-- counted per start and end month first: stays is read once. Amounts are summed as exact
-- decimals (type_exact_decimal) so that what a month adds and takes off cancels exactly;
-- `valued` counts the stays with an amount.
stay_months as (
    select
        pipeline_id, currency,
        entered_month,
        exited_month,
        count(*) as stays,
        sum(cast(amount as decimal(38, 12))) as amount,
        count(amount) as valued,
        count(case when undated then 1 end) as undated
    from (
        select
            pipeline_id, currency,
            amount,
            undated,
            date_trunc('month', entered_at) as entered_month,
            case when exited_at < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
                then date_trunc('month', exited_at) end as exited_month
        from stays
        where entered_at < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day) and (exited_at is null or exited_at > entered_at)
    ) as s
    group by pipeline_id, currency, entered_month, exited_month
),

-- the changes per group and month; those dated before the group's first month count from its
-- first period on
edges_by_month as (
    select
        e.pipeline_id, e.currency,
        greatest(e.month_start, gs.first_month) as period_start,
        sum(e.stays) as open_change,
        sum(e.amount) as amount_change,
        sum(e.valued) as valued_change,
        sum(e.undated) as undated_change
    from (
        select pipeline_id, currency, entered_month as month_start, stays, amount, valued, undated
        from stay_months
        union all
        select pipeline_id, currency, exited_month, -stays, -amount, -valued, -undated
        from stay_months
        where exited_month is not null
    ) as e
    inner join group_start as gs on e.pipeline_id = gs.pipeline_id and e.currency = gs.currency
    group by e.pipeline_id, e.currency, greatest(e.month_start, gs.first_month)
),

-- open at each month's end: the changes up to that month; at the end of 'all' (the end of the
-- as-of day): all of them
open_running as (
    select
        p.pipeline_id, p.currency,
        p.period,
        sum(e.open_change) over (partition by p.pipeline_id, p.currency order by p.period_start rows between unbounded preceding and current row) as open_deals,
        sum(e.amount_change) over (partition by p.pipeline_id, p.currency order by p.period_start rows between unbounded preceding and current row) as open_amount,
        sum(e.valued_change) over (partition by p.pipeline_id, p.currency order by p.period_start rows between unbounded preceding and current row) as valued_deals,
        sum(e.undated_change) over (partition by p.pipeline_id, p.currency order by p.period_start rows between unbounded preceding and current row) as undated_deals
    from periods as p
    left join edges_by_month as e
        on p.pipeline_id = e.pipeline_id and p.currency = e.currency and p.period_start = e.period_start
    where p.period_start is not null
    union all
    select
        pipeline_id, currency,
        'all',
        sum(open_change),
        sum(amount_change),
        sum(valued_change),
        sum(undated_change)
    from edges_by_month
    group by pipeline_id, currency
),

open_at_end as (
    select
        pipeline_id, currency,
        period,
        cast(open_deals as bigint) as open_deals,
        cast(undated_deals as bigint) as open_deals_undated,
        -- null (not 0) where no open deal has an amount, as a sum over no values
        case when valued_deals > 0 then cast(open_amount as double precision) end as open_amount
    from open_running
),

figures as (
    select
        f.*,
        coalesce(o.open_deals, 0) as open_deals,
        coalesce(o.open_deals_undated, 0) as open_deals_undated,
        o.open_amount,
        cast(f.deals_won as double precision)
            / nullif(f.deals_won + f.deals_lost, 0) as win_rate
    from flows as f
    left join open_at_end as o
        on f.pipeline_id = o.pipeline_id and f.currency = o.currency
        and f.period = o.period
)

select
    f.pipeline_id,
    coalesce(n.pipeline_name, 'All pipelines') as pipeline_name,
    f.currency,
    period,
    period_start,
    period_end,
    deals_created,
    deals_won,
    deals_lost,
    open_deals,
    open_deals_undated,
    open_amount,
    won_amount,
    win_rate,
    avg_won_deal_size,
    avg_sales_cycle_days,
    avg_deal_lifetime_days,
    open_deals * win_rate * avg_won_deal_size / nullif(avg_sales_cycle_days, 0)
        as pipeline_velocity_per_day,
    30 * open_deals * win_rate * avg_won_deal_size / nullif(avg_sales_cycle_days, 0)
        as forecast_30d
from figures as f
left join (
    select distinct pipeline_id, pipeline_name from marts.dim_pipeline_stages
) as n on f.pipeline_id = n.pipeline_id
{#- Shared logic of marts.pipeline_metrics and marts.pipeline_metrics_by_owner, so both report
    the same figures with the same definitions (documented in marts/metrics/_metrics__models.yml).

    deals:  a CTE name with one row per deal and group: the group columns, deal_id, amount,
            created_at, closed_at, outcome (open / won / lost, the deal's current outcome).
    stays:  a CTE name with the deal's stays in open stages: the group columns, deal_id, amount
            (the deal's), entered_at, exited_at (null = still there). "Open at period end" is
            read from these, so a deal lost and later reopened is not counted open while it was
            lost.
    group_cols: the columns that make a group (currency is always one of them).

    Cost grows with deals + stays + periods, not deals x periods: each deal is read once and
    counted in the month of its creation and the month of its close (plus the group's 'all'
    period), and those per-month figures are joined onto the periods; "open at period end" is
    a running sum of +1 / -1 per stay start / end over the group's months. -#}

{#- The deals the pipeline metrics count (marts.fct_deals with a creation date, and the open
    ones without: they are open now), currency 'unknown' where the CRM gives none;
    `extra_columns` are added after the common ones. -#}
{% macro metrics_deals(extra_columns=[]) -%}
    select
        deal_id,
        pipeline_id,
        coalesce(currency, 'unknown') as currency,
        amount,
        created_at,
        closed_at,
        outcome
        {%- for column in extra_columns %},
        {{ column }}
        {%- endfor %}
    from {{ ref('fct_deals') }}
    where created_at is not null or outcome = 'open'
{%- endmacro %}

{#- The stays of the deals of CTE `deals` in open stages, for pipeline_metric_ctes' `stays`:
    the group columns, deal_id, amount (the deal's), entered_at, exited_at, undated. An open deal
    whose export gives neither a created date nor stage dates has no stay to place in time: it
    is open now, so it counts as open from the first moment of the as-of month (undated). -#}
{% macro metrics_open_stays(deals, group_cols) -%}
    select
        d.{{ group_cols | join(', d.') }},
        t.deal_id, d.amount, t.entered_at, t.exited_at, false as undated
    from {{ ref('fct_deal_stage_transitions') }} as t
    inner join {{ ref('dim_pipeline_stages') }} as s on t.to_stage_id = s.stage_id
    inner join {{ deals }} as d on t.deal_id = d.deal_id
    where not s.is_closed
    union all
    select
        d.{{ group_cols | join(', d.') }},
        d.deal_id, d.amount,
        {{ dbt.date_trunc('month', "cast('" ~ as_of_date() ~ "' as " ~ dbt.type_timestamp() ~ ")") }},
        cast(null as {{ dbt.type_timestamp() }}), true
    from {{ deals }} as d
    where
        d.created_at is null
        and d.outcome = 'open'
        and not exists (
            select 1 from {{ ref('fct_deal_stage_transitions') }} as t where t.deal_id = d.deal_id
        )
{%- endmacro %}

{#- First moment of each calendar month from `start_expr` to the as-of month, one row each
    (recursive CTE: standard SQL, no generate_series). -#}
{% macro metrics_month_spine(name, start_expr) -%}
{{ name }} (period_start) as (
    select {{ dbt.date_trunc('month', start_expr) }}
    union all
    select {{ dbt.dateadd('month', 1, 'period_start') }}
    from {{ name }}
    where {{ dbt.dateadd('month', 1, 'period_start') }} < {{ as_of_ts() }}
)
{%- endmacro %}

{#- Join condition: both sides in the same group. -#}
{% macro metrics_same_group(left, right, group_cols) -%}
    {%- for c in group_cols %}{{ left }}.{{ c }} = {{ right }}.{{ c }}{{ ' and ' if not loop.last }}{% endfor -%}
{%- endmacro %}

{#- Label of the period starting at `month_start` ('2024-01'); null (a grouping-sets total) is
    the 'all' period. -#}
{% macro metrics_period_label(month_start) -%}
    coalesce(substring(cast({{ month_start }} as {{ dbt.type_string() }}), 1, 7), 'all')
{%- endmacro %}

{#- The CTEs; the model opens `with recursive`, defines `deals` and `stays`, then calls this
    and selects from `figures` with pipeline_metric_columns(). -#}
{% macro pipeline_metric_ctes(deals, stays, group_cols) -%}
{%- set g = group_cols | join(', ') -%}
{%- set running = 'over (partition by p.' ~ group_cols | join(', p.')
    ~ ' order by p.period_start rows between unbounded preceding and current row)' -%}
{{ metrics_month_spine('months', "(select min(created_at) from " ~ deals ~ ")") }},

group_start as (
    select {{ g }}, {{ dbt.date_trunc('month', 'min(created_at)') }} as first_month
    from {{ deals }}
    group by {{ g }}
),

-- each group's calendar months from its first deal to the as-of month, plus its 'all' period
periods as (
    select
        gs.{{ group_cols | join(', gs.') }},
        {{ metrics_period_label('m.period_start') }} as period,
        cast(m.period_start as {{ dbt.type_timestamp() }}) as period_start,
        case
            when {{ dbt.dateadd('month', 1, 'm.period_start') }} < {{ as_of_ts() }}
                then cast({{ dbt.dateadd('month', 1, 'm.period_start') }} as {{ dbt.type_timestamp() }})
            else {{ as_of_ts() }}
        end as period_end
    from group_start as gs
    inner join months as m on m.period_start >= gs.first_month
    union all
    select
        {{ g }},
        'all' as period,
        cast(null as {{ dbt.type_timestamp() }}) as period_start,
        {{ as_of_ts() }} as period_end
    from group_start
),

-- deals created per group and month, and per group in all (the grouping-sets total); a month
-- ends at the end of the as-of day at the latest, so later deals count nowhere
created_by_period as (
    select {{ g }}, {{ metrics_period_label('month_start') }} as period, count(*) as deals_created
    from (
        select {{ g }}, {{ dbt.date_trunc('month', 'created_at') }} as month_start
        from {{ deals }}
        where created_at < {{ as_of_ts() }}
    ) as d
    group by grouping sets (({{ g }}, month_start), ({{ g }}))
),

-- deals closed per group and month and in all: a close counts in the month the deal's current
-- (latest) close falls in, with its current outcome
closed_by_period as (
    select
        {{ g }},
        {{ metrics_period_label('month_start') }} as period,
        count(case when outcome = 'won' then 1 end) as deals_won,
        count(case when outcome = 'lost' then 1 end) as deals_lost,
        sum(case when outcome = 'won' then amount end) as won_amount,
        avg(case when outcome = 'won' then amount end) as avg_won_deal_size,
        avg(case when outcome = 'won' then lifetime_days end) as avg_sales_cycle_days,
        avg(lifetime_days) as avg_deal_lifetime_days
    from (
        select
            {{ g }},
            outcome,
            amount,
            {{ dbt.date_trunc('month', 'closed_at') }} as month_start,
            {{ hours_between('created_at', 'closed_at') }} / 24.0 as lifetime_days
        from {{ deals }}
        where outcome in ('won', 'lost') and closed_at < {{ as_of_ts() }}
    ) as d
    group by grouping sets (({{ g }}, month_start), ({{ g }}))
),

-- every period gets a row, with zeros (counts) and nulls (sums, averages) where nothing happened
-- (closes dated before a group's first month fall in no month, only in 'all')
flows as (
    select
        p.{{ group_cols | join(', p.') }},
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
        on {{ metrics_same_group('p', 'c', group_cols) }} and p.period = c.period
    left join closed_by_period as x
        on {{ metrics_same_group('p', 'x', group_cols) }} and p.period = x.period
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
        {{ g }},
        entered_month,
        exited_month,
        count(*) as stays,
        sum(cast(amount as {{ type_exact_decimal() }})) as amount,
        count(amount) as valued,
        count(case when undated then 1 end) as undated
    from (
        select
            {{ g }},
            amount,
            undated,
            {{ dbt.date_trunc('month', 'entered_at') }} as entered_month,
            case when exited_at < {{ as_of_ts() }}
                then {{ dbt.date_trunc('month', 'exited_at') }} end as exited_month
        from {{ stays }}
        where entered_at < {{ as_of_ts() }} and (exited_at is null or exited_at > entered_at)
    ) as s
    group by {{ g }}, entered_month, exited_month
),

-- the changes per group and month; those dated before the group's first month count from its
-- first period on
edges_by_month as (
    select
        e.{{ group_cols | join(', e.') }},
        greatest(e.month_start, gs.first_month) as period_start,
        sum(e.stays) as open_change,
        sum(e.amount) as amount_change,
        sum(e.valued) as valued_change,
        sum(e.undated) as undated_change
    from (
        select {{ g }}, entered_month as month_start, stays, amount, valued, undated
        from stay_months
        union all
        select {{ g }}, exited_month, -stays, -amount, -valued, -undated
        from stay_months
        where exited_month is not null
    ) as e
    inner join group_start as gs on {{ metrics_same_group('e', 'gs', group_cols) }}
    group by e.{{ group_cols | join(', e.') }}, greatest(e.month_start, gs.first_month)
),

-- open at each month's end: the changes up to that month; at the end of 'all' (the end of the
-- as-of day): all of them
open_running as (
    select
        p.{{ group_cols | join(', p.') }},
        p.period,
        sum(e.open_change) {{ running }} as open_deals,
        sum(e.amount_change) {{ running }} as open_amount,
        sum(e.valued_change) {{ running }} as valued_deals,
        sum(e.undated_change) {{ running }} as undated_deals
    from periods as p
    left join edges_by_month as e
        on {{ metrics_same_group('p', 'e', group_cols) }} and p.period_start = e.period_start
    where p.period_start is not null
    union all
    select
        {{ g }},
        'all',
        sum(open_change),
        sum(amount_change),
        sum(valued_change),
        sum(undated_change)
    from edges_by_month
    group by {{ g }}
),

open_at_end as (
    select
        {{ g }},
        period,
        cast(open_deals as {{ dbt.type_bigint() }}) as open_deals,
        cast(undated_deals as {{ dbt.type_bigint() }}) as open_deals_undated,
        -- null (not 0) where no open deal has an amount, as a sum over no values
        case when valued_deals > 0 then cast(open_amount as {{ type_double() }}) end as open_amount
    from open_running
),

figures as (
    select
        f.*,
        coalesce(o.open_deals, 0) as open_deals,
        coalesce(o.open_deals_undated, 0) as open_deals_undated,
        o.open_amount,
        cast(f.deals_won as {{ type_double() }})
            / nullif(f.deals_won + f.deals_lost, 0) as win_rate
    from flows as f
    left join open_at_end as o
        on {{ metrics_same_group('f', 'o', group_cols) }}
        and f.period = o.period
)

{%- endmacro %}

{% macro pipeline_metric_columns() -%}
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
{%- endmacro %}

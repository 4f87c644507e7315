{#- Shared logic of marts.pipeline_metrics and marts.pipeline_metrics_by_owner, so both report
    the same figures with the same definitions (documented in marts/metrics/_metrics__models.yml).

    deals:  a CTE name with one row per deal and group: the group columns, deal_id, amount,
            created_at, closed_at, outcome (open / won / lost, the deal's current outcome).
    stays:  a CTE name with the deal's stays in open stages: the group columns, deal_id,
            entered_at, exited_at (null = still there). "Open at period end" is read from these,
            so a deal lost and later reopened is not counted open while it was lost.
    group_cols: the columns that make a group (currency is always one of them). -#}

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

{#- `ts` falls in the period (the 'all' period has no start). -#}
{% macro metrics_within(ts) -%}
    {{ ts }} >= coalesce(p.period_start, {{ ts }}) and {{ ts }} < p.period_end
{%- endmacro %}

{#- The CTEs; the model opens `with recursive`, defines `deals` and `stays`, then calls this
    and selects from `figures` with pipeline_metric_columns(). -#}
{% macro pipeline_metric_ctes(deals, stays, group_cols) -%}
{%- set g = group_cols | join(', ') -%}
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
        substring(cast(m.period_start as {{ dbt.type_string() }}), 1, 7) as period,
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

-- deals created and closed in the period; a close counts in the period the deal's current
-- (latest) close falls in, with its current outcome
flows as (
    select
        p.{{ group_cols | join(', p.') }},
        p.period,
        p.period_start,
        p.period_end,
        count(case when {{ metrics_within('d.created_at') }} then 1 end) as deals_created,
        count(case when d.outcome = 'won' and {{ metrics_within('d.closed_at') }} then 1 end)
            as deals_won,
        count(case when d.outcome = 'lost' and {{ metrics_within('d.closed_at') }} then 1 end)
            as deals_lost,
        sum(case when d.outcome = 'won' and {{ metrics_within('d.closed_at') }} then d.amount end)
            as won_amount,
        avg(case when d.outcome = 'won' and {{ metrics_within('d.closed_at') }} then d.amount end)
            as avg_won_deal_size,
        avg(case when d.outcome = 'won' and {{ metrics_within('d.closed_at') }}
            then d.lifetime_days end) as avg_sales_cycle_days,
        avg(case when d.outcome in ('won', 'lost') and {{ metrics_within('d.closed_at') }}
            then d.lifetime_days end) as avg_deal_lifetime_days
    from periods as p
    left join (
        select *, {{ hours_between('created_at', 'closed_at') }} / 24.0 as lifetime_days
        from {{ deals }}
    ) as d on {{ metrics_same_group('p', 'd', group_cols) }}
    group by p.{{ group_cols | join(', p.') }}, p.period, p.period_start, p.period_end
),

open_at_end as (
    select
        p.{{ group_cols | join(', p.') }},
        p.period,
        count(distinct x.deal_id) as open_deals,
        sum(x.amount) as open_amount
    from periods as p
    inner join (
        select s.*, d.amount
        from {{ stays }} as s
        inner join (select distinct deal_id, amount from {{ deals }}) as d
            on s.deal_id = d.deal_id
    ) as x
        on {{ metrics_same_group('p', 'x', group_cols) }}
        and x.entered_at < p.period_end
        and (x.exited_at is null or x.exited_at >= p.period_end)
    group by p.{{ group_cols | join(', p.') }}, p.period
),

figures as (
    select
        f.*,
        coalesce(o.open_deals, 0) as open_deals,
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

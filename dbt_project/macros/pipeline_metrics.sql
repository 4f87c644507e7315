{#- Shared logic of marts.pipeline_metrics and marts.pipeline_metrics_by_owner, so both report
    the same figures with the same definitions (documented in marts/metrics/_metrics__models.yml).

    deals:  a CTE name with one row per deal: the base columns, deal_id, amount, created_at,
            closed_at, outcome (open / won / lost, the deal's current outcome).
    stays:  a CTE name with the deal's stays in open stages: the base columns, deal_id, amount
            (the deal's), entered_at, exited_at (null = still there). "Open at period end" is
            read from these, so a deal lost and later reopened is not counted open while it was
            lost.
    base_cols: the deal's own columns its groups are made of (currency is always one of them).
    group_cols: the columns that make a group; fan_out maps base_cols onto them, once per group
            a deal counts in (pipeline_metric_ctes).

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
        and d.deal_id not in ({{ metrics_undated_with_stays(deals) }})
{%- endmacro %}

{#- The deals of `deals` with neither a created date nor a closed outcome that have a stay
    after all. Joined to those few deals first, so that the stays are probed against them; a
    `not exists` over every stay hashed all of them (1.4 of 5 CPU seconds by owner at L). -#}
{% macro metrics_undated_with_stays(deals) -%}
    select t.deal_id
    from {{ ref('fct_deal_stage_transitions') }} as t
    inner join {{ deals }} as u on t.deal_id = u.deal_id
    where u.created_at is null and u.outcome = 'open'
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

{#- `relation`'s rows once per grouping of `fan_out`: each grouping is a list of expressions
    over `relation`, one per column of `group_cols`, in that order; `columns` are carried. -#}
{% macro metrics_fan_out(relation, fan_out, group_cols, columns) -%}
    {%- for exprs in fan_out %}
    select
        {%- for e in exprs %} {{ e }} as {{ group_cols[loop.index0] }},{% endfor %}
        {{ columns | join(', ') }}
    from {{ relation }}
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The CTEs; the model opens `with recursive`, defines `deals` and `stays` (one row per deal,
    per stay) with the columns `base_cols`, then calls this and selects from `figures` with
    pipeline_metric_columns(). A deal counts in several groups (its pipeline and all
    pipelines; its owner and its team): `fan_out` maps `base_cols` onto `group_cols` once per
    group a deal counts in (metrics_fan_out). Deals and stays are first counted per base group
    and month, and only those counts are copied into each group and added up: copying every deal
    (4 copies per deal by owner) cost 4x the joins and groupings (session 9's profile). -#}
{% macro pipeline_metric_ctes(deals, stays, base_cols, group_cols, fan_out) -%}
{%- set g = group_cols | join(', ') -%}
{%- set b = base_cols | join(', ') -%}
{%- set running = 'over (partition by p.' ~ group_cols | join(', p.')
    ~ ' order by p.period_start rows between unbounded preceding and current row)' -%}
{{ metrics_month_spine('months', "(select min(created_at) from " ~ deals ~ ")") }},

base_start as (
    select {{ b }}, min(created_at) as first_created
    from {{ deals }}
    group by {{ b }}
),

group_start as (
    select {{ g }}, {{ dbt.date_trunc('month', 'min(first_created)') }} as first_month
    from ({{ metrics_fan_out('base_start', fan_out, group_cols, ['first_created']) }}) as s
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
base_created as (
    select {{ b }}, month_start, count(*) as deals_created
    from (
        select {{ b }}, {{ dbt.date_trunc('month', 'created_at') }} as month_start
        from {{ deals }}
        where created_at < {{ as_of_ts() }}
    ) as d
    group by {{ b }}, month_start
),

created_by_period as (
    select
        {{ g }},
        {{ metrics_period_label('month_start') }} as period,
        cast(sum(deals_created) as {{ dbt.type_bigint() }}) as deals_created
    from ({{ metrics_fan_out('base_created', fan_out, group_cols, ['month_start', 'deals_created']) }}) as d
    group by grouping sets (({{ g }}, month_start), ({{ g }}))
),

-- deals closed per group and month and in all: a close counts in the month the deal's current
-- (latest) close falls in, with its current outcome. Averages are sums over counts, so that the
-- base groups' figures add up (in another order than one average would: the last bits of a
-- float may differ, as they do between runs on several threads)
{%- set closed_measures = ['won', 'lost', 'won_amount', 'won_valued', 'won_days', 'won_timed',
                           'closed_days', 'closed_timed'] %}
base_closed as (
    select
        {{ b }},
        month_start,
        count(case when outcome = 'won' then 1 end) as won,
        count(case when outcome = 'lost' then 1 end) as lost,
        sum(case when outcome = 'won' then amount end) as won_amount,
        count(case when outcome = 'won' then amount end) as won_valued,
        sum(case when outcome = 'won' then lifetime_days end) as won_days,
        count(case when outcome = 'won' then lifetime_days end) as won_timed,
        sum(lifetime_days) as closed_days,
        count(lifetime_days) as closed_timed
    from (
        select
            {{ b }},
            outcome,
            amount,
            {{ dbt.date_trunc('month', 'closed_at') }} as month_start,
            {{ hours_between('created_at', 'closed_at') }} / 24.0 as lifetime_days
        from {{ deals }}
        where outcome in ('won', 'lost') and closed_at < {{ as_of_ts() }}
    ) as d
    group by {{ b }}, month_start
),

closed_by_period as (
    select
        {{ g }},
        {{ metrics_period_label('month_start') }} as period,
        cast(sum(won) as {{ dbt.type_bigint() }}) as deals_won,
        cast(sum(lost) as {{ dbt.type_bigint() }}) as deals_lost,
        sum(won_amount) as won_amount,
        sum(won_amount) / nullif(sum(won_valued), 0) as avg_won_deal_size,
        sum(won_days) / nullif(sum(won_timed), 0) as avg_sales_cycle_days,
        sum(closed_days) / nullif(sum(closed_timed), 0) as avg_deal_lifetime_days
    from ({{ metrics_fan_out('base_closed', fan_out, group_cols, ['month_start'] + closed_measures) }}) as d
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
base_stay_months as (
    select
        {{ b }},
        entered_month,
        exited_month,
        count(*) as stays,
        sum(cast(amount as {{ type_exact_decimal() }})) as amount,
        count(amount) as valued,
        count(case when undated then 1 end) as undated
    from (
        select
            {{ b }},
            amount,
            undated,
            {{ dbt.date_trunc('month', 'entered_at') }} as entered_month,
            case when exited_at < {{ as_of_ts() }}
                then {{ dbt.date_trunc('month', 'exited_at') }} end as exited_month
        from {{ stays }}
        where entered_at < {{ as_of_ts() }} and (exited_at is null or exited_at > entered_at)
    ) as s
    group by {{ b }}, entered_month, exited_month
),

stay_months as (
    {{ metrics_fan_out('base_stay_months', fan_out, group_cols,
                       ['entered_month', 'exited_month', 'stays', 'amount', 'valued', 'undated']) }}
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

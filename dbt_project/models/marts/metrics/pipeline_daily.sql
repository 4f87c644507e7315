{{ config(
    materialized='incremental',
    unique_key=['pipeline_id', 'currency', 'day'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook="{{ delete_rows(this, \"day > cast('\" ~ as_of_date() ~ \"' as date)\") }}"
) }}
-- One row per pipeline, currency and day, from the pipeline's first deal to the as-of day: what
-- was open at the end of that day and the velocity of the trailing window then. A day's values
-- depend only on the history up to that day, so past days do not change unless the source
-- does. Incremental: a run recomputes the last var('pipeline_daily_lookback_days') days (and any
-- new ones); a change older than that needs `dbt build --full-refresh -s pipeline_daily`.
-- Days after the as-of day are removed (a run with an earlier as-of date).
{%- set trailing_days = var('pipeline_daily_trailing_days', 90) %}
{%- set lookback_days = var('pipeline_daily_lookback_days', 30) %}
with
stages as (
    select stage_id, is_closed, probability from {{ ref('dim_pipeline_stages') }}
),

deals as (
    select
        deal_id,
        pipeline_id,
        coalesce(currency, 'unknown') as currency,
        amount,
        created_at,
        closed_at,
        outcome,
        {{ hours_between('created_at', 'closed_at') }} / 24.0 as lifetime_days
    from {{ ref('fct_deals') }}
    where created_at is not null
),

first_day as (
    select
        {% if is_incremental() -%}
        -- the recomputed window: the last lookback days before the latest day already built
        coalesce(
            (select {{ dbt.dateadd('day', -lookback_days, 'max(day)') }} from {{ this }}),
            cast(min(created_at) as date)
        )
        {%- else -%}
        cast(min(created_at) as date)
        {%- endif %} as first_day
    from deals
),

-- every day from first_day to the as-of day (macros/portable.sql: no recursive CTE on Spark)
days as (
    select cast(day as date) as day
    from (
        select {{ day_series('first_day', "cast('" ~ as_of_date() ~ "' as date)") }} as day
        from first_day
    ) as series
),

groups as (
    select pipeline_id, currency, cast(min(created_at) as date) as first_day
    from deals
    group by pipeline_id, currency
),

grid as (
    select
        g.pipeline_id,
        g.currency,
        d.day,
        cast({{ dbt.dateadd('day', 1, 'd.day') }} as {{ dbt.type_timestamp() }}) as day_end
    from groups as g
    inner join days as d on d.day >= g.first_day
),

open_stays as (
    select d.pipeline_id, d.currency, d.deal_id, d.amount, s.probability, t.entered_at, t.exited_at
    from {{ ref('fct_deal_stage_transitions') }} as t
    inner join stages as s on t.to_stage_id = s.stage_id
    inner join deals as d on t.deal_id = d.deal_id
    where not s.is_closed
),

open_at_day_end as (
    select
        g.pipeline_id,
        g.currency,
        g.day,
        count(distinct o.deal_id) as open_deals,
        sum(o.amount) as open_value,
        sum(o.amount * o.probability) as weighted_value
    from grid as g
    inner join open_stays as o
        on g.pipeline_id = o.pipeline_id
        and g.currency = o.currency
        and o.entered_at < g.day_end
        and (o.exited_at is null or o.exited_at >= g.day_end)
    group by g.pipeline_id, g.currency, g.day
),

-- deals closed in the trailing window ending with the day
trailing_closes as (
    select
        g.pipeline_id,
        g.currency,
        g.day,
        count(case when d.outcome = 'won' then 1 end) as won,
        count(case when d.outcome = 'lost' then 1 end) as lost,
        avg(case when d.outcome = 'won' then d.amount end) as avg_won_deal_size,
        avg(case when d.outcome = 'won' then d.lifetime_days end) as avg_sales_cycle_days
    from grid as g
    inner join deals as d
        on g.pipeline_id = d.pipeline_id
        and g.currency = d.currency
        and d.closed_at < g.day_end
        and d.closed_at >= {{ dbt.dateadd('day', -trailing_days, 'g.day_end') }}
    group by g.pipeline_id, g.currency, g.day
)

-- rounded to 6 decimals: sums and averages of floats vary in their last bits with the order
-- the engine adds them in, and a past day's values must not change from run to run
select
    g.pipeline_id,
    g.currency,
    g.day,
    coalesce(o.open_deals, 0) as open_deals,
    round(o.open_value, 6) as open_value,
    round(o.weighted_value, 6) as weighted_value,
    round(cast(t.won as {{ type_double() }}) / nullif(t.won + t.lost, 0), 6) as trailing_win_rate,
    round(t.avg_won_deal_size, 6) as trailing_avg_won_deal_size,
    round(t.avg_sales_cycle_days, 6) as trailing_avg_sales_cycle_days,
    round(
        coalesce(o.open_deals, 0)
        * (cast(t.won as {{ type_double() }}) / nullif(t.won + t.lost, 0))
        * t.avg_won_deal_size / nullif(t.avg_sales_cycle_days, 0),
        6
    ) as pipeline_velocity_per_day
from grid as g
left join open_at_day_end as o
    on g.pipeline_id = o.pipeline_id and g.currency = o.currency and g.day = o.day
left join trailing_closes as t
    on g.pipeline_id = t.pipeline_id and g.currency = t.currency and g.day = t.day

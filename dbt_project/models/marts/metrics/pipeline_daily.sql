{{ incremental_mart_config(
    ['pipeline_id', 'currency', 'day'],
    post_hook="{{ delete_rows(this, \"day > cast('\" ~ as_of_date() ~ \"' as date)\") }}"
) }}
-- One row per pipeline, currency and day, from the pipeline's first deal to the as-of day: what
-- was open at the end of that day and the velocity of the trailing window then. A day's values
-- depend only on the history up to that day, so past days do not change unless the source
-- does. Incremental: a run recomputes the last var('pipeline_daily_lookback_days') days (and any
-- new ones); a change older than that needs `dbt build --full-refresh -s pipeline_daily`.
-- Days after the as-of day are removed (a run with an earlier as-of date).
-- Both figures are running sums of per-day changes (a stay's start and end, a close entering
-- and leaving the trailing window): the cost grows with stays + closes + days, not their product.
{%- set trailing_days = var('pipeline_daily_trailing_days', 90) %}
{%- set lookback_days = var('pipeline_daily_lookback_days', 30) %}
with
stages as (
    select stage_id, is_closed, probability from {{ ref('dim_pipeline_stages') }}
),

deals as (
    {{ metrics_deals([hours_between('created_at', 'closed_at') ~ ' / 24.0 as lifetime_days',
                      'stage_id']) }}
),

-- the start of the as-of day: where an undated open deal (below) starts to count
{%- set as_of_start = "cast('" ~ as_of_date() ~ "' as " ~ dbt.type_timestamp() ~ ")" %}

first_day as (
    select
        {% if is_incremental() -%}
        -- the recomputed window: the last lookback days before the latest day already built
        coalesce(
            (select {{ dbt.dateadd('day', -lookback_days, 'max(day)') }} from {{ this }}),
            cast(coalesce(min(created_at), {{ as_of_start }}) as date)
        )
        {%- else -%}
        cast(coalesce(min(created_at), {{ as_of_start }}) as date)
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
    select pipeline_id, currency, cast(coalesce(min(created_at), {{ as_of_start }}) as date)
        as first_day
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

-- each group's first day in the grid: the running sums below start there, and whatever
-- happened before it (older history, or the days before the recomputed window) counts on it
grid_start as (
    select pipeline_id, currency, min(day) as first_day
    from grid
    group by pipeline_id, currency
),

open_stays as (
    select d.pipeline_id, d.currency, d.deal_id, d.amount, s.probability, t.entered_at, t.exited_at
    from {{ ref('fct_deal_stage_transitions') }} as t
    inner join stages as s on t.to_stage_id = s.stage_id
    inner join deals as d on t.deal_id = d.deal_id
    where not s.is_closed
    union all
    -- an open deal whose export gives neither a created date nor stage dates (current stages
    -- only) is open now, but when it opened is unknown: open from the start of the as-of day,
    -- as pipeline_metrics counts it from the as-of month (metrics_open_stays)
    select d.pipeline_id, d.currency, d.deal_id, d.amount, s.probability, {{ as_of_start }},
        cast(null as {{ dbt.type_timestamp() }})
    from deals as d
    left join stages as s on d.stage_id = s.stage_id
    where
        d.created_at is null
        and d.outcome = 'open'
        and d.deal_id not in ({{ metrics_undated_with_stays('deals') }})
),

-- a stay is open at a day's end E when entered_at < E <= exited_at: it adds 1 (and its values)
-- from the day it starts and takes it off from the day it ends, so what is open at a day's end
-- is a running sum over the days, not a join of every day with every stay. Only what happens
-- before the end of the as-of day counts; empty or inverted stays are never open. A deal's stays
-- do not overlap (each ends where the next begins, fct_deal_stage_transitions), so open stays =
-- open deals. Values are summed as exact decimals so that what is added and taken off cancels
-- exactly; `valued` / `weighted_n` count the stays with a value.
stay_days as (
    select
        pipeline_id,
        currency,
        entered_day,
        exited_day,
        count(*) as stays,
        sum(open_value) as open_value,
        count(open_value) as valued,
        sum(weighted_value) as weighted_value,
        count(weighted_value) as weighted_n
    from (
        select
            pipeline_id,
            currency,
            cast(entered_at as date) as entered_day,
            case when exited_at < {{ as_of_ts() }} then cast(exited_at as date) end as exited_day,
            cast(amount as {{ type_exact_decimal() }}) as open_value,
            cast(amount * probability as {{ type_exact_decimal() }}) as weighted_value
        from open_stays
        where entered_at < {{ as_of_ts() }} and (exited_at is null or exited_at > entered_at)
    ) as s
    group by pipeline_id, currency, entered_day, exited_day
),

-- the changes per group and day, from the group's first grid day on
{%- set open_measures = ['stays', 'open_value', 'valued', 'weighted_value', 'weighted_n'] %}
day_changes as (
    {{ daily_changes('stay_days', 'entered_day', 'exited_day', open_measures) }}
),

open_running as (
    {{ grid_running_sums('day_changes', open_measures) }}
),

-- null (not 0) values where no open deal has one, as a sum over no values
open_at_day_end as (
    select
        pipeline_id,
        currency,
        day,
        cast(stays as {{ dbt.type_bigint() }}) as open_deals,
        case when valued > 0 then cast(open_value as {{ type_double() }}) end as open_value,
        case when weighted_n > 0 then cast(weighted_value as {{ type_double() }}) end
            as weighted_value
    from open_running
),

-- the deals won and lost per group and day of close (before the end of the as-of day)
closes as (
    select
        pipeline_id,
        currency,
        close_day,
        count(case when outcome = 'won' then 1 end) as won,
        count(case when outcome = 'lost' then 1 end) as lost,
        sum(case when outcome = 'won' then cast(amount as {{ type_exact_decimal() }}) end)
            as won_amount,
        count(case when outcome = 'won' then amount end) as won_valued,
        sum(case when outcome = 'won' then cast(lifetime_days as {{ type_exact_decimal() }}) end)
            as won_days,
        count(case when outcome = 'won' then lifetime_days end) as won_timed
    from (
        select *, cast(closed_at as date) as close_day
        from deals
        where outcome in ('won', 'lost') and closed_at < {{ as_of_ts() }}
    ) as d
    group by pipeline_id, currency, close_day
),

-- a close counts in the trailing windows of its day and the next trailing_days - 1 days: it
-- adds to the window from its day and is taken off trailing_days later (a running sum over the
-- days, not a join of every day with every close). Values as exact decimals, as above.
{%- set close_measures = ['won', 'lost', 'won_amount', 'won_valued', 'won_days', 'won_timed'] %}
close_changes as (
    {{ daily_changes('closes', 'close_day',
                     'cast(' ~ dbt.dateadd('day', trailing_days, 'close_day') ~ ' as date)',
                     close_measures) }}
),

trailing_running as (
    {{ grid_running_sums('close_changes', close_measures) }}
),

-- deals closed in the trailing window ending with the day
trailing_closes as (
    select
        pipeline_id,
        currency,
        day,
        cast(won as {{ dbt.type_bigint() }}) as won,
        cast(lost as {{ dbt.type_bigint() }}) as lost,
        cast(won_amount as {{ type_double() }}) / nullif(won_valued, 0) as avg_won_deal_size,
        cast(won_days as {{ type_double() }}) / nullif(won_timed, 0) as avg_sales_cycle_days
    from trailing_running
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

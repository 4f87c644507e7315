-- One row per pipeline, currency and month: how well the days' 30-day forecasts of that month
-- (30 x pipeline_daily.pipeline_velocity_per_day: the revenue expected in the next 30 days)
-- matched what was won in those 30 days. A forecast is compared once its 30 days are over
-- (day + 30 <= the as-of day), so the last month fills in as days pass; days whose velocity is
-- undefined (no win in the trailing window) have no forecast and are counted apart.
{%- set horizon = var('forecast_accuracy_horizon_days') %}
with
deals as (
    {{ metrics_deals() }}
),

won_by_day as (
    select
        pipeline_id,
        currency,
        cast(closed_at as date) as day,
        sum(amount) as won_amount
    from deals
    where outcome = 'won' and closed_at is not null
    group by pipeline_id, currency, cast(closed_at as date)
),

forecasts as (
    select
        pipeline_id,
        currency,
        day,
        {{ horizon }} * pipeline_velocity_per_day as forecast_amount
    from {{ ref('pipeline_daily') }}
    where {{ dbt.dateadd('day', horizon, 'day') }} <= cast('{{ as_of_date() }}' as date)
),

-- what was won on the `horizon` days after each forecast day (range join: cost grows with
-- days x won days in the window, not days x deals)
outcomes as (
    select
        f.pipeline_id,
        f.currency,
        f.day,
        f.forecast_amount,
        coalesce(sum(w.won_amount), 0) as actual_amount
    from forecasts as f
    left join won_by_day as w
        on f.pipeline_id = w.pipeline_id
        and f.currency = w.currency
        and w.day > f.day
        and w.day <= {{ dbt.dateadd('day', horizon, 'f.day') }}
    group by f.pipeline_id, f.currency, f.day, f.forecast_amount
)

select
    pipeline_id,
    currency,
    {{ metrics_period_label(dbt.date_trunc('month', 'day')) }} as period,
    cast({{ dbt.date_trunc('month', 'day') }} as {{ dbt.type_timestamp() }}) as period_start,
    count(*) as days_compared,
    cast(sum(case when forecast_amount is null then 1 else 0 end) as {{ dbt.type_bigint() }})
        as days_without_forecast,
    avg(forecast_amount) as avg_forecast_amount,
    avg(case when forecast_amount is not null then actual_amount end) as avg_actual_amount,
    avg(abs(forecast_amount - actual_amount)) as mean_abs_error,
    sum(abs(forecast_amount - actual_amount))
        / nullif(sum(case when forecast_amount is not null then actual_amount end), 0)
        as weighted_abs_pct_error,
    sum(forecast_amount - actual_amount)
        / nullif(sum(case when forecast_amount is not null then actual_amount end), 0)
        as bias
from outcomes
group by pipeline_id, currency, {{ dbt.date_trunc('month', 'day') }}

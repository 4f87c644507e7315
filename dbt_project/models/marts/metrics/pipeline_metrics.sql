-- One row per pipeline, currency and calendar month, plus period = 'all' (everything up to the
-- end of the as-of day), and the same rows over all pipelines (pipeline_id = 'all'). Amounts are
-- never summed across currencies: currency is part of the grain. Definitions: the .yml.
with recursive
stages as (
    select stage_id, is_closed from {{ ref('dim_pipeline_stages') }}
),

deal_rows as (
    select
        deal_id,
        pipeline_id,
        coalesce(currency, 'unknown') as currency,
        amount,
        created_at,
        closed_at,
        outcome
    from {{ ref('fct_deals') }}
    where created_at is not null
),

-- each deal once in its pipeline and once in the total over all pipelines
deals as (
    select * from deal_rows
    union all
    select deal_id, 'all', currency, amount, created_at, closed_at, outcome from deal_rows
),

stays as (
    select d.pipeline_id, d.currency, t.deal_id, d.amount, t.entered_at, t.exited_at
    from {{ ref('fct_deal_stage_transitions') }} as t
    inner join stages as s on t.to_stage_id = s.stage_id
    inner join deals as d on t.deal_id = d.deal_id
    where not s.is_closed
),

{{ pipeline_metric_ctes('deals', 'stays', ['pipeline_id', 'currency']) }}

select
    f.pipeline_id,
    coalesce(n.pipeline_name, 'All pipelines') as pipeline_name,
    f.currency,
    {{ pipeline_metric_columns() }}
from figures as f
left join (
    select distinct pipeline_id, pipeline_name from {{ ref('dim_pipeline_stages') }}
) as n on f.pipeline_id = n.pipeline_id

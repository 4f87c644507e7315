-- One row per pipeline, currency and calendar month, plus period = 'all' (everything up to the
-- end of the as-of day), and the same rows over all pipelines (pipeline_id = 'all'). Amounts are
-- never summed across currencies: currency is part of the grain. Definitions: the .yml.
with recursive
deals as (
    {{ metrics_deals() }}
),

stays as (
    {{ metrics_open_stays('deals', ['pipeline_id', 'currency']) }}
),

-- each deal counts in its pipeline and in the total over all pipelines
{{ pipeline_metric_ctes('deals', 'stays', ['pipeline_id', 'currency'], ['pipeline_id', 'currency'],
                        [['pipeline_id', 'currency'], ["'all'", 'currency']]) }}

select
    f.pipeline_id,
    coalesce(n.pipeline_name, 'All pipelines') as pipeline_name,
    f.currency,
    {{ pipeline_metric_columns() }}
from figures as f
left join (
    select distinct pipeline_id, pipeline_name from {{ ref('dim_pipeline_stages') }}
) as n on f.pipeline_id = n.pipeline_id

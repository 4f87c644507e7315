-- The current period's closing in pipeline_waterfall (replayed from the deals' change history)
-- is the open pipeline fct_deals holds now, expected to close in that period: a change the
-- history missed would leave the replayed state apart from the deal's current one.
{%- set exact = type_exact_decimal() %}
with waterfall as (
    select period_type, pipeline_id, currency, closing_amount, closing_count
    from {{ ref('pipeline_waterfall') }}
    where group_type = 'all' and period_end = cast('{{ as_of_date() }}' as date)
        and closing_count > 0
),

{%- for period_type in waterfall_period_types() %}
open_{{ period_type }} as (
    select
        '{{ period_type }}' as period_type,
        pipeline_id,
        currency,
        sum(cast(coalesce(amount, 0) as {{ exact }})) as open_amount,
        count(*) as open_count
    from {{ ref('fct_deals') }}
    where outcome = 'open'
        and {{ waterfall_period_start(period_type, 'expected_close_date') }}
            = {{ waterfall_period_start(period_type, "cast('" ~ as_of_date() ~ "' as date)") }}
    group by pipeline_id, currency
),
{%- endfor %}

open_now as (
    {%- for period_type in waterfall_period_types() %}
    select * from open_{{ period_type }}{{ ' union all' if not loop.last }}
    {%- endfor %}
)

select *
from waterfall as w
full outer join open_now as o
    on w.period_type = o.period_type and w.pipeline_id = o.pipeline_id
    and w.currency = o.currency
where w.closing_amount is null or o.open_amount is null
    or w.closing_amount <> o.open_amount or w.closing_count <> o.open_count

with latest as (
    {{ latest_records(source('raw', 'pipedrive_stages'), 'id') }}
)

select
    id as source_stage_id,
    name as stage_label,
    pipeline_id as source_pipeline_id,
    order_nr as display_order,
    cast(deal_probability as {{ type_double() }}) / 100 as probability
from latest
where not coalesce(is_deleted, false)

with latest as (
    {{ latest_records(source('raw', 'pipedrive_pipelines'), 'id') }}
)

select
    id as source_pipeline_id,
    name as pipeline_label,
    order_nr as display_order
from latest
where not coalesce(is_deleted, false)

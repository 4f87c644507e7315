with latest as (
    {{ latest_records(source('raw', 'activecampaign_deal_stages'), 'id') }}
)

select
    id as source_stage_id,
    title as stage_label,
    "group" as source_pipeline_id,
    "order" as display_order
from latest

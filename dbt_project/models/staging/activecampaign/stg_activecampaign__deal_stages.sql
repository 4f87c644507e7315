with latest as (
    {{ latest_records(source('raw', 'activecampaign_deal_stages'), 'id') }}
)

select
    id as source_stage_id,
    title as stage_label,
    {{ adapter.quote('group') }} as source_pipeline_id,
    {{ adapter.quote('order') }} as display_order
from latest

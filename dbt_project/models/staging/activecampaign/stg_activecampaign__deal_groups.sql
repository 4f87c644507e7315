with latest as (
    {{ latest_records(source('raw', 'activecampaign_deal_groups'), 'id') }}
)

select
    id as source_pipeline_id,
    title as pipeline_label,
    upper(currency) as currency
from latest

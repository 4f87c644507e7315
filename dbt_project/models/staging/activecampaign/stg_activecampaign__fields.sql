with latest as (
    {{ latest_records(source('raw', 'activecampaign_fields'), 'id') }}
)

select
    id as source_field_id,
    title as field_title,
    perstag as personalization_tag
from latest

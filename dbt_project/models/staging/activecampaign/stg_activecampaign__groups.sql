with latest as (
    {{ latest_records(source('raw', 'activecampaign_groups'), 'id') }}
)

select
    id as source_group_id,
    title as team
from latest

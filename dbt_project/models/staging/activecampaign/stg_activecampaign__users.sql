with latest as (
    {{ latest_records(source('raw', 'activecampaign_users'), 'id') }}
)

select
    id as source_owner_id,
    trim(coalesce(firstname, '') || ' ' || coalesce(lastname, '')) as owner_name,
    lower(email) as email,
    {{ adapter.quote('group') }} as source_group_id
from latest

with latest as (
    {{ latest_records(source('raw', 'hubspot_owners'), 'id') }}
)

select
    id as source_owner_id,
    trim(coalesce(firstname, '') || ' ' || coalesce(lastname, '')) as owner_name,
    lower(email) as email,
    primaryteamname as team,
    coalesce(archived, false) as is_archived
from latest

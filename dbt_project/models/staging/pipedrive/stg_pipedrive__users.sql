with latest as (
    {{ latest_records(source('raw', 'pipedrive_users'), 'id') }}
)

select
    id as source_owner_id,
    name as owner_name,
    lower(email) as email,
    active_flag as is_active
from latest

with latest as (
    {{ latest_records(source('raw', 'salesforce_users'), 'id') }}
)

select
    id as source_owner_id,
    name as owner_name,
    lower(email) as email,
    is_active,
    department as team
from latest

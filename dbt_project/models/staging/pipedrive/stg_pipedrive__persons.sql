with latest as (
    {{ latest_records(source('raw', 'pipedrive_persons'), 'id') }}
)

select
    id as source_contact_id,
    first_name,
    last_name,
    name as full_name,
    lower(email) as email,
    phone,
    owner_id as source_owner_id,
    org_id as source_org_id,
    add_time as created_at,
    update_time as updated_at
from latest
where not coalesce(is_deleted, false)

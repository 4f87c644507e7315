with latest as (
    {{ latest_records(source('raw', 'activecampaign_contacts'), 'id') }}
)

select
    id as source_contact_id,
    lower(email) as email,
    firstname as first_name,
    lastname as last_name,
    phone,
    orgname as company,
    cdate as created_at,
    udate as updated_at
from latest

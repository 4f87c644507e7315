with latest as (
    {{ latest_records(source('raw', 'salesforce_contacts'), 'id') }}
)

select
    id as source_contact_id,
    first_name,
    last_name,
    lower(email) as email,
    phone,
    title,
    lead_source,
    owner_id as source_owner_id,
    account_id as source_account_id,
    mailing_country as country,
    created_date as created_at,
    system_modstamp
from latest
where not coalesce(is_deleted, false)

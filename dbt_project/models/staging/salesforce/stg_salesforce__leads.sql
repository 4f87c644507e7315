with latest as (
    {{ latest_records(source('raw', 'salesforce_leads'), 'id') }}
)

select
    id as source_lead_id,
    first_name,
    last_name,
    lower(email) as email,
    phone,
    title,
    lead_source,
    owner_id as source_owner_id,
    company,
    industry,
    number_of_employees as company_size,
    country,
    status as lead_status,
    is_converted,
    created_date as created_at,
    system_modstamp
from latest
where not coalesce(is_deleted, false)

with latest as (
    {{ latest_records(source('raw', 'generic_contacts'), 'contact_id') }}
)

select
    source_system,
    contact_id as source_contact_id,
    lower(email) as email,
    first_name,
    last_name,
    company,
    title,
    industry,
    company_size,
    country,
    lead_source,
    created_at,
    owner as owner_name,
    budget_range,
    decision_maker,
    need_identified,
    purchase_timeline
from latest

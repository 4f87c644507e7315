{{ reranked_config('hubspot_contacts', 'source_contact_id') }}
-- Incremental: see reranked_config (macros/staging.sql) and latest_records.
with latest as (
    {{ latest_records(source('raw', 'hubspot_contacts'), 'record_id', 'source_contact_id') }}
)

select
    record_id as source_contact_id,
    first_name,
    last_name,
    lower(email) as email,
    phone_number as phone,
    job_title as title,
    company_name as company,
    industry,
    number_of_employees as company_size,
    country_region as country,
    original_source as lead_source,
    lifecycle_stage,
    contact_owner as owner_name,
    create_date as created_at,
    last_activity_date as last_activity_at,
    budget_range,
    decision_maker,
    need_identified,
    purchase_timeline,
    associated_deal_ids,
    -- the load the version came from: the incremental runs' watermark and fallback
    _load_id,
    _loaded_at,
    -- when a run wrote the row: its tests read only the rows written since they last passed
    {{ built_at() }} as _built_at
from latest

{{ reranked_config('generic_contacts', 'source_contact_id') }}
-- Incremental: see reranked_config (macros/staging.sql) and latest_records.
with latest as (
    {{ latest_records(source('raw', 'generic_contacts'), 'contact_id', 'source_contact_id') }}
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
    purchase_timeline,
    -- the load the version came from: the incremental runs' watermark and fallback
    _load_id,
    _loaded_at,
    -- when a run wrote the row: its tests read only the rows written since they last passed
    {{ built_at() }} as _built_at
from latest

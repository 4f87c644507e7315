{{ reranked_config('activecampaign_contacts', 'source_contact_id') }}
-- Incremental: see reranked_config (macros/staging.sql) and latest_records.
with latest as (
    {{ latest_records(source('raw', 'activecampaign_contacts'), 'id', 'source_contact_id') }}
)

select
    id as source_contact_id,
    lower(email) as email,
    firstname as first_name,
    lastname as last_name,
    phone,
    orgname as company,
    cdate as created_at,
    udate as updated_at,
    -- the load the version came from: the incremental runs' watermark and fallback
    _load_id,
    _loaded_at,
    -- when a run wrote the row: its tests read only the rows written since they last passed
    {{ built_at() }} as _built_at
from latest

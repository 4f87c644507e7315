{{ reranked_config('activecampaign_contact_field_values', 'source_field_value_id') }}
-- Incremental: see reranked_config (macros/staging.sql) and latest_records.
with latest as (
    {{ latest_records(source('raw', 'activecampaign_contact_field_values'), 'id',
                      'source_field_value_id') }}
)

select
    id as source_field_value_id,
    contact as source_contact_id,
    field as source_field_id,
    nullif(trim(value), '') as value,
    -- the load the version came from: the incremental runs' watermark and fallback
    _load_id,
    _loaded_at,
    -- when a run wrote the row: its tests read only the rows written since they last passed
    {{ built_at() }} as _built_at
from latest

{{ activity_log_config() }}
-- Incremental: see activity_log_config (macros/staging.sql) and latest_records.
with latest as (
    {{ latest_records(source('raw', 'generic_activities'), 'activity_id') }}
)

select
    source_system,
    activity_id as source_activity_id,
    activity_type as source_type,
    activity_type_canonical as activity_type,
    occurred_at,
    contact_id as source_contact_id,
    deal_id as source_deal_id,
    owner as owner_name,
    -- when the record was landed: fct_activities' incremental runs take newer ones
    _loaded_at,
    -- when a run wrote the row: its tests read only the rows written since they last passed
    {{ built_at() }} as _built_at
from latest

{{ activity_log_config() }}
-- Incremental: see activity_log_config (macros/staging.sql) and latest_records.
with latest as (
    {{ latest_records(source('raw', 'activecampaign_activities'), 'id') }}
)

select
    id as source_activity_id,
    contact as source_contact_id,
    deal as source_deal_id,
    userid as source_owner_id,
    tstamp as occurred_at,
    lower(type) as source_type,
    -- when the record was landed: fct_activities' incremental runs take newer ones
    _loaded_at,
    -- when a run wrote the row: its tests read only the rows written since they last passed
    {{ built_at() }} as _built_at
from latest

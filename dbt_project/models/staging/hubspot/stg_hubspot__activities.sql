{{ activity_log_config() }}
-- Incremental: see activity_log_config (macros/staging.sql) and latest_records.
with latest as (
    {{ latest_records(source('raw', 'hubspot_activities'), 'record_id') }}
)

select
    record_id as source_activity_id,
    activity_type as source_type,
    activity_date as occurred_at,
    activity_assigned_to as owner_name,
    {{ first_list_item('associated_contact_ids') }} as source_contact_id,
    {{ first_list_item('associated_deal_ids') }} as source_deal_id,
    -- when the record was landed: fct_activities' incremental runs take newer ones
    _loaded_at,
    -- when a run wrote the row: its tests read only the rows written since they last passed
    {{ built_at() }} as _built_at
from latest

{{ activity_log_config() }}
-- Incremental: see activity_log_config (macros/staging.sql) and latest_records.
with latest as (
    {{ latest_records(source('raw', 'activecampaign_deal_activities'), 'id') }}
)

select
    id as source_activity_id,
    d_id as source_deal_id,
    d_stageid as source_stage_id,
    userid as source_owner_id,
    cdate as occurred_at,
    lower(datatype) as data_type,
    lower(dataaction) as data_action,
    dataoldval as old_value,
    datanewval as new_value,
    -- when the record was landed: fct_activities' incremental runs take newer ones
    _loaded_at,
    -- when a run wrote the row: its tests read only the rows written since they last passed
    {{ built_at() }} as _built_at
from latest

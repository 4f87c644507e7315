{{ activity_log_config(api_deletions=true) }}
-- Incremental: see activity_log_config (macros/staging.sql) and latest_records.
with latest as (
    {{ latest_records(source('raw', 'pipedrive_activities'), 'id') }}
)

select
    id as source_activity_id,
    type as source_type,
    subject,
    owner_id as source_owner_id,
    deal_id as source_deal_id,
    person_id as source_contact_id,
    done as is_done,
    due_date,
    marked_as_done_time as done_at,
    add_time as created_at,
    -- when the record was landed: fct_activities' incremental runs take newer ones
    _loaded_at,
    -- when a run wrote the row: its tests read only the rows written since they last passed
    {{ built_at() }} as _built_at,
    {{ not_deleted() }}

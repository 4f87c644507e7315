{{ activity_log_config(api_deletions=true) }}
-- Incremental: see activity_log_config (macros/staging.sql) and latest_records.
with latest as (
    {{ latest_records(source('raw', 'salesforce_tasks'), 'id') }}
)

select
    id as source_activity_id,
    who_id as source_person_id,
    what_id as source_related_id,
    owner_id as source_owner_id,
    subject,
    task_subtype,
    status,
    activity_date,
    completed_date_time as completed_at,
    created_date as created_at,
    -- when the record was landed: fct_activities' incremental runs take newer ones
    _loaded_at,
    -- when a run wrote the row: its tests read only the rows written since they last passed
    {{ built_at() }} as _built_at,
    {{ not_deleted() }}

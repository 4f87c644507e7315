{{ config(
    materialized='incremental',
    unique_key='source_activity_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook="{% if is_incremental() %}{{ delete_rows(this, 'is_deleted') }}{% endif %}"
) }}
-- Incremental (see latest_records): a run takes the records landed after the newest `_loaded_at`
-- already here. A record the API now reports deleted is kept in that run's rows, so delete+insert
-- drops the version held here, and the post-hook then removes it (is_deleted is false in every
-- row left). An activity deleted from the exports without such a record (a re-landed file
-- without it) stays until `dbt build --full-refresh -s <this model>+`.
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
    coalesce(is_deleted, false) as is_deleted
from latest
{%- if not is_incremental() %}
where not coalesce(is_deleted, false)
{%- endif %}

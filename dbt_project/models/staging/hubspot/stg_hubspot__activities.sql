{{ config(
    materialized='incremental',
    unique_key='source_activity_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}
-- Incremental (see latest_records): a run takes the records landed after the newest `_loaded_at`
-- already here. An activity deleted from the exports (a re-landed file without it) stays until
-- `dbt build --full-refresh -s <this model>+`.
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
    _loaded_at
from latest

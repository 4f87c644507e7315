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
    _loaded_at
from latest

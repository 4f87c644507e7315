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
    _loaded_at
from latest

{{ config(
    materialized='incremental',
    unique_key='source_field_value_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook="{{ drop_vanished_loads(source('raw', 'activecampaign_contact_field_values')) }}"
) }}
-- Incremental (see latest_records): a run ranks the records landed after the newest `_loaded_at`
-- here and those whose load is gone from raw, so it equals a full refresh, deletions included.
with latest as (
    {{ latest_records(source('raw', 'activecampaign_contact_field_values'), 'id',
                      'source_field_value_id') }}
)

select
    id as source_field_value_id,
    contact as source_contact_id,
    field as source_field_id,
    nullif(trim(value), '') as value,
    -- the load the version came from: the incremental runs' watermark and fallback
    _load_id,
    _loaded_at
from latest

{{ config(
    materialized='incremental',
    unique_key='source_contact_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook="{{ drop_vanished_loads(source('raw', 'activecampaign_contacts')) }}"
) }}
-- Incremental (see latest_records): a run ranks the records landed after the newest `_loaded_at`
-- here and those whose load is gone from raw, so it equals a full refresh, deletions included.
with latest as (
    {{ latest_records(source('raw', 'activecampaign_contacts'), 'id', 'source_contact_id') }}
)

select
    id as source_contact_id,
    lower(email) as email,
    firstname as first_name,
    lastname as last_name,
    phone,
    orgname as company,
    cdate as created_at,
    udate as updated_at,
    -- the load the version came from: the incremental runs' watermark and fallback
    _load_id,
    _loaded_at
from latest

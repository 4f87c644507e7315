{{ config(
    materialized='incremental',
    unique_key='source_contact_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook="{{ drop_vanished_loads(source('raw', 'generic_contacts')) }}"
) }}
-- Incremental (see latest_records): a run ranks the records landed after the newest `_loaded_at`
-- here and those whose load is gone from raw, so it equals a full refresh, deletions included.
with latest as (
    {{ latest_records(source('raw', 'generic_contacts'), 'contact_id', 'source_contact_id') }}
)

select
    source_system,
    contact_id as source_contact_id,
    lower(email) as email,
    first_name,
    last_name,
    company,
    title,
    industry,
    company_size,
    country,
    lead_source,
    created_at,
    owner as owner_name,
    budget_range,
    decision_maker,
    need_identified,
    purchase_timeline,
    -- the load the version came from: the incremental runs' watermark and fallback
    _load_id,
    _loaded_at
from latest

{{ config(
    materialized='incremental',
    unique_key='source_contact_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook="{{ drop_vanished_loads(source('raw', 'hubspot_contacts')) }}"
) }}
-- Incremental (see latest_records): a run ranks the records landed after the newest `_loaded_at`
-- here and those whose load is gone from raw, so it equals a full refresh, deletions included.
with latest as (
    {{ latest_records(source('raw', 'hubspot_contacts'), 'record_id', 'source_contact_id') }}
)

select
    record_id as source_contact_id,
    first_name,
    last_name,
    lower(email) as email,
    phone_number as phone,
    job_title as title,
    company_name as company,
    industry,
    number_of_employees as company_size,
    country_region as country,
    original_source as lead_source,
    lifecycle_stage,
    contact_owner as owner_name,
    create_date as created_at,
    last_activity_date as last_activity_at,
    budget_range,
    decision_maker,
    need_identified,
    purchase_timeline,
    associated_deal_ids,
    -- the load the version came from: the incremental runs' watermark and fallback
    _load_id,
    _loaded_at
from latest

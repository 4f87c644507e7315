with latest as (
    {{ latest_records(source('raw', 'salesforce_opportunities'), 'id') }}
)

select
    id as source_deal_id,
    name as deal_name,
    account_id as source_account_id,
    contact_id as source_contact_id,
    amount,
    upper(currency_iso_code) as currency,
    stage_name,
    probability as win_probability_pct,
    close_date,
    is_closed,
    is_won,
    type as opportunity_type,
    owner_id as source_owner_id,
    owner_name,
    created_date as created_at,
    last_modified_date as updated_at,
    system_modstamp
from latest
-- a report row without a stage: quarantined at ingest, left out here
where not coalesce(is_deleted, false) and stage_name is not null

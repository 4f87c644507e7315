with latest as (
    {{ latest_records(source('raw', 'salesforce_opportunity_history'), 'id') }}
)

select
    id as source_history_id,
    opportunity_id as source_deal_id,
    stage_name,
    amount,
    probability as win_probability_pct,
    close_date,
    created_date as changed_at,
    created_by_id as source_user_id
from latest
-- a report row without a stage: quarantined at ingest, left out here
where not coalesce(is_deleted, false) and stage_name is not null

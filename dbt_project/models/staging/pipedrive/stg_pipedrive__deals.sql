with latest as (
    {{ latest_records(source('raw', 'pipedrive_deals'), 'id') }}
)

select
    id as source_deal_id,
    title as deal_name,
    pipeline_id as source_pipeline_id,
    stage_id as source_stage_id,
    value as amount,
    upper(currency) as currency,
    owner_id as source_owner_id,
    person_id as source_contact_id,
    status,
    probability as win_probability_pct,
    lost_reason,
    add_time as created_at,
    update_time as updated_at,
    stage_change_time as stage_changed_at,
    close_time as closed_at,
    won_time as won_at,
    lost_time as lost_at,
    expected_close_date as close_date
from latest
where not coalesce(is_deleted, false) and coalesce(status, 'open') <> 'deleted'

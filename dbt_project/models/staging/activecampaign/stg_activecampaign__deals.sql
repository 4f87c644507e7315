with latest as (
    {{ latest_records(source('raw', 'activecampaign_deals'), 'id') }}
)

select
    id as source_deal_id,
    title as deal_name,
    {{ adapter.quote('group') }} as source_pipeline_id,
    stage as source_stage_id,
    value / 100.0 as amount,  -- ActiveCampaign stores deal values in cents
    upper(currency) as currency,
    owner as source_owner_id,
    contact as source_contact_id,
    case status when '1' then 'won' when '2' then 'lost' else 'open' end as status,
    percent as win_probability_pct,
    cdate as created_at,
    mdate as updated_at,
    edate as close_date
from latest

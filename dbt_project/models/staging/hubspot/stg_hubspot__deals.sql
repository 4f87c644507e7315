with latest as (
    {{ latest_records(source('raw', 'hubspot_deals'), 'record_id') }}
)

select
    record_id as source_deal_id,
    deal_name,
    pipeline as pipeline_label,
    deal_stage as stage_label,
    amount,
    upper(currency) as currency,
    close_date,
    create_date as created_at,
    deal_owner as owner_name,
    deal_type,
    associated_contact_ids,
    last_activity_date as last_activity_at,
    is_closed_won,
    is_deal_closed,
    deal_probability,
    _source_file,
    _line
from latest

with latest as (
    {{ latest_records(source('raw', 'generic_deals'), 'deal_id') }}
)

select
    source_system,
    deal_id as source_deal_id,
    deal_name,
    coalesce(pipeline, _default_pipeline) as pipeline_label,
    stage as stage_label,
    amount,
    upper(currency) as currency,
    owner as owner_name,
    created_at,
    close_date,
    closed_at,
    contact_id as source_contact_id,
    _source_file,
    _line
from latest

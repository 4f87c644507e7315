with latest as (
    {{ latest_records(source('raw', 'salesforce_opportunity_stages'), 'id') }}
)

select
    id as source_stage_id,
    api_name,
    master_label as stage_label,
    sort_order as display_order,
    is_active,
    is_closed,
    is_won,
    cast(default_probability as {{ type_double() }}) / 100 as probability
from latest

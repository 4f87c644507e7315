with latest as (
    {{ latest_records(source('raw', 'activecampaign_contact_field_values'), 'id') }}
)

select
    id as source_field_value_id,
    contact as source_contact_id,
    field as source_field_id,
    nullif(trim(value), '') as value
from latest

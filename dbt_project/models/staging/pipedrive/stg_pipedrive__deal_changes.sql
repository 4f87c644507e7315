with latest as (
    {{ latest_records(source('raw', 'pipedrive_deal_changes'), 'id') }}
)

select
    id as source_change_id,
    {{ try_to_bigint('id') }} as change_seq,
    deal_id as source_deal_id,
    user_id as source_user_id,
    field_key,
    old_value,
    new_value,
    log_time as changed_at
from latest

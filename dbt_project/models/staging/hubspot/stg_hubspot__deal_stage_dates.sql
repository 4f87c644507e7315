select
    deal_id as source_deal_id,
    pipeline_label,
    stage_label,
    entered_at,
    exited_at,
    stage_position,
    _source_file,
    _line
from {{ source('raw', 'hubspot_deal_stage_dates') }}

select
    source_system,
    deal_id as source_deal_id,
    stage as stage_label,
    entered_at,
    _source_file,
    _line
from {{ source('raw', 'generic_deal_stage_dates') }}

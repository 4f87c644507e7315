select
    source_system,
    pipeline as pipeline_label,
    stage as stage_label,
    stage_order as display_order,
    coalesce(is_won, false) as is_won,
    coalesce(is_lost, false) as is_lost,
    probability
from {{ source('raw', 'generic_stages') }}

select
    stage_id,
    pipeline_id,
    pipeline_name,
    stage_name,
    stage_order,
    is_won,
    is_lost,
    is_closed,
    probability,
    source_system
from {{ ref('int_pipeline_stages') }}

-- One mapping.yml per source: the stages of its latest landing. A mapping landed from another
-- path (a moved folder, then edited) replaces the one before instead of adding its stages twice.
select
    s.source_system,
    s.pipeline as pipeline_label,
    s.stage as stage_label,
    s.stage_order as display_order,
    coalesce(s.is_won, false) as is_won,
    coalesce(s.is_lost, false) as is_lost,
    s.probability
from {{ source('raw', 'generic_stages') }} as s
inner join (
    select source_system, max(_loaded_at) as latest
    from {{ source('raw', 'generic_stages') }}
    group by source_system
) as l on s.source_system = l.source_system and s._loaded_at = l.latest

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
where s._loaded_at = (
    select max(l._loaded_at) from {{ source('raw', 'generic_stages') }} as l
    where l.source_system = s.source_system
)

with latest as (
    {{ latest_records(source('raw', 'hubspot_pipeline_stages'), 'stageid') }}
)

select
    pipelineid as source_pipeline_id,
    pipelinelabel as pipeline_label,
    stageid as source_stage_id,
    stagelabel as stage_label,
    stagedisplayorder as display_order,
    coalesce(isclosed, false) as is_closed,
    probability,
    coalesce(archived, false) as is_archived
from latest

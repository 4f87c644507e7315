-- The figures of pipeline_metrics per owner and per team (group_type 'owner' or 'team'), in
-- each pipeline and over all pipelines (pipeline_id = 'all'), per currency and calendar month
-- plus period = 'all'. A deal belongs to its current owner and that owner's team.
with recursive
deal_rows as (
    {{ metrics_deals(["coalesce(owner_id, 'no owner') as owner_key",
                      "coalesce(owner_name, 'No owner') as owner_name", 'team']) }}
),

grouped as (
    select 'owner' as group_type, owner_key as group_id, owner_name as group_name, d.*
    from deal_rows as d
    union all
    select 'team', team, team, d.*
    from deal_rows as d
),

deals as (
    select
        group_type, group_id, pipeline_id, currency,
        deal_id, amount, created_at, closed_at, outcome
    from grouped
    union all
    select
        group_type, group_id, 'all', currency,
        deal_id, amount, created_at, closed_at, outcome
    from grouped
),

stays as (
    {{ metrics_open_stays('deals', ['group_type', 'group_id', 'pipeline_id', 'currency']) }}
),

{{ pipeline_metric_ctes('deals', 'stays', ['group_type', 'group_id', 'pipeline_id', 'currency']) }}

select
    f.group_type,
    f.group_id,
    n.group_name,
    n.team,
    f.pipeline_id,
    f.currency,
    {{ pipeline_metric_columns() }}
from figures as f
left join (
    select distinct group_type, group_id, group_name, team from grouped
) as n on f.group_type = n.group_type and f.group_id = n.group_id

-- The figures of pipeline_metrics per owner and per team (group_type 'owner' or 'team'), in
-- each pipeline and over all pipelines (pipeline_id = 'all'), per currency and calendar month
-- plus period = 'all'. A deal belongs to its current owner and that owner's team.
{%- set base_cols = ['owner_key', 'team', 'pipeline_id', 'currency'] %}
with recursive
deals as (
    {{ metrics_deals(["coalesce(owner_id, 'no owner') as owner_key",
                      "coalesce(owner_name, 'No owner') as owner_name", 'team']) }}
),

stays as (
    {{ metrics_open_stays('deals', base_cols) }}
),

-- each deal counts for its owner and its team, in its pipeline and over all pipelines
{{ pipeline_metric_ctes('deals', 'stays', base_cols,
                        ['group_type', 'group_id', 'pipeline_id', 'currency'],
                        [["'owner'", 'owner_key', 'pipeline_id', 'currency'],
                         ["'owner'", 'owner_key', "'all'", 'currency'],
                         ["'team'", 'team', 'pipeline_id', 'currency'],
                         ["'team'", 'team', "'all'", 'currency']]) }},

names as (
    select distinct 'owner' as group_type, owner_key as group_id, owner_name as group_name, team
    from deals
    union
    select distinct 'team', team, team, team
    from deals
)

select
    f.group_type,
    f.group_id,
    n.group_name,
    n.team,
    f.pipeline_id,
    f.currency,
    {{ pipeline_metric_columns() }}
from figures as f
left join names as n on f.group_type = n.group_type and f.group_id = n.group_id

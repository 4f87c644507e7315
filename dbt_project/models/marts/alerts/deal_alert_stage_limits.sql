-- The stalled-deal limit of every open stage: how many days in that stage is still "normal".
-- Learned from the team's own history (a percentile of completed stays in that stage of that
-- pipeline, var alert_stalled_percentile) where there are at least alert_stalled_min_history
-- completed stays; seeds/alert_stage_limits.csv overrides it (is_override) or stands in for it
-- where history is thin. The most specific seed row wins: pipeline+stage, then any pipeline
-- (*)+stage, then pipeline+any stage (*), then *+*.
{{ config(schema='alerts') }}
with stages as (
    select stage_id, pipeline_id, pipeline_name, stage_name
    from {{ ref('int_pipeline_stages') }}
    where not is_closed
),

history as (
    -- Only stays that had ended by the as-of moment, so an earlier as-of sees earlier history.
    select
        to_stage_id as stage_id,
        count(*) as completed_stays,
        {{ percentile_cont('days_in_stage', var('alert_stalled_percentile')) }}
            as learned_limit_days
    from {{ ref('fct_deal_stage_transitions') }}
    where exited_at is not null and exited_at <= {{ as_of_ts() }}
    group by to_stage_id
),

configured as (
    select
        s.stage_id,
        c.limit_days,
        c.is_override,
        row_number() over (
            partition by s.stage_id
            order by case when c.pipeline_name = '*' then 1 else 0 end
                + case when c.stage_name = '*' then 2 else 0 end
        ) as rank_
    from stages as s
    inner join {{ ref('alert_stage_limits') }} as c
        on (c.pipeline_name = s.pipeline_name or c.pipeline_name = '*')
        and (c.stage_name = s.stage_name or c.stage_name = '*')
),

joined as (
    select
        s.*,
        coalesce(h.completed_stays, 0) as completed_stays,
        h.learned_limit_days,
        cast(c.limit_days as {{ dbt.type_float() }}) as configured_limit_days,
        coalesce(c.is_override, false) as is_override
    from stages as s
    left join history as h on s.stage_id = h.stage_id
    left join configured as c on s.stage_id = c.stage_id and c.rank_ = 1
)

select
    stage_id,
    pipeline_id,
    pipeline_name,
    stage_name,
    completed_stays,
    learned_limit_days,
    configured_limit_days,
    case
        when is_override then configured_limit_days
        when completed_stays >= {{ var('alert_stalled_min_history') }} then learned_limit_days
        else configured_limit_days
    end as limit_days,
    case
        when is_override then 'override'
        when completed_stays >= {{ var('alert_stalled_min_history') }} then 'learned'
        when configured_limit_days is not null then 'fallback'
    end as limit_basis
from joined

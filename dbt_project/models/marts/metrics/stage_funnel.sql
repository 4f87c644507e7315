-- One row per pipeline stage: how many deals entered it, moved on, were won or lost from it, and
-- how long completed stays in it last. A deal counts once per stage however often it re-enters
-- it (backward moves, reopenings), so conversions are shares of deals, not of entries.
-- Definitions and choices: _metrics__models.yml.
with stages as (
    select * from {{ ref('dim_pipeline_stages') }}
),

entries as (
    select
        t.deal_id,
        t.to_stage_id as stage_id,
        t.from_stage_id,
        t.entry_number,
        t.exited_at,
        t.days_in_stage,
        t.is_current,
        s.stage_order,
        s.is_lost
    from {{ ref('fct_deal_stage_transitions') }} as t
    inner join stages as s on t.to_stage_id = s.stage_id
),

-- the highest order of the open or won stages (lost is an exit, not progress) a deal entered
-- after each entry: one pass over each deal's entries instead of joining entries to entries
ahead as (
    select
        deal_id,
        stage_id,
        stage_order,
        max(case when not is_lost then stage_order end) over (
            partition by deal_id order by entry_number
            rows between 1 following and unbounded following
        ) as later_max_order
    from entries
),

-- each deal once per stage it entered. It advanced from the stage when it entered a later
-- stage after first entering this one (skipping the next stage still counts as moving past
-- it); the highest order after an entry only falls with later entries, so the highest after
-- any entry of the stage is the one after the first
first_entries as (
    select
        deal_id,
        stage_id,
        min(stage_order) as stage_order,
        max(later_max_order) as later_max_order
    from ahead
    group by deal_id, stage_id
),

per_deal as (
    select
        f.stage_id,
        count(*) as deals_entered,
        count(case when f.later_max_order > f.stage_order then 1 end) as deals_advanced,
        count(case when d.outcome = 'won' then 1 end) as deals_won_after
    from first_entries as f
    left join {{ ref('fct_deals') }} as d on f.deal_id = d.deal_id
    group by f.stage_id
),

-- where deals that are lost now were lost from (the stage before their current lost stay)
lost_from as (
    select from_stage_id as stage_id, count(distinct deal_id) as deals_lost_from_stage
    from entries
    where is_lost and is_current and from_stage_id is not null
    group by from_stage_id
),

current_here as (
    select stage_id, count(*) as deals_in_stage_now
    from entries
    where is_current
    group by stage_id
),

completed_stays as (
    select
        stage_id,
        count(*) as completed_stays,
        avg(days_in_stage) as mean_days_in_stage,
        {{ percentile_cont('days_in_stage', 0.5) }} as median_days_in_stage,
        {{ percentile_cont('days_in_stage', 0.75) }} as p75_days_in_stage,
        {{ percentile_cont('days_in_stage', 0.9) }} as p90_days_in_stage
    from entries
    where exited_at is not null
    group by stage_id
)

select
    s.pipeline_id,
    s.pipeline_name,
    s.stage_id,
    s.stage_name,
    s.stage_order,
    s.is_won,
    s.is_lost,
    coalesce(p.deals_entered, 0) as deals_entered,
    case when not s.is_closed then coalesce(p.deals_advanced, 0) end as deals_advanced,
    case when not s.is_closed then coalesce(p.deals_won_after, 0) end as deals_won_after,
    case when not s.is_closed then coalesce(l.deals_lost_from_stage, 0) end
        as deals_lost_from_stage,
    coalesce(c.deals_in_stage_now, 0) as deals_in_stage_now,
    case when not s.is_closed
        then cast(p.deals_advanced as {{ type_double() }}) / nullif(p.deals_entered, 0)
    end as conversion_to_next_rate,
    case when not s.is_closed
        then cast(p.deals_won_after as {{ type_double() }}) / nullif(p.deals_entered, 0)
    end as conversion_to_won_rate,
    coalesce(cs.completed_stays, 0) as completed_stays,
    cs.mean_days_in_stage,
    cs.median_days_in_stage,
    cs.p75_days_in_stage,
    cs.p90_days_in_stage
from stages as s
left join per_deal as p on s.stage_id = p.stage_id
left join lost_from as l on s.stage_id = l.stage_id
left join current_here as c on s.stage_id = c.stage_id
left join completed_stays as cs on s.stage_id = cs.stage_id

-- One row per pipeline stage: how many deals entered it, moved on, were won or lost from it, and
-- how long completed stays in it last. A deal counts once per stage however often it re-enters
-- it (backward moves, reopenings), so conversions are shares of deals, not of entries.
-- Definitions and choices: _metrics__models.yml. A deal whose export holds only its current
-- stage (every stay of it is source 'current_state') counts where it is, and the figures that
-- would need its history say they rest on such deals (history_basis) or are null (unknown).
{# a figure that needs history is unknown where no deal that entered the stage has any #}
{% set has_history = "coalesce(p.deals_current_stage_only < p.deals_entered, true)" %}
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

-- every stay, with the highest order of the open or won stages (lost is an exit, not progress)
-- the deal entered after it, and whether the deal has a recorded stage history (not only its
-- current stage, source 'current_state'): one pass over each deal's stays (both windows share
-- it) instead of joining stays to stays, or to a history grouped apart
ahead as (
    select
        t.deal_id,
        t.to_stage_id as stage_id,
        s.stage_id is not null as known_stage,
        s.stage_order,
        max(case when not s.is_lost then s.stage_order end) over (
            partition by t.deal_id order by t.entry_number
            rows between 1 following and unbounded following
        ) as later_max_order,
        max(case when t.source <> 'current_state' then 1 else 0 end) over (
            partition by t.deal_id order by t.entry_number
            rows between unbounded preceding and unbounded following
        ) as history
    from {{ ref('fct_deal_stage_transitions') }} as t
    left join stages as s on t.to_stage_id = s.stage_id
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
        max(later_max_order) as later_max_order,
        max(history) = 1 as has_history
    from ahead
    where known_stage
    group by deal_id, stage_id
),

-- deals with no stay at all (no history and no created date to start one): in their stage now
unplaced as (
    select d.deal_id, d.stage_id, s.stage_order
    from {{ ref('fct_deals') }} as d
    inner join stages as s on d.stage_id = s.stage_id
    where not exists (
        select 1 from {{ ref('fct_deal_stage_transitions') }} as t where t.deal_id = d.deal_id
    )
),

deal_stages as (
    select deal_id, stage_id, stage_order, later_max_order, has_history
    from first_entries
    union all
    select deal_id, stage_id, stage_order, cast(null as {{ dbt.type_int() }}), false
    from unplaced
),

-- the won deals alone are hashed to count those won after entering a stage
per_deal as (
    select
        f.stage_id,
        count(*) as deals_entered,
        count(case when not f.has_history then 1 end) as deals_current_stage_only,
        count(case when f.later_max_order > f.stage_order then 1 end) as deals_advanced,
        count(w.deal_id) as deals_won_after
    from deal_stages as f
    left join (
        select deal_id from {{ ref('fct_deals') }} where outcome = 'won'
    ) as w on f.deal_id = w.deal_id
    group by f.stage_id
),

-- where deals that are lost now were lost from (the stage before their current lost stay)
lost_from as (
    select from_stage_id as stage_id, count(distinct deal_id) as deals_lost_from_stage
    from entries
    where is_lost and is_current and from_stage_id is not null
    group by from_stage_id
),

-- from the deals themselves: also those whose stay has no start (no created date)
current_here as (
    select stage_id, count(*) as deals_in_stage_now
    from {{ ref('fct_deals') }}
    where stage_id is not null
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
    coalesce(p.deals_current_stage_only, 0) as deals_current_stage_only,
    case
        when p.deals_current_stage_only = 0 then 'history'
        when p.deals_current_stage_only = p.deals_entered then 'current_stage_only'
        when p.deals_entered > 0 then 'partial'
    end as history_basis,
    case when not s.is_closed and {{ has_history }} then coalesce(p.deals_advanced, 0) end
        as deals_advanced,
    case when not s.is_closed then coalesce(p.deals_won_after, 0) end as deals_won_after,
    case when not s.is_closed and {{ has_history }}
        then coalesce(l.deals_lost_from_stage, 0)
    end as deals_lost_from_stage,
    coalesce(c.deals_in_stage_now, 0) as deals_in_stage_now,
    case when not s.is_closed and {{ has_history }}
        then cast(p.deals_advanced as {{ type_double() }}) / nullif(p.deals_entered, 0)
    end as conversion_to_next_rate,
    case when not s.is_closed and {{ has_history }}
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

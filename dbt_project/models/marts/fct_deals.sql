-- One row per deal: where it stands now and what RevOps needs to judge it. outcome is open, won
-- or lost; closed_at is when it entered its won or lost stage; days figures run to the end of
-- the as-of day while the deal is open (days_in_current_stage is null once it is closed).
-- last_activity_at covers the deal and its primary contact (intermediate.int_deal_last_touch).
with deals as (
    select * from {{ ref('int_deals') }}
),

current_stay as (
    select deal_id, to_stage_id, entered_at, days_in_stage
    from {{ ref('fct_deal_stage_transitions') }}
    where is_current
),

joined as (
    select
        d.*,
        s.pipeline_name,
        s.stage_name,
        s.stage_order,
        s.probability as stage_probability,
        o.owner_name,
        coalesce(o.team, 'Unassigned') as team,
        cs.entered_at as current_stage_entered_at,
        case when d.outcome = 'open' then cs.days_in_stage end as days_in_current_stage,
        case when d.outcome <> 'open'
            then coalesce(cs.entered_at, d.reported_closed_at) end as closed_at,
        lt.last_activity_at
    from deals as d
    left join {{ ref('int_pipeline_stages') }} as s on d.stage_id = s.stage_id
    left join {{ ref('int_owners') }} as o on d.owner_id = o.owner_id
    left join current_stay as cs on d.deal_id = cs.deal_id and d.stage_id = cs.to_stage_id
    left join {{ ref('int_deal_last_touch') }} as lt on d.deal_id = lt.deal_id
)

select
    deal_id,
    source_system,
    source_deal_id,
    deal_name,
    pipeline_id,
    pipeline_name,
    stage_id,
    stage_name,
    stage_order,
    stage_probability,
    amount,
    currency,
    owner_id,
    owner_name,
    team,
    primary_contact_id,
    created_at,
    expected_close_date,
    closed_at,
    outcome,
    outcome <> 'open' as is_closed,
    current_stage_entered_at,
    days_in_current_stage,
    {{ hours_between('created_at', 'coalesce(closed_at, ' ~ as_of_ts() ~ ')') }} / 24.0
        as days_open,
    last_activity_at,
    cast('{{ as_of_date() }}' as date) as as_of_date
from joined

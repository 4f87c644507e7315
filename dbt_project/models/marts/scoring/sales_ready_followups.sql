-- Sales-ready contacts nobody is working: no open deal where they are the primary contact, and
-- no activity logged by a sales owner (an activity with an owner) in the last
-- `lead_score_followup_window_days` days up to the end of the as-of day. One row per contact,
-- for the alerts work and for reps to pick up.
with scores as (
    select * from {{ ref('lead_scores') }}
    where is_sales_ready
),

contacts as (
    select * from {{ ref('dim_contacts') }}
),

open_deals as (
    select distinct primary_contact_id as contact_id
    from {{ ref('fct_deals') }}
    where outcome = 'open' and primary_contact_id is not null
),

-- from int_activity_summary, which holds each holder's and deal's newest activity with an
-- owner before the as-of moment (its contact_id is fct_activities'): reading fct_activities
-- (21M rows at L) for it was most of this model's work; sales-ready contacts only
owner_touches as (
    select contact_id, max(last_owner_activity_at) as last_owner_activity_at
    from {{ ref('int_activity_summary') }}
    where contact_id in (select contact_id from scores)
    group by contact_id
)

select
    s.contact_id,
    c.first_name,
    c.last_name,
    c.email,
    c.company,
    c.title,
    c.owner_id,
    s.total_score,
    s.grade,
    s.top_reasons,
    c.last_activity_at,
    o.last_owner_activity_at,
    s.scored_as_of
from scores as s
inner join contacts as c on s.contact_id = c.contact_id
left join owner_touches as o on s.contact_id = o.contact_id
left join open_deals as d on s.contact_id = d.contact_id
where
    d.contact_id is null
    and (
        o.last_owner_activity_at is null
        or o.last_owner_activity_at < {{ dbt.dateadd(
            'day', -var('lead_score_followup_window_days'), as_of_ts()) }}
    )

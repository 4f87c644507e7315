-- One row per contact and activity type: engagement points as of the as-of date. Each activity
-- is worth its type's points (seed lead_score_engagement_points) halved every
-- `lead_score_half_life_days` of age, age = whole days from the activity's date to the as-of
-- date. Activities after the as-of day do not count. Read from the sums that do not decay
-- (int_lead_engagement_sums, macros/lead_engagement.sql): points x weight x
-- 2^-((as_of - epoch_day) / half-life) = the sum of points x 0.5^(age / half-life).
with type_points as (
    select activity_type, cast(points as {{ type_double() }}) as points
    from {{ ref('lead_score_engagement_points') }}
),

-- a deal-log activity counts for the deal's primary contact now
held as (
    select
        case when s.via_deal then d.primary_contact_id else s.holder_id end as contact_id,
        s.activity_type,
        s.activity_count,
        s.newest_day,
        s.weight,
        s.epoch_day
    from {{ ref('int_lead_engagement_sums') }} as s
    left join {{ ref('int_deals') }} as d on s.via_deal and s.holder_id = d.deal_id
)

select
    h.contact_id,
    h.activity_type,
    sum(h.activity_count) as activity_count,
    {{ dbt.datediff('max(h.newest_day)', "cast('" ~ as_of_date() ~ "' as date)", 'day') }}
        as newest_age_days,
    sum(p.points * h.weight * power(cast(2 as {{ type_double() }}),
        - {{ dbt.datediff('h.epoch_day', "cast('" ~ as_of_date() ~ "' as date)", 'day') }}
        / cast({{ var('lead_score_half_life_days') }} as {{ type_double() }}))) as points
from held as h
inner join type_points as p on h.activity_type = p.activity_type
where p.points <> 0 and h.contact_id is not null
group by h.contact_id, h.activity_type

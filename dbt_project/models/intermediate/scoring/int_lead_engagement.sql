-- One row per contact and activity type: engagement points as of the as-of date. Each activity
-- is worth its type's points (seed lead_score_engagement_points) halved every
-- `lead_score_half_life_days` of age, age = whole days from the activity's date to the as-of
-- date. Activities after the as-of day do not count, so an earlier date can be re-scored.
with type_points as (
    select activity_type, cast(points as {{ type_double() }}) as points
    from {{ ref('lead_score_engagement_points') }}
),

activities as (
    select
        contact_id,
        activity_type,
        {{ dbt.datediff(
            'cast(occurred_at as date)',
            "cast('" ~ as_of_date() ~ "' as date)",
            'day') }} as age_days
    from {{ ref('int_activities') }}
    where contact_id is not null and occurred_at < {{ as_of_ts() }}
)

select
    a.contact_id,
    a.activity_type,
    count(*) as activity_count,
    min(a.age_days) as newest_age_days,
    sum(p.points * power(0.5, a.age_days
        / cast({{ var('lead_score_half_life_days') }} as {{ type_double() }}))) as points
from activities as a
inner join type_points as p on a.activity_type = p.activity_type
where p.points <> 0
group by a.contact_id, a.activity_type

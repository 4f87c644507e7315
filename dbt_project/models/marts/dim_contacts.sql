-- One row per contact (lead or customer) from every source, with the firmographic and
-- BANT-style properties lead scoring uses (intermediate.int_contacts), and when they last
-- interacted.
with last_touch as (
    select contact_id, max(occurred_at) as last_activity_at, count(*) as activity_count
    from {{ ref('int_activities') }}
    where contact_id is not null
    group by contact_id
)

select
    c.*,
    lt.last_activity_at,
    coalesce(lt.activity_count, 0) as activity_count
from {{ ref('int_contacts') }} as c
left join last_touch as lt on c.contact_id = lt.contact_id

-- One row per contact (lead or customer) from every source, with the firmographic and
-- BANT-style properties lead scoring uses (intermediate.int_contacts), and when they last
-- interacted. The contact columns are listed (macro contact_shape): int_contacts' build columns
-- (loaded_through, rebuild_signature, _built_at) stay out.
with last_touch as (
    select contact_id, max(occurred_at) as last_activity_at, count(*) as activity_count
    from {{ ref('int_activities') }}
    where contact_id is not null
    group by contact_id
)

select
    {%- for name, _type in contact_shape() %}
    c.{{ name }},
    {%- endfor %}
    lt.last_activity_at,
    coalesce(lt.activity_count, 0) as activity_count
from {{ ref('int_contacts') }} as c
left join last_touch as lt on c.contact_id = lt.contact_id

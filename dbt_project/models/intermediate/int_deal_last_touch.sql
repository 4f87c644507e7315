-- One row per deal: its last activity, defined once for marts.fct_deals and the deal alerts.
-- Two figures, because the two have always answered different questions (the .yml says more):
--   last_activity_at: the newest activity logged on the deal, or on its primary contact without
--     any deal (a contact's activity on another deal belongs to that deal), whatever its date.
--     What fct_deals.last_activity_at shows.
--   last_touch_at: the newest activity up to the as-of moment, on the deal or by its primary
--     contact on any deal (is anyone still talking to this buyer?). What the stale alert
--     measures silence from.
-- Read from int_activity_summary (per holder and deal, both figures already there), not from
-- int_activities: the night's one scan of every activity is the summary's.
-- Latest touch per deal and per contact first, then joined to deals: joining activity rows
-- before aggregating repeats a contact's activity once per deal of that contact. Two
-- equi-joins, not one OR join, which no engine can hash.
with deals as (
    select deal_id, primary_contact_id from {{ ref('int_deals') }}
),

deal_touch as (
    select
        deal_id,
        max(last_activity_at) as last_activity_at,
        max(last_touch_at) as last_touch_at
    from {{ ref('int_activity_summary') }}
    where deal_id is not null
    group by deal_id
),

contact_touch as (
    select
        contact_id,
        max(case when deal_id is null then last_activity_at end) as last_activity_at,
        max(last_touch_at) as last_touch_at
    from {{ ref('int_activity_summary') }}
    where contact_id is not null
    group by contact_id
),

touches as (
    select deal_id, last_activity_at, last_touch_at from deal_touch
    union all
    select d.deal_id, c.last_activity_at, c.last_touch_at
    from deals as d inner join contact_touch as c on c.contact_id = d.primary_contact_id
)

select
    d.deal_id,
    max(t.last_activity_at) as last_activity_at,
    max(t.last_touch_at) as last_touch_at
from deals as d
left join touches as t on d.deal_id = t.deal_id
group by d.deal_id

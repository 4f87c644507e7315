-- The one read of every activity a night: int_activities aggregated per holder (the engagement
-- sums' holder, macro engagement_holder_key: the contact, or for ActiveCampaign's deal-log
-- activities the deal, whose contact is its primary contact, contact_id here) and deal, with
-- what its four readers need, so none of them aggregates int_activities whole:
--   marts.dim_contacts: count and newest activity, summed per contact;
--   int_deal_last_touch: newest activity and newest up to the as-of moment, per deal and per
--     contact (rows without a holder keep a deal's activities that have no contact);
--   int_lead_engagement_sums: the holders that lost activities (their rows rewritten);
--   marts.sales_ready_followups: the newest activity with an owner before the as-of moment,
--     per contact (what it read from fct_activities, 21M rows at L, for 0.2M sales-ready).
-- Aggregated whole every run: an activity that leaves a holder or a deal (re-exported for
-- another one, its deal's primary contact changed) is seen only that way. Incremental on what
-- that gives: a run writes only the rows whose figures differ from the ones held (their
-- _built_at says which), and a row left without activities gets a zero row that the post-hook
-- deletes. A table built before it held deals and last touches, or before it held the owners'
-- last activities, is rebuilt (pre-hook, activity_summary_plan): a column appended to the rows
-- held would be null on every row this run does not rewrite.
{{ incremental_mart_config('summary_key', on_schema_change='append_new_columns',
    pre_hook="{{ clear_for_rebuild(activity_summary_plan()) }}",
    post_hook="{{ delete_rows_if_any(this, 'activity_count = 0', count=is_incremental()) }}") }}
{%- set plan = activity_summary_plan() %}

-- grouped on int_activities' own columns, the holder key made per group: cheaper than per
-- activity, and the same groups (a deal-log activity's contact is its deal's primary contact)
with groups as (
    select
        contact_from_deal,
        contact_id,
        deal_id,
        count(*) as activity_count,
        max(occurred_at) as last_activity_at,
        count(case when occurred_at < {{ as_of_ts() }} then 1 end) as activities_before_as_of,
        max(case when occurred_at <= {{ as_of_ts() }} then occurred_at end) as last_touch_at,
        max(case when owner_id is not null and occurred_at < {{ as_of_ts() }} then occurred_at end)
            as last_owner_activity_at
    from {{ ref('int_activities') }}
    group by contact_from_deal, contact_id, deal_id
),

now_held as (
    select
        {{ engagement_holder_key('g') }} as holder_key,
        g.deal_id,
        g.contact_id,
        g.activity_count,
        g.last_activity_at,
        g.activities_before_as_of,
        g.last_touch_at,
        g.last_owner_activity_at
    from groups as g
    where {{ engagement_holder_key('g') }} is not null or g.deal_id is not null
),

keyed as (
    select
        coalesce(holder_key, '') || '|' || coalesce(deal_id, '') as summary_key,
        now_held.*
    from now_held
)

{%- if not plan.rebuild %},

-- one full join with the rows held: new and changed groups, and groups gone (a zero row, which
-- the post-hook deletes); a left join plus an anti-join read both sides twice (2-3 CPU s at L)
changed as (
    select
        coalesce(n.summary_key, h.summary_key) as summary_key,
        case when n.summary_key is null then h.holder_key else n.holder_key end as holder_key,
        case when n.summary_key is null then h.deal_id else n.deal_id end as deal_id,
        n.contact_id,
        coalesce(n.activity_count, 0) as activity_count,
        n.last_activity_at,
        coalesce(n.activities_before_as_of, 0) as activities_before_as_of,
        n.last_touch_at,
        n.last_owner_activity_at
    from keyed as n
    full outer join {{ this }} as h on n.summary_key = h.summary_key
    where
        n.summary_key is null
        or h.summary_key is null
        or not (n.activity_count = h.activity_count
                and n.activities_before_as_of = h.activities_before_as_of
                and {{ same_or_both_null('n.contact_id', 'h.contact_id') }}
                and {{ same_or_both_null('n.last_activity_at', 'h.last_activity_at') }}
                and {{ same_or_both_null('n.last_touch_at', 'h.last_touch_at') }}
                and {{ same_or_both_null('n.last_owner_activity_at', 'h.last_owner_activity_at') }})
)
{%- endif %}

select
    summary_key,
    holder_key,
    deal_id,
    contact_id,
    activity_count,
    last_activity_at,
    activities_before_as_of,
    last_touch_at,
    last_owner_activity_at,
    {{ built_at() }} as _built_at
from {{ 'keyed' if plan.rebuild else 'changed' }}

-- One row per holder of activities, the count and newest date of its activities: what
-- marts.dim_contacts shows per contact, and the count int_lead_engagement_sums checks its own
-- rows against (a holder that holds fewer activities lost some to another one). The holder is
-- the engagement sums' (macro engagement_holder_key): the contact, or for ActiveCampaign's
-- deal-log activities the deal, whose contact is the deal's primary contact (contact_id here).
-- int_activities is aggregated whole every run, once for both readers: an activity that
-- leaves a holder (re-exported for another contact, its deal's primary contact changed) is
-- seen only that way. Incremental on what that gives: a run writes only the holders whose
-- figures differ from the ones held (their _built_at says which), and a holder left without
-- activities gets a zero row that the post-hook deletes.
{{ incremental_mart_config('holder_key',
    post_hook="{{ delete_rows_if_any(this, 'activity_count = 0', count=is_incremental()) }}") }}

with holders as (
    select
        {{ engagement_holder_key('a') }} as holder_key,
        a.contact_id,
        a.occurred_at
    from {{ ref('int_activities') }} as a
),

now_held as (
    select
        holder_key,
        max(contact_id) as contact_id,
        count(*) as activity_count,
        max(occurred_at) as last_activity_at,
        count(case when occurred_at < {{ as_of_ts() }} then 1 end) as activities_before_as_of
    from holders
    where holder_key is not null
    group by holder_key
)

{%- if is_incremental() %},

changed as (
    select n.*
    from now_held as n
    left join {{ this }} as h on n.holder_key = h.holder_key
    where
        h.holder_key is null
        or not (n.activity_count = h.activity_count
                and n.activities_before_as_of = h.activities_before_as_of
                and {{ same_or_both_null('n.contact_id', 'h.contact_id') }}
                and {{ same_or_both_null('n.last_activity_at', 'h.last_activity_at') }})
    union all
    select
        h.holder_key,
        cast(null as {{ dbt.type_string() }}),
        0,
        cast(null as {{ dbt.type_timestamp() }}),
        0
    from {{ this }} as h
    left join now_held as n on h.holder_key = n.holder_key
    where n.holder_key is null
)
{%- endif %}

select
    holder_key,
    contact_id,
    activity_count,
    last_activity_at,
    activities_before_as_of,
    {{ built_at() }} as _built_at
from {{ 'changed' if is_incremental() else 'now_held' }}

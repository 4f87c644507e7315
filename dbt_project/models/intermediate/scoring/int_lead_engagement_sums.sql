-- Engagement kept as sums that do not decay (macros/lead_engagement.sql explains the
-- factorisation): one row per holder and activity type with the activities up to the as-of day,
-- weight = sum of 2^((activity day - epoch_day) / half-life). The holder is the contact, or for
-- ActiveCampaign's deal-log activities (whose contact is the deal's primary contact) the deal,
-- so a deal changing hands moves its activities when int_lead_engagement reads them.
-- Incremental: a night recomputes the holders with an activity landed since the newest
-- loaded_at held (new or re-exported) or dated after the last run's as-of day (it counts from
-- now on), and the holders that hold fewer activities than their rows count (one re-exported
-- for another contact or deal: its new holder is recomputed by the first rule, the old one by
-- this). All three are found in int_activity_summary, which aggregates int_activities once a
-- night for this, dim_contacts and int_deal_last_touch; only the touched holders' activities
-- are read here. A holder left with none loses its rows (post-hook); the others keep
-- their rows. It rebuilds itself (pre-hook: emptied; every holder
-- selected) when the half-life or the activity_types seed changed, the as-of date went back,
-- or the epoch fell 500 half-lives behind, or it was built before rows kept `_built_at` (when a
-- run wrote them: int_lead_score_parts recomputes the contacts of the holders a night wrote).
{{ config(
    materialized='incremental',
    unique_key='holder_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ clear_for_rebuild(engagement_sums_plan()) }}",
    post_hook="{{ drop_engagement_holders_without_activities() }}",
) }}
{%- set plan = engagement_sums_plan() %}
-- depends_on: {{ ref('int_activity_summary') }}
{%- set epoch = "cast('" ~ plan.epoch ~ "' as date)" %}

with activities as (
    select
        {{ engagement_holder_key('a') }} as holder_key,
        case when contact_from_deal then deal_id else contact_id end as holder_id,
        contact_from_deal as via_deal,
        activity_type,
        cast(occurred_at as date) as activity_day,
        loaded_at
    from {{ ref('int_activities') }} as a
    where
        occurred_at < {{ as_of_ts() }}
        and (case when contact_from_deal then deal_id else contact_id end) is not null
),

{% if not plan.rebuild -%}
-- per holder from int_activity_summary (per holder and deal): what the touched holders are
-- found with, without a scan of int_activities
held_now as (
    select
        holder_key,
        sum(activities_before_as_of) as activity_count,
        max(newest_loaded_at) as newest_loaded_at,
        max(last_touch_at) as last_touch_at
    from {{ ref('int_activity_summary') }}
    where holder_key is not null
    group by holder_key
),

held_before as (
    select holder_key, sum(activity_count) as activity_count
    from {{ this }}
    group by holder_key
),

touched as (
    -- an activity landed since the newest one held, or one dated after the last run's as-of
    -- day (last_touch_at can be the as-of moment itself, a day later: recomputed, harmless)
    select holder_key
    from held_now
    where
        newest_loaded_at > cast('{{ plan.loaded_through }}' as {{ dbt.type_timestamp() }})
        or cast(last_touch_at as date) > cast('{{ plan.covered_through }}' as date)
    union
    -- activities only accumulate for a holder (the as-of day moves forward), so fewer than
    -- its rows count means some now belong to another holder
    select b.holder_key
    from held_before as b
    inner join held_now as n on b.holder_key = n.holder_key
    where n.activity_count < b.activity_count
),

chosen as (
    select a.*
    from activities as a
    inner join touched as t on a.holder_key = t.holder_key
)
{%- else -%}
chosen as (
    select * from activities
)
{%- endif %}

select
    holder_key,
    max(holder_id) as holder_id,
    max(case when via_deal then 1 else 0 end) = 1 as via_deal,
    activity_type,
    count(*) as activity_count,
    max(activity_day) as newest_day,
    sum(power(cast(2 as {{ type_double() }}),
        {{ dbt.datediff(epoch, 'activity_day', 'day') }}
        / cast({{ var('lead_score_half_life_days') }} as {{ type_double() }}))) as weight,
    max(loaded_at) as newest_loaded_at,
    {{ epoch }} as epoch_day,
    cast('{{ as_of_date() }}' as date) as covered_through,
    '{{ plan.signature }}' as rebuild_signature,
    {{ built_at() }} as _built_at
from chosen
group by holder_key, activity_type

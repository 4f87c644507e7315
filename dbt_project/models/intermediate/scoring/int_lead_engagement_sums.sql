-- Engagement kept as sums that do not decay (macros/lead_engagement.sql explains the
-- factorisation): one row per holder and activity type with the activities up to the as-of day,
-- weight = sum of 2^((activity day - epoch_day) / half-life). The holder is the contact, or for
-- ActiveCampaign's deal-log activities (whose contact is the deal's primary contact) the deal,
-- so a deal changing hands moves its activities when int_lead_engagement reads them.
-- Incremental: a night recomputes the holders with an activity landed since the newest
-- loaded_at held (new or re-exported) or dated after the last run's as-of day (it counts from
-- now on), found with filters that reach the scans under int_activities, and the holders whose
-- rows int_activity_summary (the night's one aggregate of int_activities) rewrote since this
-- table's newest _built_at: one that lost an activity re-exported for another contact or
-- deal is seen only there. A holder left with none loses its rows (post-hook); the others keep
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

{#- the countable activities with their holder; written out in the two places that read them,
    not as one CTE read twice, which DuckDB materialises whole (21M rows at L, spilled) before
    the touched holders' literal filters can reach the scans -#}
{%- set countable -%}
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
{%- endset %}

with activities as (
{{ countable }}
),

{% if not plan.rebuild -%}
touched as (
    -- an activity landed since the newest one held (new or re-exported), or dated after the
    -- last run's as-of day: literals, so the filters reach the scans under int_activities
    select holder_key
    from ({{ countable }}) as landed
    where
        loaded_at > cast('{{ plan.loaded_through }}' as {{ dbt.type_timestamp() }})
        or activity_day > cast('{{ plan.covered_through }}' as date)
    union
    -- a holder that lost activities to another one (re-exported for another contact or deal):
    -- int_activity_summary rewrote its rows since this table's last run (its counts changed)
    select holder_key
    from {{ ref('int_activity_summary') }}
    where
        holder_key is not null
        and _built_at > cast('{{ plan.built_through }}' as {{ dbt.type_timestamp() }})
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

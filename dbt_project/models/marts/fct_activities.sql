{{ config(
    materialized='incremental',
    unique_key='activity_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}
-- One row per sales or marketing touch (emails sent, opened, clicked, calls, meetings, form
-- fills, site visits, notes, tasks) with the contact, deal and owner it belongs to. Activity
-- types map to canonical ones through the activity_types seed (generic sources: mapping.yml).
-- A HubSpot activity associated with several contacts or deals is attributed to the first.
-- Incremental: a run rebuilds the activities whose record landed after the newest `loaded_at`
-- already here (new and re-exported ones), plus ActiveCampaign deal-log activities of deals
-- that changed (their contact comes from the deal). A change to owners or the activity_types
-- seed needs `dbt build --full-refresh -s fct_activities`. The activity logs it reads are
-- incremental staging tables (same watermark idea), so the `_loaded_at` filters below read only
-- their new rows; an activity deleted from the exports (a re-landed file without it) stays in
-- them and here until `dbt build --full-refresh -s <its staging model>+` (e.g.
-- stg_hubspot__activities+, which rebuilds fct_activities too).
{%- set since = loaded_watermark(this) %}
with type_map as (
    select * from {{ ref('activity_types') }}
),

owners as (
    select * from {{ ref('int_owners') }}
),

hubspot as (
    select
        'hubspot-' || a.source_activity_id as activity_id,
        'hubspot' as source_system,
        coalesce(t.activity_type, 'other') as activity_type,
        a.occurred_at,
        case when a.source_contact_id is not null then 'hubspot-' || a.source_contact_id end
            as contact_id,
        case when a.source_deal_id is not null then 'hubspot-' || a.source_deal_id end
            as deal_id,
        o.owner_id,
        a._loaded_at as loaded_at
    from {{ ref('stg_hubspot__activities') }} as a
    left join type_map as t
        on t.source_system = 'hubspot' and t.source_type = a.source_type
    left join owners as o
        on o.source_system = 'hubspot' and o.owner_name_key = lower(trim(a.owner_name))
    {% if is_incremental() %}where a._loaded_at > {{ since }}{% endif %}
),

ac_contact_log as (
    select
        'activecampaign-' || a.source_activity_id as activity_id,
        'activecampaign' as source_system,
        coalesce(t.activity_type, 'other') as activity_type,
        a.occurred_at,
        case when a.source_contact_id is not null
            then 'activecampaign-' || a.source_contact_id end as contact_id,
        case when a.source_deal_id is not null
            then 'activecampaign-' || a.source_deal_id end as deal_id,
        case when a.source_owner_id is not null
            then 'activecampaign-' || a.source_owner_id end as owner_id,
        a._loaded_at as loaded_at
    from {{ ref('stg_activecampaign__activities') }} as a
    left join type_map as t
        on t.source_system = 'activecampaign' and t.source_type = a.source_type
    {% if is_incremental() %}where a._loaded_at > {{ since }}{% endif %}
),

-- notes, tasks, emails, calls and meetings logged on a deal (not stage or status changes)
ac_deal_log as (
    select
        'activecampaign-deal-activity-' || a.source_activity_id as activity_id,
        'activecampaign' as source_system,
        coalesce(t.activity_type, 'other') as activity_type,
        a.occurred_at,
        d.primary_contact_id as contact_id,
        'activecampaign-' || a.source_deal_id as deal_id,
        case when a.source_owner_id is not null
            then 'activecampaign-' || a.source_owner_id end as owner_id,
        a._loaded_at as loaded_at
    from {{ ref('stg_activecampaign__deal_activities') }} as a
    inner join type_map as t
        on t.source_system = 'activecampaign' and t.source_type = a.data_type
    left join {{ ref('int_deals') }} as d
        on d.deal_id = 'activecampaign-' || a.source_deal_id
    {% if is_incremental() -%}
    where
        a._loaded_at > {{ since }}
        or 'activecampaign-' || a.source_deal_id in (
            select deal_id from ({{ deal_loaded_at(since) }}) as changed
        )
    {%- endif %}
),

generic as (
    select
        a.source_system || '-' || a.source_activity_id as activity_id,
        a.source_system,
        coalesce(a.activity_type, 'other') as activity_type,
        a.occurred_at,
        case when a.source_contact_id is not null
            then a.source_system || '-' || a.source_contact_id end as contact_id,
        case when a.source_deal_id is not null
            then a.source_system || '-' || a.source_deal_id end as deal_id,
        case when nullif(trim(a.owner_name), '') is not null
            then a.source_system || '-' || lower(trim(a.owner_name)) end as owner_id,
        a._loaded_at as loaded_at
    from {{ ref('stg_generic__activities') }} as a
    {% if is_incremental() %}where a._loaded_at > {{ since }}{% endif %}
),

pipedrive as (
    select
        'pipedrive-' || a.source_activity_id as activity_id,
        'pipedrive' as source_system,
        coalesce(t.activity_type, 'other') as activity_type,
        coalesce(a.done_at, a.due_date, a.created_at) as occurred_at,
        case when a.source_contact_id is not null
            then 'pipedrive-' || a.source_contact_id end as contact_id,
        case when a.source_deal_id is not null
            then 'pipedrive-' || a.source_deal_id end as deal_id,
        case when a.source_owner_id is not null
            then 'pipedrive-' || a.source_owner_id end as owner_id,
        a._loaded_at as loaded_at
    from {{ ref('stg_pipedrive__activities') }} as a
    left join type_map as t
        on t.source_system = 'pipedrive' and t.source_type = a.source_type
    {% if is_incremental() %}where a._loaded_at > {{ since }}{% endif %}
),

-- Salesforce tasks (typed by TaskSubtype) and events (meetings); WhatId is kept as the deal
-- only when it is an opportunity (key prefix 006)
salesforce as (
    select
        'salesforce-' || a.source_activity_id as activity_id,
        'salesforce' as source_system,
        coalesce(t.activity_type, 'other') as activity_type,
        coalesce(a.completed_at, a.activity_date, a.created_at) as occurred_at,
        case when a.source_person_id is not null
            then 'salesforce-' || a.source_person_id end as contact_id,
        case when a.source_related_id like '006%'
            then 'salesforce-' || a.source_related_id end as deal_id,
        case when a.source_owner_id is not null
            then 'salesforce-' || a.source_owner_id end as owner_id,
        a._loaded_at as loaded_at
    from {{ ref('stg_salesforce__tasks') }} as a
    left join type_map as t
        on t.source_system = 'salesforce' and t.source_type = coalesce(a.task_subtype, 'Task')
    {% if is_incremental() %}where a._loaded_at > {{ since }}{% endif %}
    union all
    select
        'salesforce-' || e.source_activity_id,
        'salesforce',
        coalesce(t.activity_type, 'other'),
        coalesce(e.started_at, e.created_at),
        case when e.source_person_id is not null then 'salesforce-' || e.source_person_id end,
        case when e.source_related_id like '006%' then 'salesforce-' || e.source_related_id end,
        case when e.source_owner_id is not null then 'salesforce-' || e.source_owner_id end,
        e._loaded_at
    from {{ ref('stg_salesforce__events') }} as e
    left join type_map as t
        on t.source_system = 'salesforce' and t.source_type = 'Event'
    {% if is_incremental() %}where e._loaded_at > {{ since }}{% endif %}
)

select touches.*, {{ built_at() }} as _built_at
from (
    select * from hubspot
    union all select * from ac_contact_log
    union all select * from ac_deal_log
    union all select * from generic
    union all select * from pipedrive
    union all select * from salesforce
) as touches

{{ config(materialized='view') }}
-- Every sales or marketing touch from every CRM in one shape (what marts.fct_activities holds):
-- source-prefixed ids, the canonical activity type (seed activity_types; generic exports map
-- theirs in mapping.yml) and the owner. A view: fct_activities takes only the new rows of it
-- (incremental), and the models that need every touch read it without a second copy.
-- A HubSpot activity associated with several contacts or deals is attributed to the first.
with type_map as (
    select * from {{ ref('activity_types') }}
),

owners as (
    select * from {{ ref('int_owners') }}
),

hubspot as (
    select
        {{ source_id('a.source_activity_id', 'hubspot') }} as activity_id,
        'hubspot' as source_system,
        coalesce(t.activity_type, 'other') as activity_type,
        a.occurred_at,
        {{ source_id('a.source_contact_id', 'hubspot') }} as contact_id,
        {{ source_id('a.source_deal_id', 'hubspot') }} as deal_id,
        o.owner_id,
        a._loaded_at as loaded_at,
        false as contact_from_deal
    from {{ ref('stg_hubspot__activities') }} as a
    left join type_map as t
        on t.source_system = 'hubspot' and t.source_type = a.source_type
    left join owners as o
        on o.source_system = 'hubspot' and o.owner_name_key = lower(trim(a.owner_name))
),

ac_contact_log as (
    select
        {{ source_id('a.source_activity_id', 'activecampaign') }} as activity_id,
        'activecampaign' as source_system,
        coalesce(t.activity_type, 'other') as activity_type,
        a.occurred_at,
        {{ source_id('a.source_contact_id', 'activecampaign') }} as contact_id,
        {{ source_id('a.source_deal_id', 'activecampaign') }} as deal_id,
        {{ source_id('a.source_owner_id', 'activecampaign') }} as owner_id,
        a._loaded_at as loaded_at,
        false as contact_from_deal
    from {{ ref('stg_activecampaign__activities') }} as a
    left join type_map as t
        on t.source_system = 'activecampaign' and t.source_type = a.source_type
),

-- notes, tasks, emails, calls and meetings logged on a deal (not stage or status changes);
-- their contact is the deal's primary contact (contact_from_deal)
ac_deal_log as (
    select
        {{ source_id('a.source_activity_id', 'activecampaign-deal-activity') }} as activity_id,
        'activecampaign' as source_system,
        coalesce(t.activity_type, 'other') as activity_type,
        a.occurred_at,
        d.primary_contact_id as contact_id,
        {{ source_id('a.source_deal_id', 'activecampaign') }} as deal_id,
        {{ source_id('a.source_owner_id', 'activecampaign') }} as owner_id,
        a._loaded_at as loaded_at,
        true as contact_from_deal
    from {{ ref('stg_activecampaign__deal_activities') }} as a
    inner join type_map as t
        on t.source_system = 'activecampaign' and t.source_type = a.data_type
    left join {{ ref('int_deals') }} as d
        on d.deal_id = {{ source_id('a.source_deal_id', 'activecampaign') }}
),

generic as (
    select
        {{ source_id('a.source_activity_id', source_column='a.source_system') }} as activity_id,
        a.source_system,
        coalesce(a.activity_type, 'other') as activity_type,
        a.occurred_at,
        {{ source_id('a.source_contact_id', source_column='a.source_system') }} as contact_id,
        {{ source_id('a.source_deal_id', source_column='a.source_system') }} as deal_id,
        {{ source_id("nullif(lower(trim(a.owner_name)), '')", source_column='a.source_system') }}
            as owner_id,
        a._loaded_at as loaded_at,
        false as contact_from_deal
    from {{ ref('stg_generic__activities') }} as a
),

pipedrive as (
    select
        {{ source_id('a.source_activity_id', 'pipedrive') }} as activity_id,
        'pipedrive' as source_system,
        coalesce(t.activity_type, 'other') as activity_type,
        coalesce(a.done_at, a.due_date, a.created_at) as occurred_at,
        {{ source_id('a.source_contact_id', 'pipedrive') }} as contact_id,
        {{ source_id('a.source_deal_id', 'pipedrive') }} as deal_id,
        {{ source_id('a.source_owner_id', 'pipedrive') }} as owner_id,
        a._loaded_at as loaded_at,
        false as contact_from_deal
    from {{ ref('stg_pipedrive__activities') }} as a
    left join type_map as t
        on t.source_system = 'pipedrive' and t.source_type = a.source_type
),

-- Salesforce tasks (typed by TaskSubtype) and events (meetings); WhatId is kept as the deal
-- only when it is an opportunity (key prefix 006)
salesforce_touches as (
    select
        source_activity_id,
        coalesce(task_subtype, 'Task') as source_type,
        coalesce(completed_at, activity_date, created_at) as occurred_at,
        source_person_id,
        source_related_id,
        source_owner_id,
        _loaded_at
    from {{ ref('stg_salesforce__tasks') }}
    union all
    select
        source_activity_id,
        'Event',
        coalesce(started_at, created_at),
        source_person_id,
        source_related_id,
        source_owner_id,
        _loaded_at
    from {{ ref('stg_salesforce__events') }}
),

salesforce as (
    select
        {{ source_id('a.source_activity_id', 'salesforce') }} as activity_id,
        'salesforce' as source_system,
        coalesce(t.activity_type, 'other') as activity_type,
        a.occurred_at,
        {{ source_id('a.source_person_id', 'salesforce') }} as contact_id,
        case when a.source_related_id like '006%'
            then {{ source_id('a.source_related_id', 'salesforce') }} end as deal_id,
        {{ source_id('a.source_owner_id', 'salesforce') }} as owner_id,
        a._loaded_at as loaded_at,
        false as contact_from_deal
    from salesforce_touches as a
    left join type_map as t
        on t.source_system = 'salesforce' and t.source_type = a.source_type
)

select * from hubspot
union all select * from ac_contact_log
union all select * from ac_deal_log
union all select * from generic
union all select * from pipedrive
union all select * from salesforce

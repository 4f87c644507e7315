-- One row per sales or marketing touch (emails sent, opened, clicked, calls, meetings, form
-- fills, site visits, notes, tasks) with the contact, deal and owner it belongs to. Activity
-- types map to canonical ones through the activity_types seed (generic sources: mapping.yml).
-- A HubSpot activity associated with several contacts or deals is attributed to the first.
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
        o.owner_id
    from {{ ref('stg_hubspot__activities') }} as a
    left join type_map as t
        on t.source_system = 'hubspot' and t.source_type = a.source_type
    left join owners as o
        on o.source_system = 'hubspot' and o.owner_name_key = lower(trim(a.owner_name))
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
            then 'activecampaign-' || a.source_owner_id end as owner_id
    from {{ ref('stg_activecampaign__activities') }} as a
    left join type_map as t
        on t.source_system = 'activecampaign' and t.source_type = a.source_type
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
            then 'activecampaign-' || a.source_owner_id end as owner_id
    from {{ ref('stg_activecampaign__deal_activities') }} as a
    inner join type_map as t
        on t.source_system = 'activecampaign' and t.source_type = a.data_type
    left join {{ ref('int_deals') }} as d
        on d.deal_id = 'activecampaign-' || a.source_deal_id
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
            then a.source_system || '-' || lower(trim(a.owner_name)) end as owner_id
    from {{ ref('stg_generic__activities') }} as a
)

select * from hubspot
union all select * from ac_contact_log
union all select * from ac_deal_log
union all select * from generic

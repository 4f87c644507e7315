-- Deals from every source in one shape; ids are prefixed with the source so they are unique
-- across sources. The stage is resolved to a stage id of int_pipeline_stages; a stage the
-- pipeline does not know leaves stage_id null (tested, warn).
with stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

pipelines as (
    select distinct source_system, pipeline_id, pipeline_name from stages
),

owners as (
    select * from {{ ref('int_owners') }}
),

hubspot as (
    select
        'hubspot' as source_system,
        'hubspot-' || d.source_deal_id as deal_id,
        d.source_deal_id,
        d.deal_name,
        p.pipeline_id,
        s.stage_id,
        d.amount,
        d.currency,
        o.owner_id,
        'hubspot-' || {{ first_list_item('d.associated_contact_ids') }} as primary_contact_id,
        d.created_at,
        d.close_date as expected_close_date,
        -- HubSpot sets Close Date to the day a deal is won or lost.
        d.close_date as reported_closed_at
    from {{ ref('stg_hubspot__deals') }} as d
    left join pipelines as p
        on p.source_system = 'hubspot' and p.pipeline_name = d.pipeline_label
    left join stages as s
        on s.pipeline_id = p.pipeline_id and s.stage_name = d.stage_label
    left join owners as o
        on o.source_system = 'hubspot' and o.owner_name_key = lower(trim(d.owner_name))
),

activecampaign as (
    select
        'activecampaign' as source_system,
        'activecampaign-' || d.source_deal_id as deal_id,
        d.source_deal_id,
        d.deal_name,
        'activecampaign-' || d.source_pipeline_id as pipeline_id,
        case d.status
            when 'won' then 'activecampaign-' || d.source_pipeline_id || '-won'
            when 'lost' then 'activecampaign-' || d.source_pipeline_id || '-lost'
            else 'activecampaign-' || d.source_stage_id
        end as stage_id,
        d.amount,
        d.currency,
        case when d.source_owner_id is not null
            then 'activecampaign-' || d.source_owner_id end as owner_id,
        case when d.source_contact_id is not null
            then 'activecampaign-' || d.source_contact_id end as primary_contact_id,
        d.created_at,
        d.close_date as expected_close_date,
        case when d.status <> 'open' then d.updated_at end as reported_closed_at
    from {{ ref('stg_activecampaign__deals') }} as d
),

generic as (
    select
        d.source_system,
        d.source_system || '-' || d.source_deal_id as deal_id,
        d.source_deal_id,
        d.deal_name,
        d.source_system || '-' || d.pipeline_label as pipeline_id,
        s.stage_id,
        d.amount,
        d.currency,
        case when nullif(trim(d.owner_name), '') is not null
            then d.source_system || '-' || lower(trim(d.owner_name)) end as owner_id,
        case when d.source_contact_id is not null
            then d.source_system || '-' || d.source_contact_id end as primary_contact_id,
        d.created_at,
        d.close_date as expected_close_date,
        d.closed_at as reported_closed_at
    from {{ ref('stg_generic__deals') }} as d
    left join stages as s
        on s.pipeline_id = d.source_system || '-' || d.pipeline_label
        and s.stage_name = d.stage_label
),

pipedrive as (
    select
        'pipedrive' as source_system,
        'pipedrive-' || d.source_deal_id as deal_id,
        d.source_deal_id,
        d.deal_name,
        'pipedrive-' || d.source_pipeline_id as pipeline_id,
        case d.status
            when 'won' then 'pipedrive-' || d.source_pipeline_id || '-won'
            when 'lost' then 'pipedrive-' || d.source_pipeline_id || '-lost'
            else 'pipedrive-' || d.source_stage_id
        end as stage_id,
        d.amount,
        d.currency,
        case when d.source_owner_id is not null
            then 'pipedrive-' || d.source_owner_id end as owner_id,
        case when d.source_contact_id is not null
            then 'pipedrive-' || d.source_contact_id end as primary_contact_id,
        d.created_at,
        d.close_date as expected_close_date,
        d.closed_at as reported_closed_at
    from {{ ref('stg_pipedrive__deals') }} as d
),

salesforce as (
    select
        'salesforce' as source_system,
        'salesforce-' || d.source_deal_id as deal_id,
        d.source_deal_id,
        d.deal_name,
        'salesforce-default' as pipeline_id,
        'salesforce-' || d.stage_name as stage_id,
        d.amount,
        d.currency,
        case when d.source_owner_id is not null
            then 'salesforce-' || d.source_owner_id end as owner_id,
        case when d.source_contact_id is not null
            then 'salesforce-' || d.source_contact_id end as primary_contact_id,
        d.created_at,
        d.close_date as expected_close_date,
        -- a closed opportunity's CloseDate is the day it closed
        case when d.is_closed then d.close_date end as reported_closed_at
    from {{ ref('stg_salesforce__opportunities') }} as d
),

unioned as (
    select * from hubspot
    union all select * from activecampaign
    union all select * from generic
    union all select * from pipedrive
    union all select * from salesforce
)

select
    u.*,
    case when s.is_won then 'won' when s.is_lost then 'lost' else 'open' end as outcome
from unioned as u
left join stages as s on u.stage_id = s.stage_id

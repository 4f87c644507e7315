-- Deals from every source in one shape; ids are prefixed with the source so they are unique
-- across sources. The stage is resolved to a stage id of int_pipeline_stages; a stage the
-- pipeline does not know leaves stage_id null: quarantined at ingest, and any other null fails
-- tests/int_deals_without_pipeline_or_stage_were_quarantined.sql.
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
        {{ source_id('d.source_deal_id', 'hubspot') }} as deal_id,
        d.source_deal_id,
        d.deal_name,
        p.pipeline_id,
        s.stage_id,
        d.amount,
        d.currency,
        o.owner_id,
        {{ source_id(first_list_item('d.associated_contact_ids'), 'hubspot') }}
            as primary_contact_id,
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
    -- a deal with no pipeline is quarantined at ingest and stays out (HubSpot always has one)
    where d.pipeline_label is not null
),

-- ActiveCampaign keeps no close time: a closed deal's last update is when it closed
activecampaign as (
    {{ status_deals('activecampaign', ref('stg_activecampaign__deals'),
                    "case when d.status <> 'open' then d.updated_at end") }}
),

generic as (
    select
        d.source_system,
        {{ source_id('d.source_deal_id', source_column='d.source_system') }} as deal_id,
        d.source_deal_id,
        d.deal_name,
        {{ source_id('d.pipeline_label', source_column='d.source_system') }} as pipeline_id,
        s.stage_id,
        d.amount,
        d.currency,
        {{ source_id("nullif(lower(trim(d.owner_name)), '')", source_column='d.source_system') }}
            as owner_id,
        {{ source_id('d.source_contact_id', source_column='d.source_system') }}
            as primary_contact_id,
        d.created_at,
        d.close_date as expected_close_date,
        d.closed_at as reported_closed_at
    from {{ ref('stg_generic__deals') }} as d
    left join stages as s
        on s.pipeline_id = {{ source_id('d.pipeline_label', source_column='d.source_system') }}
        and s.stage_name = d.stage_label
),

pipedrive as (
    {{ status_deals('pipedrive', ref('stg_pipedrive__deals'), 'd.closed_at') }}
),

salesforce as (
    select
        'salesforce' as source_system,
        {{ source_id('d.source_deal_id', 'salesforce') }} as deal_id,
        d.source_deal_id,
        d.deal_name,
        'salesforce-default' as pipeline_id,
        {{ source_id('d.stage_name', 'salesforce') }} as stage_id,
        d.amount,
        d.currency,
        -- a report export names the owner: the API user of that name (int_owners keys it),
        -- else an owner made of the name
        coalesce(
            {{ source_id('d.source_owner_id', 'salesforce') }},
            o.owner_id,
            {{ source_id('lower(trim(d.owner_name))', 'salesforce-name') }}
        ) as owner_id,
        {{ source_id('d.source_contact_id', 'salesforce') }} as primary_contact_id,
        d.created_at,
        d.close_date as expected_close_date,
        -- a closed opportunity's CloseDate is the day it closed (a report without the Closed
        -- column: its stage says)
        case when coalesce(d.is_closed, s.is_closed) then d.close_date end as reported_closed_at
    from {{ ref('stg_salesforce__opportunities') }} as d
    left join stages as s on {{ source_id('d.stage_name', 'salesforce') }} = s.stage_id
    left join owners as o
        on
            o.source_system = 'salesforce' and d.source_owner_id is null
            and o.owner_name_key = lower(trim(d.owner_name))
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

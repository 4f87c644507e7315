-- Every pipeline's stages from every source in one shape. Stage order puts open stages first
-- (in the CRM's display order), then won, then lost, so "next stage" and "skip" are defined.
with hubspot as (
    select
        'hubspot' as source_system,
        {{ source_id('source_pipeline_id', 'hubspot') }} as pipeline_id,
        pipeline_label as pipeline_name,
        {{ source_id('source_stage_id', 'hubspot') }} as stage_id,
        stage_label as stage_name,
        display_order,
        is_closed and coalesce(probability, 0) >= 1 as is_won,
        is_closed and coalesce(probability, 0) < 1 as is_lost,
        probability
    from {{ ref('stg_hubspot__pipeline_stages') }}
),

-- pipelines no pipelines.json describes, from the deals' labels (int_hubspot_export_stages)
hubspot_export as (
    select
        'hubspot' as source_system,
        pipeline_id,
        pipeline_name,
        stage_id,
        stage_name,
        display_order,
        is_won,
        is_lost,
        probability
    from {{ ref('int_hubspot_export_stages') }}
),

-- ActiveCampaign's stages have no win probability
ac_open as (
    {{ status_open_stages('activecampaign', ref('stg_activecampaign__deal_stages'),
                          ref('stg_activecampaign__deal_groups'),
                          'cast(null as ' ~ dbt.type_float() ~ ')') }}
),

-- ActiveCampaign records won and lost as a deal status; they become the pipeline's two exits.
ac_closed as (
    {{ status_exit_stages('activecampaign', ref('stg_activecampaign__deal_groups')) }}
),

generic as (
    select
        source_system,
        {{ source_id('pipeline_label', source_column='source_system') }} as pipeline_id,
        pipeline_label as pipeline_name,
        {{ source_id("pipeline_label || '-' || stage_label", source_column='source_system') }}
            as stage_id,
        stage_label as stage_name,
        display_order,
        is_won,
        is_lost,
        probability
    from {{ ref('stg_generic__stages') }}
),

-- Pipedrive: open stages per pipeline; won and lost are a deal status, so each pipeline gets
-- two exits like ActiveCampaign's (pipedrive-<pipeline>-won / -lost).
pd_open as (
    {{ status_open_stages('pipedrive', ref('stg_pipedrive__stages'),
                          ref('stg_pipedrive__pipelines'), 's.probability') }}
),

pd_closed as (
    {{ status_exit_stages('pipedrive', ref('stg_pipedrive__pipelines')) }}
),

-- Salesforce: the org's active Opportunity stage picklist is one pipeline (salesforce-default);
-- closed stages carry IsWon, so won and lost are real stages.
salesforce as (
    select
        'salesforce' as source_system,
        'salesforce-default' as pipeline_id,
        'Opportunities' as pipeline_name,
        {{ source_id('api_name', 'salesforce') }} as stage_id,
        stage_label as stage_name,
        display_order,
        coalesce(is_won, false) as is_won,
        coalesce(is_closed, false) and not coalesce(is_won, false) as is_lost,
        probability
    from {{ ref('stg_salesforce__opportunity_stages') }}
    where coalesce(is_active, true)
),

-- stages of opportunities from report exports, which the picklist above does not list
salesforce_report as (
    select
        'salesforce' as source_system,
        'salesforce-default' as pipeline_id,
        'Opportunities' as pipeline_name,
        {{ source_id('stage_name', 'salesforce') }} as stage_id,
        stage_name,
        display_order,
        is_won,
        is_lost,
        probability
    from {{ ref('int_salesforce_report_stages') }}
),

unioned as (
    select * from hubspot
    union all select * from hubspot_export
    union all select * from ac_open
    union all select * from ac_closed
    union all select * from generic
    union all select * from pd_open
    union all select * from pd_closed
    union all select * from salesforce
    union all select * from salesforce_report
)

select
    source_system,
    pipeline_id,
    pipeline_name,
    stage_id,
    stage_name,
    row_number() over (
        partition by pipeline_id
        order by case when is_lost then 2 when is_won then 1 else 0 end, display_order, stage_name
    ) as stage_order,
    is_won,
    is_lost,
    is_won or is_lost as is_closed,
    coalesce(probability, case when is_won then 1.0 when is_lost then 0.0 end) as probability
from unioned

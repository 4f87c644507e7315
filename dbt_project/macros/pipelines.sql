{#- The open stages of a CRM that records won and lost as a deal status (its stage list holds
    only open stages): `stages`, a relation with source_pipeline_id, source_stage_id,
    stage_label and display_order; `pipelines` as below; `probability`, the stage's win
    probability as an expression over the stage `s`. -#}
{% macro status_open_stages(source, stages, pipelines, probability) -%}
    select
        '{{ source }}' as source_system,
        {{ source_id('s.source_pipeline_id', source) }} as pipeline_id,
        p.pipeline_label as pipeline_name,
        {{ source_id('s.source_stage_id', source) }} as stage_id,
        s.stage_label as stage_name,
        s.display_order,
        false as is_won,
        false as is_lost,
        {{ probability }} as probability
    from {{ stages }} as s
    left join {{ pipelines }} as p on s.source_pipeline_id = p.source_pipeline_id
{%- endmacro %}

{#- The two exits of every pipeline of a CRM that records won and lost as a deal status, not
    as a stage (ActiveCampaign, Pipedrive): stages Won and Lost with ids
    <source>-<pipeline>-won / -lost, ordered after every open stage. `pipelines`: a relation
    with source_pipeline_id and pipeline_label. -#}
{% macro status_exit_stages(source, pipelines) -%}
    select
        '{{ source }}' as source_system,
        {{ source_id('p.source_pipeline_id', source) }} as pipeline_id,
        p.pipeline_label as pipeline_name,
        {{ source_id("p.source_pipeline_id || '-' || o.outcome", source) }} as stage_id,
        o.stage_name,
        o.display_order,
        o.outcome = 'won' as is_won,
        o.outcome = 'lost' as is_lost,
        o.probability
    from {{ pipelines }} as p
    cross join (
        select 'won' as outcome, 'Won' as stage_name, 100000 as display_order, 1.0 as probability
        union all
        select 'lost', 'Lost', 100001, 0.0
    ) as o
{%- endmacro %}

{#- The deals of a CRM that records won and lost as a deal status (ActiveCampaign, Pipedrive):
    a won or lost deal sits in its pipeline's exit stage (status_exit_stages' ids), an open one
    in its stage. `deals`: a staged relation with source_deal_id, deal_name, source_pipeline_id,
    source_stage_id, status ('open', 'won', 'lost'), amount, currency, source_owner_id,
    source_contact_id, created_at and close_date; `reported_closed_at`, when a closed deal
    closed, as an expression over the deal `d`. -#}
{% macro status_deals(source, deals, reported_closed_at) -%}
    select
        '{{ source }}' as source_system,
        {{ source_id('d.source_deal_id', source) }} as deal_id,
        d.source_deal_id,
        d.deal_name,
        {{ source_id('d.source_pipeline_id', source) }} as pipeline_id,
        case d.status
            when 'won' then {{ source_id('d.source_pipeline_id', source) }} || '-won'
            when 'lost' then {{ source_id('d.source_pipeline_id', source) }} || '-lost'
            else {{ source_id('d.source_stage_id', source) }}
        end as stage_id,
        d.amount,
        d.currency,
        {{ source_id('d.source_owner_id', source) }} as owner_id,
        {{ source_id('d.source_contact_id', source) }} as primary_contact_id,
        d.created_at,
        d.close_date as expected_close_date,
        {{ reported_closed_at }} as reported_closed_at
    from {{ deals }} as d
{%- endmacro %}

{#- int_stage_events built incrementally: a night rebuilds the deals whose inputs changed.

    Its inputs are staging tables rebuilt whole each run (stage-dates columns, activity and
    change logs, OpportunityHistory), int_deals and the deals snapshot; the stage-dates tables
    keep no landing time, and a re-landed file can drop rows. So, as int_deal_states does
    (deal_states.sql), what a deal's events are built from is compared: each row keeps
    `inputs_hash`, the sum of the fingerprints of every input row of its deal. The pre-hook
    deletes the rows of deals whose inputs hash differs or that no input holds any more; the
    model then builds the deals that have no rows (those, new deals, and deals with no
    events). The stage lookup (int_pipeline_stages: names, pipelines, order) is hashed into
    `rebuild_signature`: a different one rebuilds every deal. -#}

{#- Per deal: the sum of the fingerprints of the input rows its events are built from (the
    columns the model reads; a column it starts to read must be added here). `partial`: of the
    deals the model builds only (stage_events_built, applied to each input's scan). -#}
{% macro stage_event_fingerprints(partial=false) -%}
    {%- set parts = [
        ("deal_id", ['deal_id', 'source_system', 'source_deal_id', 'pipeline_id', 'stage_id',
                     'created_at', 'outcome', 'reported_closed_at'],
         ref('int_deals') ~ " as d"),
        (source_id('sd.source_deal_id', 'hubspot'),
         ['sd.pipeline_label', 'sd.stage_label', 'sd.entered_at'],
         ref('stg_hubspot__deal_stage_dates') ~ " as sd inner join "
         ~ ref('stg_hubspot__deals') ~ " as d on sd.source_deal_id = d.source_deal_id"
         ~ " and sd._source_file = d._source_file and sd._line = d._line"),
        (source_id('sd.source_deal_id', source_column='d.source_system'),
         ['d.pipeline_label', 'sd.stage_label', 'sd.entered_at'],
         ref('stg_generic__deal_stage_dates') ~ " as sd inner join "
         ~ ref('stg_generic__deals') ~ " as d on sd.source_deal_id = d.source_deal_id"
         ~ " and sd._source_file = d._source_file and sd._line = d._line"),
        (source_id('source_deal_id', 'activecampaign'),
         ['data_type', 'data_action', 'source_stage_id', 'new_value', 'occurred_at',
          'source_activity_id'],
         ref('stg_activecampaign__deal_activities')),
        (source_id('source_deal_id', 'pipedrive'),
         ['source_change_id', 'field_key', 'old_value', 'new_value', 'changed_at', 'change_seq'],
         ref('stg_pipedrive__deal_changes')),
        (source_id('source_deal_id', 'pipedrive'), ['source_stage_id'],
         ref('stg_pipedrive__deals')),
        (source_id('source_deal_id', 'salesforce'),
         ['source_history_id', 'stage_name', 'changed_at'],
         ref('stg_salesforce__opportunity_history')),
        ("deal_id", ['pipeline_id', 'stage_id', 'dbt_valid_from'], ref('deals_snapshot')),
    ] %}
    {{ deal_input_fingerprints(parts, partial) }}
{%- endmacro %}

{#- Every deal id an event can have: int_deals' and the HubSpot and generic deal rows' (their
    stage dates are read from staging; every other input is joined to int_deals). -#}
{% macro stage_event_deal_ids() -%}
    select deal_id from {{ ref('int_deals') }}
    union
    select {{ source_id('source_deal_id', 'hubspot') }} from {{ ref('stg_hubspot__deals') }}
    union
    select {{ source_id('source_deal_id', source_column='source_system') }}
    from {{ ref('stg_generic__deals') }}
{%- endmacro %}

{#- rebuilt_deals_only (macros/incremental.sql), the name the model uses. -#}
{% macro stage_events_built(deal_id, partial) -%}
    {{ rebuilt_deals_only(deal_id, partial) }}
{%- endmacro %}

{% macro stage_events_plan() -%}
    {#- a unit test has no `this` and no warehouse state: it builds from its given rows -#}
    {%- if not execute or this is none or model.resource_type == 'unit_test' -%}
        {{ return({'rebuild': true, 'reason': 'first build', 'signature': ''}) }}
    {%- endif -%}
    {{ return(signature_plan(rows_signature(
        "select source_system, pipeline_name, stage_name, pipeline_id, stage_id, cast(stage_order as "
        ~ dbt.type_string() ~ ") from " ~ ref('int_pipeline_stages') ~ " order by 5, 1, 2, 3",
        'stage_events_stages'), 'a stage was renamed, moved or reordered in int_pipeline_stages')) }}
{%- endmacro %}

{#- Pre-hook: drop_stale_deals (macros/incremental.sql) over every deal's events' inputs. -#}
{% macro drop_stale_stage_events(plan) -%}
    {{ drop_stale_deals(plan, stage_event_fingerprints()) }}
{%- endmacro %}

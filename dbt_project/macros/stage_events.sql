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
    select deal_id, sum(fingerprint) as inputs_hash
    from (
        {%- for deal_id, columns, relation in parts %}
        {{ 'union all' if not loop.first }}
        select {{ deal_id }} as deal_id, {{ row_fingerprint(columns) }} as fingerprint
        from {{ relation }}
        where {{ stage_events_built(deal_id, partial) }}
        {%- endfor %}
    ) as inputs
    where deal_id is not null
    group by deal_id
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

{#- A condition keeping an input's rows of the deals this run builds (the model's CTE `rebuilt`),
    all of them unless `partial`. -#}
{% macro stage_events_built(deal_id, partial) -%}
    {%- if partial -%}{{ deal_id }} in (select deal_id from rebuilt){%- else -%}1 = 1{%- endif -%}
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

{#- Pre-hook: a rebuild empties the table; otherwise the rows of deals whose inputs hash is not
    the one they were built from (changed, or no input left: a deal gone) go. Counted first on
    Spark only (a delete rewrites its parquet table; here the count would hash every input
    twice). -#}
{% macro drop_stale_stage_events(plan) -%}
    {%- if is_incremental() and not plan.rebuild -%}
        {%- set stale = "deal_id in (select held.deal_id from " ~ this ~ " as held left join ("
            ~ stage_event_fingerprints() ~ ") as now on held.deal_id = now.deal_id"
            ~ " and held.inputs_hash = now.inputs_hash where now.deal_id is null)" -%}
        {{ delete_rows_if_any(this, stale) if target.type == 'spark' else delete_rows(this, stale) }}
    {%- else -%}
        {{ clear_for_rebuild(plan) }}
    {%- endif -%}
{%- endmacro %}

{#- Deal change history (int_deal_changes, marts/changes). -#}

{#- True where a value changed, nulls included (null -> 5 and 5 -> null are changes). -#}
{% macro value_changed(a, b) -%}
    (coalesce({{ a }} <> {{ b }}, false) or (({{ a }} is null) <> ({{ b }} is null)))
{%- endmacro %}

{#- An amount as text, the same on every engine (a double's text is not: 1.0E7 on Spark). -#}
{% macro amount_text(expr) -%}
    cast(cast({{ expr }} as decimal(38, 2)) as {{ dbt.type_string() }})
{%- endmacro %}

{#- One change row of int_deal_changes from typed old/new values of `field`:
    kind 'amount', 'date' or 'text' says which typed columns are filled (a date's text is
    its day: close dates are timestamps in some sources). -#}
{% macro deal_change_columns(field, kind, old, new) -%}
    '{{ field }}' as field,
    {%- if kind == 'amount' %}
    {{ amount_text(old) }} as old_value,
    {{ amount_text(new) }} as new_value,
    cast({{ old }} as {{ type_double() }}) as old_amount,
    cast({{ new }} as {{ type_double() }}) as new_amount,
    {%- elif kind == 'date' %}
    cast(cast({{ old }} as date) as {{ dbt.type_string() }}) as old_value,
    cast(cast({{ new }} as date) as {{ dbt.type_string() }}) as new_value,
    cast(null as {{ type_double() }}) as old_amount,
    cast(null as {{ type_double() }}) as new_amount,
    {%- else %}
    cast({{ old }} as {{ dbt.type_string() }}) as old_value,
    cast({{ new }} as {{ dbt.type_string() }}) as new_value,
    cast(null as {{ type_double() }}) as old_amount,
    cast(null as {{ type_double() }}) as new_amount,
    {%- endif %}
    {%- if kind == 'date' %}
    cast({{ old }} as date) as old_date,
    cast({{ new }} as date) as new_date
    {%- else %}
    cast(null as date) as old_date,
    cast(null as date) as new_date
    {%- endif %}
{%- endmacro %}

{#- True where the time `ts` falls within the last `days` days up to the end of the as-of day
    (the as-of day is the first of them). -#}
{% macro within_last_days(ts, days) -%}
    ({{ ts }} < {{ as_of_ts() }}
     and {{ dbt.datediff('cast(' ~ ts ~ ' as date)', "cast('" ~ as_of_date() ~ "' as date)", 'day') }}
         < {{ days }})
{%- endmacro %}

{#- A whole number (a count, a threshold read from a seed) as text: "2", not "2.0". -#}
{% macro whole_text(expr) -%}
    cast(cast(round({{ expr }}, 0) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }})
{%- endmacro %}

{#- The native change rows of a history CTE `relation` (one row per recorded state of a deal,
    history_number 1, 2, ... in order, previous states' values lagged beside): for each
    (field, kind, old, new) of `fields`, the states where that value changed and `where` holds
    ("{field}" in it stands for the field's name). -#}
{% macro history_changes(relation, fields, where='history_number > 1') -%}
    {%- for field, kind, old, new in fields %}
    select
        deal_id,
        {{ deal_change_columns(field, kind, old, new) }},
        changed_at,
        cast(history_number as {{ dbt.type_bigint() }}) as change_seq,
        'native' as source
    from {{ relation }}
    where {{ where | replace('{field}', field) }} and {{ value_changed(old, new) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- int_deal_changes built incrementally, as int_stage_events is (macros/stage_events.sql): its
    inputs are tables rebuilt whole each run with no landing time, so each row keeps
    `inputs_hash`, the sum of the fingerprints of the input rows of its deal; the pre-hook
    deletes the deals whose hash moved or that no input holds any more, and the model builds
    the deals without rows, each input's scan filtered to them. What gives every row its
    meaning (HubSpot's owner names -> ids in int_owners, native_fields) is hashed into
    `rebuild_signature`: a change rebuilds every deal. -#}

{#- Which CRM's own history records which field (the snapshot's changes of these are left out).
    Part of the rebuild signature: an edit here rebuilds every deal. -#}
{% macro deal_change_native_fields() -%}
    {{ return([
        ('salesforce', 'amount'), ('salesforce', 'expected_close_date'),
        ('activecampaign', 'owner'),
        ('pipedrive', 'owner'), ('pipedrive', 'amount'), ('pipedrive', 'expected_close_date'),
    ]) }}
{%- endmacro %}

{#- Per deal: the sum of the fingerprints of the input rows its changes are built from (the
    columns the model reads; a column it starts to read must be added here). int_stage_events'
    rows are hashed as read (a changed stage lookup reaches them, so it needs no signature).
    int_deals' deal_name is not read here but by fct_deal_changes, which rewrites the deals this
    model rewrote. `partial`: of the deals the model builds only. -#}
{% macro deal_change_fingerprints(partial=false) -%}
    {{ deal_input_fingerprints([
        ("deal_id", ['stage_id', 'entered_at', 'event_seq', 'source'], ref('int_stage_events')),
        ("deal_id", ['deal_id', 'source_system', 'created_at', 'deal_name'], ref('int_deals')),
        (source_id('source_deal_id', 'salesforce'),
         ['source_history_id', 'amount', 'close_date', 'win_probability_pct', 'changed_at'],
         ref('stg_salesforce__opportunity_history')),
        (source_id('source_deal_id', 'pipedrive'),
         ['field_key', 'old_value', 'new_value', 'changed_at', 'change_seq'],
         ref('stg_pipedrive__deal_changes')),
        (source_id('source_deal_id', 'hubspot'),
         ['property', 'value', 'changed_at', 'history_position'],
         ref('stg_hubspot__deal_property_history')),
        ("deal_id", ['old_owner_id', 'new_owner_id', 'occurred_at', 'event_seq'],
         ref('int_deal_owner_events')),
        ("deal_id", ['amount', 'expected_close_date', 'owner_id', 'dbt_valid_from'],
         ref('deals_snapshot')),
    ], partial) }}
{%- endmacro %}

{#- Every deal id a change can have: the stage events' and OpportunityHistory's (not joined to
    int_deals) and int_deals' (every other input is joined to it). -#}
{% macro deal_change_deal_ids() -%}
    select deal_id from {{ ref('int_deals') }}
    union
    select deal_id from {{ ref('int_stage_events') }}
    union
    select {{ source_id('source_deal_id', 'salesforce') }}
    from {{ ref('stg_salesforce__opportunity_history') }}
{%- endmacro %}

{% macro deal_changes_plan() -%}
    {#- a unit test has no `this` and no warehouse state: it builds from its given rows -#}
    {%- if not execute or this is none or model.resource_type == 'unit_test' -%}
        {{ return({'rebuild': true, 'reason': 'first build', 'signature': ''}) }}
    {%- endif -%}
    {%- set native = deal_change_native_fields() | map('join', '=') | join(',') -%}
    {{ return(signature_plan(rows_signature(
        "select owner_name_key, owner_id from " ~ ref('int_owners')
        ~ " where source_system = 'hubspot' order by 1, 2", 'deal_changes|' ~ native),
        "HubSpot's owners (int_owners) or deal_change_native_fields changed")) }}
{%- endmacro %}

{#- fct_deal_changes' pre-hook: on a night, the rows of the deals int_deal_changes rewrote since
    the mart's newest _built_at (the model inserts them again) and of those it no longer holds
    go; a rebuild empties the table. -#}
{% macro drop_rewritten_deal_changes(plan) -%}
    {%- if is_incremental() and not plan.rebuild -%}
        {%- set changes = ref('int_deal_changes') -%}
        {%- set rewritten = "deal_id in (select deal_id from " ~ changes ~ " where _built_at > "
            ~ deal_changes_since(plan) ~ ") or deal_id not in (select deal_id from " ~ changes
            ~ " where deal_id is not null)" -%}
        {{ delete_rows_if_any(this, rewritten) if target.type == 'spark'
           else delete_rows(this, rewritten) }}
    {%- else -%}
        {{ clear_for_rebuild(plan) }}
    {%- endif -%}
{%- endmacro %}

{#- The mart's newest _built_at (built_through_plan), as a timestamp literal. -#}
{% macro deal_changes_since(plan) -%}
    cast('{{ plan.built_through }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- int_deal_states built incrementally: a night replays the deals whose inputs changed.

    Its inputs, int_deals and int_deal_changes, are tables rebuilt whole every run from many
    raw tables (deal rows, stage and property histories, owner logs, the deals snapshot, owner
    and stage lookups); no column says when their rows landed, and a landing watermark over the
    raw tables would have to know every path into them (a re-exported file's deletions, an
    owner renamed). So what a deal's states are built from is compared instead: each row keeps
    `inputs_hash`, the hash of its deal's int_deals row plus the sum of the hashes of its
    change rows (row_fingerprint); a deal whose hash differs from the one its current row holds,
    or that has no rows yet, is replayed. A deal int_deals no longer has loses its rows
    (post-hook). The stages' pipeline and won / lost flags (int_pipeline_stages, a small table)
    are hashed into `rebuild_signature`: a different one rebuilds every deal. -#}

{#- The columns of int_deals and int_deal_changes the states are built from: what the hash
    covers, so a column the model starts to read must be added here. -#}
{% macro deal_state_inputs() -%}
    {{ return({
        'deal': ['deal_id', 'created_at', 'stage_id', 'amount', 'currency',
                 'expected_close_date', 'owner_id', 'pipeline_id'],
        'change': ['deal_id', 'field', 'old_value', 'new_value', 'old_amount', 'new_amount',
                   'old_date', 'new_date', 'changed_at', 'change_seq'],
    }) }}
{%- endmacro %}

{% macro deal_states_plan() -%}
    {%- set plan = {'rebuild': true, 'reason': 'first build', 'signature': ''} -%}
    {#- a unit test has no `this` and no warehouse state: it builds from its given rows -#}
    {%- if not execute or this is none or model.resource_type == 'unit_test' -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- set text = dbt.type_string() -%}
    {{ return(signature_plan(rows_signature(
        "select stage_id, pipeline_id, cast(is_won as " ~ text ~ "), cast(is_lost as " ~ text
        ~ ") from " ~ ref('int_pipeline_stages') ~ " order by 1, 2, 3, 4", 'deal_states_stages'),
        'a stage changed pipeline or outcome in int_pipeline_stages')) }}
{%- endmacro %}

{#- Post-hook: the rows of deals int_deals no longer has (deleted in the CRM, missing from a
    file landed again) go; the replayed deals' old rows went with delete+insert. -#}
{% macro drop_vanished_deal_states() -%}
    {{ delete_rows_if_any(this, "deal_id not in (select deal_id from " ~ ref('int_deals')
                                ~ " where deal_id is not null)", count=is_incremental()) }}
{%- endmacro %}
